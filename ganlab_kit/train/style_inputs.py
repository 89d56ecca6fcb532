"""Checks and fixed batches for the style-transfer runs (pix2pix, CycleGAN).

Both runs read items ``{"A": (3, H, W), "B": (3, H, W), ...}`` in [-1, 1] (the data
layer's :class:`~ganlab_kit.data.PairedDataset` / :class:`~ganlab_kit.data.UnpairedDataset`).
A run checks its data *before* it builds anything, so bad input is one clear message
naming the problem and nothing of the user's is touched.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

_CHANNEL_NAMES = {1: "greyscale", 2: "greyscale + alpha", 4: "RGBA"}


def _describe(image: Any) -> str:
    return f"shape {tuple(image.shape)}" if isinstance(image, torch.Tensor) else f"a {type(image).__name__}"


def check_item(item: Any, *, image_size: int, channels: int, model: str, where: str, paired: bool) -> None:
    """Raise ``ValueError`` naming what is wrong with one ``{"A", "B"}`` item.

    Checked: both keys present; float tensors (C, H, W); C == ``channels`` (1 or 4 channels
    are named greyscale / RGBA); square images of ``image_size``; A and B of one size.
    ``paired``: say "pair" (pix2pix) rather than "domains" (CycleGAN) in the message.
    """
    if not isinstance(item, dict) or "A" not in item or "B" not in item:
        keys = sorted(item) if isinstance(item, dict) else type(item).__name__
        raise ValueError(
            f"{model} needs items {{'A': photo, 'B': styled, ...}} (PairedDataset / UnpairedDataset); {where} is {keys}"
        )
    for domain in ("A", "B"):
        image = item[domain]
        if not isinstance(image, torch.Tensor) or image.dim() != 3 or not image.is_floating_point():
            raise ValueError(
                f"{model}: {where}'s {domain} image must be a float tensor (C, H, W) in [-1, 1], "
                f"got {_describe(image)}" + (f" of {image.dtype}" if isinstance(image, torch.Tensor) else "")
            )
        if image.shape[0] != channels:
            kind = _CHANNEL_NAMES.get(image.shape[0], f"{image.shape[0]}-channel")
            raise ValueError(
                f"{model}: {where}'s {domain} image has {image.shape[0]} channel(s) ({kind}), but the "
                f"networks take {channels} (RGB). Convert the images to RGB first (image folders read "
                "through ganlab_kit.data are converted for you)."
            )
    a, b = item["A"].shape, item["B"].shape
    if a[1:] != b[1:]:
        what = "the two images of a pair" if paired else "images of domain A and domain B"
        raise ValueError(
            f"{model}: {what} must have one size, but {where} has A {a[1]}x{a[2]} and B {b[1]}x{b[2]}; "
            "load both at the same patch size"
        )
    if a[1] != a[2] or a[1] != image_size:
        raise ValueError(
            f"{model}: {where} has {a[1]}x{a[2]} images, but the run is configured for "
            f"{image_size}x{image_size}; load the data at that size or set image_size={a[1] if a[1] == a[2] else '...'}"
        )


def check_dataset(
    data: Dataset, *, image_size: int, channels: int, model: str, paired: bool, name: str = "the data"
) -> None:
    """Check a data set's first item (the rest come from the same pipeline) and its length."""
    try:
        count = len(data)
    except TypeError:
        raise ValueError(
            f"{model}: {name} must be a map-style data set (with len()), got {type(data).__name__}"
        ) from None
    if count == 0:
        raise ValueError(f"{model}: {name} is empty")
    check_item(data[0], image_size=image_size, channels=channels, model=model, where=f"item 0 of {name}", paired=paired)


def fixed_batch(
    data: Dataset, count: int, seed: int, *, image_size: int, channels: int, model: str, paired: bool, name: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` items chosen once (seeded), stacked: ``(A (n, C, H, W), B (n, C, H, W))`` on the CPU.
    Every chosen item is checked (a mismatched pair among them is named)."""
    n = min(count, len(data))
    indices = sorted(torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n].tolist())
    items = [data[i] for i in indices]
    for i, item in zip(indices, items, strict=True):
        check_item(
            item, image_size=image_size, channels=channels, model=model, where=f"item {i} of {name}", paired=paired
        )
    return torch.stack([it["A"] for it in items]).float(), torch.stack([it["B"] for it in items]).float()


def fixed_unpaired_batch(
    data: Dataset, count: int, seed: int, *, image_size: int, channels: int, model: str, name: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Like :func:`fixed_batch`, for unpaired data with ``domain_a`` / ``domain_b`` (an
    :class:`~ganlab_kit.data.UnpairedDataset`): A and B are chosen *each from its own domain*,
    without repeats, ``min(count, len(domain_a), len(domain_b))`` of each. (Items of an
    unpaired set draw B with replacement, so a batch of items can show one painting twice.)
    Any other data set: :func:`fixed_batch`."""
    domain_a, domain_b = getattr(data, "domain_a", None), getattr(data, "domain_b", None)
    if domain_a is None or domain_b is None:
        return fixed_batch(
            data, count, seed, image_size=image_size, channels=channels, model=model, paired=False, name=name
        )
    n = min(count, len(domain_a), len(domain_b))
    chosen = []
    for offset, domain in enumerate((domain_a, domain_b)):
        order = torch.randperm(len(domain), generator=torch.Generator().manual_seed(seed + offset))
        chosen.append(sorted(order[:n].tolist()))
    items = [{"A": domain_a[i]["image"], "B": domain_b[j]["image"]} for i, j in zip(chosen[0], chosen[1], strict=True)]
    for i, j, item in zip(chosen[0], chosen[1], items, strict=True):
        check_item(
            item,
            image_size=image_size,
            channels=channels,
            model=model,
            where=f"A image {i} / B image {j} of {name}",
            paired=False,
        )
    return torch.stack([it["A"] for it in items]).float(), torch.stack([it["B"] for it in items]).float()


def check_batch(batch: dict[str, torch.Tensor], expected: tuple[int, ...], model: str) -> None:
    """A batch's A and B must be (B, C, H, W) as configured; else a message naming both shapes."""
    for domain in ("A", "B"):
        shape = tuple(batch[domain].shape[1:])
        if shape != expected:
            raise ValueError(
                f"{model}: a batch's {domain} images have shape {shape}, expected {expected}: "
                "every image of the data set must have the configured size"
            )
