"""pix2pix (Isola et al. 2017): learn a translation from *paired* examples.

Each training example is a photo ``x`` and the same scene in the target style ``y``.
A U-Net generator G maps x to G(x); a conditional PatchGAN discriminator D sees the
*pair* (x, y) or (x, G(x)), stacked as 6 channels, and scores every 70x70 patch:

    D's loss:  discriminator_loss(D(x ++ y), D(x ++ G(x)))
    G's loss:  translation_generator_loss(D(x ++ G(x))) + lambda * E ||y - G(x)||_1   (lambda = 100)

The L1 term makes G's output close to the target everywhere; the adversarial term makes
it *sharp* (L1 alone gives the blurry median of the plausible outputs). Conditioning D
on x means it judges whether the output fits this input, not only whether it looks styled.

:func:`pix2pix_step` is one D update then one G update, a plain function of nets,
optimizers and a batch. :class:`Pix2PixRun` is a :class:`~ganlab_kit.train.run.Run`:
the nets, Adam optimizers (lr 2e-4, betas (0.5, 0.999)), the batch stream, a fixed
held-out batch for pictures, and the paper's schedule (constant, then linear decay to
zero over the second half when ``total_steps`` is set).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from ..losses import discriminator_loss, l1_loss, translation_generator_loss
from ..nets.patchgan import PatchDiscriminator, PatchDiscriminatorConfig
from ..nets.unet import UnetGenerator, UnetGeneratorConfig
from .accel import PRECISIONS, Accelerator, set_requires_grad, unwrap
from .checkpoint import CheckpointMethods
from .run import (
    D_FAKE,
    D_LOSS,
    D_REAL,
    G_LOSS,
    DecayingLearningRates,
    PendingHyper,
    RunState,
    capture_state,
    hyper_field,
    progress_state,
    restore_run,
    set_learning_rate,
    validate_hyper,
)
from .schedules import check_schedule
from .style_inputs import check_batch, check_dataset, fixed_batch

TRANSLATION_LOSSES: tuple[str, ...] = ("non_saturating", "lsgan", "hinge")
DIRECTIONS: tuple[str, ...] = ("AtoB", "BtoA")
MODEL = "pix2pix"


@dataclass
class Pix2PixHyper:
    """What may change while pix2pix trains. Defaults are the paper's (section 3.3 and 4)."""

    loss: str = hyper_field(
        "non_saturating", choices=TRANSLATION_LOSSES, help="adversarial loss (the paper: non_saturating)"
    )
    generator_lr: float = hyper_field(2e-4, low=1e-7, high=1.0, log=True, help="G learning rate")
    discriminator_lr: float = hyper_field(2e-4, low=1e-7, high=1.0, log=True, help="D learning rate")
    betas: tuple[float, float] = hyper_field((0.5, 0.999), low=0.0, high=0.9999, help="Adam's (beta1, beta2)")
    l1_weight: float = hyper_field(
        100.0, low=0.0, high=10000.0, help="lambda: weight of the L1 term (0: a plain conditional GAN)"
    )

    def validate(self) -> None:
        if not (isinstance(self.betas, tuple) and len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas)):
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {self.betas!r}")


def pix2pix_step(
    generator: nn.Module,
    discriminator: nn.Module,
    generator_optimizer: torch.optim.Optimizer,
    discriminator_optimizer: torch.optim.Optimizer,
    source: torch.Tensor,
    target: torch.Tensor,
    hyper: Pix2PixHyper,
    *,
    raw_discriminator: nn.Module | None = None,
    accel: Accelerator | None = None,
) -> dict[str, torch.Tensor]:
    r"""One discriminator update, then one generator update, on a paired batch.

    ``source`` x and ``target`` y are (B, C, H, W) in [-1, 1].

    1. fake = G(x).
    2. D: minimise ``discriminator_loss(D(x ++ y), D(x ++ fake.detach()), loss)``
       (++ is concatenation along the channels: D sees (B, 2C, H, W)).
    3. G: minimise ``translation_generator_loss(D(x ++ fake), loss) + l1_weight * l1_loss(fake, y)``,
       scored by the updated D, whose weights are frozen for this backward pass.

    ``generator`` / ``discriminator`` may be compiled; ``raw_discriminator`` is the plain
    module (default: :func:`~ganlab_kit.train.accel.unwrap`). Returns detached 0-d tensors:
    ``d_loss``, ``g_loss`` (the whole generator objective), ``d_real`` / ``d_fake`` (mean
    sigmoid of the patch logits on real and fake pairs, before D's update),
    ``adversarial_loss`` and ``l1_loss`` (unweighted). Losses are computed in float32.
    """
    if hyper.loss not in TRANSLATION_LOSSES:
        raise ValueError(f"unknown loss {hyper.loss!r} for pix2pix; choose one of: {', '.join(TRANSLATION_LOSSES)}")
    accel = accel or Accelerator(source.device)
    raw_discriminator = raw_discriminator if raw_discriminator is not None else unwrap(discriminator)

    # ---- discriminator update: real pairs vs fake pairs
    with accel.autocast():
        fake = generator(source)  # (B, C, H, W)
        real_logits = discriminator(torch.cat([source, target], 1)).float()  # (B, 1, h, w): one logit per patch
        fake_logits = discriminator(torch.cat([source, fake.detach()], 1)).float()
    d_loss = discriminator_loss(real_logits, fake_logits, hyper.loss)
    accel.backward(d_loss, discriminator_optimizer)

    # ---- generator update, through the just-updated discriminator
    set_requires_grad(raw_discriminator, False)
    try:
        with accel.no_sync(discriminator):  # D's gradients are not wanted: nothing to all-reduce
            with accel.autocast():
                g_logits = discriminator(torch.cat([source, fake], 1)).float()
            adversarial = translation_generator_loss(g_logits, hyper.loss)
            l1 = l1_loss(fake.float(), target.float())
            g_loss = adversarial + hyper.l1_weight * l1
            accel.backward(g_loss, generator_optimizer)
    finally:
        set_requires_grad(raw_discriminator, True)

    return {
        D_LOSS: d_loss.detach(),
        G_LOSS: g_loss.detach(),
        D_REAL: torch.sigmoid(real_logits.detach()).mean(),
        D_FAKE: torch.sigmoid(fake_logits.detach()).mean(),
        "adversarial_loss": adversarial.detach(),
        "l1_loss": l1.detach(),
    }


def _default_discriminator() -> PatchDiscriminatorConfig:
    return PatchDiscriminatorConfig(in_channels=6, norm="batch")


@dataclass
class Pix2PixRunConfig:
    """What is fixed for a pix2pix run's life.

    image_size:      side of the square images (a multiple of 2 ** generator.downs)
    generator / discriminator: the networks (defaults: the paper's U-Net-256 and a 70x70
                     PatchGAN with batch norm on 6-channel pairs)
    direction:       "AtoB" (photo -> style, the default) or "BtoA" (style -> photo)
    batch_size:      the paper's is 1 (batch norm then acts as instance norm)
    num_visuals:     images in the fixed held-out batch shown by ``visuals()``
    total_steps / decay_steps: the learning-rate schedule (:func:`~.schedules.linear_decay`;
                     None: constant); decay_steps defaults to half of total_steps
    precision / channels_last / compile: how it is accelerated (:class:`~.accel.Accelerator`)
    distributed:     wrap the nets in DDP (needs a process group; ``torchrun``); batch_size is per process
    """

    image_size: int = 256
    generator: UnetGeneratorConfig = field(default_factory=UnetGeneratorConfig)
    discriminator: PatchDiscriminatorConfig = field(default_factory=_default_discriminator)
    direction: str = "AtoB"
    batch_size: int = 1
    seed: int = 0
    num_visuals: int = 8
    total_steps: int | None = None
    decay_steps: int | None = None
    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    distributed: bool = False

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {self.precision!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}; got {self.direction!r}")
        for name in ("batch_size", "num_visuals", "image_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        multiple = self.generator.multiple
        if self.image_size % multiple:
            raise ValueError(
                f"a U-Net with downs={self.generator.downs} needs image sizes that are multiples of {multiple}, "
                f"got image_size={self.image_size}; use downs={max(5, self.image_size.bit_length() - 1)} "
                "for this size, or resize the images"
            )
        pair_channels = self.generator.in_channels + self.generator.out_channels
        if self.discriminator.in_channels != pair_channels:
            raise ValueError(
                f"the conditional discriminator sees input ++ output: {pair_channels} channels, but "
                f"discriminator.in_channels is {self.discriminator.in_channels}"
            )
        check_schedule(self.total_steps, self.decay_steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "generator": self.generator.to_dict(),
            "discriminator": self.discriminator.to_dict(),
        }


class Pix2PixRun(CheckpointMethods, DecayingLearningRates, PendingHyper[Pix2PixHyper]):
    """U-Net + conditional PatchGAN + optimizers + paired batches; ``step()`` trains once.

    ``data``: a :class:`~ganlab_kit.data.PairedDataset` (e.g. ``style_data(...).paired_train``)
    or any data set of ``{"A": photo, "B": styled}`` items of the configured size.
    ``held_out``: where the fixed picture batch comes from (e.g. ``paired_test``; default:
    ``num_visuals`` items of ``data``, chosen once with the seed).
    """

    visual_modules: tuple[str, ...] = ("generator",)
    visual_layout: tuple[tuple[str, ...], ...] = (("input", "output", "target"),)

    def __init__(
        self,
        config: Pix2PixRunConfig,
        data: Dataset,
        device: torch.device | str = "cpu",
        hyper: Pix2PixHyper | None = None,
        held_out: Dataset | None = None,
    ) -> None:
        hyper = hyper or Pix2PixHyper()
        validate_hyper(hyper)
        channels = config.generator.in_channels
        if config.generator.out_channels != channels:
            raise ValueError("pix2pix here translates RGB to RGB: generator in_channels and out_channels must be equal")
        checks = dict(image_size=config.image_size, channels=channels, model=MODEL, paired=True)
        check_dataset(data, name="the training data", **checks)
        if held_out is not None:
            check_dataset(held_out, name="the held-out data", **checks)
        visual_a, visual_b = fixed_batch(
            held_out if held_out is not None else data,
            config.num_visuals,
            config.seed + 3,
            name="the held-out data" if held_out is not None else "the training data",
            **checks,
        )

        self.config = config
        self._hyper, self._pending_hyper = hyper, None
        self.accel = Accelerator.for_run(config, device)
        self.device = self.accel.device
        self.stream = self.accel.batch_stream(data, config.batch_size, config.seed)
        generator = self.accel.prepare(UnetGenerator.from_config(config.generator, seed=config.seed))
        discriminator = self.accel.prepare(PatchDiscriminator.from_config(config.discriminator, seed=config.seed + 1))
        self.generator, self.discriminator = generator.raw, discriminator.raw
        self.generator_forward, self.discriminator_forward = generator.forward, discriminator.forward
        self.generator_optimizer = torch.optim.Adam(
            self.generator.parameters(), lr=hyper.generator_lr, betas=hyper.betas
        )
        self.discriminator_optimizer = torch.optim.Adam(
            self.discriminator.parameters(), lr=hyper.discriminator_lr, betas=hyper.betas
        )
        # the fixed held-out batch, in the run's direction: source -> output, compared with target
        self.visual_source, self.visual_target = (
            (visual_a, visual_b) if config.direction == "AtoB" else (visual_b, visual_a)
        )
        self.steps_done = 0

    # ------------------------------------------------------------ data (the one place that reads it)
    def _next_pair(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next (source, target) batch, each (B, C, H, W) on the device."""
        batch = next(self.stream)
        size = self.config.image_size
        check_batch(batch, (self.config.generator.in_channels, size, size), MODEL)
        a, b = self.accel.to_device(batch["A"]), self.accel.to_device(batch["B"])
        return (a, b) if self.config.direction == "AtoB" else (b, a)

    # ------------------------------------------------------------ protocol
    @property
    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.generator_optimizer, "discriminator": self.discriminator_optimizer}

    def architecture(self) -> dict[str, Any]:
        return {
            "architecture": MODEL,
            "image_size": self.config.image_size,
            "channels": self.config.generator.in_channels,
            "direction": self.config.direction,
            "generator": self.config.generator.to_dict(),
            "discriminator": self.config.discriminator.to_dict(),
        }

    def step(self) -> dict[str, torch.Tensor]:
        """One training step on the next pair batch; the metrics of :func:`pix2pix_step`."""
        self.apply_pending_hyper()
        factor = self.learning_rate_factor()
        set_learning_rate(self.generator_optimizer, self._hyper.generator_lr * factor)
        set_learning_rate(self.discriminator_optimizer, self._hyper.discriminator_lr * factor)
        source, target = self._next_pair()
        metrics = pix2pix_step(
            self.generator_forward,
            self.discriminator_forward,
            self.generator_optimizer,
            self.discriminator_optimizer,
            source,
            target,
            self._hyper,
            raw_discriminator=self.discriminator,
            accel=self.accel,
        )
        self.steps_done += 1
        return metrics

    @torch.no_grad()
    def visuals(self, modules: Mapping[str, nn.Module] | None = None) -> dict[str, torch.Tensor]:
        """``{"input", "output", "target"}``: the fixed held-out batch, the given generator's
        translation of it (a lab's shadow copy, or the run's own), and the true styled
        images; each (n, C, H, W) in [-1, 1] on the CPU. See :func:`translate`."""
        generator = unwrap((modules or self.modules)["generator"])
        return {
            "input": self.visual_source.clone(),
            "output": translate(generator, self.visual_source),
            "target": self.visual_target.clone(),
        }

    def state_dict(self) -> RunState:
        run_config = {k: v for k, v in self.config.to_dict().items() if k not in ("generator", "discriminator")}
        return capture_state(
            self,
            tensors={"visual_source": self.visual_source, "visual_target": self.visual_target},
            state=progress_state(self, run_config=run_config),
        )

    def load_state_dict(self, state: RunState) -> None:
        restore_run(self, state)
        self.visual_source = state.tensors["visual_source"].clone()
        self.visual_target = state.tensors["visual_target"].clone()


@contextlib.contextmanager
def _batch_statistics(generator: nn.Module) -> Iterator[None]:
    """Dropout off; batch norm normalising with the batch's own statistics, its running
    averages neither used nor updated. Every flag is put back afterwards."""
    saved = [(m, m.training, getattr(m, "track_running_stats", None)) for m in generator.modules()]
    generator.eval()
    for m in generator.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.train()
            m.track_running_stats = False  # with training=True: batch statistics, buffers untouched
    try:
        yield
    finally:
        for m, training, track in saved:
            m.train(training)
            if track is not None:
                m.track_running_stats = track


@torch.no_grad()
def translate(generator: nn.Module, images: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
    """G(images) (n, C, H, W) in [-1, 1] on the CPU, as the pix2pix paper runs G at test time:
    batch norm with the statistics of the test batch (``batch_size`` images at a time).

    Deviation, said out loud: the paper keeps dropout on at test time (its source of
    noise); here it is off so that the same weights always draw the same picture. The
    generator's weights and buffers are left exactly as they were.
    """
    device = next(generator.parameters()).device
    outputs = []
    with _batch_statistics(generator):
        for chunk in images.split(batch_size):
            outputs.append(generator(chunk.to(device)).float().cpu())
    return torch.cat(outputs)
