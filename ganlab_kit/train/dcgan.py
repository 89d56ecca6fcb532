"""One DCGAN training step, and the run that feeds it batches.

:func:`dcgan_step` is the whole algorithm of Goodfellow et al. for images, one
discriminator update then one generator update, for every loss kind of
:mod:`ganlab_kit.losses`. It takes nets, optimizers, a batch and the hyperparameters,
and returns metrics as detached 0-d tensors (no device sync).

:class:`DCGANRun` is a :class:`~ganlab_kit.train.run.Run`: it holds what a run needs
between steps (nets, Adam optimizers, the resumable batch stream, a noise generator,
fixed noise for sample grids). What is fixed for the run's life is a
:class:`DCGANRunConfig` (architecture, batch size, seed, acceleration); what may change
while it trains is a :class:`DCGANHyper`, changed with ``run.set_hyper(...)`` and applied
at the next step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from ..data import BatchStream, ImageSet
from ..losses import LOSS_KINDS, discriminator_loss, generator_loss, gradient_penalty
from ..nets.dcgan import DCGANConfig, build_dcgan
from .accel import PRECISIONS, Accelerator, set_requires_grad, unwrap
from .checkpoint import CheckpointMethods
from .run import (
    D_FAKE,
    D_LOSS,
    D_REAL,
    G_LOSS,
    GRADIENT_PENALTY,
    PendingHyper,
    RunState,
    capture_state,
    hyper_field,
    progress_state,
    restore_run,
    set_betas,
    set_learning_rate,
    validate_hyper,
)

METRIC_KEYS: tuple[str, ...] = (D_LOSS, G_LOSS, D_REAL, D_FAKE, GRADIENT_PENALTY)


@dataclass
class DCGANHyper:
    """What may change while a DCGAN trains. Defaults follow the DCGAN paper (Adam,
    lr 2e-4, beta1 = 0.5)."""

    loss: str = hyper_field("non_saturating", choices=LOSS_KINDS, help="adversarial loss")
    generator_lr: float = hyper_field(2e-4, low=1e-7, high=1.0, log=True, help="G learning rate")
    discriminator_lr: float = hyper_field(2e-4, low=1e-7, high=1.0, log=True, help="D learning rate")
    betas: tuple[float, float] = hyper_field((0.5, 0.999), low=0.0, high=0.9999, help="Adam's (beta1, beta2)")
    # weight of WGAN-GP's penalty; used with the wasserstein loss only (0 turns it off)
    gradient_penalty: float = hyper_field(10.0, low=0.0, high=1000.0, help="WGAN-GP weight (wasserstein loss only)")

    def validate(self) -> None:
        if not (isinstance(self.betas, tuple) and len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas)):
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {self.betas!r}")


def dcgan_step(
    generator: nn.Module,
    discriminator: nn.Module,
    generator_optimizer: torch.optim.Optimizer,
    discriminator_optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    hyper: DCGANHyper,
    *,
    raw_generator: nn.Module | None = None,
    raw_discriminator: nn.Module | None = None,
    noise_generator: torch.Generator | None = None,
    accel: Accelerator | None = None,
    z: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    r"""One discriminator update, then one generator update, on a batch ``real`` (B, C, H, W).

    1. z ~ N(0, I) of shape (B, latent_dim) (drawn with ``noise_generator`` unless given); fakes = G(z).
    2. Discriminator: minimise ``discriminator_loss(D(real), D(fakes.detach()), loss)``
       (+ ``hyper.gradient_penalty`` * GP for ``wasserstein``; 0 turns it off).
    3. Generator: minimise ``generator_loss(D(fakes), loss)``, scored by the *updated* D.
       D's weights are frozen during this backward pass: we need d loss / d fakes, not
       gradients for D's weights, which would be thrown away anyway.

    ``generator`` / ``discriminator`` are the modules for forward passes (maybe compiled
    or DDP-wrapped); ``raw_generator`` / ``raw_discriminator`` the plain ones inside
    (default: :func:`~ganlab_kit.train.accel.unwrap` of them), used for the config,
    ``requires_grad`` toggles and the gradient penalty's double backward. ``accel``
    gives the autocast context and, for fp16, the gradient scaler (default: fp32).

    Returns 0-d tensors ``d_loss``, ``g_loss``, ``d_real`` = mean sigmoid(D(real)) and
    ``d_fake`` = mean sigmoid(D(fakes)) before the discriminator's update (for Wasserstein
    and hinge critics, whose scores are not probabilities, these are sigmoids of the
    scores: read the trend, not the value), and ``gradient_penalty`` (0 when unused).
    The losses are computed in float32 even under autocast.
    """
    if hyper.loss not in LOSS_KINDS:
        raise ValueError(f"unknown loss {hyper.loss!r}; choose one of: {', '.join(LOSS_KINDS)}")
    accel = accel or Accelerator(real.device)
    raw_generator = raw_generator if raw_generator is not None else unwrap(generator)
    raw_discriminator = raw_discriminator if raw_discriminator is not None else unwrap(discriminator)
    if z is None:
        z = torch.randn(real.shape[0], raw_generator.config.latent_dim, device=real.device, generator=noise_generator)

    # ---- discriminator (critic) update
    with accel.autocast():
        fake = generator(z)  # (B, C, H, W)
        real_logits = discriminator(real).float()  # (B, 1)
        fake_logits = discriminator(fake.detach()).float()
    d_loss = discriminator_loss(real_logits, fake_logits, hyper.loss)
    penalty = torch.zeros((), device=real.device)
    weight = hyper.gradient_penalty
    if hyper.loss == "wasserstein" and weight > 0:
        cpu_rng = noise_generator if noise_generator is not None and noise_generator.device.type == "cpu" else None
        # double backward through the plain module: compiled graphs do not support it
        penalty = gradient_penalty(raw_discriminator, real, fake.detach().float(), generator=cpu_rng)
    accel.backward(d_loss + weight * penalty, discriminator_optimizer)

    # ---- generator update, through the just-updated discriminator
    set_requires_grad(raw_discriminator, False)
    try:
        with accel.no_sync(discriminator):  # D's gradients are not wanted: nothing to all-reduce
            with accel.autocast():
                g_logits = discriminator(fake).float()
            g_loss = generator_loss(g_logits, hyper.loss)
            accel.backward(g_loss, generator_optimizer)
    finally:
        set_requires_grad(raw_discriminator, True)

    return {
        D_LOSS: d_loss.detach(),
        G_LOSS: g_loss.detach(),
        D_REAL: torch.sigmoid(real_logits.detach()).mean(),
        D_FAKE: torch.sigmoid(fake_logits.detach()).mean(),
        GRADIENT_PENALTY: penalty.detach(),
    }


@dataclass
class DCGANRunConfig:
    """What is fixed for a DCGAN run's life: the networks' shape, the batch size, the seed,
    and how it is accelerated (``precision`` "fp32" | "bf16" | "fp16", ``channels_last``,
    ``compile`` with torch.compile, ``distributed``: wrap in DDP, needs a process group)."""

    model: DCGANConfig = field(default_factory=DCGANConfig)
    batch_size: int = 64
    seed: int = 0
    num_fixed_noise: int = 64
    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    distributed: bool = False

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {self.precision!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {self.batch_size!r}")

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "model": self.model.to_dict()}


class DCGANRun(CheckpointMethods, PendingHyper[DCGANHyper]):
    """Nets + optimizers + data stream + noise for one DCGAN run; ``step()`` trains once.

    ``data`` is an :class:`~ganlab_kit.data.ImageSet` or any data set of images /
    ``(image, label)`` whose images match ``config.model`` (channels, size).
    ``run.generator`` / ``run.discriminator`` are the plain modules (checkpoints, views);
    the steps run through their accelerated forms.
    """

    visual_modules: tuple[str, ...] = ("generator",)

    def __init__(
        self,
        config: DCGANRunConfig,
        data: ImageSet | Dataset,
        device: torch.device | str = "cpu",
        hyper: DCGANHyper | None = None,
    ) -> None:
        hyper = hyper or DCGANHyper()
        validate_hyper(hyper)
        self.config = config
        self._hyper, self._pending_hyper = hyper, None
        self.accel = Accelerator.for_run(config, device)
        self.device = self.accel.device
        self.stream = self._make_stream(data)
        # plain networks and optimizers first, then accel wraps them for forward passes
        raw_generator, raw_discriminator = build_dcgan(config.model, self.device, seed=config.seed)
        generator, discriminator = self.accel.prepare(raw_generator), self.accel.prepare(raw_discriminator)
        self.generator, self.discriminator = generator.raw, discriminator.raw
        self.generator_forward, self.discriminator_forward = generator.forward, discriminator.forward
        self.generator_optimizer = torch.optim.Adam(
            self.generator.parameters(), lr=hyper.generator_lr, betas=hyper.betas
        )
        self.discriminator_optimizer = torch.optim.Adam(
            self.discriminator.parameters(), lr=hyper.discriminator_lr, betas=hyper.betas
        )
        self.noise_generator = torch.Generator(self.device).manual_seed(config.seed + 1)
        # fixed noise: the same z every time, so sample grids show the *generator* changing
        fixed_rng = torch.Generator().manual_seed(config.seed + 2)
        self.fixed_noise = torch.randn(config.num_fixed_noise, config.model.latent_dim, generator=fixed_rng).to(
            self.device
        )
        self.steps_done = 0

    # ------------------------------------------------------------ data (the one place that reads it)
    def _make_stream(self, data: ImageSet | Dataset) -> BatchStream:
        dataset = data
        first = dataset[0]["image"]  # items are dicts: {"image": (C, H, W), "label"?}
        model = self.config.model
        expected = (model.channels, model.image_size, model.image_size)
        if tuple(first.shape) != expected:
            raise ValueError(
                f"the data's images have shape {tuple(first.shape)} but the DCGAN expects {expected}; "
                f"load the data at image_size={model.image_size} with {model.channels} channel(s)"
            )
        return self.accel.batch_stream(dataset, self.config.batch_size, self.config.seed)

    def _next_real(self) -> torch.Tensor:
        """The next batch of real images (B, C, H, W) on the device."""
        return self.accel.to_device(next(self.stream)["image"])

    def _next_noise(self, batch: int) -> torch.Tensor:
        """This process's noise (batch, latent_dim). Under DDP every rank draws the noise of the
        whole global batch (the same draw everywhere, from the same seed) and keeps its own
        slice, as it does with the data: the ranks' fakes together are exactly those of one
        process with the global batch. Alone, the draw is (batch, latent_dim) as always."""
        rank, world_size = self.accel.rank_and_world()
        latent = self.config.model.latent_dim
        z = torch.randn(batch * world_size, latent, device=self.device, generator=self.noise_generator)
        return z[rank * batch : (rank + 1) * batch]

    @torch.no_grad()
    def peek_inputs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(real, z)``: the batch of real images (B, C, H, W) and the noise (B, latent_dim)
        that the next :meth:`step` will use, without using them up (the data stream and the
        noise generator are put back where they were). For checking a hand-written step
        against the library's on the same inputs."""
        stream_state, noise_state = self.stream.state_dict(), self.noise_generator.get_state()
        try:
            real = self._next_real()
            z = self._next_noise(real.shape[0])
        finally:
            self.stream.load_state_dict(stream_state)
            self.noise_generator.set_state(noise_state)
        return real, z

    # ------------------------------------------------------------ protocol
    @property
    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.generator_optimizer, "discriminator": self.discriminator_optimizer}

    def architecture(self) -> dict[str, Any]:
        return self.config.model.to_dict()

    def on_hyper_change(self, old: DCGANHyper, new: DCGANHyper) -> None:
        for optimizer, lr in (
            (self.generator_optimizer, new.generator_lr),
            (self.discriminator_optimizer, new.discriminator_lr),
        ):
            set_learning_rate(optimizer, lr)
            set_betas(optimizer, new.betas)

    def step(self) -> dict[str, torch.Tensor]:
        """One training step on the next batch; the metrics of :func:`dcgan_step` (0-d tensors)."""
        self.apply_pending_hyper()
        real = self._next_real()
        metrics = dcgan_step(
            self.generator_forward,
            self.discriminator_forward,
            self.generator_optimizer,
            self.discriminator_optimizer,
            real,
            self._hyper,
            raw_generator=self.generator,
            raw_discriminator=self.discriminator,
            noise_generator=self.noise_generator,
            accel=self.accel,
            z=self._next_noise(real.shape[0]),
        )
        self.steps_done += 1
        return metrics

    @torch.no_grad()
    def visuals(self, modules: Mapping[str, nn.Module] | None = None) -> dict[str, torch.Tensor]:
        """``{"samples": G(fixed noise)}`` (B, C, H, W) in [-1, 1] on the CPU, from the given
        generator (a lab's shadow copy) or the run's own, in eval mode."""
        generator = unwrap((modules or self.modules)["generator"])
        return {"samples": _sample(generator, self.fixed_noise.to(next(generator.parameters()).device))}

    def sample(self, z: torch.Tensor | None = None) -> torch.Tensor:
        """Images G(z) (B, C, H, W) in [-1, 1], on the CPU; ``z`` defaults to the fixed noise.

        The generator runs in eval mode: batch norm uses its running averages, so each
        image depends on its own z only (not on which other z share the batch), and
        looking at samples never changes what training or a checkpoint would do.
        """
        return _sample(self.generator, self.fixed_noise if z is None else z.to(self.device))

    def state_dict(self) -> RunState:
        return capture_state(
            self,
            generators={"noise": self.noise_generator.get_state()},
            tensors={"fixed_noise": self.fixed_noise},
            state=progress_state(self, run_config={k: v for k, v in self.config.to_dict().items() if k != "model"}),
        )

    def load_state_dict(self, state: RunState) -> None:
        restore_run(self, state)
        self.noise_generator.set_state(state.generators["noise"])
        self.fixed_noise = state.tensors["fixed_noise"].to(self.device)


def _sample(generator: nn.Module, z: torch.Tensor) -> torch.Tensor:
    was_training = generator.training
    generator.eval()
    try:
        with torch.no_grad():
            images = generator(z)
    finally:
        generator.train(was_training)
    return images.float().cpu()
