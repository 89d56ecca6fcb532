"""Image sets for the image GANs: offline sets that ship inside installed packages, and
torchvision's MNIST / Fashion-MNIST / CIFAR-10 / CelebA when the files are on disk.

Every set comes out the same way: float images of shape ``(N, C, size, size)`` in
``[-1, 1]`` (the range of the generator's tanh), plus integer labels where there are any.
An :class:`ImageSet` is itself a torch ``Dataset`` whose item ``i`` is
``{"image": (C, H, W), "label": 0-d int64}`` (no ``"label"`` key when unlabelled), so a
``DataLoader`` over it yields ``{"image": (B, C, H, W), "label": (B,)}``.

Offline (no network, nothing downloaded):

* ``digits``: scikit-learn's 1,797 hand-written digits, 8x8 with 17 grey levels, upsampled
  (bilinear) to 16, 32 or 64 pixels. Labels 0-9: the mode-coverage metric needs them.
* ``faces``: the 100 face crops (25x25, grey) of scikit-image's LFW subset, which ships
  inside the scikit-image package; if an installation lacks the file this raises
  :class:`DataUnavailable` instead of downloading.
* ``photos``: random square crops of the kit's built-in photographs (those shipped by
  scikit-learn, scikit-image and matplotlib; see :mod:`ganlab_kit.styles.photos`), cut by
  the kit's one crop pipeline (:mod:`ganlab_kit.data.patches`). A texture set, not a
  class of objects.
* ``styled``: the same crops painted in ink wash, oil or ukiyo-e by :mod:`ganlab_kit.styles`.

Online sets (:func:`torchvision_images`) use torchvision's own readers; pass
``download=True`` once when connected, after which they load from ``root`` offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from .patches import PatchConfig, photo_patches, rendered, to_signed

OFFLINE_SETS: tuple[str, ...] = ("digits", "faces", "photos", "styled")
TORCHVISION_SETS: tuple[str, ...] = ("mnist", "fashion_mnist", "cifar10", "celeba")


class DataUnavailable(RuntimeError):
    """A data set is not on this machine (and the kit will not download it silently)."""


@dataclass(eq=False)
class ImageSet(Dataset):
    """Images ``(N, C, H, W)`` in [-1, 1], optional labels ``(N,)``, and where they came from.

    A map-style ``Dataset``: item ``i`` is ``{"image": images[i], "label": labels[i]}``
    (``"label"`` only when there are labels).
    """

    name: str
    images: torch.Tensor
    labels: torch.Tensor | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or not self.images.is_floating_point():
            raise ValueError(f"ImageSet images must be float (N, C, H, W), got {self.images.dtype} "
                             f"{tuple(self.images.shape)}")
        if self.labels is not None and self.labels.shape[0] != self.images.shape[0]:
            raise ValueError(f"{self.labels.shape[0]} labels for {self.images.shape[0]} images")

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = {"image": self.images[index]}
        if self.labels is not None:
            item["label"] = self.labels[index]
        return item

    @property
    def image_size(self) -> int:
        return self.images.shape[-1]

    @property
    def channels(self) -> int:
        return self.images.shape[1]


def _check_size(size: int) -> int:
    if not isinstance(size, int) or size < 4:
        raise ValueError(f"image size must be an int >= 4 (16, 32 or 64 for the DCGAN), got {size!r}")
    return size


def _resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """(N, C, h, w) float -> (N, C, size, size), bilinear; antialiased when shrinking."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    shrinking = images.shape[-1] > size
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=shrinking)


# ---------------------------------------------------------------- offline sets
def digits(size: int = 32) -> ImageSet:
    """scikit-learn's digits (1,797 images, classes 0-9), grey, upsampled to ``size``."""
    from sklearn.datasets import load_digits

    bunch = load_digits()  # ships with scikit-learn: no download
    images = torch.tensor(bunch.images, dtype=torch.float32)[:, None] / 16.0  # (1797, 1, 8, 8) in [0, 1]
    images = to_signed(_resize(images, _check_size(size)))
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
    images = to_signed(_resize(images, _check_size(size)))
    return ImageSet("faces", images, None, note=f"scikit-image LFW subset: 100 faces, 25x25 resized to {size}x{size}")


def _crop_config(size: int) -> PatchConfig:
    """Photo crops for the DCGAN: a window of 1/8 to 1/3 of a photo's shorter side,
    resized to ``size``. Photos are first reduced to a shorter side of ``8 * size`` so the
    smallest window still has ``size`` pixels (no needless upsampling)."""
    return PatchConfig(size=size, load_size=8 * size, flip=False, scale=(1 / 8, 1 / 3))


def _builtin_photos():
    from ..styles.photos import builtin_photos, load_photos

    return load_photos(builtin_photos())


def photo_crops(size: int = 32, count: int = 2000, channels: int = 3, seed: int = 0) -> ImageSet:
    """``count`` random square crops (side 1/8 to 1/3 of the shorter edge) of the kit's
    built-in photos, resized to ``size``; crop ``i`` comes from photo ``i mod n``.
    ``channels=1`` converts to grey."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    _check_size(size)
    images = photo_patches(_builtin_photos(), count, _crop_config(size), seed).all()  # (count, 3, size, size)
    if channels == 1:  # ITU-R BT.601 luma; the weights sum to 1, so [-1, 1] stays [-1, 1]
        images = (0.299 * images[:, 0:1] + 0.587 * images[:, 1:2] + 0.114 * images[:, 2:3]).clamp(-1, 1)
    return ImageSet("photos", images, None, note=f"{count} crops of the kit's built-in photos at {size}x{size}")


def styled_crops(size: int = 32, count: int = 500, style: str = "ink_wash", seed: int = 0, render_size: int = 64) -> ImageSet:
    """Crops of the kit's photos painted by one of :mod:`ganlab_kit.styles`' renderers
    (``ink_wash``, ``oil`` or ``ukiyoe``): cropped at ``render_size`` (the same crops as
    ``photo_crops(render_size, seed=seed)``), rendered, then resized to ``size``.
    Colour (3 channels), in [-1, 1]."""
    from ..styles.renderers import all_styles

    renderers = {r.name: r for r in all_styles()}
    if style not in renderers:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(renderers)}")
    _check_size(size)
    crops = photo_patches(_builtin_photos(), count, _crop_config(max(size, render_size)), seed)
    painted = rendered(crops, renderers[style], seed=seed, batch_size=64, cache=False)
    images = _resize(painted.all(), size).clamp(-1, 1)
    return ImageSet(f"styled_{style}", images, None, note=f"{count} {style} renderings of photo crops at {size}x{size}")


def load_offline(name: str, size: int = 32, **kwargs) -> ImageSet:
    """One of :data:`OFFLINE_SETS` by name."""
    loaders = {"digits": digits, "faces": faces, "photos": photo_crops, "styled": styled_crops}
    if name not in loaders:
        raise ValueError(f"unknown offline image set {name!r}; choose one of {', '.join(OFFLINE_SETS)}")
    return loaders[name](size, **kwargs)


# ---------------------------------------------------------- torchvision sets
class TorchvisionImages(Dataset):
    """A torchvision data set seen through the kit's item format:
    ``{"image": (C, size, size) in [-1, 1], "label": tensor}`` (``source`` is the original)."""

    def __init__(self, name: str, source: Dataset):
        self.name, self.source = name, source

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        image, label = self.source[index]
        return {"image": image, "label": torch.as_tensor(label)}


def torchvision_images(name: str, root: str | Path, size: int = 32, *, train: bool = True, download: bool = False,
                       channels: int | None = None) -> TorchvisionImages:
    """A torchvision data set whose items are ``{"image": (C, size, size) in [-1, 1], "label": ...}``.

    ``name``: mnist, fashion_mnist, cifar10 or celeba (CelebA's "label" is its 40
    attributes, a ``(40,)`` tensor). Files are read from ``root`` in the layout torchvision
    writes (``root/MNIST/raw/...``, ``root/cifar-10-batches-py/...``, ``root/celeba/...``).
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
    # ToTensor gives [0, 1]; the kit's one conversion takes it to [-1, 1].
    steps += [transforms.Resize(size, antialias=True), transforms.CenterCrop(size), transforms.ToTensor(), to_signed]
    transform = transforms.Compose(steps)
    root = str(root)
    try:
        if name == "mnist":
            source = datasets.MNIST(root, train=train, transform=transform, download=download)
        elif name == "fashion_mnist":
            source = datasets.FashionMNIST(root, train=train, transform=transform, download=download)
        elif name == "cifar10":
            source = datasets.CIFAR10(root, train=train, transform=transform, download=download)
        else:
            source = datasets.CelebA(root, split="train" if train else "test", target_type="attr", transform=transform,
                                     download=download)
    except RuntimeError as exc:
        if download:
            raise
        raise DataUnavailable(
            f"{name} was not found (or failed its checksum) under {root!r}: {exc}. "
            f"Run once with download=True while online, or copy the files there."
        ) from exc
    return TorchvisionImages(name, source)


def stack_images(dataset: Dataset, limit: int | None = None) -> ImageSet:
    """Read a map-style data set of ``{"image", "label"?}`` items into memory as an :class:`ImageSet`.

    Labels are kept when every item has a scalar or vector ``"label"``.
    """
    count = len(dataset) if limit is None else min(limit, len(dataset))
    if count < 1:
        raise ValueError("stack_images needs a data set with at least one item")
    items = [dataset[i] for i in range(count)]
    images = torch.stack([item["image"] for item in items])
    labels = None
    if all("label" in item for item in items):
        stacked = [torch.as_tensor(item["label"]) for item in items]
        labels = torch.stack(stacked) if stacked[0].dim() <= 1 else None
    return ImageSet(getattr(dataset, "name", type(dataset).__name__.lower()), images, labels)
