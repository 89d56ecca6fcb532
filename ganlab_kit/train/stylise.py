"""Train one conditional generator for several styles from the renderers' paired data.

The renderers give, for every photo, its true ink-wash, oil and ukiyo-e rendering, so the
multi-style generator of notebook 09 learns by regression, as pix2pix's L1 term does:

    loss = E || G(x, c_s) - y_s ||_1  +  edge_weight * E || sobel(G(x, c_s)) - sobel(y_s) ||_1

with ``c_s`` the one-hot code of style ``s`` and ``y_s`` the renderer's painting. The edge
term (on the grey levels' Sobel gradient length) asks for the renderers' brush and key-line
edges where L1 alone settles for the blurry average. No discriminator: the target is known
exactly, and a regression to it is what scores best against it (notebook 06 measured the
same for pix2pix); the GAN versions of this mapping are notebooks 06 and 07.

:class:`MultiStylePairs` joins one paired set per style; :class:`StyliseRun` is a
:class:`~ganlab_kit.train.run.Run`, so the image lab, the checkpoints and the CLI take it
like any other model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from ..losses import l1_loss
from ..nets.conditional import ConditionalStyleGenerator, StyleGeneratorConfig
from ..styles.constraints import luminance, sobel_magnitude
from .accel import PRECISIONS, Accelerator, unwrap
from .checkpoint import CheckpointMethods
from .run import (
    G_LOSS,
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

MODEL = "stylise"


class MultiStylePairs(Dataset):
    """Items ``{"A": photo, "B": painting, "style": index}`` from one paired set per style.

    ``sets`` maps style names (in the generator's order) to paired data sets whose items are
    ``{"A", "B"}``; item ``k * n + i`` is item ``i`` of style ``k`` (every set has ``n`` items).
    """

    def __init__(self, sets: Mapping[str, Dataset]) -> None:
        if not sets:
            raise ValueError("MultiStylePairs needs at least one style's paired set")
        sizes = {name: len(data) for name, data in sets.items()}
        if len(set(sizes.values())) != 1 or 0 in sizes.values():
            raise ValueError(f"every style needs the same, non-zero number of pairs; got {sizes}")
        self.styles = tuple(sets)
        self.sets = [sets[name] for name in self.styles]
        self.per_style = next(iter(sizes.values()))

    def __len__(self) -> int:
        return self.per_style * len(self.sets)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        style, item = divmod(index, self.per_style)
        pair = self.sets[style][item]
        return {"A": pair["A"], "B": pair["B"], "style": torch.tensor(style)}


@dataclass
class StyliseHyper:
    generator_lr: float = hyper_field(1e-3, low=1e-7, high=1.0, log=True, help="Adam's learning rate")
    betas: tuple[float, float] = hyper_field((0.9, 0.999), low=0.0, high=0.9999, help="Adam's (beta1, beta2)")
    edge_weight: float = hyper_field(1.0, low=0.0, high=100.0, help="weight of the Sobel-edge L1 term")

    def validate(self) -> None:
        if not (isinstance(self.betas, tuple) and len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas)):
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {self.betas!r}")


@dataclass
class StyliseRunConfig:
    image_size: int = 128
    generator: StyleGeneratorConfig = field(default_factory=StyleGeneratorConfig)
    batch_size: int = 8
    seed: int = 0
    num_visuals: int = 4
    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {self.precision!r}")
        if self.image_size % (2**self.generator.downs):
            raise ValueError(f"image_size must be a multiple of {2**self.generator.downs}, got {self.image_size}")

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "generator": self.generator.to_dict()}


def edge_l1(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean |sobel(grey(output)) - sobel(grey(target))|: do the edges sit where the target's do?"""
    return l1_loss(sobel_magnitude(luminance(output)), sobel_magnitude(luminance(target)))


def stylise_step(generator, optimizer, photos, targets, codes, hyper: StyliseHyper, accel: Accelerator):
    """One regression step of the conditional generator; returns detached 0-d metrics."""
    with accel.autocast():
        output = generator(photos, codes)
    output = output.float()
    l1 = l1_loss(output, targets.float())
    edges = edge_l1(output, targets.float())
    loss = l1 + hyper.edge_weight * edges
    accel.backward(loss, optimizer)
    return {G_LOSS: loss.detach(), "l1_loss": l1.detach(), "edge_loss": edges.detach()}


class StyliseRun(CheckpointMethods, PendingHyper[StyliseHyper]):
    """The multi-style generator, its optimizer and the mixed-style batch stream."""

    visual_modules: tuple[str, ...] = ("generator",)

    def __init__(
        self,
        config: StyliseRunConfig,
        data: MultiStylePairs,
        device: torch.device | str = "cpu",
        hyper: StyliseHyper | None = None,
        held_out: MultiStylePairs | None = None,
    ) -> None:
        hyper = hyper or StyliseHyper()
        validate_hyper(hyper)
        if tuple(data.styles) != tuple(config.generator.styles):
            raise ValueError(f"the data's styles {data.styles} differ from the generator's {config.generator.styles}")
        first = data[0]["A"]
        expected = (3, config.image_size, config.image_size)
        if tuple(first.shape) != expected:
            raise ValueError(f"the data's images are {tuple(first.shape)}; the run expects {expected}")
        self.config = config
        self._hyper, self._pending_hyper = hyper, None
        self.accel = Accelerator.for_run(config, device)
        self.device = self.accel.device
        self.stream = self.accel.batch_stream(data, config.batch_size, config.seed)
        prepared = self.accel.prepare(ConditionalStyleGenerator(config.generator, seed=config.seed))
        self.generator, self.generator_forward = prepared.raw, prepared.forward
        self.optimizer = torch.optim.Adam(self.generator.parameters(), lr=hyper.generator_lr, betas=hyper.betas)
        source = held_out if held_out is not None else data
        count = min(config.num_visuals, source.per_style)
        self.visual_photos = torch.stack([source.sets[0][i]["A"] for i in range(count)])
        self.steps_done = 0

    @property
    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator}

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.optimizer}

    def architecture(self) -> dict[str, Any]:
        return {
            "architecture": MODEL,
            "image_size": self.config.image_size,
            "generator": self.config.generator.to_dict(),
        }

    def on_hyper_change(self, old: StyliseHyper, new: StyliseHyper) -> None:
        set_learning_rate(self.optimizer, new.generator_lr)
        set_betas(self.optimizer, new.betas)

    def step(self) -> dict[str, torch.Tensor]:
        self.apply_pending_hyper()
        batch = next(self.stream)
        styles = len(self.config.generator.styles)
        codes = torch.nn.functional.one_hot(batch["style"], styles).float()
        metrics = stylise_step(
            self.generator_forward,
            self.optimizer,
            self.accel.to_device(batch["A"]),
            self.accel.to_device(batch["B"]),
            codes.to(self.device),
            self._hyper,
            self.accel,
        )
        self.steps_done += 1
        return metrics

    @torch.no_grad()
    def visuals(self, modules: Mapping[str, nn.Module] | None = None) -> dict[str, torch.Tensor]:
        """``{"input": held-out photos, <style>: the generator's painting in that style, ...}``."""
        generator = unwrap((modules or self.modules)["generator"])
        device = next(generator.parameters()).device
        photos = self.visual_photos.to(device)
        out = {"input": self.visual_photos.clone()}
        for name in generator.styles:
            code = torch.zeros(len(photos), len(generator.styles), device=device)
            code[:, generator.styles.index(name)] = 1.0
            was_training = generator.training
            generator.eval()
            out[name] = generator(photos, code).float().cpu()
            generator.train(was_training)
        return out

    def state_dict(self) -> RunState:
        return capture_state(self, tensors={"visual_photos": self.visual_photos}, state=progress_state(self))

    def load_state_dict(self, state: RunState) -> None:
        restore_run(self, state)
        self.visual_photos = state.tensors["visual_photos"].clone()
