"""CycleGAN (Zhu et al. 2017): learn a translation from *unpaired* images of two domains.

Domain A (photos) and domain B (a style) share no pairs. Two ResNet generators translate
both ways, G_AB: A -> B and G_BA: B -> A; two PatchGANs judge each domain, D_A (real A
vs G_BA(b)) and D_B (real B vs G_AB(a)). Adversarial losses alone would let G_AB map every
photo to *some* plausible styled image; the cycle loss asks that G_BA(G_AB(a)) return a
(and G_AB(G_BA(b)) return b), which ties each output to its input:

    G's loss:  translation_generator_loss(D_B(G_AB(a))) + translation_generator_loss(D_A(G_BA(b)))
               + cycle_weight * cycle_loss(a, G_BA(G_AB(a)), b, G_AB(G_BA(b)))        (lambda = 10)
               + identity_weight * identity_loss(a, G_BA(a), b, G_AB(b))              (0.5 lambda = 5)
    D_A's loss: discriminator_loss(D_A(a), D_A(pool_A(G_BA(b))))    (LSGAN by default)
    D_B's loss: discriminator_loss(D_B(b), D_B(pool_B(G_AB(a))))

Optional *culture constraints* (:mod:`ganlab_kit.styles.constraints`, in the spirit of
ChipGAN) join the photo -> painting generator's loss, each switched on by a weight > 0:

               + blank_space_weight   * blank_space_loss(a, G_AB(a))      (留白: light stays light)
               + brush_edge_weight    * brush_edge_loss(a, G_AB(a))       (edges of input and output agree)
               + ink_diffusion_weight * ink_diffusion_loss(G_AB(a), b)    (edge softness of domain B's batch)

All three are off by default (weight 0: not computed, the step is the paper's).

The discriminators see fakes through :class:`~.image_pool.ImagePool`\\ s of 50 past fakes.
The update order is the paper's: both generators in one step, then D_A, then D_B.
(The reference code calls the A -> B generator ``netG_A`` and the discriminator of domain B
``netD_A``; here each network is named by what it makes or judges.)

:func:`cyclegan_step` is one such iteration, a plain function; :class:`CycleGANRun` is a
:class:`~ganlab_kit.train.run.Run` around it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from ..losses import cycle_loss, discriminator_loss, identity_loss, translation_generator_loss
from ..nets.patchgan import PatchDiscriminator, PatchDiscriminatorConfig
from ..nets.resnet import ResnetGenerator, ResnetGeneratorConfig
from ..styles.constraints import blank_space_loss, brush_edge_loss, ink_diffusion_loss
from .accel import PRECISIONS, Accelerator, set_requires_grad, unwrap
from .checkpoint import CheckpointMethods
from .image_pool import ImagePool
from .pix2pix import TRANSLATION_LOSSES
from .run import (
    BLANK_SPACE_LOSS,
    BRUSH_EDGE_LOSS,
    D_FAKE,
    D_LOSS,
    D_REAL,
    G_LOSS,
    INK_DIFFUSION_LOSS,
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
from .style_inputs import check_batch, check_dataset, fixed_unpaired_batch

MODEL = "cyclegan"
MIN_DOMAIN_IMAGES = 2


@dataclass
class CycleGANHyper:
    """What may change while CycleGAN trains. Defaults are the paper's (section 4, appendix 7.1)."""

    loss: str = hyper_field("lsgan", choices=TRANSLATION_LOSSES, help="adversarial loss (the paper: lsgan)")
    generator_lr: float = hyper_field(2e-4, low=1e-7, high=1.0, log=True, help="learning rate of both generators")
    discriminator_lr: float = hyper_field(
        2e-4, low=1e-7, high=1.0, log=True, help="learning rate of both discriminators"
    )
    betas: tuple[float, float] = hyper_field((0.5, 0.999), low=0.0, high=0.9999, help="Adam's (beta1, beta2)")
    cycle_weight: float = hyper_field(10.0, low=0.0, high=1000.0, help="lambda: weight of the cycle loss")
    identity_weight: float = hyper_field(
        5.0, low=0.0, high=1000.0, help="weight of the identity loss (the paper: 0.5 lambda)"
    )
    blank_space_weight: float = hyper_field(
        0.0,
        low=0.0,
        high=1000.0,
        help="留白 (blank space): light regions of the photo stay light in the painting (0: off)",
    )
    brush_edge_weight: float = hyper_field(
        0.0, low=0.0, high=1000.0, help="brush edges: the edge maps of input photo and output agree (0: off)"
    )
    ink_diffusion_weight: float = hyper_field(
        0.0,
        low=0.0,
        high=1000.0,
        help="ink diffusion: the outputs' wet-edge softness statistic matches the painting domain's (0: off)",
    )

    def validate(self) -> None:
        if not (isinstance(self.betas, tuple) and len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas)):
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {self.betas!r}")


def cyclegan_step(
    generator_ab: nn.Module,
    generator_ba: nn.Module,
    discriminator_a: nn.Module,
    discriminator_b: nn.Module,
    generator_optimizer: torch.optim.Optimizer,
    discriminator_a_optimizer: torch.optim.Optimizer,
    discriminator_b_optimizer: torch.optim.Optimizer,
    real_a: torch.Tensor,
    real_b: torch.Tensor,
    hyper: CycleGANHyper,
    pool_a: ImagePool,
    pool_b: ImagePool,
    *,
    raw_discriminators: tuple[nn.Module, nn.Module] | None = None,
    accel: Accelerator | None = None,
) -> dict[str, torch.Tensor]:
    r"""One CycleGAN iteration on ``real_a``, ``real_b`` (B, C, H, W) in [-1, 1] (unpaired).

    1. fake_b = G_AB(a), rec_a = G_BA(fake_b); fake_a = G_BA(b), rec_b = G_AB(fake_a);
       with ``identity_weight`` > 0 also G_AB(b) and G_BA(a).
    2. Both generators (one optimizer over both): minimise the G loss of the module
       docstring, with D_A and D_B frozen.
    3. D_A on a vs ``pool_a.query(fake_a)``; then D_B on b vs ``pool_b.query(fake_b)``.

    ``generator_optimizer`` holds both generators' parameters. ``raw_discriminators``:
    the plain (D_A, D_B) for the requires_grad toggles (default: unwrap them).
    Returns detached 0-d tensors: ``d_loss`` (mean of D_A's and D_B's), ``g_loss`` (the
    whole generator objective), ``d_real`` / ``d_fake`` (mean sigmoid of both
    discriminators' patch logits on real images and on the pooled fakes they were trained
    on), ``d_A_loss``, ``d_B_loss``, ``adversarial_loss``, and the unweighted
    ``cycle_loss`` and ``identity_loss``; for each culture constraint whose weight is
    > 0, its unweighted value (``blank_space_loss``, ``brush_edge_loss``,
    ``ink_diffusion_loss``; absent when off).
    """
    if hyper.loss not in TRANSLATION_LOSSES:
        raise ValueError(f"unknown loss {hyper.loss!r} for CycleGAN; choose one of: {', '.join(TRANSLATION_LOSSES)}")
    accel = accel or Accelerator(real_a.device)
    raw_a, raw_b = (
        raw_discriminators if raw_discriminators is not None else (unwrap(discriminator_a), unwrap(discriminator_b))
    )

    # ---- both generators
    set_requires_grad(raw_a, False)
    set_requires_grad(raw_b, False)
    # under DDP the discriminators' gradients are not wanted here: nothing of theirs to all-reduce
    with accel.no_sync(discriminator_a), accel.no_sync(discriminator_b):
        try:
            with accel.autocast():
                fake_b = generator_ab(real_a)  # (B, C, H, W): a photo in the style
                reconstructed_a = generator_ba(fake_b)  # and back
                fake_a = generator_ba(real_b)  # a styled image as a photo
                reconstructed_b = generator_ab(fake_a)
                adversarial = translation_generator_loss(
                    discriminator_b(fake_b).float(), hyper.loss
                ) + translation_generator_loss(discriminator_a(fake_a).float(), hyper.loss)
                if hyper.identity_weight > 0:
                    identity_b, identity_a = generator_ab(real_b), generator_ba(real_a)
            cycle = cycle_loss(real_a.float(), reconstructed_a.float(), real_b.float(), reconstructed_b.float())
            if hyper.identity_weight > 0:
                identity = identity_loss(real_a.float(), identity_a.float(), real_b.float(), identity_b.float())
            else:
                identity = torch.zeros((), device=real_a.device)
            g_loss = adversarial + hyper.cycle_weight * cycle + hyper.identity_weight * identity
            constraints = culture_constraints(real_a.float(), fake_b.float(), real_b.float(), hyper)
            weights = constraint_weights(hyper)
            for name, value in constraints.items():  # none while every weight is 0
                g_loss = g_loss + weights[name] * value
            accel.backward(g_loss, generator_optimizer)
        finally:
            set_requires_grad(raw_a, True)
            set_requires_grad(raw_b, True)

    # ---- D_A, then D_B, each on a mix of new and pooled fakes
    def update(discriminator, optimizer, real, fake, pool):
        with accel.autocast():
            real_logits = discriminator(real).float()  # (B, 1, h, w)
            fake_logits = discriminator(pool.query(fake)).float()  # the pool returns detached images
        loss = discriminator_loss(real_logits, fake_logits, hyper.loss)
        accel.backward(loss, optimizer)
        return loss.detach(), torch.sigmoid(real_logits.detach()).mean(), torch.sigmoid(fake_logits.detach()).mean()

    d_a, real_a_score, fake_a_score = update(discriminator_a, discriminator_a_optimizer, real_a, fake_a, pool_a)
    d_b, real_b_score, fake_b_score = update(discriminator_b, discriminator_b_optimizer, real_b, fake_b, pool_b)
    return {
        D_LOSS: (d_a + d_b) / 2,
        G_LOSS: g_loss.detach(),
        D_REAL: (real_a_score + real_b_score) / 2,
        D_FAKE: (fake_a_score + fake_b_score) / 2,
        "d_A_loss": d_a,
        "d_B_loss": d_b,
        "adversarial_loss": adversarial.detach(),
        "cycle_loss": cycle.detach(),
        "identity_loss": identity.detach(),
        **{name: value.detach() for name, value in constraints.items()},
    }


def constraint_weights(hyper: CycleGANHyper) -> dict[str, float]:
    """Each culture constraint's weight in ``hyper``, by the constraint's metric name."""
    return {
        BLANK_SPACE_LOSS: hyper.blank_space_weight,
        BRUSH_EDGE_LOSS: hyper.brush_edge_weight,
        INK_DIFFUSION_LOSS: hyper.ink_diffusion_weight,
    }


def culture_constraints(
    photos: torch.Tensor, paintings: torch.Tensor, reference: torch.Tensor, hyper: CycleGANHyper
) -> dict[str, torch.Tensor]:
    """The unweighted culture constraints on the photo -> painting translation whose weight
    in ``hyper`` is > 0, by metric name (none is computed while all are off).

    ``photos``: the generator's input a; ``paintings``: its output G_AB(a); ``reference``:
    the real paintings b of the same step (the ink-diffusion statistic's target). All
    ``(B, 3, H, W)`` in [-1, 1]."""
    terms = {
        BLANK_SPACE_LOSS: lambda: blank_space_loss(photos, paintings),
        BRUSH_EDGE_LOSS: lambda: brush_edge_loss(photos, paintings),
        INK_DIFFUSION_LOSS: lambda: ink_diffusion_loss(paintings, reference),
    }
    return {name: terms[name]() for name, weight in constraint_weights(hyper).items() if weight > 0}


@dataclass
class CycleGANRunConfig:
    """What is fixed for a CycleGAN run's life.

    image_size:      side of the square images (a multiple of 4)
    generator:       both generators' shape (default: the paper's ResNet with 9 blocks at 256 px)
    discriminator:   both discriminators' shape (default: the 70x70 PatchGAN, instance norm)
    domains:         names of domain A and domain B ("photo", "ink_wash"): a checkpoint of
                     the swapped direction is refused when loaded
    pool_size:       fakes each image pool keeps (the paper: 50; 0 turns the pools off)
    batch_size:      the paper's is 1
    num_visuals:     images of each domain in the fixed held-out batch of ``visuals()`` (each
                     domain's own images, none twice)
    total_steps / decay_steps: the learning-rate schedule (None: constant)
    precision / channels_last / compile: how it is accelerated
    distributed:     wrap the nets in DDP (needs a process group; ``torchrun``); batch_size is per process
    """

    image_size: int = 256
    generator: ResnetGeneratorConfig = field(default_factory=ResnetGeneratorConfig)
    discriminator: PatchDiscriminatorConfig = field(default_factory=PatchDiscriminatorConfig)
    domains: tuple[str, str] = ("A", "B")
    pool_size: int = 50
    batch_size: int = 1
    seed: int = 0
    num_visuals: int = 4
    total_steps: int | None = None
    decay_steps: int | None = None
    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    distributed: bool = False

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {self.precision!r}")
        for name in ("batch_size", "num_visuals", "image_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.image_size % 4:
            raise ValueError(
                "the ResNet generator halves the image twice: image_size must be a multiple of 4, "
                f"got {self.image_size}"
            )
        if not isinstance(self.pool_size, int) or self.pool_size < 0:
            raise ValueError(f"pool_size must be an int >= 0, got {self.pool_size!r}")
        self.domains = tuple(self.domains)
        if len(self.domains) != 2 or self.domains[0] == self.domains[1]:
            raise ValueError(f"domains must be two different names (A, B), got {self.domains!r}")
        g = self.generator
        if not (g.in_channels == g.out_channels == self.discriminator.in_channels):
            raise ValueError(
                "CycleGAN maps images to images of the same kind: generator in/out channels and "
                f"discriminator in_channels must agree, got {g.in_channels}/{g.out_channels}/"
                f"{self.discriminator.in_channels}"
            )
        check_schedule(self.total_steps, self.decay_steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "domains": list(self.domains),
            "generator": self.generator.to_dict(),
            "discriminator": self.discriminator.to_dict(),
        }


def _domain_sizes(data: Dataset) -> dict[str, int]:
    """Images per domain when the data set says (UnpairedDataset's domain_a / domain_b)."""
    sizes = {}
    for domain, attribute in (("A", "domain_a"), ("B", "domain_b")):
        inner = getattr(data, attribute, None)
        if inner is not None:
            sizes[domain] = len(inner)
    return sizes


class CycleGANRun(CheckpointMethods, DecayingLearningRates, PendingHyper[CycleGANHyper]):
    """Two ResNet generators, two PatchGANs, three Adam optimizers, two image pools and
    unpaired batches; ``step()`` trains once.

    ``data``: an :class:`~ganlab_kit.data.UnpairedDataset` (``style_data(...).unpaired_train``,
    or ``cyclegan_folder(root, config=PatchConfig(size=image_size))`` for a downloaded set
    in the trainA / trainB layout), or any data set of ``{"A", "B"}`` items.
    ``held_out``: where the fixed picture batch comes from (default: ``data``).
    """

    visual_modules: tuple[str, ...] = ("generator_AB", "generator_BA")
    visual_layout: tuple[tuple[str, ...], ...] = (("real_A", "fake_B", "rec_A"), ("real_B", "fake_A", "rec_B"))

    def __init__(
        self,
        config: CycleGANRunConfig,
        data: Dataset,
        device: torch.device | str = "cpu",
        hyper: CycleGANHyper | None = None,
        held_out: Dataset | None = None,
    ) -> None:
        hyper = hyper or CycleGANHyper()
        validate_hyper(hyper)
        checks = dict(image_size=config.image_size, channels=config.generator.in_channels, model=MODEL, paired=False)
        for source, name in ((data, "the training data"), (held_out, "the held-out data")):
            if source is None:
                continue
            for domain, count in _domain_sizes(source).items():
                if count < MIN_DOMAIN_IMAGES:
                    label = config.domains["AB".index(domain)]
                    raise ValueError(
                        f"CycleGAN: domain {domain} ({label}) of {name} has {count} image(s); it needs at least "
                        f"{MIN_DOMAIN_IMAGES} to learn a style rather than copy one picture. Add images to the folder."
                    )
            check_dataset(source, name=name, **checks)
        unpaired_checks = {k: v for k, v in checks.items() if k != "paired"}
        visual_a, visual_b = fixed_unpaired_batch(  # A and B each from its own domain, no image twice
            held_out if held_out is not None else data,
            config.num_visuals,
            config.seed + 3,
            name="the held-out data" if held_out is not None else "the training data",
            **unpaired_checks,
        )

        self.config = config
        self._hyper, self._pending_hyper = hyper, None
        self.accel = Accelerator.for_run(config, device)
        self.device = self.accel.device
        self.stream = self.accel.batch_stream(data, config.batch_size, config.seed)
        seed = config.seed
        prepared = {
            "generator_AB": ResnetGenerator.from_config(config.generator, seed=seed),
            "generator_BA": ResnetGenerator.from_config(config.generator, seed=seed + 1),
            "discriminator_A": PatchDiscriminator.from_config(config.discriminator, seed=seed + 2),
            "discriminator_B": PatchDiscriminator.from_config(config.discriminator, seed=seed + 3),
        }
        prepared = {name: self.accel.prepare(net) for name, net in prepared.items()}
        self._modules = {name: p.raw for name, p in prepared.items()}
        self.forward_modules = {name: p.forward for name, p in prepared.items()}
        g_ab, g_ba = self._modules["generator_AB"], self._modules["generator_BA"]
        self.generator_optimizer = torch.optim.Adam(
            itertools.chain(g_ab.parameters(), g_ba.parameters()), lr=hyper.generator_lr, betas=hyper.betas
        )
        self.discriminator_a_optimizer = torch.optim.Adam(
            self._modules["discriminator_A"].parameters(), lr=hyper.discriminator_lr, betas=hyper.betas
        )
        self.discriminator_b_optimizer = torch.optim.Adam(
            self._modules["discriminator_B"].parameters(), lr=hyper.discriminator_lr, betas=hyper.betas
        )
        self.pool_a = ImagePool(config.pool_size, seed=seed + 4)
        self.pool_b = ImagePool(config.pool_size, seed=seed + 5)
        self.visual_a, self.visual_b = visual_a, visual_b
        self.steps_done = 0

    # ------------------------------------------------------------ data (the one place that reads it)
    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next unpaired (a, b) batch, each (B, C, H, W) on the device."""
        batch = next(self.stream)
        size = self.config.image_size
        check_batch(batch, (self.config.generator.in_channels, size, size), MODEL)
        return self.accel.to_device(batch["A"]), self.accel.to_device(batch["B"])

    # ------------------------------------------------------------ protocol
    @property
    def modules(self) -> dict[str, nn.Module]:
        return dict(self._modules)

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {
            "generator": self.generator_optimizer,
            "discriminator_A": self.discriminator_a_optimizer,
            "discriminator_B": self.discriminator_b_optimizer,
        }

    def architecture(self) -> dict[str, Any]:
        return {
            "architecture": MODEL,
            "image_size": self.config.image_size,
            "channels": self.config.generator.in_channels,
            "domains": list(self.config.domains),
            "generator": self.config.generator.to_dict(),
            "discriminator": self.config.discriminator.to_dict(),
        }

    def step(self) -> dict[str, torch.Tensor]:
        """One CycleGAN iteration on the next batch; the metrics of :func:`cyclegan_step`."""
        self.apply_pending_hyper()
        factor = self.learning_rate_factor()
        set_learning_rate(self.generator_optimizer, self._hyper.generator_lr * factor)
        set_learning_rate(self.discriminator_a_optimizer, self._hyper.discriminator_lr * factor)
        set_learning_rate(self.discriminator_b_optimizer, self._hyper.discriminator_lr * factor)
        real_a, real_b = self._next_batch()
        f = self.forward_modules
        metrics = cyclegan_step(
            f["generator_AB"],
            f["generator_BA"],
            f["discriminator_A"],
            f["discriminator_B"],
            self.generator_optimizer,
            self.discriminator_a_optimizer,
            self.discriminator_b_optimizer,
            real_a,
            real_b,
            self._hyper,
            self.pool_a,
            self.pool_b,
            raw_discriminators=(self._modules["discriminator_A"], self._modules["discriminator_B"]),
            accel=self.accel,
        )
        self.steps_done += 1
        return metrics

    @torch.no_grad()
    def visuals(self, modules: Mapping[str, nn.Module] | None = None) -> dict[str, torch.Tensor]:
        """Both round trips on the fixed held-out batch, from the given generators (a lab's
        shadow copies, or the run's own): ``real_A -> fake_B -> rec_A`` and
        ``real_B -> fake_A -> rec_B``, each (n, C, H, W) in [-1, 1] on the CPU. Instance
        norm has no running statistics, so eval mode changes nothing but is explicit."""
        modules = modules or self.modules
        g_ab, g_ba = unwrap(modules["generator_AB"]), unwrap(modules["generator_BA"])
        fake_b = _translate(g_ab, self.visual_a)
        fake_a = _translate(g_ba, self.visual_b)
        return {
            "real_A": self.visual_a.clone(),
            "fake_B": fake_b,
            "rec_A": _translate(g_ba, fake_b),
            "real_B": self.visual_b.clone(),
            "fake_A": fake_a,
            "rec_B": _translate(g_ab, fake_a),
        }

    def state_dict(self) -> RunState:
        pools = {"A": self.pool_a.state_dict(), "B": self.pool_b.state_dict()}
        state = progress_state(
            self,
            pools={name: {"count": p["count"], "size": p["size"]} for name, p in pools.items()},
            run_config={k: v for k, v in self.config.to_dict().items() if k not in ("generator", "discriminator")},
        )
        return capture_state(
            self,
            generators={f"pool_{name}": p["generator"] for name, p in pools.items()},
            tensors={
                "visual_A": self.visual_a,
                "visual_B": self.visual_b,
                **{f"pool_{name}": p["images"] for name, p in pools.items()},
            },
            state=state,
        )

    def load_state_dict(self, state: RunState) -> None:
        restore_run(self, state)
        for name, pool in (("A", self.pool_a), ("B", self.pool_b)):
            saved = state.state["pools"][name]
            pool.load_state_dict(
                {
                    "images": state.tensors[f"pool_{name}"].to(self.device),
                    "generator": state.generators[f"pool_{name}"],
                    "count": saved["count"],
                    "size": saved["size"],
                }
            )
        self.visual_a, self.visual_b = state.tensors["visual_A"].clone(), state.tensors["visual_B"].clone()


@torch.no_grad()
def _translate(generator: nn.Module, images: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
    """generator(images) in eval mode, (n, C, H, W) on the CPU; the mode is put back."""
    device = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    try:
        return torch.cat([generator(chunk.to(device)).float().cpu() for chunk in images.split(batch_size)])
    finally:
        generator.train(was_training)
