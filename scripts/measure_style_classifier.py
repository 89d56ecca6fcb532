"""Can the kit's style classifier judge 64-pixel patches? Held-out accuracy per style class.

Notebook 08 scores its models on 64 px patches of the two held-out photos (china,
chelsea): ``style_data(renderer, count=256, PatchConfig(size=64), held_out=2, seed=0)``
gives 64 held-out photo patches and the renderer's painting of each. This script builds
exactly those patches (photos once, each renderer's paintings of them) and asks each
candidate judge to name the style of every patch: per class, the share named right, and a
confusion matrix (rows: true class, columns: the judge's answer).

Judges measured (each trained on the five training photos only; weights cached under
``data_dir()/models`` by their config key, so a rerun loads instead of training):

* ``default@64``: the shipped classifier (``StyleClassifierConfig()``, 128 px training)
  judging the 64 px patch as it is (what notebook 08 does today);
* ``default@up128``: the same classifier judging the patch upsampled (bilinear) to 128 px;
* ``s64``: ``StyleClassifierConfig(image_size=64)`` (512 patches per class, 2000 steps);
* ``s64-big``: ``image_size=64``, 1024 patches per class, 3000 steps.

Run from the checkout (so the checkout's ``ganlab_kit`` is imported)::

    PYTHONPATH=. OMP_NUM_THREADS=1 nice -n 10 python scripts/measure_style_classifier.py [judge ...]

Measured (2026-12-01, one CPU thread; 64 held-out patches per class, accuracy = share of
each class's patches the judge names as that class):

    MEASURED_TABLE_PLACEHOLDER
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ganlab_kit.data import PatchConfig, photo_patches, rendered
from ganlab_kit.styles import builtin_photos, load_photos, split_by_source
from ganlab_kit.styles.classifier import STYLE_CLASSES, StyleClassifierConfig, style_feature_extractor
from ganlab_kit.styles.renderers import all_styles

SIZE = 64  # notebook 08's IMAGE_SIZE
COUNT = 256  # notebook 08's PATCHES: style_data holds out max(8, COUNT // 4) patches
SEED = 0


@dataclass(frozen=True)
class Judge:
    """A classifier config, and how a 64 px patch is shown to it."""

    config: StyleClassifierConfig
    resize: int | None = None  # the patch is resized (bilinear) to this before judging; None: as is
    flip_average: bool = False  # average the logits of the patch and its mirror image


JUDGES: dict[str, Judge] = {
    "default@64": Judge(StyleClassifierConfig()),
    "default@up128": Judge(StyleClassifierConfig(), resize=128),
    "s64": Judge(StyleClassifierConfig(image_size=64)),
    "s64-flip": Judge(StyleClassifierConfig(image_size=64), flip_average=True),
    "s64-big": Judge(StyleClassifierConfig(image_size=64, patches_per_class=1024, steps=3000)),
    "s64-zoom": Judge(StyleClassifierConfig(image_size=64, zoom=(0.25, 1.0))),
    "s64-zoom-narrow": Judge(StyleClassifierConfig(image_size=64, zoom=(0.35, 0.75))),
    "s64-zoom-big": Judge(StyleClassifierConfig(image_size=64, zoom=(0.25, 1.0), patches_per_class=1024, steps=3000)),
}


def held_out_patches() -> dict[str, torch.Tensor]:
    """``{class: (64, 3, 64, 64) in [-1, 1]}``, made as ``style_data`` makes its paired test set."""
    _, test_sources = split_by_source(builtin_photos(), 2, SEED)
    config = PatchConfig(size=SIZE)
    loaded = load_photos(test_sources, min_size=SIZE, too_small=config.too_small)
    photos = photo_patches(loaded, max(8, COUNT // 4), config, SEED + 1)  # style_data's test seed
    sets = {"photo": photos.all()}
    for renderer in all_styles():
        sets[renderer.name] = rendered(photos, renderer, SEED).all()
    return {name: sets[name] for name in STYLE_CLASSES}


def judge(spec: Judge) -> Callable[[torch.Tensor], torch.Tensor]:
    network = style_feature_extractor(config=spec.config).network

    @torch.no_grad()
    def predict(images: torch.Tensor) -> torch.Tensor:
        if spec.resize is not None:
            images = F.interpolate(images, size=(spec.resize, spec.resize), mode="bilinear", align_corners=False)
        logits = network(images)
        if spec.flip_average:
            logits = logits + network(images.flip(-1))
        return logits.argmax(1)

    return predict


def confusion(predict: Callable[[torch.Tensor], torch.Tensor], sets: dict[str, torch.Tensor]) -> torch.Tensor:
    """``(4, 4)`` counts: row = true class, column = predicted class (``STYLE_CLASSES`` order)."""
    matrix = torch.zeros(len(STYLE_CLASSES), len(STYLE_CLASSES), dtype=torch.long)
    for row, name in enumerate(STYLE_CLASSES):
        matrix[row] = torch.bincount(predict(sets[name]), minlength=len(STYLE_CLASSES))
    return matrix


def main(names: list[str]) -> None:
    torch.set_num_threads(1)
    sets = held_out_patches()
    print(f"held-out patches per class: {len(sets['photo'])} at {SIZE} px")
    rows = []
    for name in names:
        spec = JUDGES[name]
        config, resize = spec.config, spec.resize
        start = time.perf_counter()
        predict = judge(spec)
        took = time.perf_counter() - start
        matrix = confusion(predict, sets)
        accuracy = matrix.diag().float() / matrix.sum(1).float()
        rows.append((name, accuracy))
        print(
            f"\n{name}: key {config.key()}, image_size {config.image_size}, judged at {resize or SIZE} px "
            f"(load or train {took:.0f} s)"
        )
        print(f"{'true/named':14s}" + "".join(f"{c:>10s}" for c in STYLE_CLASSES))
        for row, true in enumerate(STYLE_CLASSES):
            print(f"{true:14s}" + "".join(f"{int(v):10d}" for v in matrix[row]))
    print(f"\n{'judge':16s}" + "".join(f"{c:>10s}" for c in STYLE_CLASSES) + f"{'min':>8s}")
    for name, accuracy in rows:
        print(f"{name:16s}" + "".join(f"{float(a):10.3f}" for a in accuracy) + f"{float(accuracy.min()):8.3f}")


if __name__ == "__main__":
    main(sys.argv[1:] or list(JUDGES))
