"""One generator for several styles: photo + style code -> image.

The style enters through **conditional instance normalisation** (Dumoulin, Shlens and
Kudlur, "A Learned Representation for Artistic Style", ICLR 2017): every normalisation
layer first normalises each channel of each image (instance norm, no affine part), then
scales and shifts it with a per-style ``gamma`` and ``beta``. All convolutions are shared
by the styles; a style is only its ``gamma`` / ``beta`` rows (a few thousand numbers).

A style code is a vector of weights over the styles, shape (B, S): one-hot picks one
style, ``0.5 * ink + 0.5 * oil`` mixes two. The layer uses ``code @ gamma_table``, so a
mixed code gives the *interpolated* scale and shift in every layer: that is the
culture-mixing slider of notebook 09.

Shape, for a (B, 3, H, W) photo with ``width`` w and ``downs`` d = 2 (H, W multiples of 4)::

    stem   7x7 conv, reflection pad          (B, w, H, W)        CIN, ReLU
    down   3x3 stride-2 conv, x d            (B, 2w, H/2, W/2) -> (B, 4w, H/4, W/4)
    blocks residual blocks of two 3x3 convs  (B, 4w, H/4, W/4)   CIN in each
    up     nearest x2 + 3x3 conv, x d        (B, 2w, H/2, W/2) -> (B, w, H, W)
    head   7x7 conv, reflection pad, tanh    (B, 3, H, W) in [-1, 1]

Upsampling is nearest-neighbour + convolution rather than a transposed convolution, which
avoids the checkerboard pattern a stride-2 transposed convolution leaves (Odena et al.,
"Deconvolution and Checkerboard Artifacts", Distill 2016).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class StyleGeneratorConfig:
    """What fixes the shape of a :class:`ConditionalStyleGenerator` (a checkpoint must match).

    styles: names of the styles, in the order of the code's entries
    width:  channels after the stem (2x, 4x after each downsampling)
    blocks: residual blocks at the lowest resolution
    downs:  stride-2 stages (images must be multiples of 2 ** downs)
    """

    styles: tuple[str, ...] = ("ink_wash", "oil", "ukiyoe")
    width: int = 24
    blocks: int = 5
    downs: int = 2

    def __post_init__(self) -> None:
        if len(self.styles) < 1 or len(set(self.styles)) != len(self.styles):
            raise ValueError(f"styles must be distinct names, got {self.styles!r}")
        for name in ("width", "blocks", "downs"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "styles": list(self.styles), "kind": "conditional_style_generator"}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StyleGeneratorConfig:
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["styles"] = tuple(values.get("styles", cls.styles))
        return cls(**values)


class ConditionalInstanceNorm2d(nn.Module):
    """Instance norm whose scale and shift come from a style code (B, S): ``code @ table``."""

    def __init__(self, channels: int, styles: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(styles, channels))
        self.beta = nn.Parameter(torch.zeros(styles, channels))

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        normalised = F.instance_norm(x, eps=1e-5)  # per image, per channel
        gamma = (code @ self.gamma)[:, :, None, None]  # (B, C, 1, 1)
        beta = (code @ self.beta)[:, :, None, None]
        return normalised * gamma + beta


class _ConvNorm(nn.Module):
    """conv -> conditional instance norm -> (ReLU)."""

    def __init__(self, conv: nn.Module, channels: int, styles: int, relu: bool = True) -> None:
        super().__init__()
        self.conv, self.norm, self.relu = conv, ConditionalInstanceNorm2d(channels, styles), relu

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.conv(x), code)
        return F.relu(x) if self.relu else x


class _Residual(nn.Module):
    def __init__(self, channels: int, styles: int) -> None:
        super().__init__()
        self.first = _ConvNorm(_padded(channels, channels, 3), channels, styles)
        self.second = _ConvNorm(_padded(channels, channels, 3), channels, styles, relu=False)

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        return x + self.second(self.first(x, code), code)


def _padded(cin: int, cout: int, kernel: int) -> nn.Sequential:
    """A same-size convolution with reflection padding (no zero border for the net to see)."""
    return nn.Sequential(nn.ReflectionPad2d(kernel // 2), nn.Conv2d(cin, cout, kernel, bias=False))


class _Up(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = _padded(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class ConditionalStyleGenerator(nn.Module):
    """``G(photo, code)``: photos (B, 3, H, W) in [-1, 1] and codes (B, S) -> (B, 3, H, W) in [-1, 1]."""

    def __init__(self, config: StyleGeneratorConfig | None = None, seed: int | None = 0) -> None:
        super().__init__()
        self.config = config = config or StyleGeneratorConfig()
        if seed is not None:
            torch.manual_seed(seed)
        s, w = len(config.styles), config.width
        layers: list[nn.Module] = [_ConvNorm(_padded(3, w, 7), w, s)]
        channels = w
        for _ in range(config.downs):
            layers.append(
                _ConvNorm(nn.Conv2d(channels, channels * 2, 3, stride=2, padding=1, bias=False), channels * 2, s)
            )
            channels *= 2
        layers += [_Residual(channels, s) for _ in range(config.blocks)]
        for _ in range(config.downs):
            layers.append(_ConvNorm(_Up(channels, channels // 2), channels // 2, s))
            channels //= 2
        self.layers = nn.ModuleList(layers)
        self.head = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(channels, 3, 7))

    @property
    def styles(self) -> tuple[str, ...]:
        return self.config.styles

    def forward(self, photos: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        multiple = 2**self.config.downs
        if photos.dim() != 4 or photos.shape[1] != 3:
            raise ValueError(f"photos must be (B, 3, H, W), got {tuple(photos.shape)}")
        if photos.shape[-1] % multiple or photos.shape[-2] % multiple:
            raise ValueError(f"image sides must be multiples of {multiple}, got {tuple(photos.shape[-2:])}")
        if code.shape != (photos.shape[0], len(self.styles)):
            raise ValueError(
                f"code must be (B, {len(self.styles)}) = {(photos.shape[0], len(self.styles))}, got {tuple(code.shape)}"
            )
        x = photos
        code = code.to(photos.dtype)
        for layer in self.layers:
            x = layer(x, code)
        return torch.tanh(self.head(x))


def style_code(styles: tuple[str, ...], weights: str | dict[str, float], batch: int = 1) -> torch.Tensor:
    """A (batch, S) code: a style's name (one-hot) or ``{name: weight}`` (normalised to sum 1)."""
    if isinstance(weights, str):
        weights = {weights: 1.0}
    unknown = sorted(set(weights) - set(styles))
    if unknown:
        raise ValueError(f"unknown style(s) {', '.join(unknown)}; the generator knows {', '.join(styles)}")
    values = torch.tensor([float(weights.get(name, 0.0)) for name in styles])
    if (values < 0).any() or float(values.sum()) <= 0:
        raise ValueError(f"style weights must be >= 0 and not all 0, got {weights!r}")
    return (values / values.sum()).expand(batch, -1).clone()


def mix_along(styles: tuple[str, ...], position: float) -> dict[str, float]:
    """The mixing slider: ``position`` in [0, S-1] walks style 0 -> style 1 -> ... ; between two
    neighbours it is their linear mix (1.5 = half style 1, half style 2)."""
    last = len(styles) - 1
    if not 0 <= position <= last:
        raise ValueError(f"position must be in [0, {last}], got {position}")
    low = min(int(position), last - 1) if last > 0 else 0
    t = position - low
    if last == 0:
        return {styles[0]: 1.0}
    return {styles[low]: 1.0 - t, styles[low + 1]: t}
