"""The initialisation the image-translation papers use: every weight drawn from N(0, 0.02).

pix2pix (Isola et al. 2017, section 3.3 and appendix) and CycleGAN (Zhu et al. 2017,
appendix 7.1) both start from Gaussian weights with mean 0 and standard deviation 0.02,
as DCGAN did; batch-norm scales start near 1 (N(1, 0.02)) and every bias at 0.
Instance norm in the kit has no learned parameters, so there is nothing to draw for it.
"""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def normal_init_(module: nn.Module, generator: torch.Generator | None = None, std: float = 0.02) -> nn.Module:
    """In place: conv weights ~ N(0, std), batch-norm scales ~ N(1, std), biases 0.
    ``generator`` (a CPU ``torch.Generator``) makes the draw repeatable; networks on the
    ``meta`` device (shapes only, no memory) are left alone. Returns ``module``."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            if m.weight.is_meta:
                continue
            m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * std)
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, nn.BatchNorm2d) and m.weight is not None and not m.weight.is_meta:
            m.weight.copy_(1.0 + torch.randn(m.weight.shape, generator=generator) * std)
            m.bias.zero_()
    return module


def parameter_count(module: nn.Module) -> int:
    """Learned numbers in ``module`` (running statistics of batch norm are buffers, not counted)."""
    return sum(p.numel() for p in module.parameters())
