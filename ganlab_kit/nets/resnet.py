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

``upsample="resize"`` swaps each transposed conv for a nearest-neighbour 2x resize and a
3x3 conv with the same weights count (the checkerboard fix of Odena et al., 2016). The
default is the paper's. ``scripts/sweep_style_transfer.py`` records what it changed in
notebook 08's 64 px runs: less grain on ink wash, and no oil at all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .init import normal_init_

UPSAMPLING = ("transpose", "resize")


@dataclass(frozen=True)
class ResnetGeneratorConfig:
    """Everything that fixes a ResNet generator's shape (what a checkpoint must match)."""

    in_channels: int = 3
    out_channels: int = 3
    width: int = 64  # channels after the first conv; 2x and 4x after the two downsamplings
    blocks: int = 9  # residual blocks: 9 for 256 px images, 6 for 128 px in the paper
    upsample: str = "transpose"  # the paper's transposed convs, or "resize": nearest 2x, then a 3x3 conv

    def __post_init__(self) -> None:
        if self.upsample not in UPSAMPLING:
            raise ValueError(
                f"ResnetGeneratorConfig.upsample must be one of {', '.join(map(repr, UPSAMPLING))}, "
                f"got {self.upsample!r}"
            )
        for name in ("in_channels", "out_channels", "width"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"ResnetGeneratorConfig.{name} must be a positive int, got {value!r}")
        if not isinstance(self.blocks, int) or isinstance(self.blocks, bool) or self.blocks < 0:
            raise ValueError(f"ResnetGeneratorConfig.blocks must be an int >= 0, got {self.blocks!r}")

    def to_dict(self) -> dict:
        described = asdict(self)
        if self.upsample == "transpose":  # the paper's: left out, so older checkpoints still match
            del described["upsample"]
        return {"architecture": "resnet_generator", **described}


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
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        width: int = 64,
        blocks: int = 9,
        *,
        upsample: str = "transpose",
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.config = config = ResnetGeneratorConfig(in_channels, out_channels, width, blocks, upsample)
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

        def up(channels_in: int, channels_out: int) -> list[nn.Module]:
            if config.upsample == "transpose":
                # output_padding=1 makes the transposed conv exactly double the size: (n-1)*2 - 2 + 3 + 1 = 2n
                conv = nn.ConvTranspose2d(channels_in, channels_out, 3, stride=2, padding=1, output_padding=1)
                return conv_norm_relu(conv, channels_out)
            # "resize": copy each pixel to 2x2, then an ordinary 3x3 conv (the same weights count). A stride-2
            # transposed 3x3 conv adds 4 taps to some output pixels and 1 or 2 to others, a checkerboard the
            # generator must learn to cancel (Odena, Dumoulin and Olah, "Deconvolution and Checkerboard
            # Artifacts", Distill 2016); after a resize every output pixel sees the same 3x3 taps.
            return [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1)] + conv_norm_relu(
                nn.Conv2d(channels_in, channels_out, 3), channels_out
            )

        self.decoder = nn.Sequential(
            *up(4 * w, 2 * w),  # (B, 2w, H/2, W/2)
            *up(2 * w, w),  # (B, w, H, W)
            nn.ReflectionPad2d(3),
            nn.Conv2d(w, config.out_channels, 7),
            nn.Tanh(),  # (B, out, H, W)
        )
        normal_init_(self, torch.Generator().manual_seed(seed) if seed is not None else None)

    @classmethod
    def from_config(cls, config: ResnetGeneratorConfig, *, seed: int | None = None) -> ResnetGenerator:
        return cls(
            config.in_channels, config.out_channels, config.width, config.blocks, upsample=config.upsample, seed=seed
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        channels = self.config.in_channels
        if images.dim() != 4 or images.shape[1] != channels or images.shape[-1] % 4 or images.shape[-2] % 4:
            raise ValueError(
                f"ResnetGenerator expects images (B, {channels}, H, W) with H and W multiples of 4, "
                f"got {tuple(images.shape)}"
            )
        return self.decoder(self.blocks(self.encoder(images)))
