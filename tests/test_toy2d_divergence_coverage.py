"""KL / JS on a grid against hand computations; mode coverage on known samples."""

import math

import numpy as np
import pytest
import torch

from ganlab_kit.toy2d.coverage import mode_coverage
from ganlab_kit.toy2d.data import BUILTIN_KINDS, make_distribution, points_distribution
from ganlab_kit.toy2d.divergence import divergences, histogram, js_divergence, kl_divergence

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_histogram_counts_cells_and_drops_points_off_the_plane():
    points = np.array([[0.5, 0.5], [0.5, 0.6], [1.5, 0.5], [0.5, 1.5], [9.0, 0.0], [np.nan, 0.0]])
    h = histogram(points, bins=2, extent=(0.0, 2.0))
    # h[i, j]: i indexes x, j indexes y (numpy's histogram2d convention)
    assert h.tolist() == [[0.5, 0.25], [0.25, 0.0]]


def test_kl_and_js_match_a_hand_computation():
    # 2x2 grid on [0, 2]^2. Real: 3 points in cell A=(0,0), 1 in B=(1,0). Fake: 1 in A, 1 in C=(0,1).
    real = [[0.5, 0.5]] * 3 + [[1.5, 0.5]]
    fake = [[0.5, 0.5], [0.5, 1.5]]
    result = divergences(np.array(real), np.array(fake), bins=2, extent=(0.0, 2.0), eps=1e-3)
    p = {"A": 0.75, "B": 0.25, "C": 0.0, "D": 0.0}
    q = {"A": 0.5, "B": 0.0, "C": 0.5, "D": 0.0}
    m = {k: (p[k] + q[k]) / 2 for k in p}
    js = 0.5 * sum(p[k] * math.log(p[k] / m[k]) for k in p if p[k] > 0) + 0.5 * sum(
        q[k] * math.log(q[k] / m[k]) for k in q if q[k] > 0
    )
    eps, cells = 1e-3, 4
    ps = {k: (v + eps) / (1 + cells * eps) for k, v in p.items()}
    qs = {k: (v + eps) / (1 + cells * eps) for k, v in q.items()}
    kl = sum(ps[k] * math.log(ps[k] / qs[k]) for k in p)
    assert result["js"] == pytest.approx(js, rel=1e-12)
    assert result["kl"] == pytest.approx(kl, rel=1e-12)


def test_js_limits_identical_and_disjoint():
    a = np.zeros((30, 30))
    a[3, 4] = 1.0
    b = np.zeros((30, 30))
    b[20, 1] = 1.0
    assert js_divergence(a, a) == 0.0
    assert js_divergence(a, b) == pytest.approx(math.log(2))
    assert kl_divergence(a, a) == pytest.approx(0.0, abs=1e-12)
    assert kl_divergence(a, b) > 5  # large but finite thanks to the smoothing


def test_divergence_of_samples_shrinks_with_the_right_distribution():
    g = torch.Generator().manual_seed(0)
    ring = make_distribution("ring")
    same = divergences(ring.sample(4000, g), ring.sample(4000, g))
    other = divergences(ring.sample(4000, g), make_distribution("grid").sample(4000, g))
    assert same["js"] < 0.05 < 0.4 < other["js"] <= math.log(2)
    assert same["kl"] < other["kl"]


def test_coverage_counts_modes_and_quality():
    ring = make_distribution("ring")
    modes, std = ring.modes, ring.mode_std
    # 100 samples exactly on each of 3 modes: 3 hit, all high quality.
    samples = modes[[0, 2, 5]].repeat_interleave(100, dim=0)
    coverage = mode_coverage(samples, modes, std)
    assert (coverage.modes_hit, coverage.num_modes, coverage.high_quality) == (3, 8, 1.0)
    # Half the samples far from every mode: quality halves; mode 5 keeps too few to count.
    far = torch.full((300, 2), 5.0)
    coverage = mode_coverage(torch.cat([samples, far]), modes, std)
    assert coverage.high_quality == pytest.approx(0.5) and coverage.modes_hit == 3
    few = torch.cat([modes[[0]].repeat(200, 1), modes[[1]].repeat(2, 1)])
    assert mode_coverage(few, modes, std).modes_hit == 1  # 2 samples < 0.2 * 202 / 8
    # A real sample of the ring covers everything.
    full = mode_coverage(ring.sample(2000, torch.Generator().manual_seed(1)), modes, std)
    assert full.modes_hit == 8 and full.high_quality > 0.98


@pytest.mark.parametrize("kind", BUILTIN_KINDS)
def test_builtin_distributions_fit_the_plane_and_are_seeded(kind):
    dist = make_distribution(kind)
    a = dist.sample(500, torch.Generator().manual_seed(4))
    b = dist.sample(500, torch.Generator().manual_seed(4))
    assert a.shape == (500, 2) and torch.equal(a, b)
    assert a.abs().max() < 2.0


def test_points_distribution_refuses_bad_drawings():
    with pytest.raises(ValueError, match="drawing is empty"):
        points_distribution([])
    with pytest.raises(ValueError, match="shape"):
        points_distribution([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="inside the plane"):
        points_distribution([[5.0, 0.0]])
    drawn = points_distribution([[0.0, 1.0], [1.0, 0.0]], jitter=0.0)
    sample = drawn.sample(50, torch.Generator().manual_seed(0))
    assert set(map(tuple, sample.tolist())) == {(0.0, 1.0), (1.0, 0.0)}
