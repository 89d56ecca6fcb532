"""The ResNet generator of CycleGAN (Zhu et al. 2017), after Johnson et al.'s fast style transfer.

An encoder shrinks the image 4x, residual blocks transform it at that size, a decoder
grows it back. Reflection padding (instead of zeros) keeps the borders free of the dark
frame zero padding leaves; instance norm normalises each image on its own, so the
contrast of one photo does not leak into another's translation.

Shapes for a 256 px image, ``width=w`` (the paper's w = 64, 9 blocks at 256 px, 6 at 128)::

    (B, in, 256, 256)
      -> ReflectionPad 3, Conv 7x7           -> (B,  w, 256, 256)   "c7s1-64"
      -> Conv 3x3 stride 2                   -> (B, 2w, 128, 128)   "d128"
      -> Conv 3x3 stride 2                   -> (B, 4w,  64,  64)   "d256"
      -> blocks x [x + F(x)]                 -> (B, 4w,  64,  64)   "R256" each
      -> ConvT 3x3 stride 2                  -> (B, 2w, 128, 128)   "u128"
      -> ConvT 3x3 stride 2                  -> (B,  w, 256, 256)   "u64"
      -> ReflectionPad 3, Conv 7x7, tanh     -> (B, out, 256, 256)  "c7s1-3"

Every hidden conv is followed by instance norm and ReLU. Convolutions keep their biases:
instance norm here learns no scale or shift (as in the reference implementation), so the
bias is the only shift a layer has. At the defaults this is 11,378,179 parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .init import normal_init_


@dataclass(frozen=True)
class ResnetGeneratorConfig:
    """Everything that fixes a ResNet generator's shape (what a checkpoint must match)."""

    in_channels: int = 3
    out_channels: int = 3
    width: int = 64  # channels after the first conv; 2x and 4x after the two downsamplings
    blocks: int = 9  # residual blocks: 9 for 256 px images, 6 for 128 px in the paper

    def __post_init__(self) -> None:
        for name in ("in_channels", "out_channels", "width"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"ResnetGeneratorConfig.{name} must be a positive int, got {value!r}")
        if not isinstance(self.blocks, int) or isinstance(self.blocks, bool) or self.blocks < 0:
            raise ValueError(f"ResnetGeneratorConfig.blocks must be an int >= 0, got {self.blocks!r}")

    def to_dict(self) -> dict:
        return {"architecture": "resnet_generator", **asdict(self)}


class ResidualBlock(nn.Module):
    """x -> x + F(x), F = [pad, conv 3x3, norm, ReLU, pad, conv 3x3, norm]; shape kept (B, C, H, W)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)  # no ReLU after the sum, as in the reference


class ResnetGenerator(nn.Module):
    """images (B, in_channels, H, W) -> images (B, out_channels, H, W) in [-1, 1]; H and W
    multiples of 4. Weights drawn from N(0, 0.02) (``seed`` makes them repeatable)."""

    def __init__(
        self, in_channels: int = 3, out_channels: int = 3, width: int = 64, blocks: int = 9, *, seed: int | None = None
    ) -> None:
        super().__init__()
        self.config = config = ResnetGeneratorConfig(in_channels, out_channels, width, blocks)
        w = config.width

        def conv_norm_relu(conv: nn.Module, channels: int) -> list[nn.Module]:
            return [conv, nn.InstanceNorm2d(channels), nn.ReLU(inplace=True)]

        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3),
            *conv_norm_relu(nn.Conv2d(config.in_channels, w, 7), w),  # (B, w, H, W)
            *conv_norm_relu(nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), 2 * w),  # (B, 2w, H/2, W/2)
            *conv_norm_relu(nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1), 4 * w),  # (B, 4w, H/4, W/4)
        )
        self.blocks = nn.Sequential(*[ResidualBlock(4 * w) for _ in range(config.blocks)])  # (B, 4w, H/4, W/4)
        # output_padding=1 makes each transposed conv exactly double the size: (n-1)*2 - 2 + 3 + 1 = 2n
        self.decoder = nn.Sequential(
            *conv_norm_relu(nn.ConvTranspose2d(4 * w, 2 * w, 3, stride=2, padding=1, output_padding=1), 2 * w),  # H/2
            *conv_norm_relu(nn.ConvTranspose2d(2 * w, w, 3, stride=2, padding=1, output_padding=1), w),  # H
            nn.ReflectionPad2d(3),
            nn.Conv2d(w, config.out_channels, 7),
            nn.Tanh(),  # (B, out, H, W)
        )
        normal_init_(self, torch.Generator().manual_seed(seed) if seed is not None else None)

    @classmethod
    def from_config(cls, config: ResnetGeneratorConfig, *, seed: int | None = None) -> ResnetGenerator:
        return cls(config.in_channels, config.out_channels, config.width, config.blocks, seed=seed)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        channels = self.config.in_channels
        if images.dim() != 4 or images.shape[1] != channels or images.shape[-1] % 4 or images.shape[-2] % 4:
            raise ValueError(
                f"ResnetGenerator expects images (B, {channels}, H, W) with H and W multiples of 4, "
                f"got {tuple(images.shape)}"
            )
        return self.decoder(self.blocks(self.encoder(images)))
