"""Data sets for style transfer: (photo, styled) pairs for pix2pix, unpaired domains for CycleGAN.

Items are dicts in CycleGAN's naming: ``"A"`` is the photo domain, ``"B"`` the style
domain, each ``(3, H, W)`` float in [-1, 1]; a DataLoader stacks them to ``(B, 3, H, W)``.

* ``PairedDataset``: ``{"A": photo patch, "B": the same patch in a style, "index": i}``;
* ``UnpairedDataset``: ``{"A": domain_a[i], "B": domain_b[j], "A_index", "B_index"}``
  with ``j`` random: no correspondence between the two, as in CycleGAN;
* ``style_data``: train/test splits of both for one renderer, split by source photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from ..styles.photos import LoadedPhotos, PhotoSource, builtin_photos, load_photos, split_by_source
from ..styles.renderers import StyleRenderer
from .patches import PatchConfig, PatchSet, item_generator, photo_patches, rendered


class PairedDataset(Dataset):
    """Item ``i`` is ``{"A": photos[i], "B": styled[i], "index": i}``: a photo patch and the
    same patch in a style, each ``(3, H, W)`` in [-1, 1]."""

    def __init__(self, photos: PatchSet, styled: PatchSet):
        if len(photos) != len(styled):
            raise ValueError(f"paired sets must have equal length, got {len(photos)} and {len(styled)}")
        self.photos, self.styled = photos, styled

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor | int]:
        return {"A": self.photos[index]["image"], "B": self.styled[index]["image"], "index": index}


class UnpairedDataset(Dataset):
    """Item ``i`` is ``{"A": domain_a[i], "B": domain_b[j], "A_index": i, "B_index": j}`` with
    ``j`` drawn from a generator seeded by ``(seed, i)``: no correspondence between the two,
    as in CycleGAN. Both domains are data sets of ``{"image": ...}`` items."""

    def __init__(self, domain_a: Dataset, domain_b: Dataset, seed: int = 0):
        if len(domain_a) == 0 or len(domain_b) == 0:
            raise ValueError("both domains of an unpaired dataset need at least one image")
        self.domain_a, self.domain_b, self.seed = domain_a, domain_b, seed

    def __len__(self) -> int:
        return max(len(self.domain_a), len(self.domain_b))

    def __getitem__(self, index: int) -> dict[str, torch.Tensor | int]:
        a_index = index % len(self.domain_a)
        b_index = int(torch.randint(0, len(self.domain_b), (1,), generator=item_generator(self.seed + 1, index)))
        return {"A": self.domain_a[a_index]["image"], "B": self.domain_b[b_index]["image"],
                "A_index": a_index, "B_index": b_index}


@dataclass
class StyleData:
    """Train/test splits for one style, made from source photos split by photo."""

    train_photos: PatchSet
    test_photos: PatchSet
    paired_train: PairedDataset
    paired_test: PairedDataset
    unpaired_train: UnpairedDataset
    unpaired_test: UnpairedDataset
    train_sources: list[str]
    test_sources: list[str]


def style_data(renderer: StyleRenderer, count: int = 256, config: PatchConfig = PatchConfig(), held_out: int = 2,
               seed: int = 0, photos: list[PhotoSource] | None = None, cache: bool = True) -> StyleData:
    """Paired and unpaired train/test sets for one style from the built-in photos (or ``photos``).

    Source photos are split first (``held_out`` of them for testing), then patches are
    cut, so no test patch shares pixels with a training patch. In the unpaired sets the
    styled domain is rendered from *different* photos than domain A (alternate sources).
    """
    sources = photos if photos is not None else builtin_photos()
    train_sources, test_sources = split_by_source(sources, held_out, seed)
    sets = {}
    for name, chosen, n in (("train", train_sources, count), ("test", test_sources, max(8, count // 4))):
        loaded = load_photos(chosen, min_size=config.size, too_small=config.too_small)
        patches = photo_patches(loaded, n, config, seed + (0 if name == "train" else 1))
        styled = rendered(patches, renderer, seed, cache=cache)
        if len(loaded.sources) >= 2:
            # Domain B for the unpaired set: styled patches of every other source photo.
            half_a = LoadedPhotos(loaded.sources[0::2], loaded.images[0::2], [])
            half_b = LoadedPhotos(loaded.sources[1::2], loaded.images[1::2], [])
            domain_a = photo_patches(half_a, n, config, seed + 11)
            domain_b = rendered(photo_patches(half_b, n, config, seed + 13), renderer, seed, cache=cache)
        else:
            domain_a, domain_b = patches, styled
        sets[name] = (patches, styled, UnpairedDataset(domain_a, domain_b, seed))
    return StyleData(
        train_photos=sets["train"][0], test_photos=sets["test"][0],
        paired_train=PairedDataset(sets["train"][0], sets["train"][1]),
        paired_test=PairedDataset(sets["test"][0], sets["test"][1]),
        unpaired_train=sets["train"][2], unpaired_test=sets["test"][2],
        train_sources=[s.name for s in train_sources], test_sources=[s.name for s in test_sources],
    )
