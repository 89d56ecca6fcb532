"""Evaluating image GANs without downloading anything.

The standard scores (FID, KID) compare two sets of images through the features of an
ImageNet Inception network, which needs a download and says little about 16x16 digits.
Here the feature network is one the kit trains itself, in a few seconds, on scikit-learn's
digits: a small CNN classifier. Its scores are named for what they are,
``"KID (kit digit features)"`` and ``"FID (kit digit features)"``: comparable between
runs of this kit, *not* comparable with published Inception FIDs.

* :func:`kernel_inception_distance` (Binkowski et al. 2018): the unbiased estimate of the
  squared MMD between feature sets with the kernel k(x, y) = (x.y / d + 1)^3, averaged
  over random subsets. Unbiased, so near 0 (even slightly negative) for two samples of
  one distribution.
* :func:`frechet_distance` (Heusel et al. 2017): fit a Gaussian to each feature set,
  ``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))``. Biased upwards for small sets.
* :func:`mode_coverage`: the digit classifier labels generated images; a collapsed
  generator produces few classes.
* :func:`nearest_neighbours` / :func:`memorisation_check`: are samples copies of
  training images? Compare their distance to the nearest training image with the same
  distance for real images the generator never saw.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

FEATURE_NAME = "kit digit features"
CLASSIFIER_SIZE = 16  # the classifier sees every image at 16x16, whatever the GAN's size


# ----------------------------------------------------------- feature network
class DigitClassifier(nn.Module):
    """A small CNN for 10 digit classes. Input: images (B, 1 or 3, H, W) in [-1, 1] of any
    size (resized to 16x16, colour turned grey). ``features`` = the 64-d hidden layer."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 16, 8, 8)
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 4, 4)
            nn.Flatten(), nn.Linear(32 * 16, 64), nn.ReLU(),  # (B, 64)
        )
        self.head = nn.Linear(64, 10)

    @staticmethod
    def prepare(images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"expected images of shape (B, 1 or 3, H, W), got {tuple(images.shape)}")
        images = images.float()
        if images.shape[1] == 3:
            images = images.mean(dim=1, keepdim=True)
        if images.shape[-1] != CLASSIFIER_SIZE or images.shape[-2] != CLASSIFIER_SIZE:
            images = F.interpolate(images, size=(CLASSIFIER_SIZE, CLASSIFIER_SIZE), mode="bilinear", align_corners=False, antialias=images.shape[-1] > CLASSIFIER_SIZE)
        return images

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(self.prepare(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))  # logits (B, 10)

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(labels (B,), confidence (B,)) for images in [-1, 1]."""
        self.eval()
        probs = torch.softmax(self(images.cpu()), dim=1)
        confidence, labels = probs.max(dim=1)
        return labels, confidence


@functools.lru_cache(maxsize=4)
def digit_classifier(seed: int = 0, epochs: int = 10) -> DigitClassifier:
    """Train (once per process, then cached) the digit classifier on 1,500 of scikit-learn's
    1,797 digits; ``held_out_accuracy`` on the other 297 is stored on the returned model.
    A few seconds on a laptop CPU."""
    from .data import digits

    data = digits(CLASSIFIER_SIZE)
    rng = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(data), generator=rng)
    train_idx, test_idx = order[:1500], order[1500:]
    model = DigitClassifier()
    with torch.random.fork_rng():  # training must not disturb the caller's random stream
        torch.manual_seed(seed)
        model = DigitClassifier()
        optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
        for _ in range(epochs):
            model.train()
            for batch in torch.randperm(len(train_idx), generator=rng).split(64):
                idx = train_idx[batch]
                images = data.images[idx]
                # small random shifts: generated digits are rarely perfectly centred
                dx, dy = torch.randint(-1, 2, (2,), generator=rng).tolist()
                images = torch.roll(images, shifts=(dy, dx), dims=(2, 3))
                loss = F.cross_entropy(model(images), data.labels[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    labels, _ = model.predict(data.images[test_idx])
    model.held_out_accuracy = float((labels == data.labels[test_idx]).float().mean())
    with torch.no_grad():  # features are divided by their RMS on real digits: kernel values of order 1
        model.feature_scale = float(model.features(data.images[train_idx]).pow(2).mean().sqrt())
    return model


@torch.no_grad()
def kit_features(images: torch.Tensor, classifier: DigitClassifier | None = None, batch_size: int = 512) -> torch.Tensor:
    """The 64-d features of the kit's digit classifier, float64 (N, 64), divided by their
    root-mean-square over real training digits (so real digits have features of size ~1)."""
    classifier = classifier or digit_classifier()
    classifier.eval()
    chunks = [classifier.features(images[i : i + batch_size].cpu()) for i in range(0, images.shape[0], batch_size)]
    return torch.cat(chunks).double() / getattr(classifier, "feature_scale", 1.0)


# ------------------------------------------------------------- the distances
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


def kernel_inception_distance(features_a: torch.Tensor, features_b: torch.Tensor, *, subsets: int = 20, subset_size: int = 200, seed: int = 0) -> tuple[float, float]:
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


def kit_scores(generated: torch.Tensor, real: torch.Tensor, classifier: DigitClassifier | None = None) -> dict[str, float]:
    """KID and FID between two image sets on the kit's digit features, honestly named."""
    fa, fb = kit_features(generated, classifier), kit_features(real, classifier)
    kid_mean, kid_std = kernel_inception_distance(fa, fb)
    return {
        f"KID ({FEATURE_NAME})": kid_mean,
        f"KID std ({FEATURE_NAME})": kid_std,
        f"FID ({FEATURE_NAME})": frechet_distance(fa, fb),
    }


# ------------------------------------------------------------ mode coverage
@dataclass
class CoverageReport:
    """How many of each digit class a set of images contains, as the classifier sees it."""

    counts: list[int]  # confident predictions per class
    unsure: int  # images whose top class had confidence below the threshold
    covered: int  # classes with at least ``min_count`` confident images
    min_count: int

    @property
    def num_classes(self) -> int:
        return len(self.counts)

    @property
    def fraction_covered(self) -> float:
        return self.covered / self.num_classes

    def __str__(self) -> str:
        bars = "  ".join(f"{c}:{n}" for c, n in enumerate(self.counts))
        return f"classes covered {self.covered}/{self.num_classes} (>= {self.min_count} each)  [{bars}]  unsure: {self.unsure}"


def count_classes(labels: torch.Tensor, confidence: torch.Tensor, *, num_classes: int = 10, threshold: float = 0.5, min_count: int | None = None) -> CoverageReport:
    """Count confident labels per class. A class is *covered* when it has at least
    ``min_count`` images (default: a tenth of a fair share, ``N / num_classes / 10``, at least 1)."""
    n = labels.shape[0]
    min_count = max(1, round(n / num_classes / 10)) if min_count is None else min_count
    sure = confidence >= threshold
    counts = torch.bincount(labels[sure].long(), minlength=num_classes)[:num_classes].tolist()
    covered = sum(1 for c in counts if c >= min_count)
    return CoverageReport(counts, int((~sure).sum()), covered, min_count)


def mode_coverage(images: torch.Tensor, classifier: DigitClassifier | None = None, *, threshold: float = 0.5, min_count: int | None = None) -> CoverageReport:
    """Which digit classes do these (generated) images show? See :func:`count_classes`."""
    classifier = classifier or digit_classifier()
    labels, confidence = classifier.predict(images)
    return count_classes(labels, confidence, threshold=threshold, min_count=min_count)


# ------------------------------------------------------------- memorisation
@torch.no_grad()
def nearest_neighbours(queries: torch.Tensor, references: torch.Tensor, k: int = 1, chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query image, the ``k`` closest reference images in pixel space (L2 over
    all pixels). Returns ``(distances (Q, k), indices (Q, k))``, closest first."""
    if queries.shape[1:] != references.shape[1:]:
        raise ValueError(f"queries {tuple(queries.shape[1:])} and references {tuple(references.shape[1:])} must be images of one shape")
    ref = references.reshape(references.shape[0], -1).float()
    dists, idxs = [], []
    for start in range(0, queries.shape[0], chunk):
        q = queries[start : start + chunk].reshape(-1, ref.shape[1]).float()
        d, i = torch.cdist(q, ref).topk(k, dim=1, largest=False)
        dists.append(d)
        idxs.append(i)
    return torch.cat(dists), torch.cat(idxs)


@dataclass
class MemorisationReport:
    sample_distance: float  # median distance of a sample to its nearest training image
    held_out_distance: float  # the same for real images not in the training set
    ratio: float  # sample / held-out: well below 1 means samples sit on top of training images
    near_copies: int  # samples closer to a training image than 95% of held-out images are

    def __str__(self) -> str:
        return (
            f"nearest-training-image distance: samples {self.sample_distance:.3f}, held-out real {self.held_out_distance:.3f} "
            f"(ratio {self.ratio:.2f}); near copies: {self.near_copies}"
        )


def memorisation_check(samples: torch.Tensor, training: torch.Tensor, held_out: torch.Tensor) -> MemorisationReport:
    """Compare how close samples and unseen real images come to the training set."""
    sample_d, _ = nearest_neighbours(samples, training)
    held_d, _ = nearest_neighbours(held_out, training)
    sample_median, held_median = float(sample_d.median()), float(held_d.median())
    cutoff = float(torch.quantile(held_d.flatten(), 0.05))
    return MemorisationReport(sample_median, held_median, sample_median / max(held_median, 1e-12), int((sample_d.flatten() < cutoff).sum()))
