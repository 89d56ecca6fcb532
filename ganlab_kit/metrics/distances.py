"""Distances between two sets of features: how far apart are two image distributions?

* :func:`polynomial_mmd2`: the unbiased squared maximum mean discrepancy (MMD) with the
  polynomial kernel k(x, y) = (x.y / d + 1)^3 of Binkowski et al. (2018).
* :func:`kernel_inception_distance` (KID): :func:`polynomial_mmd2` averaged over random
  subsets. Unbiased, so near 0 (even slightly negative) for two samples of one distribution.
* :func:`frechet_distance` (FID, Heusel et al. 2017): fit a Gaussian to each feature set,
  ``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))``. Biased upwards for small sets.

The names are the papers'; the features are whatever the caller passes (the kit's digit
features in ``digits.py``, the style classifier's features in ``style_scores.py``), and a
score is reported with the name of its features, never as an Inception FID.
"""

from __future__ import annotations

import numpy as np
import torch


def polynomial_mmd2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Unbiased squared MMD between feature sets x (n, d) and y (m, d), kernel (x.y/d + 1)^3:

    MMD^2_u = sum_{i != j} k(x_i, x_j) / (n (n-1)) + sum_{i != j} k(y_i, y_j) / (m (m-1))
              - 2 sum_{i, j} k(x_i, y_j) / (n m)
    """
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"features must be (n, d) and (m, d) with one d, got {tuple(x.shape)} and {tuple(y.shape)}")
    n, m, d = x.shape[0], y.shape[0], x.shape[1]
    if n < 2 or m < 2:
        raise ValueError(f"the unbiased MMD needs at least 2 samples per set, got {n} and {m}")
    x, y = x.double(), y.double()
    k_xx = (x @ x.T / d + 1) ** 3
    k_yy = (y @ y.T / d + 1) ** 3
    k_xy = (x @ y.T / d + 1) ** 3
    return (
        (k_xx.sum() - k_xx.diagonal().sum()) / (n * (n - 1))
        + (k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
        - 2 * k_xy.mean()
    )


def kernel_inception_distance(
    features_a: torch.Tensor, features_b: torch.Tensor, *, subsets: int = 20, subset_size: int = 200, seed: int = 0
) -> tuple[float, float]:
    """KID on *given* features: mean and std of :func:`polynomial_mmd2` over random subsets.
    (The name is the paper's; with the kit's features report it as "KID (kit digit features)".)"""
    size = min(subset_size, features_a.shape[0], features_b.shape[0])
    rng = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        a = features_a[torch.randperm(features_a.shape[0], generator=rng)[:size]]
        b = features_b[torch.randperm(features_b.shape[0], generator=rng)[:size]]
        values.append(float(polynomial_mmd2(a, b)))
    return float(np.mean(values)), float(np.std(values))


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), with Gaussians fitted to each set.

    Tr (S_a S_b)^(1/2) is computed as the sum of square roots of the eigenvalues of
    S_a^(1/2) S_b S_a^(1/2), which is symmetric, so a symmetric eigensolver suffices."""
    a, b = features_a.double().cpu().numpy(), features_b.double().cpu().numpy()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    eigval_a, eigvec_a = np.linalg.eigh(cov_a)
    sqrt_a = (eigvec_a * np.sqrt(np.clip(eigval_a, 0, None))) @ eigvec_a.T
    middle = np.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a)
    trace_sqrt = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt)
