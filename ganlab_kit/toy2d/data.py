"""2-D data for the toy GAN lab, and the noise the generator starts from.

Every built-in distribution lives in the square ``PLANE = [-2, 2] x [-2, 2]`` that the
views draw, and is a mixture of small gaussians around points (its *modes*) or along a
curve. Mixtures with separate modes (``gaussian_mixture``, ``ring``, ``grid``) expose
their centres and spread, which :mod:`.coverage` uses to count the modes a generator hits.

=====================  ================================================  =======
kind                   what                                               modes
=====================  ================================================  =======
``line``               a segment from (-1.2, -0.6) to (1.2, 0.6)          -
``gaussian_mixture``   two gaussians of different size, as in GAN Lab     2
``ring``               8 gaussians on a circle of radius 1.2              8
``grid``               5 x 5 gaussians, spacing 0.6                       25
``two_moons``          two interleaved half circles                       -
``spiral``             one arm of a spiral                                -
=====================  ================================================  =======

Besides these, :func:`points_distribution` turns any array of points (for example points
drawn by clicking in the lab) into a distribution: sample a point, add a little noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

PLANE: tuple[float, float] = (-2.0, 2.0)
BUILTIN_KINDS: tuple[str, ...] = ("line", "gaussian_mixture", "ring", "grid", "two_moons", "spiral")
NOISE_KINDS: tuple[str, ...] = ("gaussian", "uniform")


@dataclass
class Distribution2D:
    """A 2-D data distribution: ``sample(n, generator) -> (n, 2)`` float tensor.

    ``modes`` (``(M, 2)``) and ``mode_std`` are set for mixtures of separate gaussians.
    ``points`` holds the support points for a drawn / array distribution.
    """

    name: str
    modes: torch.Tensor | None = None
    mode_std: float = 0.0
    points: torch.Tensor | None = None
    jitter: float = 0.0

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        if n < 1:
            raise ValueError(f"need at least one sample, got n={n}")
        return (
            _SAMPLERS[self.name](self, n, generator) if self.name in _SAMPLERS else _sample_points(self, n, generator)
        )


def _randn(n: int, generator, *shape) -> torch.Tensor:
    return torch.randn(n, *shape, generator=generator)


def _rand(n: int, generator, *shape) -> torch.Tensor:
    return torch.rand(n, *shape, generator=generator)


def _sample_modes(dist: Distribution2D, n: int, generator) -> torch.Tensor:
    index = torch.randint(len(dist.modes), (n,), generator=generator)  # which mode each sample comes from
    return dist.modes[index] + dist.mode_std * _randn(n, generator, 2)


def _sample_gaussian_mixture(dist: Distribution2D, n: int, generator) -> torch.Tensor:
    # Two gaussians of unequal spread (like GAN Lab's "two gaussians"); pick one per sample.
    pick_first = _rand(n, generator) < 0.5
    wide = dist.modes[0] + 0.25 * _randn(n, generator, 2)
    narrow = dist.modes[1] + 0.12 * _randn(n, generator, 2)
    return torch.where(pick_first[:, None], wide, narrow)


def _sample_line(dist: Distribution2D, n: int, generator) -> torch.Tensor:
    t = _rand(n, generator, 1) * 2 - 1  # position along the segment, in [-1, 1]
    return torch.cat([1.2 * t, 0.6 * t], dim=1) + 0.02 * _randn(n, generator, 2)


def _sample_two_moons(dist: Distribution2D, n: int, generator) -> torch.Tensor:
    angle = math.pi * _rand(n, generator)
    upper = _rand(n, generator) < 0.5
    x = torch.where(upper, torch.cos(angle), 1 - torch.cos(angle))
    y = torch.where(upper, torch.sin(angle), 0.5 - torch.sin(angle))
    moons = torch.stack([x - 0.5, y - 0.25], dim=1) * 1.2  # centre on the origin
    return moons + 0.05 * _randn(n, generator, 2)


def _sample_spiral(dist: Distribution2D, n: int, generator) -> torch.Tensor:
    t = _rand(n, generator).sqrt() * 3 * math.pi  # sqrt: even density along the arm
    radius = 0.12 * t
    points = torch.stack([radius * torch.cos(t), radius * torch.sin(t)], dim=1)
    return points + 0.04 * _randn(n, generator, 2)


def _sample_points(dist: Distribution2D, n: int, generator) -> torch.Tensor:
    index = torch.randint(len(dist.points), (n,), generator=generator)
    return dist.points[index] + dist.jitter * _randn(n, generator, 2)


_SAMPLERS = {
    "line": _sample_line,
    "gaussian_mixture": _sample_gaussian_mixture,
    "ring": _sample_modes,
    "grid": _sample_modes,
    "two_moons": _sample_two_moons,
    "spiral": _sample_spiral,
}


def make_distribution(kind: str) -> Distribution2D:
    """One of :data:`BUILTIN_KINDS` (see the table in the module docstring)."""
    if kind == "ring":
        angles = torch.arange(8) * (2 * math.pi / 8)
        modes = 1.2 * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
        return Distribution2D("ring", modes=modes, mode_std=0.05)
    if kind == "grid":
        ticks = torch.linspace(-1.2, 1.2, 5)
        modes = torch.cartesian_prod(ticks, ticks)  # (25, 2)
        return Distribution2D("grid", modes=modes, mode_std=0.04)
    if kind == "gaussian_mixture":
        return Distribution2D("gaussian_mixture", modes=torch.tensor([[-0.7, 0.5], [0.8, -0.6]]), mode_std=0.25)
    if kind in BUILTIN_KINDS:
        return Distribution2D(kind)
    raise ValueError(
        f"unknown distribution {kind!r}; choose one of: {', '.join(BUILTIN_KINDS)} (or use points_distribution)"
    )


def points_distribution(points, *, jitter: float = 0.05, name: str = "drawn") -> Distribution2D:
    """A distribution from given points (``(N, 2)``; e.g. drawn in the lab): pick one, add noise.

    Refuses an empty drawing, a wrong shape, non-finite values and points outside ``PLANE``.
    """
    array = np.asarray(points, dtype=np.float32)
    if array.size == 0:
        raise ValueError("the drawing is empty: draw (click or drag) at least one point on the plane first")
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("points contain NaN or infinite values")
    low, high = PLANE
    if (array < low).any() or (array > high).any():
        raise ValueError(f"points must lie inside the plane [{low}, {high}]^2")
    if jitter < 0:
        raise ValueError(f"jitter must be >= 0, got {jitter}")
    return Distribution2D(name, points=torch.from_numpy(array.copy()), jitter=float(jitter))


# ------------------------------------------------------------------ noise
@dataclass
class NoiseConfig:
    """The generator's input z: ``kind`` gaussian N(0, I) or uniform U[-1, 1]^dim."""

    kind: str = "gaussian"
    dim: int = 2

    def validate(self) -> None:
        if self.kind not in NOISE_KINDS:
            raise ValueError(f"unknown noise kind {self.kind!r}; choose one of: {', '.join(NOISE_KINDS)}")
        if not isinstance(self.dim, int) or self.dim < 1:
            raise ValueError(f"noise dimension must be a positive integer, got {self.dim!r}")


def sample_noise(config: NoiseConfig, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``(n, config.dim)`` noise vectors."""
    config.validate()
    if config.kind == "gaussian":
        return torch.randn(n, config.dim, generator=generator)
    return torch.rand(n, config.dim, generator=generator) * 2 - 1


def noise_grid(config: NoiseConfig, resolution: int) -> torch.Tensor:
    """A regular grid over the noise space, for drawing the generator's manifold.

    1-D noise: ``(resolution, 1)``; 2-D and more: ``(resolution**2, dim)`` varying the
    first two coordinates (extra coordinates held at 0). The grid spans U[-1, 1] for
    uniform noise and [-2, 2] (about 95% of the mass per axis) for gaussian noise.
    """
    config.validate()
    span = 1.0 if config.kind == "uniform" else 2.0
    ticks = torch.linspace(-span, span, resolution)
    if config.dim == 1:
        return ticks[:, None]
    grid = torch.zeros(resolution * resolution, config.dim)
    grid[:, :2] = torch.cartesian_prod(ticks, ticks)
    return grid
