r"""What the 2-D lab draws, computed from the networks: the fields over the plane.

* :func:`discriminator_heatmap` -- ``sigmoid(D(x))`` on a regular grid of the plane: where
  the discriminator believes data is real (GAN Lab's background colouring).
* :func:`generator_gradients` -- for each fake point x = G(z), the gradient
  ``dL_G / dx`` of the generator's loss with respect to that point. Gradient descent moves
  G so that x moves along ``-dL_G/dx``: the arrows show that direction (how the
  discriminator pulls each fake point).
* :func:`generator_manifold` -- a regular grid of noise pushed through G: how G folds and
  stretches the noise plane, with a density per cell = noise mass / mapped area.

All three run without gradients into the networks' parameters and leave them untouched.
Grid convention: ``heatmap[i, j]`` is at ``(x_j, y_i)`` with ``y`` increasing with ``i``
(a view that draws row 0 at the top flips it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..losses import generator_loss
from .data import PLANE, NoiseConfig, noise_grid


def plane_grid(resolution: int, extent: tuple[float, float] = PLANE) -> torch.Tensor:
    """Cell centres of a ``resolution x resolution`` grid over ``extent^2``: ``(R*R, 2)``, row-major in y."""
    low, high = extent
    step = (high - low) / resolution
    ticks = torch.linspace(low + step / 2, high - step / 2, resolution)
    ys, xs = torch.meshgrid(ticks, ticks, indexing="ij")  # (R, R) each; row i <-> y_i
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


def discriminator_heatmap(
    discriminator: nn.Module, resolution: int = 48, extent: tuple[float, float] = PLANE
) -> torch.Tensor:
    """``(R, R)`` tensor of sigmoid(D(x)) at the cell centres of :func:`plane_grid`."""
    grid = plane_grid(resolution, extent)
    with torch.no_grad():
        logits = discriminator(grid)  # (R*R, 1)
    return torch.sigmoid(logits).reshape(resolution, resolution)


def generator_gradients(discriminator: nn.Module, fake: torch.Tensor, loss_kind: str) -> torch.Tensor:
    """``dL_G/dx`` for every fake point ``x`` ``(N, 2)``; returns ``(N, 2)``.

    ``L_G = generator_loss(D(x), loss_kind)`` is a *mean* over the N points, so each row is
    1/N of that point's own gradient; views normalise arrow lengths anyway.
    """
    points = fake.detach().clone().requires_grad_(True)
    loss = generator_loss(discriminator(points), loss_kind)
    (gradient,) = torch.autograd.grad(loss, points)  # only w.r.t. the points: D's params untouched
    return gradient


@dataclass
class Manifold:
    """The noise grid through G. ``points``: ``(R, R, 2)`` (2-D+ noise) or ``(R, 2)`` (1-D noise).
    ``density``: ``(R-1, R-1)`` per grid cell (or ``(R-1,)`` per segment), scaled to max 1."""

    points: torch.Tensor
    density: torch.Tensor


def _gaussian_or_uniform_mass(z: torch.Tensor, noise: NoiseConfig) -> torch.Tensor:
    """Relative probability density of the noise at ``z`` (per coordinate, multiplied)."""
    if noise.kind == "uniform":
        return torch.ones(z.shape[:-1])
    return torch.exp(-0.5 * (z**2).sum(dim=-1))


def generator_manifold(generator: nn.Module, noise: NoiseConfig, resolution: int = 20) -> Manifold:
    """Map :func:`~ganlab_kit.toy2d.data.noise_grid` through G and shade cells by density.

    Density of a cell = (noise mass of the cell) / (area of its image), the change of
    variables formula p_x = p_z / |det J| made discrete. Scaled so the densest cell is 1.
    """
    z = noise_grid(noise, resolution)
    with torch.no_grad():
        points = generator(z)
    if noise.dim == 1:
        points = points.reshape(resolution, 2)
        lengths = (points[1:] - points[:-1]).norm(dim=1)  # (R-1,)
        mass = _gaussian_or_uniform_mass(0.5 * (z[1:] + z[:-1]), noise)
        density = mass / lengths.clamp_min(1e-6)
    else:
        points = points.reshape(resolution, resolution, 2)
        p00, p01 = points[:-1, :-1], points[:-1, 1:]
        p11, p10 = points[1:, 1:], points[1:, :-1]
        # Shoelace formula for the quadrilateral p00 -> p01 -> p11 -> p10.
        corners = [p00, p01, p11, p10]
        twice_area = sum(
            a[..., 0] * b[..., 1] - b[..., 0] * a[..., 1] for a, b in zip(corners, corners[1:] + corners[:1])
        )
        area = 0.5 * twice_area.abs()
        z_grid = z.reshape(resolution, resolution, -1)
        centres = 0.25 * (z_grid[:-1, :-1] + z_grid[:-1, 1:] + z_grid[1:, 1:] + z_grid[1:, :-1])
        mass = _gaussian_or_uniform_mass(centres[..., :2], noise)
        density = mass / area.clamp_min(1e-8)
    density = density / density.max().clamp_min(1e-12)
    return Manifold(points=points, density=density)


def arrow_vectors(gradient: torch.Tensor, length: float = 0.25) -> torch.Tensor:
    """Turn gradients ``(N, 2)`` into drawable arrows: direction ``-gradient``, lengths scaled
    so the longest arrow is ``length`` (plane units) and the others keep their ratios."""
    step = -gradient
    longest = step.norm(dim=1).max()
    if not math.isfinite(float(longest)) or float(longest) == 0.0:
        return torch.zeros_like(step)
    return step * (length / longest)


@dataclass
class FieldFrame:
    """Everything one picture of the plane needs, as NumPy arrays (what views receive).

    ``heatmap`` rows go up in y (row 0 = bottom); ``arrows`` start at the ``fake`` points.
    """

    heatmap: np.ndarray  # (R, R), sigmoid(D) in [0, 1]
    real: np.ndarray  # (N, 2)
    fake: np.ndarray  # (N, 2)
    arrows: np.ndarray  # (N, 2)
    manifold: np.ndarray  # (M, M, 2) for 2-D+ noise, (M, 2) for 1-D noise
    manifold_density: np.ndarray  # (M-1, M-1) or (M-1,), in [0, 1]
    step: int = 0
    extent: tuple[float, float] = field(default=PLANE)


def compute_field_frame(
    generator: nn.Module,
    discriminator: nn.Module,
    loss_kind: str,
    real: torch.Tensor,
    noise: torch.Tensor,
    noise_config: NoiseConfig,
    *,
    heatmap_resolution: int = 48,
    manifold_resolution: int = 20,
    step: int = 0,
) -> FieldFrame:
    """All layers at once: heatmap, G(noise) with its gradient arrows, the manifold.

    ``noise`` is usually a *fixed* batch, so the fake points move smoothly from frame to frame.
    """
    with torch.no_grad():
        fake = generator(noise)  # (N, 2)
    arrows = arrow_vectors(generator_gradients(discriminator, fake, loss_kind))
    manifold = generator_manifold(generator, noise_config, manifold_resolution)
    return FieldFrame(
        heatmap=discriminator_heatmap(discriminator, heatmap_resolution).numpy(),
        real=real.numpy(),
        fake=fake.numpy(),
        arrows=arrows.numpy(),
        manifold=manifold.points.numpy(),
        manifold_density=manifold.density.numpy(),
        step=step,
    )
