"""Japanese ukiyo-e (浮世絵): a photo redrawn as a multi-block woodblock print.

Traits modelled, and where they are described (our words, not quotations):

* **A limited woodblock palette.** Each colour is printed from its own carved block,
  so a print holds a handful of flat inks. From the late 1820s imported Prussian blue
  (ベロ藍, *bero-ai*) dominates landscape prints such as Hokusai's *Thirty-six Views of
  Mount Fuji* (c. 1830-32); vermilion, ochre, pink (紅, *beni*), greens and sumi black
  complete the set. Described in Rebecca Salter's *Japanese Woodblock Printing* (2001)
  and the British Museum's catalogue *Hokusai: Beyond the Great Wave* (Timothy Clark, 2017).
* **Bold keyblock outlines:** the key block (主版, *omohan*) prints the black contour
  lines that all colour blocks register to (Salter; Richard Lane, *Images from the
  Floating World*, 1978).
* **Flat colour areas chosen by region:** each block prints one even colour over a
  whole area. We first cut the photo into regions (k-means on colour *and* position,
  in CIE Lab), then give each region one ink from its mean colour and where it lies:
  a region along the top edge that is bluish, grey or dark is sky and gets a sky ink
  (so a night sky stays indigo, never green), and so is a bluish or light one in the
  upper half (a dark grey one there is a building); skin-coloured regions get pale flesh.
* **Key-block lines on the main contours only:** lines of one even width where two
  inks of clearly different lightness meet, plus the photo's own contours found by an
  extended difference of Gaussians (XDoG, Winnemöller et al., 2012) on its luminance at
  one fixed scale, with short specks of texture dropped, so the eyes, nose and mouth of
  a face and the storeys of a building survive.
* **Bokashi** (ぼかし): gradation wiped onto the block by hand, typically the deep blue
  at the top of a sky or sea, famous in Hiroshige's *Fifty-three Stations of the
  Tōkaidō* (1833-34). Blue regions darken toward the top of the picture.
* **Washi:** kōzo (mulberry) paper and the baren's rubbing leave fibres and a
  slightly uneven take-up of each ink.

A renderer is a caricature: no carver, no printer, no publisher's choice of subject.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from . import filters

# Approximate pigment colours (RGB in [0, 1]) read off museum reproductions; names in
# English, then romanised Japanese.
WOODBLOCK_PALETTE: dict[str, tuple[float, float, float]] = {
    "paper (kizuki)": (0.94, 0.90, 0.79),
    "sumi black": (0.13, 0.12, 0.12),
    "prussian blue (bero-ai)": (0.13, 0.27, 0.50),
    "light indigo (ai)": (0.55, 0.68, 0.76),
    "vermilion (shu)": (0.83, 0.30, 0.18),
    "pink (beni)": (0.88, 0.60, 0.58),
    "pale flesh (hada)": (0.95, 0.84, 0.72),
    "ochre (odo)": (0.80, 0.63, 0.33),
    "green (kusa)": (0.42, 0.54, 0.36),
    "brown (taisha)": (0.47, 0.31, 0.22),
    "grey (nezumi)": (0.60, 0.59, 0.57),
}
SKY_INKS = ("light indigo (ai)", "prussian blue (bero-ai)", "paper (kizuki)", "pink (beni)")


@dataclass(frozen=True)
class UkiyoeConfig:
    """Knobs of the ukiyo-e renderer (defaults tuned for 128-512 pixel images)."""

    palette: dict[str, tuple[float, float, float]] = field(default_factory=lambda: dict(WOODBLOCK_PALETTE))
    smoothing_radius: int = 3  # Kuwahara radius before cutting regions: flat areas, kept edges
    regions: int = 22  # k-means regions per image (each gets one ink)
    position_weight: float = 25.0  # Lab units per image width: how much regions stay compact
    lightness_weight: float = 5.0  # ink choice: how much lightness counts against hue
    lightness_range: tuple[float, float] = (5.0, 100.0)  # the photo's 2%..98% lightness is stretched to this
    chroma_gain: float = 1.15  # > 1: inks purer than the photo
    majority_size: int = 1  # window of a majority filter on the regions (1: off; > 1 also erases eyes)
    border_smoothing: float = 1.5  # rounds off region borders (pixels of a 256-pixel image)
    outline_contrast: float = 35.0  # Lab lightness jump between two inks that gets a key line (main contours only)
    detail_lines: float = 0.01  # XDoG threshold: how dark a contour (eye, mouth) must be to get a key line
    line_sigma: float = 1.0  # XDoG scale of the key block's contours (pixels of a 256-pixel image)
    line_sharpness: float = 40.0  # XDoG soft-threshold steepness (higher: crisper)
    line_min_length: int = 12  # a contour needs this many line pixels in a 7x7 window (256-pixel image; drops specks)
    outline_width: float = 1.0  # key line width (pixels of a 256-pixel image)
    outline_colour: str = "sumi black"
    bokashi_colours: tuple[str, ...] = ("prussian blue (bero-ai)", "light indigo (ai)")
    bokashi_strength: float = 0.7  # how far the top edge moves toward deep indigo
    bokashi_depth: float = 0.45  # share of the picture's height the gradation reaches down
    grain_strength: float = 0.035

    def __post_init__(self) -> None:
        if len(self.palette) < 2:
            raise ValueError("a woodblock palette needs at least two colours")
        for name in (self.outline_colour, *self.bokashi_colours):
            if name not in self.palette:
                raise ValueError(f"{name!r} is not in the palette {sorted(self.palette)}")
        if self.regions < 2:
            raise ValueError(f"regions must be >= 2, got {self.regions}")


def kmeans_regions(
    lab: torch.Tensor, regions: int, position_weight: float, iterations: int = 8
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut each image into ``regions`` clusters of similar colour *and* place.

    ``lab``: ``(B, 3, h, w)``. Features are ``(L, a, b, x, y)`` with x, y in
    ``[0, position_weight]``. Centres start on a fixed grid of pixels (deterministic),
    then Lloyd iterations. Returns labels ``(B, h, w)`` and centres ``(B, K, 5)``.
    """
    batch, _, height, width = lab.shape
    ys = torch.linspace(0, position_weight * height / max(height, width), height, device=lab.device, dtype=lab.dtype)
    xs = torch.linspace(0, position_weight * width / max(height, width), width, device=lab.device, dtype=lab.dtype)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    features = torch.cat([lab, grid_x.expand(batch, 1, -1, -1), grid_y.expand(batch, 1, -1, -1)], dim=1)
    points = features.flatten(2).transpose(1, 2)  # (B, N, 5)
    columns = round(regions**0.5 * (width / height) ** 0.5) or 1
    rows = -(-regions // columns)
    seeds = [
        (min(height - 1, int((r + 0.5) * height / rows)), min(width - 1, int((c + 0.5) * width / columns)))
        for r in range(rows)
        for c in range(columns)
    ][:regions]
    centres = torch.stack([features[:, :, y, x] for y, x in seeds], dim=1)  # (B, K, 5)
    for _ in range(iterations):
        labels = torch.cdist(points, centres).argmin(dim=2)  # (B, N)
        one_hot = F.one_hot(labels, regions).to(lab.dtype)  # (B, N, K)
        counts = one_hot.sum(dim=1)  # (B, K)
        sums = one_hot.transpose(1, 2) @ points  # (B, K, 5)
        centres = torch.where(counts[..., None] > 0, sums / counts[..., None].clamp_min(1), centres)
    labels = torch.cdist(points, centres).argmin(dim=2)
    return labels.view(batch, height, width), centres


def choose_inks(
    centres: torch.Tensor,
    top_share: torch.Tensor,
    ink_lab: torch.Tensor,
    names: list[str],
    lightness_weight: float = 1.0,
    horizon: float = float("inf"),
) -> torch.Tensor:
    """``(B, K)`` ink index for each region from its mean colour and its place.

    Cost = ``lightness_weight`` x lightness difference + chroma (a, b) difference in Lab
    (both squared). A region that
    lies along the top edge or in the upper half (``top_share`` > 0.25) and is bluish, grey or dark is
    taken for sky and may only get a sky ink; no region but sky gets those pale inks
    for free, so a wall stays a wall.
    """
    lightness = (centres[..., 0:1] - ink_lab[:, 0]) ** 2  # (B, K, I)
    chroma = ((centres[..., 1:3].unsqueeze(2) - ink_lab[:, 1:3]) ** 2).sum(-1)
    cost = lightness_weight * lightness + chroma
    # Skin: a warm hue of moderate chroma, not dark -> pale flesh (faces stay faces,
    # never vermilion). Hue angle 20-75 degrees, chroma 10-40 after the gain.
    a, b = centres[..., 1], centres[..., 2]
    hue = torch.rad2deg(torch.atan2(b, a))
    chroma_c = torch.sqrt(a * a + b * b)
    skin = (hue > 20) & (hue < 75) & (chroma_c > 10) & (chroma_c < 40) & (centres[..., 0] > 45)
    if "pale flesh (hada)" in names:
        flesh = names.index("pale flesh (hada)")
        cost[..., flesh] = torch.where(skin, cost[..., flesh] * 0.2, cost[..., flesh])
    sky_ink = torch.tensor([n in SKY_INKS for n in names], device=centres.device)
    bluish_or_grey = (centres[..., 2] < 8) & (centres[..., 1] < 25)  # navy skies lean a little red
    sky = (top_share > 0.25) & bluish_or_grey  # (B, K)
    # The lower sky: a bluish region whose colour is close to a sky region's (Delta E < 12)
    # and whose centre lies above ``horizon`` (position units) is sky too, even though it
    # does not reach the top.
    colour_distance = torch.cdist(centres[..., :3], centres[..., :3])  # (B, K, K)
    near_sky = ((colour_distance < 12) & sky.unsqueeze(1)).any(dim=2)
    sky = sky | (near_sky & bluish_or_grey & (centres[..., 4] < horizon))
    big = torch.finfo(cost.dtype).max / 4
    cost = torch.where(sky[..., None] & ~sky_ink, big, cost)
    return cost.argmin(dim=2)


def _vote(labels: torch.Tensor, spread) -> torch.Tensor:
    """Each pixel takes the label whose mask, spread by ``spread`` ((B, 1, H, W) -> same),
    is strongest there; ties keep the label met first."""
    best_votes, best_label = None, None
    for k in torch.unique(labels).tolist():
        votes = spread((labels == k).to(torch.float32).unsqueeze(1))[:, 0]  # (B, H, W)
        if best_votes is None:
            best_votes, best_label = votes, torch.full_like(labels, k)
            continue
        better = votes > best_votes
        best_votes = torch.where(better, votes, best_votes)
        best_label = torch.where(better, k, best_label)
    return best_label


def majority_filter(labels: torch.Tensor, num_labels: int, size: int) -> torch.Tensor:
    """Replace each label by the most common one in a ``size x size`` window (removes specks).

    Votes per label are box means of its mask; a running maximum (``torch.where``)
    picks the winner, which is faster on a CPU than ``argmax`` over a label axis.
    """
    if size <= 1:
        return labels
    return _vote(labels, lambda mask: filters.box_mean(mask, size))


def smooth_labels(labels: torch.Tensor, sigma: float) -> torch.Tensor:
    """Round off the borders of label areas: each label's mask is blurred (Gaussian,
    ``sigma`` pixels) and every pixel takes the label with the strongest blurred mask.
    Like a majority vote in a round window: specks vanish, corners soften, no staircase."""
    if sigma <= 0:
        return labels
    return _vote(labels, lambda mask: filters.gaussian_blur(mask, sigma))


def key_contours(
    gray: torch.Tensor, sigma: float, threshold: float, sharpness: float, min_pixels: float = 12, window: int = 7
) -> torch.Tensor:
    """``(B, 1, H, W)`` 0/1 key-block lines from luminance ``gray`` (extended difference of Gaussians).

    Luminance is stretched per image, then ``blur(sigma) - blur(1.6 sigma)`` is negative
    on the dark side of every contour and along thin dark features; a soft threshold
    ``tanh(sharpness * (-dog - threshold))`` above one half marks a line, so every line is
    about ``sigma`` wide whatever the photo's contrast. A line pixel is kept only if at
    least ``min_pixels`` line pixels lie in the ``window x window`` square around it or
    one of its neighbours (a contour, not a speck of texture).
    """
    gray = filters.stretch_contrast(gray)
    dog = filters.gaussian_blur(gray, sigma) - filters.gaussian_blur(gray, 1.6 * sigma)
    lines = (torch.tanh(sharpness * (-dog - threshold)) > 0.5).to(gray.dtype)
    if min_pixels > 1:
        window = window + 1 - window % 2
        dense = (filters.box_mean(lines, window) * window**2 >= min_pixels - 0.5).to(gray.dtype) * lines
        lines = lines * filters.dilate(dense, 3)
    return lines


def ukiyoe_steps(images: torch.Tensor, config: UkiyoeConfig = UkiyoeConfig(), seed: int = 0) -> dict[str, torch.Tensor]:
    """Every intermediate of the ukiyo-e renderer; ``"final"`` is the print.

    ``images``: ``(B, 3, H, W)`` in [0, 1]; outputs have the same shape and range.
    ``"regions"`` and ``"labels"`` are ``(B, H, W)`` integer maps; the rest are images.
    """
    filters.check_renderable(images)
    batch, _, height, width = images.shape
    generator = filters.seeded_generator(seed)
    scale = min(height, width) / 256.0
    names = list(config.palette)
    palette = torch.tensor([config.palette[n] for n in names], device=images.device, dtype=images.dtype)
    ink_lab = filters.rgb_to_lab(palette.t().reshape(1, 3, -1, 1))[0, :, :, 0].t()  # (I, 3)

    # Regions are planned at half resolution (a print's colour areas are large; 4x
    # cheaper), then enlarged; the key lines drawn at full resolution cover the seams.
    work = F.avg_pool2d(images, 2) if min(height, width) >= 64 else images

    # 1. Flatten (Kuwahara), then in Lab: stretch lightness to the full range of the
    #    inks and raise chroma, since inks are purer than a photo's colours.
    smooth = filters.kuwahara(work, config.smoothing_radius)
    lab = filters.rgb_to_lab(smooth)
    low, high = filters.per_image_quantiles(lab[:, :1], [0.02, 0.98]).t()
    lightness = config.lightness_range[0] + (config.lightness_range[1] - config.lightness_range[0]) * (
        (lab[:, :1] - low.view(-1, 1, 1, 1)) / (high - low).clamp_min(10).view(-1, 1, 1, 1)
    )
    lab = torch.cat([lightness.clamp(0, 100), lab[:, 1:] * config.chroma_gain], dim=1)
    lab = filters.gaussian_blur(lab, 1.0)  # calmer region borders

    # 2. Regions by colour and place; one ink per region, chosen by its mean colour and
    #    whether it is sky. (Specks are rounded away at full resolution below; the key
    #    lines carry the fine detail.)
    regions, centres = kmeans_regions(lab, config.regions, config.position_weight)
    top_rows = max(1, regions.shape[1] // 8)
    in_top = F.one_hot(regions[:, :top_rows].flatten(1), config.regions).float().sum(1)  # (B, K)
    size = F.one_hot(regions.flatten(1), config.regions).float().sum(1).clamp_min(1)
    touches_top = in_top / size * (regions.shape[1] / top_rows) / 4
    upper = centres[..., 4] < 0.5 * config.position_weight * regions.shape[1] / max(regions.shape[1:])
    # A region in the upper half may be sky if it is bluish or light; a dark grey one there
    # (a shadowed pagoda, a tree) only if it reaches the top edge.
    upper = upper & ((centres[..., 2] < -4) | (centres[..., 0] > 45))
    inks = choose_inks(
        centres,
        torch.where(upper, 1.0, touches_top),
        ink_lab,
        names,
        config.lightness_weight,
        horizon=0.65 * config.position_weight * regions.shape[1] / max(regions.shape[1:]),
    )  # (B, K)
    labels = torch.gather(inks, 1, regions.flatten(1)).view_as(regions)
    labels = majority_filter(labels, len(names), config.majority_size)
    if labels.shape[-2:] != (height, width):
        labels = F.interpolate(labels[:, None].float(), size=(height, width), mode="nearest")[:, 0].long()
        regions = F.interpolate(regions[:, None].float(), size=(height, width), mode="nearest")[:, 0].long()
    # Smooth seams at full resolution: clean curves for the carver, no pixel staircase.
    labels = smooth_labels(labels, config.border_smoothing * scale)
    flat = palette[labels].permute(0, 3, 1, 2)  # (B, 3, H, W)

    # 3. Bokashi: sky-blue blocks darken toward the top, as if the printer wiped extra
    #    ink along the upper edge of the block.
    blue = torch.zeros_like(labels, dtype=images.dtype)
    for name in config.bokashi_colours:
        blue = blue + (labels == names.index(name)).to(images.dtype)
    rows = torch.linspace(0.0, 1.0, height, device=images.device, dtype=images.dtype).view(1, 1, -1, 1)
    gradient = (1.0 - rows / config.bokashi_depth).clamp_min(0.0) ** 1.2 * config.bokashi_strength
    deep_blue = palette[names.index(config.bokashi_colours[0])].view(1, 3, 1, 1) * 0.45  # near indigo-black
    bokashi = filters.lerp(flat, deep_blue, blue.unsqueeze(1) * gradient)

    # 4. Key block: one even line where two inks of clearly different lightness meet, and
    #    the photo's own contours (eyes, mouths, storeys, rigging) from a difference of
    #    Gaussians with a soft threshold (XDoG) at a fixed scale, so faces and small
    #    structures survive; short specks (foliage, fur) are dropped.
    ink_l = ink_lab[:, 0][labels].unsqueeze(1)  # (B, 1, H, W)
    jump = ink_l + filters.dilate(-ink_l, 3)  # lighter than its darkest neighbour: one line per seam
    seams = (jump > config.outline_contrast).to(images.dtype)
    gray = filters.luminance(images)
    window = max(3, round(7 * scale))
    contours = key_contours(
        gray,
        config.line_sigma * scale,
        config.detail_lines,
        config.line_sharpness,
        config.line_min_length * window**2 / 49,  # the same share of a window that grows with the image
        window,
    )
    lines = torch.maximum(seams, contours)
    width_px = max(1, round(config.outline_width * scale))
    lines = filters.dilate(lines, width_px) if width_px > 1 else lines
    key = filters.gaussian_blur(lines, 0.5 * max(scale, 0.5)).clamp(0.0, 1.0)
    ink = palette[names.index(config.outline_colour)].view(1, 3, 1, 1)
    printed = filters.lerp(bokashi, ink, key)

    # 5. Washi: fibres under every ink, and an uneven take-up of ink from the baren.
    grain = filters.fibre_texture(batch, height, width, generator, images, length=2.0)
    mottle = filters.smooth_noise(batch, height, width, 6.0 * scale, generator, images)
    final = (printed * (1.0 - config.grain_strength * (grain + 0.5 * mottle))).clamp(0.0, 1.0)

    return {
        "smoothed": smooth
        if smooth.shape[-2:] == (height, width)
        else F.interpolate(smooth, size=(height, width), mode="bilinear", align_corners=False),
        "regions": regions,
        "labels": labels,
        "flat_colours": flat,
        "bokashi": bokashi,
        "keyblock": 1.0 - key,
        "final": final,
    }


def render_ukiyoe(images: torch.Tensor, config: UkiyoeConfig = UkiyoeConfig(), seed: int = 0) -> torch.Tensor:
    """Photo batch ``(B, 3, H, W)`` in [0, 1] -> ukiyo-e print, same shape and range."""
    return ukiyoe_steps(images, config, seed)["final"]
