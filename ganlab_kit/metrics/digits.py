"""Scoring digit GANs with a feature network the kit trains itself.

The standard scores (FID, KID) compare two sets of images through the features of an
ImageNet Inception network, which needs a download and says little about 16x16 digits.
Here the feature network is one the kit trains itself, in a few seconds, on scikit-learn's
digits: a small CNN classifier. Its scores are named for what they are,
``"KID (kit digit features)"`` and ``"FID (kit digit features)"``: comparable between
runs of this kit, *not* comparable with published Inception FIDs.

* :func:`digit_classifier` / :func:`kit_features`: the network and its 64-d features.
* :func:`kit_scores`: KID and FID (``distances.py``) on those features.
* :func:`mode_coverage`: the digit classifier labels generated images; a collapsed
  generator produces few classes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .distances import frechet_distance, kernel_inception_distance

FEATURE_NAME = "kit digit features"
CLASSIFIER_SIZE = 16  # the classifier sees every image at 16x16, whatever the GAN's size


# ----------------------------------------------------------- feature network
class DigitClassifier(nn.Module):
    """A small CNN for 10 digit classes. Input: images (B, 1 or 3, H, W) in [-1, 1] of any
    size (resized to 16x16, colour turned grey). ``features`` = the 64-d hidden layer."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 16, 8, 8)
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, 4, 4)
            nn.Flatten(),
            nn.Linear(32 * 16, 64),
            nn.ReLU(),  # (B, 64)
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
            images = F.interpolate(
                images,
                size=(CLASSIFIER_SIZE, CLASSIFIER_SIZE),
                mode="bilinear",
                align_corners=False,
                antialias=images.shape[-1] > CLASSIFIER_SIZE,
            )
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
    from ..data import digits

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
def kit_features(
    images: torch.Tensor, classifier: DigitClassifier | None = None, batch_size: int = 512
) -> torch.Tensor:
    """The 64-d features of the kit's digit classifier, float64 (N, 64), divided by their
    root-mean-square over real training digits (so real digits have features of size ~1)."""
    classifier = classifier or digit_classifier()
    classifier.eval()
    chunks = [classifier.features(images[i : i + batch_size].cpu()) for i in range(0, images.shape[0], batch_size)]
    return torch.cat(chunks).double() / getattr(classifier, "feature_scale", 1.0)


def kit_scores(
    generated: torch.Tensor, real: torch.Tensor, classifier: DigitClassifier | None = None
) -> dict[str, float]:
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

    @property
    def effective_classes(self) -> float:
        """exp(entropy) of the class shares of the confident images: 10 when all ten classes
        are equally common, 1 when every image is one class, ~3 when three classes share
        the images. 0 when no image is confident."""
        counts = torch.tensor(self.counts, dtype=torch.float64)
        if counts.sum() == 0:
            return 0.0
        shares = counts[counts > 0] / counts.sum()
        return float(torch.exp(-(shares * shares.log()).sum()))

    def top_share(self, k: int = 3) -> float:
        """Fraction of the confident images that fall in the ``k`` most common classes."""
        total = sum(self.counts)
        return sum(sorted(self.counts, reverse=True)[:k]) / total if total else 0.0

    def __str__(self) -> str:
        bars = "  ".join(f"{c}:{n}" for c, n in enumerate(self.counts))
        covered = f"classes covered {self.covered}/{self.num_classes} (>= {self.min_count} each)"
        return f"{covered}, effective {self.effective_classes:.1f}  [{bars}]  unsure: {self.unsure}"


def count_classes(
    labels: torch.Tensor,
    confidence: torch.Tensor,
    *,
    num_classes: int = 10,
    threshold: float = 0.5,
    min_count: int | None = None,
) -> CoverageReport:
    """Count confident labels per class. A class is *covered* when it has at least
    ``min_count`` images (default: a tenth of a fair share, ``N / num_classes / 10``, at least 1)."""
    n = labels.shape[0]
    min_count = max(1, round(n / num_classes / 10)) if min_count is None else min_count
    sure = confidence >= threshold
    counts = torch.bincount(labels[sure].long(), minlength=num_classes)[:num_classes].tolist()
    covered = sum(1 for c in counts if c >= min_count)
    return CoverageReport(counts, int((~sure).sum()), covered, min_count)


def mode_coverage(
    images: torch.Tensor,
    classifier: DigitClassifier | None = None,
    *,
    threshold: float = 0.5,
    min_count: int | None = None,
) -> CoverageReport:
    """Which digit classes do these (generated) images show? See :func:`count_classes`."""
    classifier = classifier or digit_classifier()
    labels, confidence = classifier.predict(images)
    return count_classes(labels, confidence, threshold=threshold, min_count=min_count)
