"""Style statistics: numbers that say what a style *is*, per image and per set.

Each measure is a plain function of a batch ``(B, 3, H, W)`` in [0, 1] returning one
value per image (or a histogram/palette per image). ``style_statistics`` gathers the
scalar ones, ``set_statistics`` averages them over a set; ``fingerprint.py`` draws them.

* blank-space ratio: share of light, colourless pixels (bare paper, 留白);
* ink-tone histogram: share of pixels in each of five luminance bands plus paper;
* saturation: mean HSV saturation;
* palette: the dominant colours, and how many are needed to cover most of the image;
* edge density and stroke width: how much of the image is contour, and how thick;
* texture energy: strength of fine detail (what is left after a blur);
* content SSIM: how much of a photo's structure a rendering keeps (SSIM after a strong blur).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from . import filters

# Luminance bands of the ink-tone histogram, darkest first; above the last is paper.
TONE_EDGES = (0.2, 0.35, 0.5, 0.65, 0.8)
TONE_NAMES = ("焦 burnt", "浓 thick", "重 heavy", "淡 light", "清 clear", "paper")


def blank_space_ratio(images: torch.Tensor, light: float = 0.8, grey: float = 0.15) -> torch.Tensor:
    """``(B,)``: share of pixels that are light (luminance > ``light``) and nearly
    colourless (saturation < ``grey``): bare paper or white wall, not a pale colour."""
    filters.check_images(images)
    blank = (filters.luminance(images) > light) & (filters.saturation(images) < grey)
    return blank.float().mean(dim=(1, 2, 3))


def ink_tone_histogram(images: torch.Tensor) -> torch.Tensor:
    """``(B, 6)``: share of pixels in each luminance band of ``TONE_NAMES`` (rows sum to 1)."""
    filters.check_images(images)
    gray = filters.luminance(images).flatten(1)
    edges = torch.tensor(TONE_EDGES, device=images.device, dtype=images.dtype)
    band = torch.bucketize(gray, edges)  # 0 .. 5
    counts = torch.nn.functional.one_hot(band, len(TONE_NAMES)).float().mean(dim=1)
    return counts


def mean_saturation(images: torch.Tensor) -> torch.Tensor:
    """``(B,)``: mean HSV saturation (0 for a grey image, near 1 for pure inks)."""
    filters.check_images(images)
    return filters.saturation(images).mean(dim=(1, 2, 3))


def colour_bins(images: torch.Tensor, levels: int = 8) -> torch.Tensor:
    """``(B, H*W)``: index of each pixel's cell in a ``levels^3`` RGB grid."""
    q = (images.clamp(0, 1) * (levels - 1e-4)).floor().long()  # (B, 3, H, W) in 0..levels-1
    return (q[:, 0] * levels * levels + q[:, 1] * levels + q[:, 2]).flatten(1)


def palette_size(images: torch.Tensor, coverage: float = 0.9, levels: int = 8) -> torch.Tensor:
    """``(B,)``: how many colour cells (of a ``levels^3`` RGB grid) it takes to cover
    ``coverage`` of the pixels. A woodblock print needs few; a photo needs many."""
    filters.check_images(images)
    bins = colour_bins(images, levels)
    sizes = []
    for row in bins:
        counts = torch.bincount(row, minlength=levels**3).float()
        share = counts.sort(descending=True).values.cumsum(0) / row.numel()
        sizes.append(int((share < coverage).sum().item()) + 1)
    return torch.tensor(sizes, dtype=torch.float32)


def dominant_colours(
    images: torch.Tensor, count: int = 6, levels: int = 8
) -> list[list[tuple[tuple[float, float, float], float]]]:
    """Per image, the ``count`` most common colours as ``((r, g, b), share)``, where the
    colour is the mean of the pixels in that grid cell."""
    filters.check_images(images)
    bins = colour_bins(images, levels)
    pixels = images.flatten(2)  # (B, 3, H*W)
    result = []
    for b in range(images.shape[0]):
        counts = torch.bincount(bins[b], minlength=levels**3)
        top = counts.argsort(descending=True)[:count]
        entries = []
        for cell in top.tolist():
            n = int(counts[cell])
            if n == 0:
                break
            mean = pixels[b][:, bins[b] == cell].mean(dim=1)
            entries.append((tuple(round(float(v), 4) for v in mean), n / bins.shape[1]))
        result.append(entries)
    return result


def edge_map(images: torch.Tensor, threshold: float = 0.08) -> torch.Tensor:
    """``(B, 1, H, W)`` bool: pixels whose luminance gradient length exceeds ``threshold``."""
    return filters.edge_magnitude(filters.luminance(images)) > threshold


def edge_density(images: torch.Tensor, threshold: float = 0.08) -> torch.Tensor:
    """``(B,)``: share of pixels on an edge."""
    filters.check_images(images)
    return edge_map(images, threshold).float().mean(dim=(1, 2, 3))


def stroke_width(images: torch.Tensor, dark: float = 0.35) -> torch.Tensor:
    """``(B,)``: typical width in pixels of dark strokes.

    Dark pixels (luminance < ``dark``) form runs along each row and each column. A
    stroke of width w gives runs of about w across it and long runs along it, so per
    image we take the smaller of the mean row-run and mean column-run lengths
    (``run length = dark pixels / run starts``). 0 when there are no dark pixels.
    """
    filters.check_images(images)
    mask = filters.luminance(images)[:, 0] < dark  # (B, H, W)
    total = mask.flatten(1).sum(1).float()
    starts_rows = (mask[:, :, 1:] & ~mask[:, :, :-1]).flatten(1).sum(1) + mask[:, :, 0].sum(1)
    starts_cols = (mask[:, 1:, :] & ~mask[:, :-1, :]).flatten(1).sum(1) + mask[:, 0, :].sum(1)
    along_rows = total / starts_rows.clamp_min(1).float()
    along_cols = total / starts_cols.clamp_min(1).float()
    return torch.minimum(along_rows, along_cols)


def texture_energy(images: torch.Tensor, sigma: float = 2.0) -> torch.Tensor:
    """``(B,)``: root-mean-square of the luminance minus its Gaussian blur (fine detail:
    paper fibre, canvas, bristles, photographic texture)."""
    filters.check_images(images)
    gray = filters.luminance(images)
    detail = gray - filters.gaussian_blur(gray, sigma)
    return detail.pow(2).mean(dim=(1, 2, 3)).sqrt()


@dataclass
class StyleStatistics:
    """Scalar style measures; each field is a ``(B,)`` tensor (one value per image)."""

    blank_space: torch.Tensor
    saturation: torch.Tensor
    palette_size: torch.Tensor
    edge_density: torch.Tensor
    stroke_width: torch.Tensor
    texture_energy: torch.Tensor
    tone_histogram: torch.Tensor  # (B, 6)

    def mean(self) -> dict[str, float]:
        """Set averages as plain floats (the tone histogram as one float per band)."""
        out = {}
        for name, value in asdict(self).items():
            if name == "tone_histogram":
                for band, share in zip(TONE_NAMES, value.float().mean(0).tolist()):
                    out[f"tone {band}"] = share
            else:
                out[name] = float(value.float().mean())
        return out


SCALAR_MEASURES = ("blank_space", "saturation", "palette_size", "edge_density", "stroke_width", "texture_energy")


def style_statistics(images: torch.Tensor) -> StyleStatistics:
    """All per-image measures of a batch ``(B, 3, H, W)`` in [0, 1]."""
    images = filters.check_images(images).float()
    return StyleStatistics(
        blank_space=blank_space_ratio(images).cpu(),
        saturation=mean_saturation(images).cpu(),
        palette_size=palette_size(images).cpu(),
        edge_density=edge_density(images).cpu(),
        stroke_width=stroke_width(images).cpu(),
        texture_energy=texture_energy(images).cpu(),
        tone_histogram=ink_tone_histogram(images).cpu(),
    )


def set_statistics(images: torch.Tensor, batch_size: int = 32) -> dict[str, float]:
    """Set averages of ``style_statistics``, computed in batches to bound memory."""
    parts = [style_statistics(images[i : i + batch_size]) for i in range(0, images.shape[0], batch_size)]
    merged = StyleStatistics(
        **{name: torch.cat([getattr(p, name) for p in parts]) for name in (*SCALAR_MEASURES, "tone_histogram")}
    )
    return merged.mean()


def content_ssim(photos: torch.Tensor, renderings: torch.Tensor, blur_sigma: float = 4.0) -> torch.Tensor:
    """``(B,)``: how much of the photo's *structure* a rendering keeps.

    Both batches are reduced to luminance and blurred strongly (Gaussian, ``blur_sigma``
    pixels), so brush marks, paper grain and outlines count little and the layout of
    light and dark counts a lot; then scikit-image's SSIM (Wang et al., 2004) compares
    them, 1 = same structure. Ink wash is compared as is: dark ink where the photo is
    dark is the same structure.
    """
    from skimage.metrics import structural_similarity

    filters.check_images(photos, "photos")
    filters.check_images(renderings, "renderings")
    if photos.shape != renderings.shape:
        raise ValueError(f"photos {tuple(photos.shape)} and renderings {tuple(renderings.shape)} differ in shape")
    a = filters.gaussian_blur(filters.luminance(photos.float()), blur_sigma)[:, 0].cpu().numpy()
    b = filters.gaussian_blur(filters.luminance(renderings.float()), blur_sigma)[:, 0].cpu().numpy()
    return torch.tensor([float(structural_similarity(x, y, data_range=1.0)) for x, y in zip(a, b)], dtype=torch.float32)
