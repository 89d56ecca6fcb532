r"""Walking the latent space of a trained generator: interpolation and vector arithmetic.

* Linear interpolation ``(1 - t) z0 + t z1`` cuts through the middle of the Gaussian,
  where vectors are *shorter* than typical samples (a d-dimensional N(0, I) vector has
  length about sqrt(d)); the generator rarely saw such inputs.
* Spherical interpolation (slerp, Shoemake 1985; suggested for GANs by White 2016) walks
  along the great circle between z0 and z1, keeping lengths typical:

      omega = arccos(z0.z1 / (|z0| |z1|))
      slerp(z0, z1, t) = sin((1 - t) omega) / sin(omega) z0 + sin(t omega) / sin(omega) z1

* Vector arithmetic (Radford et al. 2016): ``z_a - z_b + z_c``; the paper averaged three
  z per concept to make it stable, which :func:`latent_arithmetic` allows by taking
  batches and averaging each.
"""

from __future__ import annotations

import torch


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear interpolation. ``z0``, ``z1``: (D,) or (B, D); ``t``: (T,) -> (T, D) or (T, B, D)."""
    t = t.reshape(-1, *([1] * z0.dim()))
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation along the last axis (same shapes as :func:`lerp`).
    Falls back to :func:`lerp` where z0 and z1 are (anti)parallel (sin omega ~ 0)."""
    t = t.reshape(-1, *([1] * z0.dim()))
    cos = (z0 * z1).sum(-1, keepdim=True) / (z0.norm(dim=-1, keepdim=True) * z1.norm(dim=-1, keepdim=True))
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    sin = torch.sin(omega)
    safe = sin.abs() > 1e-6
    sin_safe = torch.where(safe, sin, torch.ones_like(sin))
    spherical = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / sin_safe
    return torch.where(safe, spherical, (1 - t) * z0 + t * z1)


def latent_path(z0: torch.Tensor, z1: torch.Tensor, steps: int, mode: str = "slerp") -> torch.Tensor:
    """``steps`` latent vectors from z0 to z1 inclusive: (steps, D)."""
    if steps < 2:
        raise ValueError(f"an interpolation needs at least 2 steps, got {steps}")
    if mode not in ("slerp", "lerp"):
        raise ValueError(f"mode must be 'slerp' or 'lerp', got {mode!r}")
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device)
    return (slerp if mode == "slerp" else lerp)(z0, z1, t)


def latent_arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """``mean(a) - mean(b) + mean(c)`` for batches (K, D) of latent vectors (or single (D,))."""
    mean = lambda z: z.mean(0) if z.dim() == 2 else z
    return mean(a) - mean(b) + mean(c)
