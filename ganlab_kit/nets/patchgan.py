"""The PatchGAN discriminator of pix2pix and CycleGAN: one real/fake logit per image patch.

Instead of one score per image, a small fully convolutional net scores every
overlapping patch; the loss averages over the map. Each output logit sees a 70x70
window of the input (its *receptive field*, :func:`receptive_field`), so the
discriminator judges texture and local style, while the L1 or cycle loss keeps the
large-scale layout. With fewer parameters than a whole-image critic it also runs on
any image size.

Shapes for a 256 px input, ``width=w=64``, ``layers=3`` (the "70x70 PatchGAN")::

    (B, in, 256, 256)
      -> Conv 4x4 s2, LeakyReLU                 -> (B,  w, 128, 128)   C64 (no norm)
      -> Conv 4x4 s2, norm, LeakyReLU           -> (B, 2w,  64,  64)   C128
      -> Conv 4x4 s2, norm, LeakyReLU           -> (B, 4w,  32,  32)   C256
      -> Conv 4x4 s1, norm, LeakyReLU           -> (B, 8w,  31,  31)   C512
      -> Conv 4x4 s1                            -> (B,  1,  30,  30)   logits

A 4x4 convolution with padding 1 and stride 1 takes n to n - 1, hence 31 and 30.
Channels double per layer up to 8w. ``norm="instance"`` is CycleGAN's (no learned
parameters: 2,764,737 parameters at the defaults); ``norm="batch"`` pix2pix's (a
learned scale and shift per channel, the convolution before it drops its bias: 2,765,633
for 3 input channels, 2,768,705 for pix2pix's 6-channel (photo, styled) pairs).

Deviation from the papers, said out loud: none in the layers; the logits are returned
without a sigmoid because every loss of :mod:`ganlab_kit.losses` works on logits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .init import normal_init_

NORMS: tuple[str, ...] = ("instance", "batch")


@dataclass(frozen=True)
class PatchDiscriminatorConfig:
    """Everything that fixes a PatchGAN's shape (what a checkpoint must match).

    in_channels: 3 for CycleGAN (an image), 6 for pix2pix (input ++ output)
    layers:      stride-2 layers after the first (3: 70x70 patches, 1: 16x16, 5: 286x286)
    norm:        "instance" (CycleGAN) or "batch" (pix2pix)
    """

    in_channels: int = 3
    width: int = 64
    layers: int = 3
    norm: str = "instance"

    def __post_init__(self) -> None:
        for name in ("in_channels", "width", "layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"PatchDiscriminatorConfig.{name} must be a positive int, got {value!r}")
        if self.norm not in NORMS:
            raise ValueError(f"PatchDiscriminatorConfig.norm must be one of {', '.join(NORMS)}; got {self.norm!r}")

    def to_dict(self) -> dict:
        return {"architecture": "patch_discriminator", **asdict(self)}


class PatchDiscriminator(nn.Module):
    """images (B, in_channels, H, W) -> patch logits (B, 1, H', W') (30x30 for 256 px at the
    defaults). Weights drawn from N(0, 0.02) (``seed`` makes them repeatable)."""

    def __init__(
        self, in_channels: int = 3, width: int = 64, layers: int = 3, norm: str = "instance", *, seed: int | None = None
    ) -> None:
        super().__init__()
        self.config = PatchDiscriminatorConfig(in_channels, width, layers, norm)
        batch = norm == "batch"

        def norm_layer(channels: int) -> nn.Module:
            # instance norm without learned parameters, as in the reference implementation
            return nn.BatchNorm2d(channels) if batch else nn.InstanceNorm2d(channels)

        widths = [width * min(2**n, 8) for n in range(layers + 1)]  # w, 2w, 4w, 8w, 8w, ...
        body: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for n in range(1, layers + 1):
            stride = 2 if n < layers else 1  # the last hidden layer keeps the size (n -> n - 1)
            body += [
                nn.Conv2d(widths[n - 1], widths[n], 4, stride, 1, bias=not batch),
                norm_layer(widths[n]),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        self.body = nn.Sequential(*body)
        self.head = nn.Conv2d(widths[-1], 1, 4, 1, 1)  # one logit per patch
        normal_init_(self, torch.Generator().manual_seed(seed) if seed is not None else None)

    @classmethod
    def from_config(cls, config: PatchDiscriminatorConfig, *, seed: int | None = None) -> PatchDiscriminator:
        return cls(config.in_channels, config.width, config.layers, config.norm, seed=seed)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1] != self.config.in_channels:
            raise ValueError(
                f"PatchDiscriminator expects images (B, {self.config.in_channels}, H, W), got {tuple(images.shape)}"
            )
        return self.head(self.body(images))  # (B, 1, H', W')


def receptive_field(discriminator: PatchDiscriminator) -> int:
    """Side of the input window one output logit sees (70 for the default 3 layers).

    Walking back from one output pixel: a k x k conv of stride s grows a window of r
    pixels to ``(r - 1) * s + k``.
    """
    convs = [m for m in discriminator.modules() if isinstance(m, nn.Conv2d)]
    size = 1
    for conv in reversed(convs):
        size = (size - 1) * conv.stride[0] + conv.kernel_size[0]
    return size
