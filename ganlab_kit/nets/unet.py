"""The U-Net generator of pix2pix (Isola et al. 2017): an encoder-decoder with skip connections.

The encoder halves the image ``downs`` times, down to 1x1 at 256 px with ``downs=8``;
the decoder doubles it back, and each decoder stage also sees the encoder's features
of the same size (concatenated along the channels). Low-level detail, edges and
positions, can so cross straight from input to output instead of squeezing through
the 1x1 bottleneck: what a translation between two renderings of one scene needs.

Shapes for pix2pix's 256 px U-Net (``width=w=64``, ``downs=8``); ``++`` is concatenation
along the channels, the skip connection::

    encoder (conv, batch norm, LeakyReLU 0.2)     decoder (ReLU, transposed conv, batch norm)
    x  (B,  3, 256, 256)
    e1 (B,  w, 128, 128)   (no batch norm)         out = up(e1 ++ d6) (B, 3, 256, 256), tanh
    e2 (B, 2w,  64,  64)                           d6  = up(e2 ++ d5) (B,  w, 128, 128)
    e3 (B, 4w,  32,  32)                           d5  = up(e3 ++ d4) (B, 2w,  64,  64)
    e4 (B, 8w,  16,  16)                           d4  = up(e4 ++ d3) (B, 4w,  32,  32)
    e5 (B, 8w,   8,   8)                           d3  = up(e5 ++ d2) (B, 8w,  16,  16)  + dropout
    e6 (B, 8w,   4,   4)                           d2  = up(e6 ++ d1) (B, 8w,   8,   8)  + dropout
    e7 (B, 8w,   2,   2)                           d1  = up(e7 ++ d0) (B, 8w,   4,   4)  + dropout
    e8 (B, 8w,   1,   1)  the bottleneck: no norm   d0  = up(e8)       (B, 8w,   2,   2)

Every layer is a 4x4 convolution of stride 2 (transposed in the decoder).
Dropout (p = 0.5) sits in the three decoder stages nearest the bottleneck, in training
*and*, in the paper, at test time (the generator's only source of randomness). Hidden
convolutions have no bias (batch norm's shift replaces it); the output layer has one.
At the defaults this is 54,413,955 parameters, layer for layer the reference
implementation's ``unet_256``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .init import normal_init_


@dataclass(frozen=True)
class UnetGeneratorConfig:
    """Everything that fixes a U-Net generator's shape (what a checkpoint must match).

    downs:   stride-2 stages; images must be multiples of 2**downs pixels (8 -> 256 px,
             7 -> 128 px, 5 -> 32 px). At least 5 (the paper's five widths w..8w).
    dropout: probability in the three decoder stages after the bottleneck (0 turns it off).
    """

    in_channels: int = 3
    out_channels: int = 3
    width: int = 64
    downs: int = 8
    dropout: float = 0.5

    def __post_init__(self) -> None:
        for name in ("in_channels", "out_channels", "width"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"UnetGeneratorConfig.{name} must be a positive int, got {value!r}")
        if not isinstance(self.downs, int) or self.downs < 5:
            raise ValueError(
                f"UnetGeneratorConfig.downs must be an int >= 5 (8 for 256 px, 5 for 32 px), got {self.downs!r}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"UnetGeneratorConfig.dropout must be in [0, 1), got {self.dropout!r}")

    @property
    def multiple(self) -> int:
        """Image sides must be multiples of this (2 ** downs)."""
        return 2**self.downs

    def channels(self, stage: int) -> int:
        """Channels of encoder stage ``stage`` (0-based): w, 2w, 4w, then 8w."""
        return self.width * min(2**stage, 8)

    def to_dict(self) -> dict:
        return {"architecture": "unet_generator", **asdict(self)}


class UnetGenerator(nn.Module):
    """images (B, in_channels, H, W) -> images (B, out_channels, H, W) in [-1, 1]; H and W
    multiples of ``2 ** downs``. Weights drawn from N(0, 0.02) (``seed`` makes them repeatable).

    ``encoder[i]`` makes e(i+1) of the module docstring's table, ``decoder[j]`` makes d(j).
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        width: int = 64,
        downs: int = 8,
        dropout: float = 0.5,
        *,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.config = config = UnetGeneratorConfig(in_channels, out_channels, width, downs, dropout)
        c = config.channels
        last = downs - 1
        encoder = []
        for i in range(downs):
            layers: list[nn.Module] = [nn.Conv2d(in_channels if i == 0 else c(i - 1), c(i), 4, 2, 1, bias=False)]
            if 0 < i < last:
                layers.append(nn.BatchNorm2d(c(i)))
            if i < last:  # the bottleneck gets the decoder's ReLU instead
                layers.append(nn.LeakyReLU(0.2, inplace=True))
            encoder.append(nn.Sequential(*layers))
        self.encoder = nn.ModuleList(encoder)

        decoder = []
        for j in range(last):  # d0 .. d(downs-2): ReLU, transposed conv, batch norm (, dropout)
            stage = last - j  # the encoder stage this decoder stage's input came from
            inputs = c(stage) if j == 0 else 2 * c(stage)  # d0 sees the bottleneck alone, the others input ++ skip
            layers = [
                nn.ReLU(inplace=True),
                nn.ConvTranspose2d(inputs, c(stage - 1), 4, 2, 1, bias=False),
                nn.BatchNorm2d(c(stage - 1)),
            ]
            if 1 <= j <= downs - 5 and dropout > 0:
                layers.append(nn.Dropout(dropout))
            decoder.append(nn.Sequential(*layers))
        decoder.append(
            nn.Sequential(nn.ReLU(inplace=True), nn.ConvTranspose2d(2 * c(0), out_channels, 4, 2, 1), nn.Tanh())
        )
        self.decoder = nn.ModuleList(decoder)
        normal_init_(self, torch.Generator().manual_seed(seed) if seed is not None else None)

    @classmethod
    def from_config(cls, config: UnetGeneratorConfig, *, seed: int | None = None) -> UnetGenerator:
        return cls(config.in_channels, config.out_channels, config.width, config.downs, config.dropout, seed=seed)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        channels, multiple = self.config.in_channels, self.config.multiple
        if (
            images.dim() != 4
            or images.shape[1] != channels
            or images.shape[-1] % multiple
            or images.shape[-2] % multiple
        ):
            raise ValueError(
                f"UnetGenerator(downs={self.config.downs}) expects images (B, {channels}, H, W) with H and W "
                f"multiples of {multiple}, got {tuple(images.shape)}"
            )
        skips = []
        h = images
        for stage in self.encoder:  # e1 .. e(downs)
            h = stage(h)
            skips.append(h)
        h = self.decoder[0](skips.pop())  # the bottleneck alone
        for stage in self.decoder[1:]:
            h = stage(torch.cat([skips.pop(), h], dim=1))  # skip first, as in the reference: (B, 2C, H, W)
        return h
