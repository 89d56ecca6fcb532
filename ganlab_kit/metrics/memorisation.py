"""Are a generator's samples copies of its training images?

:func:`nearest_neighbours` finds, in pixel space, the closest training images of each
query; :func:`memorisation_check` compares how close samples come to the training set with
how close real images the generator never saw come to it; :func:`held_out_comparison`
asks the sharper question a held-out split allows: are samples closer to the images the
generator trained on than to real images it never saw?
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@torch.no_grad()
def nearest_neighbours(
    queries: torch.Tensor, references: torch.Tensor, k: int = 1, chunk: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query image, the ``k`` closest reference images in pixel space (L2 over
    all pixels). Returns ``(distances (Q, k), indices (Q, k))``, closest first."""
    if queries.shape[1:] != references.shape[1:]:
        raise ValueError(
            f"queries {tuple(queries.shape[1:])} and references {tuple(references.shape[1:])} "
            "must be images of one shape"
        )
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
            f"nearest-training-image distance: samples {self.sample_distance:.3f}, "
            f"held-out real {self.held_out_distance:.3f} "
            f"(ratio {self.ratio:.2f}); near copies: {self.near_copies}"
        )


def memorisation_check(samples: torch.Tensor, training: torch.Tensor, held_out: torch.Tensor) -> MemorisationReport:
    """Compare how close samples and unseen real images come to the training set."""
    sample_d, _ = nearest_neighbours(samples, training)
    held_d, _ = nearest_neighbours(held_out, training)
    sample_median, held_median = float(sample_d.median()), float(held_d.median())
    cutoff = float(torch.quantile(held_d.flatten(), 0.05))
    return MemorisationReport(
        sample_median, held_median, sample_median / max(held_median, 1e-12), int((sample_d.flatten() < cutoff).sum())
    )


@dataclass
class HeldOutComparison:
    """Nearest-neighbour distances of samples to two equally large real sets: images the
    generator trained on, and held-out images it never saw."""

    training_distance: float  # median distance of a sample to its nearest training image
    held_out_distance: float  # median distance of a sample to its nearest held-out image
    closer_to_training: float  # fraction of samples nearer a training image than any held-out one
    reference_size: int  # images in the smaller of the two sets

    @property
    def ratio(self) -> float:
        """training / held-out distance: ~1 when the generator learnt the distribution, well
        below 1 when samples sit on its training images."""
        return self.training_distance / max(self.held_out_distance, 1e-12)

    def __str__(self) -> str:
        return (
            f"median nearest-neighbour distance of a sample: to training digits {self.training_distance:.3f}, "
            f"to held-out digits {self.held_out_distance:.3f} (ratio {self.ratio:.2f}; "
            f"~{self.reference_size} images each); samples closer to training: {self.closer_to_training:.0%}"
        )


def held_out_comparison(samples: torch.Tensor, training: torch.Tensor, held_out: torch.Tensor) -> HeldOutComparison:
    """Compare each sample's nearest training image with its nearest held-out image.

    ``held_out`` must be real images the generator never trained on, and as many as
    ``training`` (within 10%): the nearest of more images is closer by chance alone, so
    the comparison is fair only between sets of one size (hold out half the data). A
    generator that learnt the distribution is as close to one set as to the other
    (``closer_to_training`` ~ 50%, ratio ~ 1); one that memorised sits on its training
    images (fraction near 100%, ratio well below 1).
    """
    if abs(len(training) - len(held_out)) > 0.1 * max(len(training), len(held_out)):
        raise ValueError(
            f"training ({len(training)} images) and held_out ({len(held_out)}) must be about as large (within 10%): "
            "nearest-neighbour distances shrink as a set grows; split the data in halves"
        )
    to_training, _ = nearest_neighbours(samples, training)
    to_held_out, _ = nearest_neighbours(samples, held_out)
    return HeldOutComparison(
        float(to_training.median()),
        float(to_held_out.median()),
        float((to_training < to_held_out).float().mean()),
        min(len(training), len(held_out)),
    )
