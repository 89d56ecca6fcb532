"""One 2-D GAN run: data, both networks, their optimizers, a seeded RNG.

:class:`Toy2DRun` is a :class:`~ganlab_kit.train.run.Run`, what a
:class:`~ganlab_kit.train.session.TrainingSession` steps and a checkpoint saves::

    run = Toy2DRun(make_distribution("ring"), ToyModelConfig(), Toy2DHyper(), seed=0)
    session = TrainingSession(run.step)

``run.step()`` does ``discriminator_steps`` D updates then one G update and returns the
metrics (``d_loss, g_loss, d_real, d_fake`` as 0-d tensors, plus ``modes_hit, mode_share,
high_quality`` floats for mixtures). ``step("discriminator")`` / ``step("generator")``
update one side only.

Hyperparameters (:class:`Toy2DHyper`) change through ``run.set_hyper(generator_lr=1e-4)``:
validated at once, used from the next step on, so a change never lands in the middle of
a step. A new architecture or seed means new networks: :meth:`Toy2DRun.reset`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..losses import LOSS_KINDS
from ..train.run import (
    PendingHyper,
    RunState,
    capture_state,
    hyper_field,
    restore_optimizers,
    set_learning_rate,
    validate_hyper,
)
from .coverage import mode_coverage
from .data import Distribution2D, sample_noise
from .divergence import divergences
from .models import ToyModelConfig, build_models
from .steps import OPTIMIZERS, discriminator_step, generator_step, make_optimizer

STEP_KINDS = ("both", "discriminator", "generator")
COVERAGE_EVERY = 10
VISUAL_SAMPLES = 512  # points in visuals()["samples"]


@dataclass
class Toy2DHyper:
    """Training hyperparameters of a 2-D run; all may change while it trains.

    The defaults, with :class:`~ganlab_kit.toy2d.models.ToyModelConfig`'s, converge (issue 10;
    ``scripts/sweep_lab2d_defaults.py``, seeds 0-4): the ring's 8 modes all hit with JS <= 0.2
    at step 2000 on 5 of 5 seeds, the grid's 25 modes >= 20 hit at step 5000 on 5 of 5 seeds
    (22-25). Adam at 1e-3 for both networks is fast enough to get there; halving the rates
    made it slower and no more stable. A light R1 penalty (gamma 0.03) keeps the
    discriminator's slope at the real points small, which (measured, not proven) steadies the
    generator between neighbouring modes: it is what holds the grid (seeds 0-9: 10 of 10 with
    R1, at batch 512 or 1024; 7 of 10 without R1 at batch 512, 6 of 10 at 1024). A batch of
    1024 halves the noise of each step's estimate, which keeps the ring's JS under 0.2 with R1
    on (seeds 0-9: 7 of 10; R1 at batch 512: 5 of 10; neither: 6 of 10). The ring's JS is
    still falling near 0.2 at step 2000, so its count varies with the seeds. R1 at 0.1 or more
    pushed the ring's JS just over 0.2 on 2 or 3 of 5 seeds. The price: a step takes about
    1.75x as long as with batch 512 and no R1 (6.3 against 3.6 ms on one CPU thread).
    """

    loss: str = hyper_field("non_saturating", choices=LOSS_KINDS, help="adversarial loss")
    optimizer: str = hyper_field("adam", choices=OPTIMIZERS, help="a change starts the optimizers afresh")
    generator_lr: float = hyper_field(1e-3, low=1e-6, high=10.0, log=True, help="G learning rate")
    discriminator_lr: float = hyper_field(1e-3, low=1e-6, high=10.0, log=True, help="D learning rate")
    # Adam's momentum terms; beta1 = 0.5 is the usual GAN choice (Radford et al.)
    betas: tuple[float, float] = hyper_field((0.5, 0.999), low=0.0, high=0.9999, help="Adam's (beta1, beta2)")
    discriminator_steps: int = hyper_field(1, low=1, high=100, help="k: D updates per G update")
    # 1024 and R1 0.03: the grid holds >= 20 of 25 modes, the ring its JS (measured: see above)
    batch_size: int = hyper_field(1024, low=1, high=65536, help="points per batch")
    gradient_penalty: float = hyper_field(0.0, low=0.0, high=1000.0, help="lambda of WGAN-GP; 0 = off")
    r1: float = hyper_field(0.03, low=0.0, high=1000.0, help="gamma of R1; 0 = off")

    def validate(self) -> None:
        """Checks :func:`~ganlab_kit.train.run.validate_hyper` cannot express."""
        if not (isinstance(self.betas, tuple) and len(self.betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {self.betas!r}")
        if not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must each be in [0, 1), got {self.betas!r}")


class Toy2DRun(PendingHyper[Toy2DHyper]):
    """Networks + optimizers + data for the 2-D lab (see the module docstring)."""

    visual_modules: tuple[str, ...] = ("generator", "discriminator")

    def __init__(
        self, distribution: Distribution2D, model_config: ToyModelConfig, hyper: Toy2DHyper | None = None, seed: int = 0
    ) -> None:
        model_config.validate()
        hyper = hyper or Toy2DHyper()
        validate_hyper(hyper)
        self.distribution = distribution
        self.model_config = model_config
        self._hyper = hyper
        self._pending_hyper = None
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
        # fixed noise for visuals(): its own generator, so looking never moves training's RNG
        self.fixed_noise = sample_noise(
            self.model_config.noise, VISUAL_SAMPLES, torch.Generator().manual_seed(self.seed + 7)
        )
        self._build_optimizers()
        self.steps_done = 0
        self._coverage: dict[str, float] | None = None

    def _build_optimizers(self) -> None:
        hyper = self._hyper
        self.generator_optimizer = make_optimizer(hyper.optimizer, self.generator, hyper.generator_lr, hyper.betas)
        self.discriminator_optimizer = make_optimizer(
            hyper.optimizer, self.discriminator, hyper.discriminator_lr, hyper.betas
        )

    def on_hyper_change(self, old: Toy2DHyper, new: Toy2DHyper) -> None:
        if (old.optimizer, old.betas) != (new.optimizer, new.betas):
            self._build_optimizers()  # a different optimizer starts with fresh state
            return
        set_learning_rate(self.generator_optimizer, new.generator_lr)
        set_learning_rate(self.discriminator_optimizer, new.discriminator_lr)

    def set_distribution(self, distribution: Distribution2D) -> None:
        """Train on new data from the next step on (networks are kept)."""
        self._pending_distribution = distribution

    def apply_pending(self) -> None:
        """Swap in a pending distribution and hyperparameters now (between steps only)."""
        if self._pending_distribution is not None:
            self.distribution, self._pending_distribution = self._pending_distribution, None
            self._coverage = None
        self.apply_pending_hyper()

    # ------------------------------------------------------------ protocol
    @property
    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.generator_optimizer, "discriminator": self.discriminator_optimizer}

    def architecture(self) -> dict[str, Any]:
        return {"architecture": "toy2d_mlp", **self.model_config.to_dict()}

    def visuals(self, modules: Mapping[str, nn.Module] | None = None) -> dict[str, torch.Tensor]:
        """``{"samples": (N, 2)}``: the given generator on the run's fixed noise."""
        generator = (modules or self.modules)["generator"]
        with torch.no_grad():
            return {"samples": generator(self.fixed_noise).detach().cpu()}

    def state_dict(self) -> RunState:
        state: dict[str, Any] = {
            "steps_done": self.steps_done,
            "seed": self.seed,
            "distribution": self.distribution.name,
            **self.hyper_state(),
            "coverage": self._coverage,
        }
        return capture_state(
            self, generators={"data": self.rng.get_state()}, tensors={"fixed_noise": self.fixed_noise}, state=state
        )

    def load_state_dict(self, state: RunState) -> None:
        """Continue exactly where ``state`` was taken (the data distribution stays this run's)."""
        self.load_hyper_state(state.state)
        for name, module in self.modules.items():
            module.load_state_dict(state.modules[name], strict=True)
        self._build_optimizers()  # of the saved kind, then their saved state
        restore_optimizers(self, state)
        if "data" in state.generators:
            self.rng.set_state(state.generators["data"])
        if "fixed_noise" in state.tensors:
            self.fixed_noise = state.tensors["fixed_noise"].clone()
        self.seed = int(state.state.get("seed", self.seed))
        self.steps_done = int(state.state.get("steps_done", 0))
        self._coverage = state.state.get("coverage")

    # ------------------------------------------------------------ training
    def real_batch(self, n: int | None = None) -> torch.Tensor:
        return self.distribution.sample(n or self._hyper.batch_size, self.rng)

    def noise_batch(self, n: int | None = None) -> torch.Tensor:
        return sample_noise(self.model_config.noise, n or self._hyper.batch_size, self.rng)

    def step(self, which: str = "both") -> dict[str, torch.Tensor | float]:
        """k discriminator steps then one generator step (or one side only); returns metrics."""
        if which not in STEP_KINDS:
            raise ValueError(f"step(which) must be one of {STEP_KINDS}, got {which!r}")
        self.apply_pending()
        hyper = self._hyper
        metrics: dict[str, torch.Tensor | float] = {}
        if which in ("both", "discriminator"):
            for _ in range(hyper.discriminator_steps if which == "both" else 1):
                metrics.update(
                    discriminator_step(
                        self.generator,
                        self.discriminator,
                        self.discriminator_optimizer,
                        self.real_batch(),
                        self.noise_batch(),
                        hyper,
                        rng=self.rng,  # the penalty's random mix of real and fake, seeded with the run
                    )
                )
        if which in ("both", "generator"):
            generator_metrics, fake = generator_step(
                self.generator, self.discriminator, self.generator_optimizer, self.noise_batch(), hyper
            )
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
            self._coverage = {
                "modes_hit": float(coverage.modes_hit),
                "mode_share": coverage.fraction,
                "high_quality": coverage.high_quality,
            }
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
            result.update(
                modes_hit=float(coverage.modes_hit),
                num_modes=float(coverage.num_modes),
                high_quality=coverage.high_quality,
            )
        return result

    def __repr__(self) -> str:
        return f"Toy2DRun({self.distribution.name}, step {self.steps_done})"
