"""One DCGAN training step, and a small run object that feeds it batches.

:func:`dcgan_step` is the whole algorithm of Goodfellow et al. for images, one
discriminator update then one generator update, for every loss kind of
:mod:`ganlab_kit.losses`. It takes nets, optimizers and a batch, and returns floats.

:class:`DCGANRun` holds what a run needs between steps (nets, Adam optimizers, the
resumable batch stream, a noise generator, fixed noise for sample grids) and exposes
``step()`` for :class:`~ganlab_kit.train.session.TrainingSession`. Learning rates and the
loss kind are plain attributes a lab may change while training: the next step uses them.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Dataset

from ..data import BatchStream, ImageSet
from ..losses import LOSS_KINDS, discriminator_loss, generator_loss, gradient_penalty
from ..nets.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator, build_dcgan

METRIC_KEYS: tuple[str, ...] = ("d_loss", "g_loss", "D(x)", "D(G(z))", "gradient_penalty")


def _set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def dcgan_step(
    generator: DCGANGenerator,
    discriminator: DCGANDiscriminator,
    generator_optimizer: torch.optim.Optimizer,
    discriminator_optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    *,
    loss_kind: str = "non_saturating",
    gradient_penalty_weight: float = 10.0,
    noise_generator: torch.Generator | None = None,
    autocast_dtype: torch.dtype | None = None,
) -> dict[str, float]:
    r"""One discriminator update, then one generator update, on a batch ``real`` (B, C, H, W).

    1. z ~ N(0, I) of shape (B, latent_dim); fakes = G(z).
    2. Discriminator: minimise ``discriminator_loss(D(real), D(fakes.detach()), kind)``
       (+ ``gradient_penalty_weight`` * GP for ``wasserstein``; 0 turns it off).
    3. Generator: minimise ``generator_loss(D(fakes), kind)``, scored by the *updated* D.
       D's weights are frozen during this backward pass: we need d loss / d fakes, not
       gradients for D's weights, which would be thrown away anyway.

    Returns ``d_loss``, ``g_loss``, ``D(x)`` = mean sigmoid(D(real)) and ``D(G(z))`` = mean
    sigmoid(D(fakes)) before the discriminator's update (for Wasserstein and hinge critics,
    whose scores are not probabilities, these are sigmoids of the scores: read the trend,
    not the value), and ``gradient_penalty`` (0 when unused).
    ``autocast_dtype`` (e.g. ``torch.bfloat16`` on a GPU) runs the forward passes in mixed
    precision; the losses are computed in float32.
    """
    if loss_kind not in LOSS_KINDS:
        raise ValueError(f"unknown loss kind {loss_kind!r}; choose one of: {', '.join(LOSS_KINDS)}")
    batch = real.shape[0]
    amp = (
        torch.autocast(device_type=real.device.type, dtype=autocast_dtype)
        if autocast_dtype is not None
        else contextlib.nullcontext()
    )
    z = torch.randn(batch, generator.config.latent_dim, device=real.device, generator=noise_generator)

    # ---- discriminator (critic) update
    with amp:
        fake = generator(z)  # (B, C, H, W)
        real_logits = discriminator(real).float()  # (B, 1)
        fake_logits = discriminator(fake.detach()).float()
    d_loss = discriminator_loss(real_logits, fake_logits, loss_kind)
    penalty = torch.zeros((), device=real.device)
    if loss_kind == "wasserstein" and gradient_penalty_weight > 0:
        cpu_rng = None
        if noise_generator is not None and noise_generator.device.type == "cpu":
            cpu_rng = noise_generator
        penalty = gradient_penalty(discriminator, real, fake.float(), generator=cpu_rng)
    discriminator_optimizer.zero_grad(set_to_none=True)
    (d_loss + gradient_penalty_weight * penalty).backward()
    discriminator_optimizer.step()

    # ---- generator update, through the just-updated discriminator
    _set_requires_grad(discriminator, False)
    try:
        with amp:
            g_logits = discriminator(fake).float()
        g_loss = generator_loss(g_logits, loss_kind)
        generator_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        generator_optimizer.step()
    finally:
        _set_requires_grad(discriminator, True)

    # one device->host transfer for all five numbers
    values = torch.stack(
        [d_loss.detach(), g_loss.detach(), torch.sigmoid(real_logits.detach()).mean(),
         torch.sigmoid(fake_logits.detach()).mean(), penalty.detach()]
    ).tolist()
    return dict(zip(METRIC_KEYS, values))


@dataclass
class DCGANRunConfig:
    """A DCGAN run: the networks' shape plus how they are trained.

    Defaults follow the DCGAN paper (Adam, lr 2e-4, beta1 = 0.5, batch 64)."""

    model: DCGANConfig = field(default_factory=DCGANConfig)
    batch_size: int = 64
    generator_lr: float = 2e-4
    discriminator_lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    loss_kind: str = "non_saturating"
    gradient_penalty_weight: float = 10.0
    seed: int = 0
    num_fixed_noise: int = 64

    def __post_init__(self) -> None:
        if self.loss_kind not in LOSS_KINDS:
            raise ValueError(f"unknown loss kind {self.loss_kind!r}; choose one of: {', '.join(LOSS_KINDS)}")


class DCGANRun:
    """Nets + optimizers + data stream + noise for one DCGAN run; ``step()`` trains once.

    ``data`` is an :class:`~ganlab_kit.data.ImageSet` or any data set of ``{"image": ...}``
    items whose images match ``config.model`` (channels, size).
    """

    def __init__(self, config: DCGANRunConfig, data: ImageSet | Dataset, device: torch.device | str = "cpu") -> None:
        self.config = config
        self.device = torch.device(device)
        dataset = data  # an ImageSet is itself a Dataset of {"image", "label"} items
        first = dataset[0]["image"]
        expected = (config.model.channels, config.model.image_size, config.model.image_size)
        if tuple(first.shape) != expected:
            raise ValueError(
                f"the data's images have shape {tuple(first.shape)} but the DCGAN expects {expected}; "
                f"load the data at image_size={config.model.image_size} with {config.model.channels} channel(s)"
            )
        self.generator, self.discriminator = build_dcgan(config.model, self.device, seed=config.seed)
        self.generator_optimizer = torch.optim.Adam(self.generator.parameters(), lr=config.generator_lr, betas=config.betas)
        self.discriminator_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=config.discriminator_lr, betas=config.betas)
        self.stream = BatchStream(dataset, config.batch_size, seed=config.seed)
        self.noise_generator = torch.Generator(self.device).manual_seed(config.seed + 1)
        # fixed noise: the same z every time, so sample grids show the *generator* changing
        fixed_rng = torch.Generator().manual_seed(config.seed + 2)
        self.fixed_noise = torch.randn(config.num_fixed_noise, config.model.latent_dim, generator=fixed_rng).to(self.device)
        self.loss_kind = config.loss_kind
        self.gradient_penalty_weight = config.gradient_penalty_weight
        self.steps_done = 0
        self.autocast_dtype: torch.dtype | None = None

    # ------------------------------------------------------------ training
    def step(self) -> dict[str, float]:
        """One training step on the next batch; the metrics of :func:`dcgan_step`."""
        real = next(self.stream)["image"].to(self.device, non_blocking=True)
        metrics = dcgan_step(
            self.generator, self.discriminator, self.generator_optimizer, self.discriminator_optimizer, real,
            loss_kind=self.loss_kind, gradient_penalty_weight=self.gradient_penalty_weight,
            noise_generator=self.noise_generator, autocast_dtype=self.autocast_dtype,
        )
        self.steps_done += 1
        return metrics

    def set_learning_rates(self, generator: float | None = None, discriminator: float | None = None) -> None:
        """Change Adam's learning rates; the next step uses them."""
        for optimizer, lr in ((self.generator_optimizer, generator), (self.discriminator_optimizer, discriminator)):
            if lr is None:
                continue
            if not lr > 0:
                raise ValueError(f"a learning rate must be > 0, got {lr}")
            for group in optimizer.param_groups:
                group["lr"] = float(lr)

    @property
    def learning_rates(self) -> tuple[float, float]:
        return self.generator_optimizer.param_groups[0]["lr"], self.discriminator_optimizer.param_groups[0]["lr"]

    # ------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample(self, z: torch.Tensor | None = None) -> torch.Tensor:
        """Images G(z) (B, C, H, W) in [-1, 1], on the CPU; ``z`` defaults to the fixed noise.

        The generator runs in eval mode: batch norm uses its running averages, so each
        image depends on its own z only (not on which other z share the batch), and
        looking at samples never changes what training or a checkpoint would do.
        """
        z = self.fixed_noise if z is None else z.to(self.device)
        was_training = self.generator.training
        self.generator.eval()
        try:
            images = self.generator(z)
        finally:
            self.generator.train(was_training)
        return images.float().cpu()

    # ---------------------------------------------------------- checkpoints
    def save(self, path: str | Path, history: list[dict[str, float]] | None = None) -> Path:
        """Write everything needed to continue this run exactly (atomically)."""
        from .checkpoint import save_checkpoint

        return save_checkpoint(
            path,
            architecture=self.config.model.to_dict(),
            modules={"generator": self.generator, "discriminator": self.discriminator},
            optimizers={"generator": self.generator_optimizer, "discriminator": self.discriminator_optimizer},
            generators={"noise": self.noise_generator},
            tensors={"fixed_noise": self.fixed_noise},
            state={
                "steps_done": self.steps_done,
                "stream": self.stream.state_dict(),
                "loss_kind": self.loss_kind,
                "gradient_penalty_weight": self.gradient_penalty_weight,
                "run_config": {**asdict(replace(self.config, model=None)), "model": None},
                "history": history or [],
            },
        )

    def load(self, path: str | Path) -> dict:
        """Restore a checkpoint written by :meth:`save` into this run (same architecture
        and size, else :class:`~ganlab_kit.train.checkpoint.CheckpointMismatch`).
        Returns the stored state (``history`` included)."""
        from .checkpoint import load_checkpoint

        tensors: dict[str, torch.Tensor] = {}
        state = load_checkpoint(
            path,
            architecture=self.config.model.to_dict(),
            modules={"generator": self.generator, "discriminator": self.discriminator},
            optimizers={"generator": self.generator_optimizer, "discriminator": self.discriminator_optimizer},
            generators={"noise": self.noise_generator},
            tensors_out=tensors,
        )
        self.fixed_noise = tensors["fixed_noise"].to(self.device)
        self.steps_done = int(state["steps_done"])
        self.stream.load_state_dict(state["stream"])
        self.loss_kind = state["loss_kind"]
        self.gradient_penalty_weight = float(state["gradient_penalty_weight"])
        return state
