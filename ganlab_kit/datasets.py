"""Datasets for style transfer: photo patches, paired and unpaired sets, image folders.

Every item is a float tensor ``(3, size, size)`` in [-1, 1] (the range a ``tanh``
generator outputs). Everything is reproducible from a seed: item ``i`` of a patch set is
cut with a generator seeded from ``(seed, i)``, so the same index gives the same pixels in
any worker, in any order.

* ``photo_patches``: random crops and flips of source photos (built-in or a folder);
* ``rendered``: those patches turned into a style by a renderer, cached under ``data/``;
* ``PairedDataset``: (photo, styled photo) for pix2pix-style training;
* ``UnpairedDataset``: photos and styled images of *other* photos, for CycleGAN;
* ``ImageFolderDataset`` / ``cyclegan_folder``: the same for real image folders in the
  CycleGAN layout (``trainA/``, ``trainB/``, ``testA/``, ``testB/``).

Files are decoded and checked when a dataset is built, in the main process; bad files
are skipped with a warning, and a worker never meets an unreadable image.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from .styles.photos import (LoadedPhotos, PhotoSource, builtin_photos, folder_photos, load_photos, read_image,
                            resize_uint8, split_by_source, upscale_to)
from .styles.renderers import StyleRenderer

DATA_ENV = "GANLAB_DATA"


def data_dir() -> Path:
    """Where generated and downloaded data live: ``$GANLAB_DATA``, else the checkout's
    ``data/`` folder, else ``~/.cache/ganlab_kit``."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    checkout = Path(__file__).resolve().parents[1] / "data"
    if checkout.is_dir() and os.access(checkout, os.W_OK):
        return checkout
    return Path.home() / ".cache" / "ganlab_kit"


@dataclass(frozen=True)
class PatchConfig:
    """How patches are cut from a source photo."""

    size: int = 64  # side of a square patch, pixels
    load_size: int | None = None  # shorter side is first reduced to this (default 2 x size)
    flip: bool = True  # random horizontal flips
    too_small: str = "error"  # photo smaller than ``size``: "error", "upscale" or "skip"

    def __post_init__(self) -> None:
        if self.size < 8:
            raise ValueError(f"patch size must be at least 8 pixels, got {self.size}")
        if self.load_size is not None and self.load_size < self.size:
            raise ValueError(f"load_size {self.load_size} is smaller than the patch size {self.size}")

    @property
    def target_short_side(self) -> int:
        return self.load_size if self.load_size is not None else 2 * self.size


def _item_generator(seed: int, index: int) -> torch.Generator:
    # A large odd multiplier keeps (seed, index) pairs from colliding for realistic sizes.
    return torch.Generator().manual_seed(seed * 1_000_003 + index)


def prepare_image(image: torch.Tensor, config: PatchConfig) -> torch.Tensor:
    """Shrink a ``(3, H, W)`` uint8 photo so its shorter side is at most the load size."""
    short_side = min(image.shape[-2:])
    if short_side <= config.target_short_side:
        return image
    scale = config.target_short_side / short_side
    size = (max(config.size, round(image.shape[-2] * scale)), max(config.size, round(image.shape[-1] * scale)))
    return resize_uint8(image, size)


def random_patch(image: torch.Tensor, config: PatchConfig, generator: torch.Generator) -> torch.Tensor:
    """One random ``(3, size, size)`` uint8 crop (and maybe a mirror) of a prepared photo."""
    height, width = image.shape[-2:]
    top = int(torch.randint(0, height - config.size + 1, (1,), generator=generator))
    left = int(torch.randint(0, width - config.size + 1, (1,), generator=generator))
    patch = image[:, top: top + config.size, left: left + config.size]
    if config.flip and bool(torch.rand((), generator=generator) < 0.5):
        patch = patch.flip(-1)
    return patch


def to_signed(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images_uint8.float() / 127.5 - 1.0


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> float [0, 1] (what renderers and plots take)."""
    return ((images + 1.0) / 2.0).clamp(0.0, 1.0)


class TensorImages(Dataset):
    """A set of images held as one uint8 tensor ``(N, 3, H, W)``, returned in [-1, 1],
    with the source photo of each item (to check that splits do not leak)."""

    def __init__(self, images_uint8: torch.Tensor, sources: list[str]):
        if images_uint8.dtype != torch.uint8 or images_uint8.ndim != 4:
            raise ValueError(f"expected uint8 (N, 3, H, W), got {images_uint8.dtype} {tuple(images_uint8.shape)}")
        if len(sources) != images_uint8.shape[0]:
            raise ValueError(f"{len(sources)} source names for {images_uint8.shape[0]} images")
        self.images_uint8 = images_uint8
        self.sources = list(sources)

    def __len__(self) -> int:
        return self.images_uint8.shape[0]

    def __getitem__(self, index: int) -> torch.Tensor:
        return to_signed(self.images_uint8[index])

    def all(self) -> torch.Tensor:
        """Every image at once, ``(N, 3, H, W)`` in [-1, 1]."""
        return to_signed(self.images_uint8)


def photo_patches(photos: LoadedPhotos, count: int, config: PatchConfig = PatchConfig(), seed: int = 0
                  ) -> TensorImages:
    """``count`` patches cut evenly from the loaded photos (item ``i`` from photo ``i mod n``)."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    prepared = [prepare_image(image, config) for image in photos.images]
    for source, image in zip(photos.sources, prepared):
        if min(image.shape[-2:]) < config.size:
            raise ValueError(f"photo {source.name!r} ({image.shape[-1]}x{image.shape[-2]}) is smaller than the "
                             f"patch size {config.size}; load it with too_small='upscale' or use smaller patches")
    patches, names = [], []
    for index in range(count):
        which = index % len(prepared)
        patches.append(random_patch(prepared[which], config, _item_generator(seed, index)))
        names.append(photos.sources[which].name)
    return TensorImages(torch.stack(patches), names)


def _atomic_save(tensors: dict[str, torch.Tensor], path: Path) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(handle)
    try:
        save_file({k: v.contiguous() for k, v in tensors.items()}, temp)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def rendered(patches: TensorImages, renderer: StyleRenderer, seed: int = 0, batch_size: int = 32,
             cache: bool = True) -> TensorImages:
    """The patches painted by ``renderer`` (in batches), cached under ``data/cache``.

    The cache file name hashes the pixels in and the renderer's full configuration, so a
    changed input or setting renders afresh instead of reusing stale pixels.
    """
    digest = hashlib.sha256(patches.images_uint8.numpy().tobytes())
    digest.update(f"{renderer.cache_key()}|seed={seed}|batch={batch_size}".encode())
    path = data_dir() / "cache" / f"{renderer.name}-{digest.hexdigest()[:20]}.safetensors"
    if cache and path.is_file():
        from safetensors.torch import load_file

        stored = load_file(path)["images"]
        if stored.shape == patches.images_uint8.shape:
            return TensorImages(stored, patches.sources)
    outputs = []
    for start in range(0, len(patches), batch_size):
        batch = patches.images_uint8[start: start + batch_size].float() / 255.0
        # Each batch's noise is seeded from (seed, start index): the result depends only
        # on the pixels, the renderer, the seed and the batch size (all in the cache key).
        painted = renderer(batch, seed=seed * 7919 + start)
        outputs.append((painted * 255.0).round().clamp(0, 255).to(torch.uint8))
    images = torch.cat(outputs)
    if cache:
        _atomic_save({"images": images}, path)
    return TensorImages(images, patches.sources)


class PairedDataset(Dataset):
    """Item ``i`` is ``{"photo": x, "styled": y}``: a photo patch and the same patch in a style."""

    def __init__(self, photos: TensorImages, styled: TensorImages):
        if len(photos) != len(styled):
            raise ValueError(f"paired sets must have equal length, got {len(photos)} and {len(styled)}")
        self.photos, self.styled = photos, styled

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"photo": self.photos[index], "styled": self.styled[index]}


class UnpairedDataset(Dataset):
    """Item ``i`` is ``{"a": domain_a[i], "b": domain_b[j]}`` with ``j`` drawn from a generator
    seeded by ``(seed, i)``: no correspondence between the two, as in CycleGAN."""

    def __init__(self, domain_a: Dataset, domain_b: Dataset, seed: int = 0):
        if len(domain_a) == 0 or len(domain_b) == 0:
            raise ValueError("both domains of an unpaired dataset need at least one image")
        self.domain_a, self.domain_b, self.seed = domain_a, domain_b, seed

    def __len__(self) -> int:
        return max(len(self.domain_a), len(self.domain_b))

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        other = int(torch.randint(0, len(self.domain_b), (1,), generator=_item_generator(self.seed + 1, index)))
        return {"a": self.domain_a[index % len(self.domain_a)], "b": self.domain_b[other]}


class ImageFolderDataset(Dataset):
    """Random patches of the images in a folder (a user's photos, or one CycleGAN domain).

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

    def __getitem__(self, index: int) -> torch.Tensor:
        generator = _item_generator(self.seed + 7 * self.epoch, index)
        return to_signed(random_patch(self._image(index), self.config, generator))


def cyclegan_folder(root: str | Path, phase: str = "train", config: PatchConfig = PatchConfig(), seed: int = 0
                    ) -> UnpairedDataset:
    """An unpaired dataset from a CycleGAN-layout folder: ``root/{phase}A`` and ``root/{phase}B``."""
    root = Path(root)
    if phase not in ("train", "test"):
        raise ValueError(f"phase must be 'train' or 'test', got {phase!r}")
    missing = [name for name in (f"{phase}A", f"{phase}B") if not (root / name).is_dir()]
    if missing:
        raise FileNotFoundError(f"{str(root)!r} is not in the CycleGAN layout: missing folder(s) "
                                f"{', '.join(missing)} (expected trainA/, trainB/, testA/, testB/)")
    return UnpairedDataset(ImageFolderDataset(root / f"{phase}A", config, seed),
                           ImageFolderDataset(root / f"{phase}B", config, seed + 1), seed)


@dataclass
class StyleData:
    """Train/test splits for one style, made from source photos split by photo."""

    train_photos: TensorImages
    test_photos: TensorImages
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
