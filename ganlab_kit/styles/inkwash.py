"""Chinese ink wash (水墨, shuǐmò): a photo redrawn as ink on xuan paper.

Traits modelled, and where they are described (our words, not quotations):

* **Ink, not colour.** Ink-wash painting works in one black ink diluted with water;
  Zhang Yanyuan's *Record of Famous Painters of All Dynasties* (历代名画记, 847) already
  says ink handled well holds all the colours. We use luminance only.
* **Five ink tones** (墨分五色): 焦 burnt, 浓 thick, 重 heavy, 淡 light, 清 clear, the
  gradations taught in painting manuals such as the *Mustard Seed Garden Manual of
  Painting* (芥子园画传, 1679; English edition by Mai-mai Sze). Tones are cut at
  luminance quantiles of each image (darkest 6% burnt ink, ...), with soft steps.
* **Brush strokes of varying width and wetness:** a contour is one stroke whose width
  follows the pressure of the brush and whose ink runs from wet to dry along it (the
  *Mustard Seed* manual's many named strokes). Smooth random "pressure" and "wetness"
  fields modulate the contours.
* **Flying white** (飞白): a dry brush skips over the paper and leaves white streaks
  along the stroke; where the wetness field is low, contours are broken by streaks
  running along the edge direction.
* **Ink diffusing into the paper** (晕染): wet ink bleeds outward on unsized paper
  (a soft halo past each wet mark, uneven where the paper drinks more) and pools at
  the rim of a wash as it dries (a darker wet edge).
* **Blank space** (留白, "leave white"; the calligrapher Deng Shiru's maxim 计白当黑,
  count the white as ink): only the subject is painted. A *subject map* (detail and
  difference from the border colour, i.e. what is not background) decides where ink
  may go; a light background and the lightest parts of the subject stay bare paper,
  a dark background (a night sky) gets one broad pale wash.
  Guo Xi's *Lofty Message of Forests and Streams* (林泉高致, 11th century) describes
  mist and distance carried by empty paper.
* **Xuan paper** (宣纸) from Jing County, Anhui, whose making is on UNESCO's list of
  Intangible Cultural Heritage (2009): a warm off-white sheet with visible fibres.
* **A red seal** (印章) pressed in cinnabar paste, optional (it is the only colour):
  a solid red square with white carved characters (白文) in the lower right corner.

A renderer is a caricature: no brush order, no composition, no calligraphic intent.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import filters

# Ink densities (fraction of light absorbed) of the five tones, darkest first:
# 焦 jiao (burnt), 浓 nong (thick), 重 zhong (heavy), 淡 dan (light), 清 qing (clear).
FIVE_TONES = ("焦 jiao", "浓 nong", "重 zhong", "淡 dan", "清 qing")


@dataclass(frozen=True)
class InkWashConfig:
    """Knobs of the ink-wash renderer (defaults tuned for 128-512 pixel images; every
    length is in pixels of a 256-pixel image and scales with the image)."""

    tone_densities: tuple[float, float, float, float, float] = (0.95, 0.75, 0.52, 0.30, 0.13)
    # Fraction of the *subject's* pixels (darkest first) that is at most each tone: the
    # darkest 8% is burnt ink, ..., and the subject's lightest 25% stays paper too.
    # Quantiles, not fixed levels, so dark and light photos both get all five tones.
    tone_quantiles: tuple[float, float, float, float, float] = (0.08, 0.22, 0.40, 0.58, 0.75)
    tone_softness: float = 0.02  # width of the soft step between tones (stretched luminance)
    detail_sigma: float = 1.4  # blur before cutting tones: masses, not photographic texture
    blank_share: float = 0.35  # at least this share of the picture is judged background (留白)
    subject_softness: float = 0.12  # how gradually the wash fades out into blank paper
    paper_level: float = 0.78  # luminance above which the photo is left as paper anyway
    edge_threshold: float = 0.16  # gradient length where a contour starts to take ink
    edge_ink: float = 0.9  # density of contour strokes
    stroke_width: float = 0.9  # stroke half-width scale; the brush pressure widens it up to ~3x
    dry_brush: float = 0.45  # share of stroke length painted with a dry brush (飞白)
    diffusion_sigma: float = 2.5  # how far wet ink bleeds into the paper
    diffusion_strength: float = 0.6
    background_wash: float = 0.7  # density of the broad wash laid over a *dark* background
    wet_edge: float = 0.5  # how much darker ink pools at the rim of a wash
    paper_colour: tuple[float, float, float] = (0.945, 0.93, 0.895)  # xuan paper, barely warm
    ink_colour: tuple[float, float, float] = (0.07, 0.07, 0.08)
    fibre_strength: float = 0.05
    seal: bool = False  # red seal (印章) in the lower right corner
    seal_colour: tuple[float, float, float] = (0.76, 0.14, 0.10)  # cinnabar paste

    def __post_init__(self) -> None:
        if list(self.tone_quantiles) != sorted(self.tone_quantiles) or not all(
            0.0 < q < 1.0 for q in self.tone_quantiles
        ):
            raise ValueError(f"tone_quantiles must increase inside (0, 1), got {self.tone_quantiles}")
        if any(not 0.0 <= d <= 1.0 for d in self.tone_densities):
            raise ValueError(f"tone_densities must lie in [0, 1], got {self.tone_densities}")
        if self.stroke_width <= 0:
            raise ValueError(f"stroke_width must be > 0, got {self.stroke_width}")
        if not 0.0 <= self.blank_share < 1.0 or not 0.0 <= self.dry_brush <= 1.0:
            raise ValueError("blank_share must lie in [0, 1) and dry_brush in [0, 1]")


def subject_map(images: torch.Tensor, scale: float, generator: torch.Generator) -> torch.Tensor:
    """``(B, 1, H, W)`` in [0, 1]: how much each place belongs to the subject.

    Two cues, each normalised per image: *detail* (edge energy, blurred over a wide
    area: the subject is where things happen) and *difference from the border colour*
    (the median colour of the outer frame stands for the background). A little smooth
    noise makes the boundary irregular, like a wash that stops where the brush stopped.
    """
    batch, _, height, width = images.shape
    gray = filters.luminance(images)
    detail = filters.gaussian_blur(filters.edge_magnitude(filters.gaussian_blur(gray, 1.0 * scale)), 8.0 * scale)
    detail = detail / filters.per_image_quantiles(detail, [0.97]).view(-1, 1, 1, 1).clamp_min(0.01)
    margin = max(2, round(min(height, width) * 0.06))
    frame = torch.cat(
        [
            images[..., :margin, :].flatten(2),
            images[..., -margin:, :].flatten(2),
            images[..., :, :margin].flatten(2),
            images[..., :, -margin:].flatten(2),
        ],
        dim=2,
    )
    background = frame.median(dim=2).values.view(batch, 3, 1, 1)
    smooth = filters.gaussian_blur(images, 3.0 * scale)
    difference = (smooth - background).abs().amax(dim=1, keepdim=True)
    difference = difference / filters.per_image_quantiles(difference, [0.97]).view(-1, 1, 1, 1).clamp_min(0.15)
    noise = filters.smooth_noise(batch, height, width, 20.0 * scale, generator, images)
    return (torch.maximum(detail, difference) + 0.25 * (noise - 0.5)).clamp(0.0, 1.5)


def ink_wash_steps(
    images: torch.Tensor, config: InkWashConfig = InkWashConfig(), seed: int = 0
) -> dict[str, torch.Tensor]:
    """Every intermediate of the renderer, for teaching; ``"final"`` is the painting.

    ``images``: ``(B, 3, H, W)`` in [0, 1]. Single-channel intermediates are ``(B, 1, H, W)``
    ink densities (0 = paper, 1 = solid ink) unless named otherwise.
    """
    filters.check_renderable(images)
    batch, _, height, width = images.shape
    generator = filters.seeded_generator(seed)
    scale = min(height, width) / 256.0

    # 1. Luminance only, simplified into masses.
    gray = filters.luminance(images)
    masses = filters.gaussian_blur(gray, config.detail_sigma * scale)

    # 2. Composition: the subject gets ink, the background stays paper (留白). The cut is
    #    at least at the ``blank_share`` quantile of the subject map, and never below 0.3.
    subject = subject_map(images, scale, generator)
    cut = filters.per_image_quantiles(subject, [config.blank_share]).clamp_min(0.3).view(-1, 1, 1, 1)
    inked = torch.sigmoid((subject - cut - 0.1) / config.subject_softness)

    # 3. Five tones plus blank paper, cut at luminance quantiles of the *subject*.
    #    Each threshold that the luminance is below adds the density gap to the next tone.
    weights = (inked > 0.5).to(masses.dtype)
    ranked = torch.where(weights > 0, masses, torch.full_like(masses, float("nan"))).flatten(1)
    ranked = ranked[:, :: max(1, ranked.shape[1] // 16384)].float()
    q = torch.tensor([0.02, *config.tone_quantiles], device=images.device)
    thresholds = torch.nanquantile(ranked, q, dim=1).t().to(masses.dtype)  # (B, 6); NaN if no subject
    fallback = filters.per_image_quantiles(masses, q)
    thresholds = torch.where(torch.isnan(thresholds), fallback, thresholds)
    low, high = thresholds[:, :1], thresholds[:, -1:]
    span = (high - low).clamp_min(0.05)
    stretched = ((masses - low.view(-1, 1, 1, 1)) / span.view(-1, 1, 1, 1)).clamp(0.0, 1.2)
    cuts = (thresholds[:, 1:] - low) / span  # (B, 5) in stretched units
    levels = (*config.tone_densities, 0.0)  # the last "tone" is bare paper
    tones = torch.zeros_like(masses)
    for k in range(len(config.tone_quantiles)):
        threshold = cuts[:, k].view(-1, 1, 1, 1)
        tones = tones + (levels[k] - levels[k + 1]) * torch.sigmoid((threshold - stretched) / config.tone_softness)
    # Dark background (a night sky, a dark coat) is not left white but laid in with one
    #    broad, pale, graded wash (淡墨): the composition still breathes, the night stays night.
    darkness = 1.0 - filters.gaussian_blur(gray, 10.0 * scale)
    background_wash = config.background_wash * ((darkness - 0.45) / 0.55).clamp(0.0, 1.0)
    #    Whatever is light in the photo itself (a pale sky, a white wall) stays paper too.
    light = torch.sigmoid((masses - config.paper_level) / 0.03)
    wash = (tones * inked + background_wash * (1.0 - inked)) * (1.0 - light)

    # 4. Wet ink: it pools at the rim of a wash as the water dries (wet edge: darker
    #    where the wash is above its own blur), and bleeds past the mark into the paper,
    #    more where the paper drinks more and the brush was wetter.
    wetness = filters.smooth_noise(batch, height, width, 40.0 * scale, generator, images)
    absorbency = filters.smooth_noise(batch, height, width, 10.0 * scale, generator, images)
    rim = (wash - filters.gaussian_blur(wash, 2.0 * scale)).clamp_min(0.0)
    pooled = (wash + config.wet_edge * 2.0 * rim * (0.5 + wetness)).clamp(0.0, 1.0)
    bleed = (
        filters.gaussian_blur(pooled, config.diffusion_sigma * scale) * (0.5 + 0.7 * absorbency) * (0.6 + 0.6 * wetness)
    )
    diffused = torch.maximum(pooled, config.diffusion_strength * bleed)

    # 5. Brush strokes on the main contours of the subject: width follows a smooth
    #    pressure field (a blurred contour with a higher gain is a wider stroke); where the
    #    brush is dry, streaks along the stroke direction leave the paper white (飞白).
    edges = filters.edge_magnitude(filters.gaussian_blur(gray, 1.2 * scale)) / span.view(-1, 1, 1, 1)
    contour = torch.sigmoid((edges - config.edge_threshold) / (0.25 * config.edge_threshold))
    contour = contour * filters.dilate(inked, max(3, int(4 * scale)))
    pressure = filters.smooth_noise(batch, height, width, 18.0 * scale, generator, images)
    skirt = filters.gaussian_blur(contour, config.stroke_width * scale)
    strokes = (skirt * (0.6 + 2.0 * pressure)).clamp(0.0, 1.0) * config.edge_ink
    direction_x, direction_y = filters.stroke_directions(masses, 2.0 * scale)
    streaks = filters.uniform_noise((batch, 1, height, width), generator, images)
    streaks = filters.smear_along(streaks, direction_x, direction_y, 5.0 * scale, 7)
    streaks = (streaks - streaks.mean(dim=(2, 3), keepdim=True)) / streaks.std(dim=(2, 3), keepdim=True).clamp_min(1e-6)
    dry = (wetness < config.dry_brush).to(images.dtype)
    gaps = torch.sigmoid((streaks + 0.2) * 4.0)  # ~55% of the bristle streaks keep ink
    strokes = strokes * (1.0 - dry * (1.0 - gaps))
    wet_strokes = filters.gaussian_blur(strokes, 1.5 * scale) * 0.7 * (1.0 - dry)
    strokes = torch.maximum(strokes, wet_strokes)

    # 6. Ink layers absorb light one after the other: 1 - (1 - a)(1 - b).
    ink = 1.0 - (1.0 - diffused) * (1.0 - strokes)

    # 7. Xuan paper: fibres catch a little more ink and tint the bare sheet.
    fibres = filters.fibre_texture(batch, height, width, generator, images)
    ink = (ink * (1.0 + config.fibre_strength * (fibres - 0.5) * 2)).clamp(0.0, 1.0)
    paper = torch.tensor(config.paper_colour, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    paper = paper * (1.0 - config.fibre_strength * fibres)
    ink_rgb = torch.tensor(config.ink_colour, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    painting = filters.lerp(paper, ink_rgb, ink)

    if config.seal:
        painting = stamp_seal(painting, config.seal_colour, generator)

    return {
        "luminance": gray,
        "masses": masses,
        "subject": inked,
        "five_tones": tones,
        "wash": wash,
        "diffused": diffused,
        "brush_pressure": pressure,
        "wetness": wetness,
        "strokes": strokes,
        "ink": ink,
        "paper": paper.expand(batch, 3, height, width),
        "final": painting.clamp(0.0, 1.0),
    }


def render_ink_wash(images: torch.Tensor, config: InkWashConfig = InkWashConfig(), seed: int = 0) -> torch.Tensor:
    """Photo batch ``(B, 3, H, W)`` in [0, 1] -> ink-wash painting, same shape and range."""
    return ink_wash_steps(images, config, seed)["final"]


def stamp_seal(painting: torch.Tensor, colour: tuple[float, float, float], generator: torch.Generator) -> torch.Tensor:
    """Press a square red seal near the lower right corner.

    A seal carved in intaglio (白文) prints a solid red square in which the carved
    characters stay paper-white. We carve two columns of two blocky "characters", each
    a few horizontal and vertical bars on a 5x5 grid, inside a thin white frame, and
    print the paste unevenly (a real seal never inks perfectly).
    """
    batch, _, height, width = painting.shape
    side = max(8, min(height, width) // 7)
    top, left = height - side - max(2, side // 3), width - side - max(2, side // 3)
    grid = 12  # 1 border cell, 2 characters of 5 cells each way, 1 gap cell
    cells = torch.zeros(batch, 1, grid, grid, device=painting.device, dtype=painting.dtype)
    for row0 in (1, 6):
        for col0 in (1, 6):
            bars = filters.uniform_noise((batch, 2, 5), generator, painting) < 0.45  # rows / columns carved
            for i in range(5):
                cells[:, 0, row0 + i, col0 : col0 + 5] += bars[:, 0, i].to(painting.dtype).view(-1, 1) * (i % 2 == 0)
                cells[:, 0, row0 : row0 + 5, col0 + i] += bars[:, 1, i].to(painting.dtype).view(-1, 1) * (i % 2 == 0)
    carved = F.interpolate(cells.clamp(0, 1), size=(side, side), mode="nearest")
    border = max(1, side // 14)
    frame_line = torch.zeros(1, 1, side, side, device=painting.device, dtype=painting.dtype)
    frame_line[..., border : 2 * border, border : side - border] = 1.0
    frame_line[..., side - 2 * border : side - border, border : side - border] = 1.0
    frame_line[..., border : side - border, border : 2 * border] = 1.0
    frame_line[..., border : side - border, side - 2 * border : side - border] = 1.0
    mottle = filters.uniform_noise((batch, 1, side, side), generator, painting)
    red_mask = (1.0 - torch.maximum(carved, frame_line)) * (0.97 - 0.15 * (mottle > 0.9).to(painting.dtype))
    seal_rgb = torch.tensor(colour, device=painting.device, dtype=painting.dtype).view(1, 3, 1, 1)
    out = painting.clone()
    region = out[:, :, top : top + side, left : left + side]
    # Paste multiplies with what is below it (ink shows through the red).
    out[:, :, top : top + side, left : left + side] = filters.lerp(region, region * seal_rgb / 0.94, red_mask)
    return out
