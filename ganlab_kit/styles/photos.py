"""Photos that work offline: the sample images installed Python packages already carry,
and a user's own folder of photos, read the same careful way.

Nothing here downloads. scikit-image can fetch more images through ``pooch``; we never
call its loaders, we only open files that are already inside the installed package, and
skip those that are missing. Each built-in photo records where it comes from and under
which licence, as stated by the package that ships it.

Image files are decoded here, in the main process, and converted to RGB (grayscale,
RGBA, palette and 16-bit files included), so a bad file is reported with its name and
never surfaces as a traceback inside a DataLoader worker.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class PhotoSource:
    """One source photo: a name, the file, and where it came from."""

    name: str
    path: Path
    provenance: str = "user file"
    licence: str = "the user's own"


# (package, path inside the package, name, provenance, licence). Provenance and licence
# are as the shipping package documents them (sklearn/datasets/images/README.txt,
# skimage/data/_fetchers.py docstrings, matplotlib's sample_data).
_BUILTIN = (
    (
        "sklearn",
        "datasets/images/china.jpg",
        "china",
        "scikit-learn sample image: Summer Palace, Beijing; photo by danielbuechele on Flickr",
        "CC BY 2.0 (attribution: danielbuechele)",
    ),
    (
        "sklearn",
        "datasets/images/flower.jpg",
        "flower",
        "scikit-learn sample image: a flower; photo by vultilion on Flickr",
        "CC BY 2.0 (attribution: vultilion)",
    ),
    (
        "skimage",
        "data/astronaut.png",
        "astronaut",
        "scikit-image data: astronaut Eileen Collins, NASA Great Images database",
        "public domain (no known copyright restrictions)",
    ),
    (
        "skimage",
        "data/coffee.png",
        "coffee",
        "scikit-image data: coffee cup, courtesy of Pikolo Espresso Bar; photo by Rachel Michetti",
        "CC0",
    ),
    (
        "skimage",
        "data/chelsea.png",
        "chelsea",
        "scikit-image data: Chelsea the cat; photo by Stefan van der Walt",
        "CC0",
    ),
    (
        "skimage",
        "data/rocket.jpg",
        "rocket",
        "scikit-image data: launch of DSCOVR on a Falcon 9, SpaceX photo",
        "public domain (released by SpaceX)",
    ),
    (
        "matplotlib",
        "mpl-data/sample_data/grace_hopper.jpg",
        "grace_hopper",
        "matplotlib sample data: portrait of Rear Admiral Grace Hopper, U.S. Navy photograph",
        "public domain (work of the U.S. federal government)",
    ),
)


def _package_dir(package: str) -> Path | None:
    """Folder of an installed package, found without importing it (no side effects)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def builtin_photos() -> list[PhotoSource]:
    """The built-in photos whose files are actually present, in a fixed order."""
    found = []
    for package, relative, name, provenance, licence in _BUILTIN:
        root = _package_dir(package)
        if root is None:
            continue
        path = root / relative
        if path.is_file():
            found.append(PhotoSource(name, path, provenance, licence))
    if not found:
        raise FileNotFoundError(
            "none of the sample photos shipped by scikit-learn, scikit-image or matplotlib were found; "
            "install them (pip install scikit-learn scikit-image matplotlib) or use folder_photos(path)"
        )
    return found


def image_to_rgb_array(image: Image.Image) -> np.ndarray:
    """Any PIL image -> ``(H, W, 3)`` uint8 RGB.

    * palette (``P``) and grayscale (``L``, ``1``) images are expanded to RGB;
    * 16-bit and 32-bit grayscale (``I;16``, ``I``, ``F``) are scaled by their own
      maximum range, not clipped at 255 (which would turn most of them white);
    * transparency (``RGBA``, ``LA``, ``P`` with a transparent index) is composited
      over white paper, so transparent pixels do not turn black.
    """
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or values.max() > 255 else 255.0
        gray = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(paper, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))


def read_image(path: str | Path) -> torch.Tensor:
    """Decode an image file fully and return ``(3, H, W)`` uint8 RGB.

    Raises ``ValueError`` naming the file when it is unreadable or corrupt (a truncated
    JPEG fails here, at full decode, not later inside a worker).
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            image.load()
            array = image_to_rgb_array(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"cannot read image {path.name!r}: {error}") from error
    return torch.from_numpy(np.array(array, dtype=np.uint8, copy=True)).permute(2, 0, 1).contiguous()


def folder_photos(folder: str | Path, recursive: bool = False) -> list[PhotoSource]:
    """Image files in a user's folder as ``PhotoSource``s, sorted by name.

    Only lists files; ``load_photos`` decodes them and reports the unreadable ones.
    An empty or missing folder is an error that says so.
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"photo folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"{str(folder)!r} is a file, expected a folder of images")
    pattern = "**/*" if recursive else "*"
    files = sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"folder {str(folder)!r} has no image files (looked for {', '.join(IMAGE_SUFFIXES)})")
    return [PhotoSource(p.stem if not recursive else str(p.relative_to(folder)), p) for p in files]


@dataclass
class LoadedPhotos:
    """Decoded photos (``(3, H, W)`` uint8 each) with their sources, and what was skipped."""

    sources: list[PhotoSource]
    images: list[torch.Tensor]
    skipped: list[tuple[Path, str]]


def load_photos(
    sources: list[PhotoSource], min_size: int = 0, too_small: str = "error", keep_images: bool = True
) -> LoadedPhotos:
    """Decode every source in the main process.

    With ``keep_images=False`` each file is still fully decoded and checked, but the
    pixels are dropped (``images`` is empty): for folders too big to hold in memory.

    Corrupt or unreadable files are skipped, counted, and reported in one warning. An
    image whose shorter side is below ``min_size`` is either an error naming it
    (``too_small="error"``), upscaled so the shorter side equals ``min_size``
    (``too_small="upscale"``), or skipped (``too_small="skip"``).
    """
    if too_small not in ("error", "upscale", "skip"):
        raise ValueError(f"too_small must be 'error', 'upscale' or 'skip', got {too_small!r}")
    kept_sources, images, skipped = [], [], []
    for source in sources:
        try:
            image = read_image(source.path)
        except ValueError as error:
            skipped.append((source.path, str(error)))
            continue
        short_side = min(image.shape[-2:])
        if short_side < min_size:
            if too_small == "error":
                raise ValueError(
                    f"image {source.path.name!r} is {image.shape[-1]}x{image.shape[-2]} pixels, smaller than the "
                    f"crop size {min_size}; use a smaller crop, remove it, or pass too_small='upscale'"
                )
            if too_small == "skip":
                skipped.append((source.path, f"smaller than {min_size} pixels"))
                continue
            image = upscale_to(image, min_size)
        kept_sources.append(source)
        if keep_images:
            images.append(image)
    if skipped:
        names = ", ".join(path.name for path, _ in skipped[:5]) + (" ..." if len(skipped) > 5 else "")
        warnings.warn(
            f"skipped {len(skipped)} of {len(sources)} image files that could not be used: {names}", stacklevel=2
        )
    if not kept_sources:
        raise ValueError(f"no usable images among {len(sources)} files (all {len(skipped)} were skipped)")
    return LoadedPhotos(kept_sources, images, skipped)


def upscale_to(image: torch.Tensor, min_size: int) -> torch.Tensor:
    """Resize ``(3, H, W)`` uint8 so its shorter side is ``min_size`` (bicubic, antialiased)."""
    height, width = image.shape[-2:]
    scale = min_size / min(height, width)
    size = (max(min_size, round(height * scale)), max(min_size, round(width * scale)))
    return resize_uint8(image, size)


def resize_uint8(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize a ``(3, H, W)`` uint8 image to ``size = (H', W')``, antialiased when shrinking."""
    resized = torch.nn.functional.interpolate(
        image[None].float(), size=size, mode="bicubic", align_corners=False, antialias=True
    )
    return resized[0].round().clamp(0, 255).to(torch.uint8)


def split_by_source(
    sources: list[PhotoSource], held_out: int | float, seed: int = 0
) -> tuple[list[PhotoSource], list[PhotoSource]]:
    """Split source photos (never crops) into training and held-out lists.

    ``held_out`` is a count (int) or a fraction (float). Because every crop of a photo
    stays on the side of its photo, no held-out crop overlaps a training crop.
    """
    count = round(len(sources) * held_out) if isinstance(held_out, float) else int(held_out)
    if len(sources) < 2 or not 1 <= count < len(sources):
        raise ValueError(f"cannot hold out {held_out!r} of {len(sources)} source photos: need 1 <= held out < total")
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(sources), generator=generator).tolist()
    held = sorted(order[:count])
    train = sorted(order[count:])
    return [sources[i] for i in train], [sources[i] for i in held]
