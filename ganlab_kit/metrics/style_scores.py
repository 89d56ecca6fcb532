"""Scoring a style-transfer model where the right answer is known.

The kit's style renderers (``styles/``) turn a photo into an ink-wash, oil or ukiyo-e
painting by a fixed recipe. A model trained to imitate a renderer can therefore be scored
on held-out photos against the renderer's own painting of each photo, the ground truth,
and every score is shown between two reference points:

* the *identity baseline*: the photo itself offered as the output (a model that learnt
  nothing scores about this);
* the *ceiling*: the renderer's painting offered as the output (SSIM 1, PSNR 80 dB,
  FSIM 1, and the target-style rate the shipped classifier gives the renderer's work).

:func:`style_transfer_scores` returns one flat dict of floats:

* ``ssim``, ``psnr``, ``fsim``: output vs ground truth, mean over images
  (``image_quality.py``); ``ssim_identity`` etc.: the same with the photo as the output;
* ``ssim_gain`` = ``(ssim - ssim_identity) / (1 - ssim_identity)``: the share of the way
  from the identity baseline to the ceiling (NaN when the photos equal the ground truth);
* ``target_rate``: share of outputs the style classifier names as the target style;
  ``target_rate_identity`` of the photos, ``target_rate_ceiling`` of the ground truth;
* ``style_kid``: KID (``distances.py``) between outputs and ground truth on the style
  classifier's features, ``style_kid_std`` its spread over random subsets of 200 (0 when
  both sets are no larger: every subset is then the whole set),
  ``style_kid_identity`` the same for photos vs ground truth;
* ``before/<statistic>``, ``after/<statistic>``, ``target/<statistic>``: the style
  statistics (``styles.statistics.set_statistics``) of photos, outputs and ground truth;
* ``images``: how many images were scored.

The style features are the kit's own small classifier (``styles/classifier.py``), so
``style_kid`` compares runs of this kit, not published numbers. By default it is the one
trained on 128-pixel patches; for 64-pixel images pass ``judge_size=64``: the classifier
trained on 64-pixel patches (``styles.classifier.judge_config``), measured against the
renderers' own held-out 64-pixel paintings in ``scripts/measure_style_classifier.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from ..styles.classifier import STYLE_CLASSES, FeatureExtractor, StyleNet, judge_config, style_feature_extractor
from ..styles.statistics import set_statistics
from .distances import kernel_inception_distance
from .image_quality import check_image_pair, fsim, psnr, ssim

BATCH_SIZE = 32  # images per forward pass: bounds memory for large sets or large images
HEADLINE = (
    "ssim",
    "ssim_identity",
    "ssim_gain",
    "psnr",
    "psnr_identity",
    "fsim",
    "fsim_identity",
    "target_rate",
    "target_rate_identity",
    "target_rate_ceiling",
    "style_kid",
    "style_kid_identity",
)


def style_network(classifier: nn.Module | None = None, judge_size: int | None = None) -> StyleNet:
    """The style classifier as a ``StyleNet`` (logits and features): ``classifier`` may be
    a ``StyleNet`` or the ``FeatureExtractor`` built on one; ``None`` loads the shipped one
    (``style_feature_extractor()``, trained on 128-pixel patches), or with ``judge_size``
    the one trained on patches of that size (``judge_config``: 128 or 64)."""
    if classifier is not None and judge_size is not None:
        raise ValueError("pass a classifier or a judge_size, not both: judge_size picks a shipped classifier")
    if classifier is None:
        config = judge_config(judge_size) if judge_size is not None else None  # None: the default, as before
        classifier = style_feature_extractor(config=config)
    network = classifier.network if isinstance(classifier, FeatureExtractor) else classifier
    if not isinstance(network, StyleNet):
        raise TypeError(
            f"classifier must be the kit's style classifier (a StyleNet or style_feature_extractor()), "
            f"got {type(network).__name__}: only it names styles"
        )
    return network.eval()


@torch.no_grad()
def classify_styles(
    images: torch.Tensor, classifier: nn.Module | None = None, judge_size: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(labels (N,), features (N, D))`` of images ``(N, 3, H, W)`` in [0, 1]: the index
    into ``STYLE_CLASSES`` the classifier picks, and its pooled features (float64).
    ``classifier`` / ``judge_size``: which classifier (see ``style_network``)."""
    network = style_network(classifier, judge_size)
    device = next(network.parameters()).device
    labels, features = [], []
    for start in range(0, images.shape[0], BATCH_SIZE):
        batch = images[start : start + BATCH_SIZE].to(device).float() * 2 - 1  # the classifier reads [-1, 1]
        embedding = network.embed(batch)  # (b, D)
        labels.append(network.head(embedding).argmax(dim=1).cpu())
        features.append(embedding.double().cpu())
    return torch.cat(labels), torch.cat(features)


@torch.no_grad()
def mean_score(
    measure: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor
) -> float:
    """Mean over images of a per-image measure, computed in batches."""
    values = [
        measure(x[i : i + BATCH_SIZE], y[i : i + BATCH_SIZE]).double().cpu() for i in range(0, len(x), BATCH_SIZE)
    ]
    return float(torch.cat(values).mean())


def style_transfer_scores(
    photos: torch.Tensor,
    outputs: torch.Tensor,
    targets: torch.Tensor,
    style: str,
    classifier: nn.Module | None = None,
    judge_size: int | None = None,
) -> dict[str, float]:
    """Score a style-transfer model's ``outputs`` against the renderer's ``targets``.

    ``photos``: the held-out input photos; ``outputs``: the model's paintings of them;
    ``targets``: the renderer's paintings of them (ground truth). All ``(N, 3, H, W)`` in
    [0, 1] (a tanh generator's output ``g`` becomes ``(g + 1) / 2``), one shape, N >= 2.
    ``style``: the target style, one of ``STYLE_CLASSES``. ``classifier``: the style
    classifier (default: the shipped one, trained on 128-pixel patches). ``judge_size=64``
    instead uses the shipped classifier trained on 64-pixel patches, for 64-pixel images:
    the default one names only about half of the ukiyo-e renderer's own 64-pixel patches
    ukiyo-e. The judge sets ``target_rate*`` and ``style_kid*`` (its features). Returns a
    flat dict of floats; see the module docstring for every key.
    """
    if style not in STYLE_CLASSES:
        raise ValueError(f"unknown style {style!r}; the style classifier knows {', '.join(STYLE_CLASSES)}")
    check_image_pair(photos, outputs)
    check_image_pair(photos, targets)
    if photos.shape[1] != 3 or photos.shape[0] < 2:
        raise ValueError(f"need at least 2 colour images (N, 3, H, W) per set, got {tuple(photos.shape)}")
    photos, outputs, targets = (t.detach().float().clamp(0, 1) for t in (photos, outputs, targets))

    scores: dict[str, float] = {}
    for name, measure in (("ssim", ssim), ("psnr", psnr), ("fsim", fsim)):
        scores[name] = mean_score(measure, outputs, targets)
        scores[f"{name}_identity"] = mean_score(measure, photos, targets)
    headroom = 1.0 - scores["ssim_identity"]
    scores["ssim_gain"] = (scores["ssim"] - scores["ssim_identity"]) / headroom if headroom > 1e-6 else math.nan

    target_index = STYLE_CLASSES.index(style)
    network = style_network(classifier, judge_size)  # load the shipped weights once, not once per set
    found = {
        role: classify_styles(images, network)
        for role, images in (("output", outputs), ("photo", photos), ("target", targets))
    }
    scores["target_rate"] = float((found["output"][0] == target_index).float().mean())
    scores["target_rate_identity"] = float((found["photo"][0] == target_index).float().mean())
    scores["target_rate_ceiling"] = float((found["target"][0] == target_index).float().mean())
    scores["style_kid"], scores["style_kid_std"] = kernel_inception_distance(found["output"][1], found["target"][1])
    scores["style_kid_identity"], _ = kernel_inception_distance(found["photo"][1], found["target"][1])

    for prefix, images in (("before", photos), ("after", outputs), ("target", targets)):
        for name, value in set_statistics(images.cpu()).items():
            scores[f"{prefix}/{name}"] = value
    scores["images"] = float(photos.shape[0])
    return scores


def scores_table(
    rows: Mapping[str, Mapping[str, float]] | Sequence[Mapping[str, float]],
    columns: Sequence[str] | None = None,
    digits: int = 3,
) -> str:
    """A plain-text table, one line per row of scores (e.g. one per model).

    ``rows``: ``{name: scores}`` or a list of score dicts (named 1, 2, ...). ``columns``:
    which keys to show, in order; default: the headline scores of
    :func:`style_transfer_scores` that some row has, else every key without a ``/``.
    Missing values show as ``-``.
    """
    named = list(rows.items()) if isinstance(rows, Mapping) else [(str(i + 1), row) for i, row in enumerate(rows)]
    if not named:
        raise ValueError("no rows to tabulate")
    if columns is None:
        present = {key for _, row in named for key in row}
        columns = [key for key in HEADLINE if key in present]
        if not columns:
            columns = list(dict.fromkeys(key for _, row in named for key in row if "/" not in key))

    def cell(row: Mapping[str, float], key: str) -> str:
        if key not in row:
            return "-"
        value = row[key]
        return f"{value:.{digits}f}" if isinstance(value, float | int) else str(value)

    table = [["", *columns]] + [[name, *(cell(row, key) for key in columns)] for name, row in named]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = [
        "  ".join(text.ljust(widths[0]) if i == 0 else text.rjust(widths[i]) for i, text in enumerate(line))
        for line in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
