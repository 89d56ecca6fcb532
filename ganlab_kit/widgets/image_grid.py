"""Image batches as one picture: a grid (via ``torchvision.utils.make_grid``) and its PNG."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid


def to_grid(images: torch.Tensor, nrow: int | None = None) -> np.ndarray:
    """Images (B, C, H, W) in [-1, 1] -> one uint8 picture (H', W', 3) via make_grid."""
    if images.dim() != 4:
        raise ValueError(f"images must be (B, C, H, W), got shape {tuple(images.shape)}")
    nrow = nrow or max(1, int(round(images.shape[0] ** 0.5)))
    grid = make_grid(
        images.detach().float().cpu().clamp(-1, 1),
        nrow=nrow,
        padding=1,
        normalize=True,
        value_range=(-1, 1),
        pad_value=1.0,
    )
    return (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def png_bytes(picture: np.ndarray, width: int) -> bytes:
    """Encode a uint8 picture as PNG, enlarged with nearest-neighbour pixels to ``width``."""
    image = Image.fromarray(picture)
    scale = max(1, width // image.width)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # speed over size: this runs 8x a second
    return buffer.getvalue()
