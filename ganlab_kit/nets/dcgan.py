"""DCGAN (Radford, Metz & Chintala 2016) at 16x16, 32x32 and 64x64.

The paper's guidelines, each visible below:

* no pooling: the generator grows images with *transposed* convolutions of stride 2,
  the discriminator shrinks them with *strided* convolutions;
* batch norm in both nets, except the generator's output layer and the
  discriminator's input layer (the paper found normalising those made training unstable);
* ReLU in the generator, tanh on its output (images live in [-1, 1]);
  LeakyReLU(0.2) in the discriminator;
* no fully connected hidden layers; weights drawn from N(0, 0.02).

Shapes for ``image_size=32``, ``width=w`` (the generator mirrors the discriminator)::

    z (B, latent_dim) -> (B, latent_dim, 1, 1)
      -> ConvT k4 s1 p0 -> (B, 4w, 4, 4)     # project and reshape
      -> ConvT k4 s2 p1 -> (B, 2w, 8, 8)     # each block doubles H and W, halves channels
      -> ConvT k4 s2 p1 -> (B,  w, 16, 16)
      -> ConvT k4 s2 p1 -> (B,  C, 32, 32) -> tanh

A transposed convolution's output size is ``(in - 1) * stride - 2 * padding + kernel``:
``(4 - 1) * 2 - 2 + 4 = 8``. Size 16 has one block fewer, size 64 one more.

Deviation from the paper, said out loud: the discriminator returns a *logit* of shape
``(B, 1)`` and no sigmoid, because every loss in :mod:`ganlab_kit.losses` works on logits.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

SUPPORTED_SIZES: tuple[int, ...] = (16, 32, 64)


@dataclass(frozen=True)
class DCGANConfig:
    """Everything that fixes the *shape* of a DCGAN (what a checkpoint must match).

    image_size:            16, 32 or 64 (pixels per side)
    channels:              1 for grey images, 3 for colour
    latent_dim:            length of the noise vector z
    generator_width:       channels of the generator's last hidden layer (the paper's 128 at 64x64);
                           earlier layers have 2x, 4x, 8x as many
    discriminator_width:   channels of the discriminator's first layer, doubling per block
    discriminator_batch_norm: False drops BN from the discriminator (use it for the
                           Wasserstein loss with gradient penalty, which is defined per sample)
    """

    image_size: int = 32
    channels: int = 1
    latent_dim: int = 64
    generator_width: int = 32
    discriminator_width: int = 32
    discriminator_batch_norm: bool = True

    def __post_init__(self) -> None:
        if self.image_size not in SUPPORTED_SIZES:
            raise ValueError(f"DCGAN image_size must be one of {SUPPORTED_SIZES}, got {self.image_size}")
        for name in ("channels", "latent_dim", "generator_width", "discriminator_width"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"DCGANConfig.{name} must be a positive int, got {value!r}")

    @property
    def num_blocks(self) -> int:
        """Stride-2 stages between 4x4 and the image: 2 at 16, 3 at 32, 4 at 64."""
        return int(math.log2(self.image_size // 4))

    def describe(self) -> str:
        return (
            f"DCGAN {self.image_size}x{self.image_size}x{self.channels} (latent_dim={self.latent_dim}, "
            f"generator_width={self.generator_width}, discriminator_width={self.discriminator_width}, "
            f"discriminator_batch_norm={self.discriminator_batch_norm})"
        )

    def to_dict(self) -> dict:
        return {"architecture": "dcgan", **asdict(self)}


def generator_layers(config: DCGANConfig) -> list[nn.Module]:
    """The generator's layer stack, (B, latent_dim, 1, 1) -> (B, channels, size, size):
    project-and-reshape to 4x4, then stride-2 blocks that double the side and halve the
    channels, then the output block (no batch norm) and tanh. Notebook 04's exercise asks
    the reader to write this list for 32x32 images."""
    top = config.generator_width * 2 ** (config.num_blocks - 1)  # channels at 4x4
    layers: list[nn.Module] = [
        nn.ConvTranspose2d(config.latent_dim, top, 4, 1, 0, bias=False),  # 1x1 -> 4x4
        nn.BatchNorm2d(top),
        nn.ReLU(inplace=True),
    ]
    channels = top
    for _ in range(config.num_blocks - 1):  # hidden upsampling blocks
        layers += [
            nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(channels // 2),
            nn.ReLU(inplace=True),
        ]
        channels //= 2
    # output block: no batch norm, tanh squashes to the data range [-1, 1]
    layers += [nn.ConvTranspose2d(channels, config.channels, 4, 2, 1, bias=False), nn.Tanh()]
    return layers


class DCGANGenerator(nn.Module):
    """z (B, latent_dim) -> images (B, channels, size, size) in [-1, 1]."""

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        self.net = nn.Sequential(*generator_layers(config))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.config.latent_dim:
            raise ValueError(f"generator expects noise of shape (B, {self.config.latent_dim}), got {tuple(z.shape)}")
        return self.net(z[:, :, None, None])  # (B, latent, 1, 1) -> (B, C, size, size)


class DCGANDiscriminator(nn.Module):
    """images (B, channels, size, size) -> logits (B, 1). Use :meth:`features` for the
    flattened last hidden layer (B, 8w * 4 * 4 at size 64)."""

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        width = config.discriminator_width
        # input block: no batch norm on the images themselves
        layers: list[nn.Module] = [
            nn.Conv2d(config.channels, width, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        channels = width
        for _ in range(config.num_blocks - 1):  # each halves H and W, doubles channels
            layers.append(nn.Conv2d(channels, channels * 2, 4, 2, 1, bias=not config.discriminator_batch_norm))
            if config.discriminator_batch_norm:
                layers.append(nn.BatchNorm2d(channels * 2))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            channels *= 2
        self.body = nn.Sequential(*layers)  # -> (B, channels, 4, 4)
        self.head = nn.Conv2d(channels, 1, 4, 1, 0, bias=False)  # 4x4 -> 1x1: one score per image

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images).flatten(1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        size, channels = self.config.image_size, self.config.channels
        if images.dim() != 4 or images.shape[1:] != (channels, size, size):
            raise ValueError(
                f"discriminator expects images of shape (B, {channels}, {size}, {size}), got {tuple(images.shape)}"
            )
        return self.head(self.body(images)).flatten(1)  # (B, 1)


@torch.no_grad()
def dcgan_init_(module: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """The paper's initialisation, in place: conv weights ~ N(0, 0.02), batch-norm
    scale gamma ~ N(1, 0.02) and shift beta = 0, conv biases 0. Returns ``module``."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * 0.02)
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.copy_(1.0 + torch.randn(m.weight.shape, generator=generator) * 0.02)
            m.bias.zero_()
    return module


def build_dcgan(
    config: DCGANConfig, device: torch.device | str = "cpu", seed: int | None = None
) -> tuple[DCGANGenerator, DCGANDiscriminator]:
    """A freshly initialised (generator, discriminator) pair on ``device``.
    With ``seed`` the initial weights are the same on every machine."""
    rng = torch.Generator().manual_seed(seed) if seed is not None else None
    generator = dcgan_init_(DCGANGenerator(config), rng).to(device)
    discriminator = dcgan_init_(DCGANDiscriminator(config), rng).to(device)
    return generator, discriminator
