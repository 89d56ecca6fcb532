"""Chinese ink wash (水墨, shuǐmò): a photo redrawn as ink on xuan paper.

Traits modelled, and where they are described (our words, not quotations):

* **Ink, not colour.** Ink-wash painting works in one black ink diluted with water;
  Zhang Yanyuan's *Record of Famous Painters of All Dynasties* (历代名画记, 847) already
  says ink handled well holds all the colours. We use luminance only.
* **Five ink tones** (墨分五色): 焦 burnt, 浓 thick, 重 heavy, 淡 light, 清 clear, the
  gradations taught in painting manuals such as the *Mustard Seed Garden Manual of
  Painting* (芥子园画传, 1679; English edition by Mai-mai Sze). Tones are cut at
  luminance quantiles of each image (darkest 6% burnt ink, ...), with soft steps.
* **Brush edges of varying width:** a contour is one stroke whose width follows the
  pressure of the brush (the *Mustard Seed* manual's many named strokes). Edges are
  widened by a smooth random "pressure" field.
* **Ink diffusing into the paper** (晕染): wet ink bleeds outward on unsized paper;
  a blur of the ink, made uneven by paper noise, spreads past each mark.
* **Blank space** (留白, "leave white"; the calligrapher Deng Shiru's maxim 计白当黑,
  count the white as ink): light parts of the scene become bare paper, not pale grey.
  Guo Xi's *Lofty Message of Forests and Streams* (林泉高致, 11th century) describes
  mist and distance carried by empty paper.
* **Xuan paper** (宣纸) from Jing County, Anhui, whose making is on UNESCO's list of
  Intangible Cultural Heritage (2009): a warm off-white sheet with visible fibres.
* **A red seal** (印章) pressed in cinnabar paste, optional (it is the only colour).

A renderer is a caricature: no brush order, no composition, no calligraphic intent.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import filters

# Ink densities (fraction of light absorbed) of the five tones, darkest first:
# 焦 jiao (burnt), 浓 nong (thick), 重 zhong (heavy), 淡 dan (light), 清 qing (clear).
FIVE_TONES = ("焦 jiao", "浓 nong", "重 zhong", "淡 dan", "清 qing")


@dataclass(frozen=True)
class InkWashConfig:
    """Knobs of the ink-wash renderer (defaults tuned for 128-512 pixel images)."""

    tone_densities: tuple[float, float, float, float, float] = (0.92, 0.72, 0.52, 0.32, 0.16)
    # Fraction of each image's pixels (darkest first) that is at most each tone: the
    # darkest 6% is burnt ink, ..., and everything lighter than the 58% quantile is
    # bare paper (留白). Quantiles, not fixed levels, so dark photos keep blank space.
    tone_quantiles: tuple[float, float, float, float, float] = (0.06, 0.16, 0.28, 0.42, 0.58)
    tone_softness: float = 0.02  # width of the soft step between tones (stretched luminance)
    detail_sigma: float = 1.6  # blur before cutting tones: masses, not photographic texture
    edge_threshold: float = 0.10  # gradient length where a contour starts to take ink
    edge_ink: float = 0.85  # density of contour strokes
    stroke_width: float = 0.8  # stroke half-width scale (pixels); the brush pressure widens it up to ~3x
    diffusion_sigma: float = 2.0  # how far wet ink bleeds into the paper (pixels)
    diffusion_strength: float = 0.55
    paper_colour: tuple[float, float, float] = (0.94, 0.925, 0.895)  # xuan paper, barely warm
    ink_colour: tuple[float, float, float] = (0.07, 0.07, 0.08)
    fibre_strength: float = 0.05
    seal: bool = False  # red seal (印章) in the lower right corner
    seal_colour: tuple[float, float, float] = (0.72, 0.12, 0.10)  # cinnabar paste

    def __post_init__(self) -> None:
        if list(self.tone_quantiles) != sorted(self.tone_quantiles) or not all(
                0.0 < q < 1.0 for q in self.tone_quantiles):
            raise ValueError(f"tone_quantiles must increase inside (0, 1), got {self.tone_quantiles}")
        if any(not 0.0 <= d <= 1.0 for d in self.tone_densities):
            raise ValueError(f"tone_densities must lie in [0, 1], got {self.tone_densities}")
        if self.stroke_width <= 0:
            raise ValueError(f"stroke_width must be > 0, got {self.stroke_width}")


def ink_wash_steps(images: torch.Tensor, config: InkWashConfig = InkWashConfig(), seed: int = 0
                   ) -> dict[str, torch.Tensor]:
    """Every intermediate of the renderer, for teaching; ``"final"`` is the painting.

    ``images``: ``(B, 3, H, W)`` in [0, 1]. Single-channel intermediates are ``(B, 1, H, W)``
    ink densities (0 = paper, 1 = solid ink) unless named otherwise.
    """
    filters.check_images(images)
    batch, _, height, width = images.shape
    generator = filters.seeded_generator(seed)

    # 1. Luminance only, simplified into masses, stretched to use the whole range.
    gray = filters.luminance(images)
    masses = filters.gaussian_blur(gray, config.detail_sigma)
    quantiles = torch.tensor([0.02, *config.tone_quantiles, 0.98], device=images.device, dtype=images.dtype)
    levels_at = _per_image_quantiles(masses, quantiles)  # (B, 7)
    low, high = levels_at[:, :1], levels_at[:, -1:]
    span = (high - low).clamp_min(0.05)
    masses = ((masses - low.view(-1, 1, 1, 1)) / span.view(-1, 1, 1, 1)).clamp(0.0, 1.0)
    thresholds = (levels_at[:, 1:-1] - low) / span  # (B, 5) in stretched units

    # 2. Five tones plus blank paper: a staircase of soft steps. Each threshold that the
    #    luminance is *below* adds the density gap to the next tone up.
    levels = (*config.tone_densities, 0.0)  # the last "tone" is bare paper
    tones = torch.zeros_like(masses)
    for k in range(len(config.tone_quantiles)):
        step = levels[k] - levels[k + 1]
        threshold = thresholds[:, k].view(-1, 1, 1, 1)
        tones = tones + step * torch.sigmoid((threshold - masses) / config.tone_softness)

    # 3. Ink diffusion: wet ink bleeds outward, unevenly where the paper drinks more.
    absorbency = filters.smooth_noise(batch, height, width, 12.0, generator, images)
    bleed = filters.gaussian_blur(tones, config.diffusion_sigma) * (0.6 + 0.8 * absorbency)
    diffused = torch.maximum(tones, config.diffusion_strength * bleed)

    # 4. Brush contours whose width follows a smooth "pressure" field: a thin contour is
    #    blurred and re-sharpened; where pressure is high the gain is high, so more of the
    #    blurred skirt turns into ink and the stroke is wider.
    edges = filters.edge_magnitude(filters.gaussian_blur(gray, 1.0)) / span.view(-1, 1, 1, 1)
    contour = torch.sigmoid((edges - config.edge_threshold) / (0.25 * config.edge_threshold))
    pressure = filters.smooth_noise(batch, height, width, 24.0, generator, images)
    skirt = filters.gaussian_blur(contour, config.stroke_width)
    strokes = (skirt * (0.7 + 1.6 * pressure)).clamp(0.0, 1.0) * config.edge_ink

    # 5. Ink layers absorb light one after the other: 1 - (1 - a)(1 - b).
    ink = 1.0 - (1.0 - diffused) * (1.0 - strokes)

    # 6. Xuan paper: fibres catch a little more ink and tint the bare sheet.
    fibres = filters.fibre_texture(batch, height, width, generator, images)
    ink = (ink * (1.0 + 0.25 * config.fibre_strength * (fibres - 0.5) * 4)).clamp(0.0, 1.0)
    paper = torch.tensor(config.paper_colour, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    paper = paper * (1.0 - config.fibre_strength * fibres)
    ink_rgb = torch.tensor(config.ink_colour, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    painting = filters.lerp(paper, ink_rgb, ink)

    if config.seal:
        painting = stamp_seal(painting, config.seal_colour, generator)

    return {
        "luminance": gray,
        "masses": masses,
        "five_tones": tones,
        "diffused": diffused,
        "brush_pressure": pressure,
        "strokes": strokes,
        "ink": ink,
        "paper": paper.expand(batch, 3, height, width),
        "final": painting.clamp(0.0, 1.0),
    }


def _per_image_quantiles(gray: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """``(B, 1, H, W)``, ``(Q,)`` -> ``(B, Q)``: quantiles of each image, from a strided
    sample of at most 16384 pixels (plenty for tone levels, and fast)."""
    flat = gray.flatten(1)
    flat = flat[:, :: max(1, flat.shape[1] // 16384)]
    return torch.quantile(flat, quantiles, dim=1).t()


def render_ink_wash(images: torch.Tensor, config: InkWashConfig = InkWashConfig(), seed: int = 0) -> torch.Tensor:
    """Photo batch ``(B, 3, H, W)`` in [0, 1] -> ink-wash painting, same shape and range."""
    return ink_wash_steps(images, config, seed)["final"]


def stamp_seal(painting: torch.Tensor, colour: tuple[float, float, float], generator: torch.Generator
               ) -> torch.Tensor:
    """Press a square red seal near the lower right corner.

    A seal carved in relief (朱文) prints red strokes on paper; we draw a red square with
    a paper-coloured border gap and a blocky random "character" carved out of it.
    """
    batch, _, height, width = painting.shape
    side = max(6, min(height, width) // 9)
    top, left = height - side - max(2, side // 3), width - side - max(2, side // 3)
    cells = 5  # a 5x5 grid of carved blocks stands in for the characters
    carved = filters.uniform_noise((batch, 1, cells, cells), generator, painting) < 0.35
    carved = torch.nn.functional.interpolate(carved.to(painting.dtype), size=(side, side), mode="nearest")
    frame = torch.zeros(1, 1, side, side, device=painting.device, dtype=painting.dtype)
    border = max(1, side // 12)
    frame[..., border: side - border, border: side - border] = 1.0
    inner = torch.zeros_like(frame)
    inner[..., 2 * border: side - 2 * border, 2 * border: side - 2 * border] = 1.0
    # Red where: the outer ring, or inside the inner square but not carved.
    red_mask = (1.0 - frame) + inner * (1.0 - carved)
    red_mask = red_mask.clamp(0.0, 1.0) * 0.9  # cinnabar paste never covers fully
    seal_rgb = torch.tensor(colour, device=painting.device, dtype=painting.dtype).view(1, 3, 1, 1)
    out = painting.clone()
    region = out[:, :, top: top + side, left: left + side]
    # Paste multiplies with what is below it (ink shows through the red).
    out[:, :, top: top + side, left: left + side] = filters.lerp(region, region * seal_rgb / 0.94, red_mask)
    return out
