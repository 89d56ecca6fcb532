"""Kit-feature KID/FID, mode coverage and the memorisation check."""

import pytest
import torch

from ganlab_kit import data, metrics


@pytest.fixture(scope="module")
def classifier():
    return metrics.digit_classifier(seed=0, epochs=4)


@pytest.fixture(scope="module")
def digits():
    return data.digits(16)


def test_polynomial_mmd_matches_a_loop():
    torch.manual_seed(0)
    x, y = torch.randn(5, 3), torch.randn(4, 3) + 1
    k = lambda a, b: (a @ b / 3 + 1) ** 3
    xx = sum(k(x[i], x[j]) for i in range(5) for j in range(5) if i != j) / 20
    yy = sum(k(y[i], y[j]) for i in range(4) for j in range(4) if i != j) / 12
    xy = sum(k(x[i], y[j]) for i in range(5) for j in range(4)) / 20
    assert metrics.polynomial_mmd2(x, y).item() == pytest.approx((xx + yy - 2 * xy).item(), rel=1e-6)


def test_kid_near_zero_on_identical_and_larger_on_different_sets(classifier, digits):
    features = metrics.kit_features(digits.images, classifier)
    same_mean, same_std = metrics.kernel_inception_distance(features, features)
    # two halves of the same data set: near zero too (unbiased estimator)
    half_mean, _ = metrics.kernel_inception_distance(features[:800], features[800:1600])
    ones = features[digits.labels == 1]  # one class only: a collapsed "generator"
    diff_mean, _ = metrics.kernel_inception_distance(features[:800], ones)
    assert abs(same_mean) < 0.02
    assert abs(half_mean) < 0.1
    assert diff_mean > 10 * max(abs(half_mean), 0.02)
    assert metrics.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)
    assert metrics.frechet_distance(features[:800], ones) > 5 * metrics.frechet_distance(
        features[:800], features[800:1600]
    )


def test_frechet_distance_of_gaussians_matches_closed_form():
    torch.manual_seed(1)
    a = torch.randn(20000, 2, dtype=torch.float64)
    b = torch.randn(20000, 2, dtype=torch.float64) * 2 + torch.tensor([3.0, 0.0], dtype=torch.float64)
    # N(0, I) vs N((3, 0), 4I): 9 + tr(I + 4I - 2 * 2I) = 9 + 2
    assert metrics.frechet_distance(a, b) == pytest.approx(11.0, rel=0.03)


def test_scores_are_named_for_their_features(classifier, digits):
    scores = metrics.kit_scores(digits.images[:300], digits.images[300:600], classifier)
    assert set(scores) == {"KID (kit digit features)", "KID std (kit digit features)", "FID (kit digit features)"}
    assert not any("Inception" in name for name in scores)


def test_classifier_is_accurate_enough_to_count(classifier):
    assert classifier.held_out_accuracy > 0.8


def test_coverage_counter_counts_and_thresholds():
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])
    confidence = torch.tensor([0.9, 0.9, 0.2, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9])
    report = metrics.count_classes(labels, confidence, num_classes=5, threshold=0.5, min_count=2)
    assert report.counts == [2, 2, 1, 4, 0]
    assert report.unsure == 1 and report.covered == 3 and report.fraction_covered == 0.6
    assert "3/5" in str(report)


def test_mode_coverage_sees_a_collapsed_set(classifier, digits):
    full = metrics.mode_coverage(digits.images[:600], classifier)
    collapsed = metrics.mode_coverage(digits.images[digits.labels < 3], classifier)
    assert full.covered == 10
    assert collapsed.covered == 3
    assert sum(collapsed.counts[3:]) < 0.05 * sum(collapsed.counts)


def test_nearest_neighbours_and_memorisation(digits):
    training, held_out = digits.images[:1500], digits.images[1500:]
    distances, indices = metrics.nearest_neighbours(training[[5, 17]], training, k=2)
    assert indices[:, 0].tolist() == [5, 17] and torch.all(distances[:, 0] < 1e-3)
    assert torch.all(distances[:, 1] >= distances[:, 0])
    copies = metrics.memorisation_check(training[:100] + 0.01 * torch.randn(100, 1, 16, 16), training, held_out)
    fresh = metrics.memorisation_check(held_out[:100], training, held_out[100:])
    assert copies.ratio < 0.2 and copies.near_copies > 90
    # unseen real digits: as far from the training set as other unseen digits are
    assert 0.7 < fresh.ratio < 1.4 and fresh.near_copies < copies.near_copies / 2


def test_held_out_comparison_tells_copies_from_a_learnt_distribution(digits):
    order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(0))
    training, held_out, unseen = (digits.images[order[a:b]] for a, b in ((0, 600), (600, 1200), (1200, None)))
    copies = metrics.held_out_comparison(training[:200] + 0.01 * torch.randn(200, 1, 16, 16), training, held_out)
    learnt = metrics.held_out_comparison(unseen, training, held_out)
    assert copies.reference_size == learnt.reference_size == 600
    assert copies.closer_to_training > 0.9 and copies.ratio < 0.5
    # real digits neither set contains: about as close to one set as to the other
    assert 0.3 < learnt.closer_to_training < 0.7 and 0.8 < learnt.ratio < 1.25
    with pytest.raises(ValueError, match="about as large"):
        metrics.held_out_comparison(unseen, training[:100], held_out)


def test_effective_classes_and_top_share():
    even = metrics.count_classes(torch.arange(100) % 10, torch.ones(100))
    assert even.effective_classes == pytest.approx(10.0) and even.top_share(3) == pytest.approx(0.3)
    one = metrics.count_classes(torch.full((50,), 4), torch.ones(50))
    assert one.effective_classes == pytest.approx(1.0) and one.top_share(1) == 1.0
    three = metrics.count_classes(torch.tensor([1, 2, 3] * 30), torch.ones(90))
    assert three.effective_classes == pytest.approx(3.0) and "effective 3.0" in str(three)
    assert metrics.count_classes(torch.zeros(5), torch.zeros(5)).effective_classes == 0.0
