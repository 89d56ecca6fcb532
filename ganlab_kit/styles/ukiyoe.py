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
* **Flat colour areas:** each block prints one even colour; we quantise to the palette
  and clean small specks with a majority filter.
* **Bokashi** (ぼかし): gradation wiped onto the block by hand, typically the deep blue
  at the top of a sky or sea, famous in Hiroshige's *Fifty-three Stations of the
  Tōkaidō* (1833-34). Blue regions darken toward the top of the picture.
* **Paper grain:** kōzo (mulberry) paper and the baren's rubbing leave a fine texture.

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
    "paper (kizuki)": (0.93, 0.88, 0.76),
    "sumi black": (0.12, 0.11, 0.11),
    "prussian blue (bero-ai)": (0.11, 0.25, 0.47),
    "light indigo (ai)": (0.47, 0.62, 0.71),
    "vermilion (shu)": (0.82, 0.29, 0.18),
    "pink (beni)": (0.89, 0.62, 0.58),
    "ochre (odo)": (0.79, 0.62, 0.33),
    "green (kusa)": (0.42, 0.53, 0.33),
    "brown (taisha)": (0.49, 0.33, 0.23),
    "grey (nezumi)": (0.58, 0.57, 0.55),
}


@dataclass(frozen=True)
class UkiyoeConfig:
    """Knobs of the ukiyo-e renderer (defaults tuned for 128-512 pixel images)."""

    palette: dict[str, tuple[float, float, float]] = field(default_factory=lambda: dict(WOODBLOCK_PALETTE))
    smoothing_radius: int = 2  # Kuwahara radius before quantising: flat areas, kept edges
    saturation_gain: float = 1.3  # photos are paler than printing inks
    tone_lift: float = 0.75  # gamma < 1 lifts shadows, so dark photos do not print all black
    majority_size: int = 5  # window of the majority filter that removes specks
    outline_threshold: float = 0.09  # luminance jump between neighbouring blocks that gets a key line
    outline_width: float = 0.7  # key line width scale (pixels)
    outline_colour: str = "sumi black"
    bokashi_colours: tuple[str, ...] = ("prussian blue (bero-ai)", "light indigo (ai)")
    bokashi_strength: float = 0.7  # how far the top edge moves toward deep indigo
    grain_strength: float = 0.03

    def __post_init__(self) -> None:
        if len(self.palette) < 2:
            raise ValueError("a woodblock palette needs at least two colours")
        for name in (self.outline_colour, *self.bokashi_colours):
            if name not in self.palette:
                raise ValueError(f"{name!r} is not in the palette {sorted(self.palette)}")


def quantise_to_palette(images: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """Index ``(B, H, W)`` of the nearest palette colour (``palette``: ``(K, 3)``).

    Distance is Euclidean in RGB with the channels weighted by how much they matter to
    the eye (a cheap stand-in for a perceptual colour space). Since
    ``|p - c|^2 = |p|^2 - 2 p.c + |c|^2`` and ``|p|^2`` is the same for every ``c``, the
    nearest colour maximises ``2 p.c - |c|^2``. Channels-last layout makes the K axis
    contiguous, where ``argmax`` is fast.
    """
    weights = torch.tensor([0.30, 0.59, 0.11], device=images.device, dtype=images.dtype).sqrt() * 1.7
    pixels = (images * weights.view(1, 3, 1, 1)).permute(0, 2, 3, 1)  # (B, H, W, 3), channels last
    centres = palette * weights  # (K, 3)
    scores = 2 * pixels @ centres.t() - (centres * centres).sum(dim=1)  # (B, H, W, K)
    return scores.argmax(dim=-1)


def majority_filter(labels: torch.Tensor, num_labels: int, size: int) -> torch.Tensor:
    """Replace each label by the most common one in a ``size x size`` window (removes specks).

    Votes per label are box means of its mask; a running maximum (``torch.where``)
    picks the winner, which is faster on a CPU than ``argmax`` over a label axis.
    """
    if size <= 1:
        return labels
    best_votes, best_label = None, None
    for k in range(num_labels):
        votes = filters.box_mean((labels == k).to(torch.float32).unsqueeze(1), size)[:, 0]  # (B, H, W)
        if best_votes is None:
            best_votes, best_label = votes, torch.zeros_like(labels)
            continue
        better = votes > best_votes
        best_votes = torch.where(better, votes, best_votes)
        best_label = torch.where(better, k, best_label)
    return best_label


def ukiyoe_steps(images: torch.Tensor, config: UkiyoeConfig = UkiyoeConfig(), seed: int = 0
                 ) -> dict[str, torch.Tensor]:
    """Every intermediate of the ukiyo-e renderer; ``"final"`` is the print.

    ``images``: ``(B, 3, H, W)`` in [0, 1]; outputs have the same shape and range.
    """
    filters.check_images(images)
    batch, _, height, width = images.shape
    generator = filters.seeded_generator(seed)
    names = list(config.palette)
    palette = torch.tensor([config.palette[n] for n in names], device=images.device, dtype=images.dtype)

    # Blocks are planned at half resolution (a print's colour areas are large; this is
    # 4-8x cheaper), then enlarged; the key lines drawn later at full resolution cover
    # the block edges, as the key block does in a real print.
    work = F.avg_pool2d(images, 2) if min(height, width) >= 64 else images

    # 1. Flatten: Kuwahara smoothing; inks are more saturated and lighter than the photo.
    smooth = filters.kuwahara(work, config.smoothing_radius)
    gray = filters.luminance(smooth)
    vivid = (gray + (smooth - gray) * config.saturation_gain).clamp(0.0, 1.0) ** config.tone_lift

    # 2. One block per colour: nearest palette ink, then a majority filter for flat areas.
    labels = quantise_to_palette(vivid, palette)
    labels = majority_filter(labels, len(names), config.majority_size)
    if labels.shape[-2:] != (height, width):
        labels = F.interpolate(labels[:, None].float(), size=(height, width), mode="nearest")[:, 0].long()
        vivid = F.interpolate(vivid, size=(height, width), mode="bilinear", align_corners=False)
    flat = palette[labels].permute(0, 3, 1, 2)  # (B, 3, H, W)

    # 3. Bokashi: blue blocks darken toward the top, as if the printer wiped ink on
    #    the upper edge of the block. Strength falls from the top row to mid-height.
    blue = torch.zeros_like(labels, dtype=images.dtype)
    for name in config.bokashi_colours:
        blue = blue + (labels == names.index(name)).to(images.dtype)
    rows = torch.linspace(1.0, 0.0, height, device=images.device, dtype=images.dtype).view(1, 1, -1, 1)
    gradient = (rows * 2 - 1).clamp_min(0.0) * config.bokashi_strength  # 1 at the top, 0 below mid
    deep_blue = palette[names.index(config.bokashi_colours[0])].view(1, 3, 1, 1) * 0.3  # near indigo-black
    printed = filters.lerp(flat, deep_blue, blue.unsqueeze(1) * gradient)

    # 4. Key block: black lines where neighbouring blocks differ clearly in tone.
    flat_gray = filters.luminance(flat)
    jump = filters.edge_magnitude(flat_gray)
    key = torch.sigmoid((jump - config.outline_threshold) / 0.015)
    key = (filters.gaussian_blur(key, config.outline_width) * 2.0).clamp(0.0, 1.0)
    ink = palette[names.index(config.outline_colour)].view(1, 3, 1, 1)
    printed = filters.lerp(printed, ink, key)

    # 5. Paper grain: fine fibres under every ink.
    grain = filters.fibre_texture(batch, height, width, generator, images, length=2.0)
    final = (printed * (1.0 - config.grain_strength * grain)).clamp(0.0, 1.0)

    return {
        "smoothed": vivid,
        "labels": labels,
        "flat_colours": flat,
        "bokashi": printed,
        "keyblock": 1.0 - key,
        "final": final,
    }


def render_ukiyoe(images: torch.Tensor, config: UkiyoeConfig = UkiyoeConfig(), seed: int = 0) -> torch.Tensor:
    """Photo batch ``(B, 3, H, W)`` in [0, 1] -> ukiyo-e print, same shape and range."""
    return ukiyoe_steps(images, config, seed)["final"]
