"""The state of one 2-D GAN run: data, both networks, their optimizers, a seeded RNG.

:class:`ToyTrainer` is what a :class:`~ganlab_kit.train.session.TrainingSession` steps::

    trainer = ToyTrainer(make_distribution("ring"), ToyModelConfig(), ToyTrainConfig(), seed=0)
    session = TrainingSession(trainer.step)

``trainer.step()`` does ``discriminator_steps`` D updates then one G update and returns
the metrics (``loss_d, loss_g, d_real, d_fake``, plus ``modes_hit, mode_share, high_quality``
for mixtures). ``step("discriminator")`` / ``step("generator")`` update one side only.

Hyperparameters change through :meth:`ToyTrainer.set_train_config`: the new values wait
until the next step begins, so a change never lands in the middle of a step. A new
architecture or seed means new networks: :meth:`ToyTrainer.reset`.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from .coverage import mode_coverage
from .data import Distribution2D, sample_noise
from .divergence import divergences
from .models import ToyModelConfig, build_models
from .steps import ToyTrainConfig, discriminator_step, generator_step, make_optimizer

STEP_KINDS = ("both", "discriminator", "generator")
COVERAGE_EVERY = 10


class ToyTrainer:
    """Networks + optimizers + data for the 2-D lab (see the module docstring)."""

    def __init__(self, distribution: Distribution2D, model_config: ToyModelConfig, train_config: ToyTrainConfig, seed: int = 0) -> None:
        model_config.validate()
        train_config.validate()
        self.distribution = distribution
        self.model_config = model_config
        self.train_config = train_config
        self._pending: ToyTrainConfig | None = None
        self._pending_distribution: Distribution2D | None = None
        self.reset(seed=seed)

    # ------------------------------------------------------------ set-up
    def reset(self, model_config: ToyModelConfig | None = None, seed: int | None = None) -> None:
        """New networks (from ``seed``) and fresh optimizers; step counter back to 0."""
        if model_config is not None:
            model_config.validate()
            self.model_config = model_config
        if seed is not None:
            self.seed = int(seed)
        self.generator, self.discriminator = build_models(self.model_config, seed=self.seed)
        self.rng = torch.Generator().manual_seed(self.seed)
        self._build_optimizers()
        self.steps_done = 0
        self._coverage: dict[str, float] | None = None

    def _build_optimizers(self) -> None:
        config = self.train_config
        self.optimizer_generator = make_optimizer(config.optimizer, self.generator, config.lr_generator, config.beta1)
        self.optimizer_discriminator = make_optimizer(config.optimizer, self.discriminator, config.lr_discriminator, config.beta1)

    def set_train_config(self, config: ToyTrainConfig) -> None:
        """Validate now (errors name the bad value), apply at the start of the next step."""
        config.validate()
        self._pending = config

    def update(self, **changes) -> ToyTrainConfig:
        """``set_train_config`` with some fields changed, e.g. ``update(lr_generator=1e-4)``."""
        base = self._pending or self.train_config
        config = replace(base, **changes)
        self.set_train_config(config)
        return config

    def set_distribution(self, distribution: Distribution2D) -> None:
        """Train on new data from the next step on (networks are kept)."""
        self._pending_distribution = distribution

    def _apply_pending(self) -> None:
        if self._pending_distribution is not None:
            self.distribution, self._pending_distribution = self._pending_distribution, None
            self._coverage = None
        if self._pending is None:
            return
        old, new = self.train_config, self._pending
        self.train_config, self._pending = new, None
        if (old.optimizer, old.beta1) != (new.optimizer, new.beta1):
            self._build_optimizers()  # a different optimizer starts with fresh state
            return
        for group in self.optimizer_generator.param_groups:
            group["lr"] = new.lr_generator
        for group in self.optimizer_discriminator.param_groups:
            group["lr"] = new.lr_discriminator

    # ------------------------------------------------------------ training
    def real_batch(self, n: int | None = None) -> torch.Tensor:
        return self.distribution.sample(n or self.train_config.batch_size, self.rng)

    def noise_batch(self, n: int | None = None) -> torch.Tensor:
        return sample_noise(self.model_config.noise, n or self.train_config.batch_size, self.rng)

    def step(self, which: str = "both") -> dict[str, float]:
        """k discriminator steps then one generator step (or one side only); returns metrics."""
        if which not in STEP_KINDS:
            raise ValueError(f"step(which) must be one of {STEP_KINDS}, got {which!r}")
        self._apply_pending()
        config = self.train_config
        metrics: dict[str, float] = {}
        if which in ("both", "discriminator"):
            for _ in range(config.discriminator_steps if which == "both" else 1):
                metrics.update(discriminator_step(self.generator, self.discriminator, self.optimizer_discriminator, self.real_batch(), self.noise_batch(), config))
        if which in ("both", "generator"):
            generator_metrics, fake = generator_step(self.generator, self.discriminator, self.optimizer_generator, self.noise_batch(), config)
            metrics.update(generator_metrics)
            if self.distribution.modes is not None:
                metrics.update(self._batch_coverage(fake))
        self.steps_done += 1
        return metrics

    def _batch_coverage(self, fake: torch.Tensor) -> dict[str, float]:
        # Coverage of the generator's own batch, measured every COVERAGE_EVERY steps and
        # repeated in between: it moves slowly, and measuring costs about a third of a step.
        if self._coverage is None or self.steps_done % COVERAGE_EVERY == 0:
            coverage = mode_coverage(fake, self.distribution.modes, self.distribution.mode_std)
            self._coverage = {"modes_hit": float(coverage.modes_hit), "mode_share": coverage.fraction, "high_quality": coverage.high_quality}
        return dict(self._coverage)

    def fake_samples(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``(n, 2)`` generated points (no gradients)."""
        with torch.no_grad():
            return self.generator(sample_noise(self.model_config.noise, n, generator or self.rng))

    def evaluate(self, n: int = 4000, seed: int = 1234) -> dict[str, float]:
        """Divergences (and coverage for mixtures) from ``n`` fresh samples, with its own seed
        so that evaluating never changes the training's random stream."""
        generator = torch.Generator().manual_seed(seed)
        real = self.distribution.sample(n, generator)
        fake = self.fake_samples(n, generator)
        result = divergences(real, fake)
        if self.distribution.modes is not None:
            coverage = mode_coverage(fake, self.distribution.modes, self.distribution.mode_std)
            result.update(modes_hit=float(coverage.modes_hit), num_modes=float(coverage.num_modes), high_quality=coverage.high_quality)
        return result
