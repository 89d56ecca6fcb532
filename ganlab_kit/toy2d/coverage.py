"""Mode coverage for mixtures of separate gaussians (ring, grid, ...).

The usual measure for toy GANs (Srivastava et al. 2017, VEEGAN; Metz et al. 2017):

* a generated sample is *high quality* when it lies within ``3 * std`` of its nearest
  mode centre (``std`` = the mode's standard deviation);
* a mode is *hit* (covered) when it receives at least ``min_share`` of the samples that
  a perfect generator would give it, i.e. ``count >= min_share * n / num_modes``.
  With the default ``min_share = 0.2`` and 1000 samples on 8 modes, that is 25 samples.

A collapsed generator shows a high high-quality share with few modes hit: it makes
good points, but only of a few kinds.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Coverage:
    modes_hit: int
    num_modes: int
    high_quality: float  # share of samples within 3 std of a mode, in [0, 1]

    @property
    def fraction(self) -> float:
        return self.modes_hit / self.num_modes


def mode_coverage(
    samples: torch.Tensor, modes: torch.Tensor, std: float, *, min_share: float = 0.2, radius_in_std: float = 3.0
) -> Coverage:
    """Coverage of ``modes`` ``(M, 2)`` by ``samples`` ``(N, 2)`` (see the module docstring)."""
    if samples.ndim != 2 or samples.shape[1] != modes.shape[1]:
        raise ValueError(f"samples must have shape (N, {modes.shape[1]}), got {tuple(samples.shape)}")
    if std <= 0:
        raise ValueError(f"mode std must be positive, got {std}")
    samples = samples.detach().float()
    finite = torch.isfinite(samples).all(dim=1)
    distances = torch.cdist(samples[finite], modes.float())  # (N', M)
    if distances.numel() == 0:
        return Coverage(0, len(modes), 0.0)
    nearest_distance, nearest = distances.min(dim=1)
    good = nearest_distance <= radius_in_std * std
    counts = torch.bincount(nearest[good], minlength=len(modes))  # (M,) high-quality samples per mode
    needed = min_share * len(samples) / len(modes)
    modes_hit = int((counts >= needed).sum())
    return Coverage(modes_hit, len(modes), float(good.sum()) / len(samples))
