"""Real image folders: a user's photos, or a data set in the CycleGAN layout.

Files are decoded and checked when a dataset is built, in the main process; bad files
are skipped with a warning, and a worker never meets an unreadable image. Patches are cut
by the kit's one crop pipeline (:mod:`ganlab_kit.data.patches`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import Dataset

from ..styles.photos import PhotoSource, folder_photos, load_photos, read_image, upscale_to
from .patches import PatchConfig, item_generator, prepare_image, random_patch, to_signed
from .style_sets import UnpairedDataset


class ImageFolderDataset(Dataset):
    """Random patches of the images in a folder: item ``i`` is ``{"image": (3, size, size)}``
    in [-1, 1], a patch of file ``i``.

    Every file is decoded once here, in the main process: unreadable ones are skipped
    with a warning, grayscale/RGBA/palette/16-bit ones converted, too small ones handled
    as ``config.too_small`` says. Up to ``max_in_memory`` images are then kept in memory
    (shrunk to the load size); larger folders are re-read per item from the files that
    passed the check. Call ``set_epoch(e)`` to draw new crops each epoch.
    """

    def __init__(self, folder: str | Path, config: PatchConfig = PatchConfig(), seed: int = 0,
                 recursive: bool = False, max_in_memory: int = 1000):
        self.config, self.seed, self.epoch = config, seed, 0
        sources = folder_photos(folder, recursive)
        keep = len(sources) <= max_in_memory
        loaded = load_photos(sources, min_size=config.size, too_small=config.too_small, keep_images=keep)
        self.sources: list[PhotoSource] = loaded.sources
        self.skipped = loaded.skipped
        self.images = [prepare_image(image, config) for image in loaded.images] if keep else None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.sources)

    def _image(self, index: int) -> torch.Tensor:
        if self.images is not None:
            return self.images[index]
        image = read_image(self.sources[index].path)  # checked at construction
        if min(image.shape[-2:]) < self.config.size:  # only possible with too_small="upscale"
            image = upscale_to(image, self.config.size)
        return prepare_image(image, self.config)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        generator = item_generator(self.seed + 7 * self.epoch, index)
        return {"image": to_signed(random_patch(self._image(index), self.config, generator))}


def cyclegan_folder(root: str | Path, phase: str = "train", config: PatchConfig = PatchConfig(), seed: int = 0
                    ) -> UnpairedDataset:
    """An unpaired dataset from a CycleGAN-layout folder: ``"A"`` items from ``root/{phase}A``,
    ``"B"`` items from ``root/{phase}B``.

    The folders keep the layout's own naming: in the CycleGAN authors' sets (e.g.
    ``ukiyoe2photo``) ``A`` is the painting domain and ``B`` the photos; the manifest's
    ``domains`` field says which is which.
    """
    root = Path(root)
    if phase not in ("train", "test"):
        raise ValueError(f"phase must be 'train' or 'test', got {phase!r}")
    missing = [name for name in (f"{phase}A", f"{phase}B") if not (root / name).is_dir()]
    if missing:
        raise FileNotFoundError(f"{str(root)!r} is not in the CycleGAN layout: missing folder(s) "
                                f"{', '.join(missing)} (expected trainA/, trainB/, testA/, testB/)")
    return UnpairedDataset(ImageFolderDataset(root / f"{phase}A", config, seed),
                           ImageFolderDataset(root / f"{phase}B", config, seed + 1), seed)
