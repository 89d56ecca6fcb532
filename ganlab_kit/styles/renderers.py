"""A renderer as a value: a name, a function and its config, callable on a batch.

Datasets and notebooks pass a ``StyleRenderer`` around instead of three loose things, and
its ``cache_key`` names exactly what was rendered (so a cache can never serve pixels
from a different configuration).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from .inkwash import InkWashConfig, render_ink_wash
from .oil import OilConfig, render_oil
from .ukiyoe import UkiyoeConfig, render_ukiyoe


@dataclass(frozen=True)
class StyleRenderer:
    """``renderer(images, seed)``: ``(B, 3, H, W)`` in [0, 1] -> the same in the style."""

    name: str
    render: Callable[[torch.Tensor, Any, int], torch.Tensor]
    config: Any

    def __call__(self, images: torch.Tensor, seed: int = 0) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"renderers paint (B, 3, H, W) RGB batches, got shape {tuple(images.shape)}")
        low, high = float(images.min()), float(images.max())
        if low < -1e-3 or high > 1 + 1e-3:
            hint = " (a [-1, 1] batch? pass (x + 1) / 2)" if low >= -1 - 1e-3 and high <= 1 + 1e-3 else ""
            raise ValueError(f"renderers paint images in [0, 1]; got values from {low:.3f} to {high:.3f}{hint}")
        return self.render(images, self.config, seed)

    def cache_key(self) -> str:
        return f"{self.name}:{self.config!r}"


def ink_wash(config: InkWashConfig | None = None) -> StyleRenderer:
    return StyleRenderer("ink_wash", render_ink_wash, config or InkWashConfig())


def oil(config: OilConfig | None = None) -> StyleRenderer:
    return StyleRenderer("oil", render_oil, config or OilConfig())


def ukiyoe(config: UkiyoeConfig | None = None) -> StyleRenderer:
    return StyleRenderer("ukiyoe", render_ukiyoe, config or UkiyoeConfig())


def all_styles() -> list[StyleRenderer]:
    """The three traditions with default settings, in a fixed order."""
    return [ink_wash(), oil(), ukiyoe()]
