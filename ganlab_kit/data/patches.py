"""Photo patches: the kit's one crop pipeline and its one conversion to the range [-1, 1].

Every photo the kit trains on goes the same way::

    photo (3, H, W) uint8
      -- prepare_image --> shorter side reduced to ``load_size`` (never enlarged)
      -- random_patch ---> a square window (``size`` pixels, or a random fraction
                           ``scale`` of the shorter side resized to ``size``),
                           mirrored half the time if ``flip``: (3, size, size) uint8
      -- to_signed ------> float in [-1, 1], the range a ``tanh`` generator outputs

Item ``i`` of a patch set is cut with a generator seeded from ``(seed, i)``, so the same
index gives the same pixels in any worker, in any order. Patches stay uint8 in memory (a
quarter of the float size) and become floats only when an item is read.

:func:`rendered` paints a patch set in a cultural style, cached under ``data_dir()/cache``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch.utils.data import Dataset

from ..runtime import atomic_path, data_dir
from ..styles.photos import LoadedPhotos, resize_uint8

if TYPE_CHECKING:
    from ..styles.renderers import StyleRenderer


# ------------------------------------------------------------- conversions
def to_signed(images: torch.Tensor) -> torch.Tensor:
    """Pixels -> float in [-1, 1], any shape.

    uint8 ``u`` in [0, 255] becomes ``u / 127.5 - 1`` (exactly -1 and 1 at the ends);
    a float image in [0, 1] becomes ``2x - 1``, clamped (resampling may overshoot a little).
    """
    if images.dtype == torch.uint8:
        return images.float() / 127.5 - 1.0
    if not images.is_floating_point():
        raise TypeError(f"expected uint8 pixels or float images in [0, 1], got {images.dtype}")
    return (images * 2.0 - 1.0).clamp(-1.0, 1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float in [-1, 1] -> uint8 [0, 255] (rounded, clamped): the inverse of :func:`to_signed`."""
    return ((images + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """float in [-1, 1] -> float in [0, 1] (what renderers and plots take)."""
    return ((images + 1.0) / 2.0).clamp(0.0, 1.0)


# ------------------------------------------------------------ the crop pipeline
@dataclass(frozen=True)
class PatchConfig:
    """How patches are cut from a source photo."""

    size: int = 64  # side of a square patch, pixels
    load_size: int | None = None  # shorter side is first reduced to this (default 2 x size)
    flip: bool = True  # random horizontal flips
    too_small: str = "error"  # photo smaller than ``size``: "error", "upscale" or "skip"
    # None: windows of exactly ``size`` pixels. (low, high): the window's side is drawn
    # uniformly between low and high times the prepared photo's shorter side, then the
    # window is resized to ``size`` (a zoom augmentation; the DCGAN photo sets use it).
    scale: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.size < 8:
            raise ValueError(f"patch size must be at least 8 pixels, got {self.size}")
        if self.load_size is not None and self.load_size < self.size:
            raise ValueError(f"load_size {self.load_size} is smaller than the patch size {self.size}")
        if self.too_small not in ("error", "upscale", "skip"):
            raise ValueError(f"too_small must be 'error', 'upscale' or 'skip', got {self.too_small!r}")
        if self.scale is not None and not 0.0 < self.scale[0] <= self.scale[1] <= 1.0:
            raise ValueError(f"scale must be (low, high) with 0 < low <= high <= 1, got {self.scale!r}")

    @property
    def target_short_side(self) -> int:
        return self.load_size if self.load_size is not None else 2 * self.size


def item_generator(seed: int, index: int) -> torch.Generator:
    """The random generator of item ``index``: the same pixels in any worker, in any order."""
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
    """One random ``(3, size, size)`` uint8 patch (and maybe a mirror) of a prepared photo."""
    height, width = image.shape[-2:]
    side = config.size
    if config.scale is not None:
        short_side = min(height, width)
        low = max(1, round(config.scale[0] * short_side))
        high = max(low, round(config.scale[1] * short_side))
        side = int(torch.randint(low, high + 1, (1,), generator=generator))
    top = int(torch.randint(0, height - side + 1, (1,), generator=generator))
    left = int(torch.randint(0, width - side + 1, (1,), generator=generator))
    patch = image[:, top: top + side, left: left + side]
    if side != config.size:
        patch = resize_uint8(patch, (config.size, config.size))
    if config.flip and bool(torch.rand((), generator=generator) < 0.5):
        patch = patch.flip(-1)
    return patch


class PatchSet(Dataset):
    """Patches held as one uint8 tensor ``pixels`` ``(N, 3, H, W)``, with the name of the
    source photo of each (to check that splits do not leak).

    Item ``i`` is ``{"image": (3, H, W) float in [-1, 1]}``.
    """

    def __init__(self, pixels: torch.Tensor, sources: list[str]):
        if pixels.dtype != torch.uint8 or pixels.ndim != 4:
            raise ValueError(f"expected uint8 (N, 3, H, W), got {pixels.dtype} {tuple(pixels.shape)}")
        if len(sources) != pixels.shape[0]:
            raise ValueError(f"{len(sources)} source names for {pixels.shape[0]} images")
        self.pixels = pixels
        self.sources = list(sources)

    def __len__(self) -> int:
        return self.pixels.shape[0]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"image": to_signed(self.pixels[index])}

    def all(self) -> torch.Tensor:
        """Every image at once, ``(N, 3, H, W)`` in [-1, 1]."""
        return to_signed(self.pixels)


def photo_patches(photos: LoadedPhotos, count: int, config: PatchConfig = PatchConfig(), seed: int = 0) -> PatchSet:
    """``count`` patches cut evenly from the loaded photos (item ``i`` from photo ``i mod n``)."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    prepared = [prepare_image(image, config) for image in photos.images]
    if config.scale is None:  # a zoomed window always fits; a fixed one needs a big enough photo
        for source, image in zip(photos.sources, prepared):
            if min(image.shape[-2:]) < config.size:
                raise ValueError(f"photo {source.name!r} ({image.shape[-1]}x{image.shape[-2]}) is smaller than the "
                                 f"patch size {config.size}; load it with too_small='upscale' or use smaller patches")
    patches, names = [], []
    for index in range(count):
        which = index % len(prepared)
        patches.append(random_patch(prepared[which], config, item_generator(seed, index)))
        names.append(photos.sources[which].name)
    return PatchSet(torch.stack(patches), names)


# ---------------------------------------------------------------- rendering
def rendered(patches: PatchSet, renderer: StyleRenderer, seed: int = 0, batch_size: int = 32,
             cache: bool = True) -> PatchSet:
    """The patches painted by ``renderer`` (in batches), cached under ``data_dir()/cache``.

    The cache file name hashes the pixels in and the renderer's full configuration, so a
    changed input or setting renders afresh instead of reusing stale pixels. The file is
    written atomically: an interrupted run never leaves a half-written cache behind.
    """
    digest = hashlib.sha256(patches.pixels.numpy().tobytes())
    digest.update(f"{renderer.cache_key()}|seed={seed}|batch={batch_size}".encode())
    path = data_dir() / "cache" / f"{renderer.name}-{digest.hexdigest()[:20]}.safetensors"
    if cache and path.is_file():
        from safetensors.torch import load_file

        stored = load_file(path)["images"]
        if stored.shape == patches.pixels.shape:
            return PatchSet(stored, patches.sources)
    outputs = []
    for start in range(0, len(patches), batch_size):
        batch = patches.pixels[start: start + batch_size].float() / 255.0  # renderers take [0, 1]
        # Each batch's noise is seeded from (seed, start index): the result depends only
        # on the pixels, the renderer, the seed and the batch size (all in the cache key).
        painted = renderer(batch, seed=seed * 7919 + start)
        outputs.append((painted * 255.0).round().clamp(0, 255).to(torch.uint8))
    pixels = torch.cat(outputs)
    if cache:
        from safetensors.torch import save_file

        with atomic_path(path) as temporary:
            save_file({"images": pixels.contiguous()}, str(temporary))
    return PatchSet(pixels, patches.sources)
