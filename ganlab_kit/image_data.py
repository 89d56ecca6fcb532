"""Image data for the image GANs: offline sets that ship inside installed packages, and
torchvision's MNIST / Fashion-MNIST / CIFAR-10 / CelebA when the files are on disk.

Every set comes out the same way: float images of shape ``(N, C, size, size)`` scaled to
``[-1, 1]`` (the range of the generator's tanh), plus integer labels where there are any.

Offline (no network, nothing downloaded):

* ``digits``: scikit-learn's 1,797 hand-written digits, 8x8 with 17 grey levels, upsampled
  (bilinear) to 16, 32 or 64 pixels. Labels 0-9: the mode-coverage metric needs them.
* ``faces``: the 100 face crops (25x25, grey) of scikit-image's LFW subset, which ships
  inside the scikit-image package; if an installation lacks the file this raises
  :class:`DataUnavailable` instead of downloading.
* ``photos``: random square crops of the kit's built-in photographs (those shipped by
  scikit-learn, scikit-image and matplotlib; see :mod:`ganlab_kit.styles.photos`), resized.
  A texture set, not a class of objects.
* ``styled``: the same crops painted in ink wash, oil or ukiyo-e by :mod:`ganlab_kit.styles`.

Online sets (:func:`torchvision_images`) use torchvision's own readers; pass
``download=True`` once when connected, after which they load from ``root`` offline.

:class:`ResumableBatchSampler` draws shuffled batches whose order is a pure function of
``(seed, batches drawn so far)``, so a checkpoint that stores one integer resumes the data
stream exactly where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Sampler, TensorDataset

OFFLINE_SETS: tuple[str, ...] = ("digits", "faces", "photos", "styled")
TORCHVISION_SETS: tuple[str, ...] = ("mnist", "fashion_mnist", "cifar10", "celeba")


class DataUnavailable(RuntimeError):
    """A data set is not on this machine (and the kit will not download it silently)."""


@dataclass
class ImageSet:
    """Images ``(N, C, H, W)`` in [-1, 1], optional labels ``(N,)``, and where they came from."""

    name: str
    images: torch.Tensor
    labels: torch.Tensor | None = None
    note: str = ""

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def image_size(self) -> int:
        return self.images.shape[-1]

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    def dataset(self) -> TensorDataset:
        """A ``TensorDataset`` of ``(image,)`` or ``(image, label)`` pairs."""
        return TensorDataset(self.images) if self.labels is None else TensorDataset(self.images, self.labels)


def _check_size(size: int) -> int:
    if not isinstance(size, int) or size < 4:
        raise ValueError(f"image size must be an int >= 4 (16, 32 or 64 for the DCGAN), got {size!r}")
    return size


def _resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """(N, C, h, w) -> (N, C, size, size), bilinear; antialiased when shrinking."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    shrinking = images.shape[-1] > size
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=shrinking)


def _to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1], clamped (bilinear resampling may overshoot a little)."""
    return (images * 2 - 1).clamp(-1, 1)


# ---------------------------------------------------------------- offline sets
def digits(size: int = 32) -> ImageSet:
    """scikit-learn's digits (1,797 images, classes 0-9), grey, upsampled to ``size``."""
    from sklearn.datasets import load_digits

    bunch = load_digits()  # ships with scikit-learn: no download
    images = torch.tensor(bunch.images, dtype=torch.float32)[:, None] / 16.0  # (1797, 1, 8, 8) in [0, 1]
    images = _to_unit_range(_resize(images, _check_size(size)))
    labels = torch.tensor(bunch.target, dtype=torch.long)
    return ImageSet("digits", images, labels, note=f"scikit-learn digits, 8x8 upsampled to {size}x{size}")


def faces(size: int = 32) -> ImageSet:
    """The 100 face crops of scikit-image's LFW subset (25x25, grey), resized to ``size``."""
    import skimage.data

    shipped = Path(skimage.data.__file__).parent / "lfw_subset.npy"
    if not shipped.exists():
        raise DataUnavailable(
            "scikit-image's LFW face subset (lfw_subset.npy) is not inside this scikit-image installation "
            f"({shipped.parent}); the kit does not download it. Use 'digits' or 'photos' instead."
        )
    array = np.load(shipped)[:100]  # first 100 are faces, the other 100 are background crops
    images = torch.tensor(array, dtype=torch.float32)[:, None]
    if images.max() > 1.5:  # stored as uint8 in some versions
        images = images / 255.0
    images = _to_unit_range(_resize(images, _check_size(size)))
    return ImageSet("faces", images, None, note=f"scikit-image LFW subset: 100 faces, 25x25 resized to {size}x{size}")


_SKIMAGE_PHOTOS: tuple[str, ...] = ("astronaut", "coffee", "chelsea", "rocket", "camera", "moon", "coins", "retina", "hubble_deep_field")


def _skimage_photos() -> list[torch.Tensor]:
    """The kit's built-in photos (:func:`ganlab_kit.styles.builtin_photos`: the sample photos
    shipped by scikit-learn, scikit-image and matplotlib), each (3, H, W) float in [0, 1].
    Falls back to scikit-image's own loaders if the styles package is unavailable."""
    try:
        from .styles import builtin_photos, load_photos

        return [image.float() / 255.0 for image in load_photos(builtin_photos()).images]
    except ImportError:
        pass
    import skimage.data

    photos = []
    for name in _SKIMAGE_PHOTOS:
        try:
            array = np.asarray(getattr(skimage.data, name)(), dtype=np.float32) / 255.0
        except Exception:  # a file missing from this installation: use the others
            continue
        if array.ndim == 2:
            array = np.repeat(array[..., None], 3, axis=2)
        photos.append(torch.from_numpy(np.ascontiguousarray(array[..., :3].transpose(2, 0, 1))))
    if not photos:
        raise DataUnavailable("no photographs found inside the installed packages")
    return photos


def _random_crops(photos: list[torch.Tensor], count: int, size: int, rng: np.random.Generator) -> torch.Tensor:
    """``count`` random square crops (side 1/8 to 1/3 of a photo's shorter edge), resized: (count, 3, size, size)."""
    crops = []
    for _ in range(count):
        photo = photos[rng.integers(len(photos))]
        height, width = photo.shape[1:]
        side = int(rng.integers(min(height, width) // 8, min(height, width) // 3 + 1))
        top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
        crops.append(_resize(photo[None, :, top : top + side, left : left + side], size)[0])
    return torch.stack(crops)


def photo_crops(size: int = 32, count: int = 2000, channels: int = 3, seed: int = 0) -> ImageSet:
    """``count`` random square crops (side 1/8 to 1/3 of the shorter edge) of the kit's
    built-in photos, resized to ``size``. ``channels=1`` converts to grey."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    _check_size(size)
    images = _random_crops(_skimage_photos(), count, size, np.random.default_rng(seed))
    if channels == 1:  # ITU-R BT.601 luma
        images = (0.299 * images[:, 0:1] + 0.587 * images[:, 1:2] + 0.114 * images[:, 2:3])
    return ImageSet("photos", _to_unit_range(images), None, note=f"{count} crops of the kit's built-in photos at {size}x{size}")


def styled_crops(size: int = 32, count: int = 500, style: str = "ink_wash", seed: int = 0, render_size: int = 64) -> ImageSet:
    """Crops of the kit's photos painted by one of :mod:`ganlab_kit.styles`' renderers
    (``ink_wash``, ``oil`` or ``ukiyoe``): cropped at ``render_size``, rendered, then resized
    to ``size``. Colour (3 channels), in [-1, 1]."""
    from . import styles

    renderers = {r.name: r for r in styles.all_styles()}
    if style not in renderers:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(renderers)}")
    _check_size(size)
    crops = _random_crops(_skimage_photos(), count, max(size, render_size), np.random.default_rng(seed))
    painted = torch.cat([renderers[style](chunk, seed=seed + i) for i, chunk in enumerate(crops.split(64))])
    images = _to_unit_range(_resize(painted.clamp(0, 1), size))
    return ImageSet(f"styled_{style}", images, None, note=f"{count} {style} renderings of photo crops at {size}x{size}")


def load_offline(name: str, size: int = 32, **kwargs) -> ImageSet:
    """One of :data:`OFFLINE_SETS` by name."""
    loaders = {"digits": digits, "faces": faces, "photos": photo_crops, "styled": styled_crops}
    if name not in loaders:
        raise ValueError(f"unknown offline image set {name!r}; choose one of {', '.join(OFFLINE_SETS)}")
    return loaders[name](size, **kwargs)


# ---------------------------------------------------------- torchvision sets
def torchvision_images(name: str, root: str | Path, size: int = 32, *, train: bool = True, download: bool = False, channels: int | None = None) -> Dataset:
    """A torchvision data set whose items are ``(image (C, size, size) in [-1, 1], label)``.

    ``name``: mnist, fashion_mnist, cifar10 or celeba (CelebA's "label" is its 40
    attributes). Files are read from ``root`` in the layout torchvision writes
    (``root/MNIST/raw/...``, ``root/cifar-10-batches-py/...``, ``root/celeba/...``).
    With ``download=False`` (the default) missing files are a :class:`DataUnavailable`
    error that says where they were looked for. ``channels`` converts (1 <-> 3) if given.
    """
    from torchvision import datasets, transforms

    if name not in TORCHVISION_SETS:
        raise ValueError(f"unknown torchvision image set {name!r}; choose one of {', '.join(TORCHVISION_SETS)}")
    _check_size(size)
    steps: list = []
    if channels == 1:
        steps.append(transforms.Grayscale(1))
    elif channels == 3:
        steps.append(transforms.Grayscale(3) if name in ("mnist", "fashion_mnist") else transforms.Lambda(lambda im: im.convert("RGB")))
    elif channels is not None:
        raise ValueError(f"channels must be 1, 3 or None, got {channels}")
    if name == "celeba":
        steps.append(transforms.CenterCrop(148))  # the face region of the 178x218 aligned crops
    steps += [transforms.Resize(size, antialias=True), transforms.CenterCrop(size), transforms.ToTensor(), transforms.Normalize(0.5, 0.5)]
    transform = transforms.Compose(steps)
    root = str(root)
    try:
        if name == "mnist":
            return datasets.MNIST(root, train=train, transform=transform, download=download)
        if name == "fashion_mnist":
            return datasets.FashionMNIST(root, train=train, transform=transform, download=download)
        if name == "cifar10":
            return datasets.CIFAR10(root, train=train, transform=transform, download=download)
        return datasets.CelebA(root, split="train" if train else "test", target_type="attr", transform=transform, download=download)
    except RuntimeError as exc:
        if download:
            raise
        raise DataUnavailable(
            f"{name} was not found (or failed its checksum) under {root!r}: {exc}. "
            f"Run once with download=True while online, or copy the files there."
        ) from exc


def stack_images(dataset: Dataset, limit: int | None = None) -> ImageSet:
    """Read a map-style data set of ``(image, label)`` into memory as an :class:`ImageSet`."""
    count = len(dataset) if limit is None else min(limit, len(dataset))
    images, labels = [], []
    for i in range(count):
        image, label = dataset[i]
        images.append(image)
        labels.append(torch.as_tensor(label))
    label_tensor = torch.stack(labels) if labels and labels[0].dim() <= 1 else None
    return ImageSet(type(dataset).__name__.lower(), torch.stack(images), label_tensor)


# ------------------------------------------------------------------ sampling
class ResumableBatchSampler(Sampler[list[int]]):
    """Endless shuffled batches whose order depends only on ``(seed, batch number)``.

    Epoch ``e`` visits ``torch.randperm(n)`` drawn from a generator seeded with
    ``seed + e``; batches never straddle epochs (the last short batch of an epoch is
    dropped so every batch has ``batch_size`` images, which batch norm prefers).
    ``state_dict()`` is ``{"seed", "batches_drawn"}``; loading it continues the stream
    exactly. Use it as a DataLoader's ``batch_sampler``; since a DataLoader with workers
    reads ahead, the *consumer* should call :meth:`advance` per batch it actually used
    and save that count (see ``DCGANRun``).
    """

    def __init__(self, dataset_size: int, batch_size: int, seed: int = 0) -> None:
        if batch_size < 1 or dataset_size < batch_size:
            raise ValueError(f"need 1 <= batch_size <= dataset size, got batch_size={batch_size} for {dataset_size} images")
        self.dataset_size, self.batch_size, self.seed = dataset_size, batch_size, seed
        self.batches_per_epoch = dataset_size // batch_size
        self.batches_drawn = 0

    def batch_indices(self, batch_number: int) -> list[int]:
        epoch, within = divmod(batch_number, self.batches_per_epoch)
        order = torch.randperm(self.dataset_size, generator=torch.Generator().manual_seed(self.seed + epoch))
        return order[within * self.batch_size : (within + 1) * self.batch_size].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        number = self.batches_drawn
        while True:
            yield self.batch_indices(number)
            number += 1

    def __len__(self) -> int:  # one epoch; iteration itself never ends
        return self.batches_per_epoch

    def advance(self) -> None:
        self.batches_drawn += 1

    def state_dict(self) -> dict[str, int]:
        return {"seed": self.seed, "batches_drawn": self.batches_drawn}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed, self.batches_drawn = int(state["seed"]), int(state["batches_drawn"])


class BatchStream:
    """Endless batches of images from a data set, resumable: ``next(stream)`` -> ``(B, C, H, W)``.

    Wraps a DataLoader over ``dataset`` with a :class:`ResumableBatchSampler`; counts the
    batches handed out, so ``state_dict()`` is exact even when workers read ahead.
    """

    def __init__(self, dataset: Dataset, batch_size: int, seed: int = 0, num_workers: int = 0) -> None:
        self.dataset, self.num_workers = dataset, num_workers
        self.sampler = ResumableBatchSampler(len(dataset), batch_size, seed)
        self._iterator: Iterator | None = None

    def __iter__(self) -> "BatchStream":
        return self

    def __next__(self) -> torch.Tensor:
        if self._iterator is None:
            loader = DataLoader(self.dataset, batch_sampler=self.sampler, num_workers=self.num_workers)
            self._iterator = iter(loader)
        batch = next(self._iterator)
        self.sampler.advance()
        return batch[0] if isinstance(batch, (list, tuple)) else batch  # images only

    def state_dict(self) -> dict[str, int]:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.sampler.load_state_dict(state)
        self._iterator = None  # restart the loader at the restored batch number
