r"""KL and JS divergence between real and generated points, estimated on a grid.

As GAN Lab does, the plane is cut into ``bins x bins`` cells (30 x 30 by default) and
each point set becomes a histogram: ``p_i`` = share of real points in cell ``i``, ``q_i``
= share of generated points. Then, in nats (natural logarithms):

    KL(P || Q) = sum_i p_i log(p_i / q_i)
    JS(P, Q)   = 1/2 KL(P || M) + 1/2 KL(Q || M),   M = (P + Q) / 2,   0 <= JS <= log 2

Cells where ``p_i = 0`` add nothing (0 log 0 = 0). KL is infinite as soon as a real
cell has no generated point, which small samples make likely, so for KL both
histograms are first smoothed: ``p_i <- (p_i + eps) / (1 + bins^2 eps)`` (likewise q).
JS needs no smoothing: ``m_i > 0`` wherever ``p_i > 0`` or ``q_i > 0``.
Points outside the plane are dropped (they cannot be binned); the views show them.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .data import PLANE

DEFAULT_BINS = 30
DEFAULT_EPS = 1e-4


def histogram(
    points: torch.Tensor | np.ndarray, bins: int = DEFAULT_BINS, extent: tuple[float, float] = PLANE
) -> np.ndarray:
    """Normalised ``(bins, bins)`` histogram of ``(N, 2)`` points over ``extent^2`` (sums to 1).

    ``h[i, j]`` counts points with x in the i-th and y in the j-th interval (NumPy's
    ``histogram2d`` convention); counted with ``bincount``, which is several times faster.
    """
    array = points.detach().cpu().numpy() if isinstance(points, torch.Tensor) else np.asarray(points)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {array.shape}")
    low, high = extent
    inside = np.isfinite(array).all(axis=1) & (array >= low).all(axis=1) & (array <= high).all(axis=1)
    # Cell index per axis; a point exactly on the upper edge belongs to the last cell.
    cells = np.minimum(((array[inside] - low) * (bins / (high - low))).astype(np.int64), bins - 1)  # (N', 2)
    counts = np.bincount(cells[:, 0] * bins + cells[:, 1], minlength=bins * bins).reshape(bins, bins).astype(np.float64)
    total = counts.sum()
    return counts / total if total > 0 else counts


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def kl_divergence(p: np.ndarray, q: np.ndarray, eps: float = DEFAULT_EPS) -> float:
    """KL(P || Q) of two normalised histograms, after the smoothing in the module docstring."""
    p_smooth = (p + eps) / (1 + p.size * eps)
    q_smooth = (q + eps) / (1 + q.size * eps)
    return _kl(p_smooth, q_smooth)


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """JS(P, Q) of two normalised histograms, in nats (at most log 2)."""
    m = 0.5 * (p + q)
    return 0.5 * _kl(p, m) + 0.5 * _kl(q, m)


def divergences(
    real, fake, bins: int = DEFAULT_BINS, extent: tuple[float, float] = PLANE, eps: float = DEFAULT_EPS
) -> dict[str, float]:
    """``{"kl": KL(real || fake), "js": JS(real, fake)}`` on a ``bins x bins`` grid."""
    p = histogram(real, bins, extent)
    q = histogram(fake, bins, extent)
    if p.sum() == 0 or q.sum() == 0:  # every point off the plane: as far apart as it gets
        return {"kl": float("inf"), "js": math.log(2)}
    return {"kl": kl_divergence(p, q, eps), "js": js_divergence(p, q)}
