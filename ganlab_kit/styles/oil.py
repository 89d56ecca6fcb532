"""Western oil painting: a photo redrawn as thick, saturated paint on canvas.

Traits modelled, and where they are described (our words, not quotations):

* **Painterly strokes.** Paint is laid in patches and directed strokes rather than
  smooth photographic gradients; the brush tends to follow the forms. Each stroke
  here is a streak of noise drawn long along the local edge direction (a line
  integral of noise over the structure tensor's flow), so neighbouring strokes differ a
  little in value and hue, as separately loaded brushes do. Max Doerner's
  *The Materials of the Artist and Their Use in Painting* (1921) describes the handling;
  in image processing the look is approximated by Kuwahara filtering (Kuwahara et al.,
  1976; Kyprianidis et al., "Image and Video Abstraction by Anisotropic Kuwahara
  Filtering", 2009) and by strokes aligned with image edges (Hertzmann, "Painterly
  Rendering with Curved Brush Strokes of Multiple Sizes", SIGGRAPH 1998).
* **A rich, saturated palette** with warm glazes: oil binds pigment densely and
  glazes deepen colour (Doerner; the National Gallery's *Art in the Making* catalogues).
  We raise saturation, push shadows toward umber and lay a warm yellowish glaze over
  the whole picture (aged oil and varnish yellow, too).
* **Impasto lighting:** thick paint stands off the canvas and catches light, as in
  Rembrandt's and Van Gogh's late work (Ernst van de Wetering, *Rembrandt: The Painter
  at Work*, 1997). A height field made of stroke bodies and bristle grooves is lit from
  the upper left, with a small specular glint on the ridges (wet-looking oil).
* **Canvas weave:** the woven linen support shows through thin paint.

A renderer is a caricature: no underdrawing, no layers drying over weeks, no painter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import filters


@dataclass(frozen=True)
class OilConfig:
    """Knobs of the oil renderer (defaults tuned for 128-512 pixel images; lengths are in
    pixels of a 256-pixel image and scale with the image)."""

    kuwahara_radius: int = 3  # size of the flat paint patches (pixels)
    stroke_length: float = 7.0  # half-length of a brush stroke along the local direction
    stroke_width: float = 2.5  # width of one stroke across the direction
    stroke_taps: int = 7  # samples along a stroke (more = smoother, slower)
    orientation_sigma: float = 4.0  # smoothing of the structure tensor that orients strokes
    stroke_variation: float = 0.10  # how much neighbouring strokes differ in value
    saturation_gain: float = 1.4  # > 1: richer colour than the photo
    contrast: float = 1.08
    warm_glaze: float = 0.06  # shadows pushed toward umber, a yellow glaze over everything
    impasto_strength: float = 3.0  # height of the paint relief, in shading units
    specular: float = 0.35  # glint on the ridges of thick paint
    light_direction: tuple[float, float] = (-0.7, -0.7)  # (x, y) toward the light: upper left
    canvas_period: float = 4.0  # pixels per thread of the weave
    canvas_strength: float = 0.035

    def __post_init__(self) -> None:
        if self.kuwahara_radius < 0 or self.stroke_taps < 1:
            raise ValueError("kuwahara_radius must be >= 0 and stroke_taps >= 1")
        if self.saturation_gain < 0:
            raise ValueError(f"saturation_gain must be >= 0, got {self.saturation_gain}")
        if self.stroke_width <= 0 or self.stroke_length < 0:
            raise ValueError("stroke_width must be > 0 and stroke_length >= 0")


# Kept here for code that imported them from ``oil`` (they live in ``filters`` now).
stroke_directions = filters.stroke_directions
smear_along = filters.smear_along


def oil_steps(images: torch.Tensor, config: OilConfig = OilConfig(), seed: int = 0) -> dict[str, torch.Tensor]:
    """Every intermediate of the oil renderer; ``"final"`` is the painting.

    ``images``: ``(B, 3, H, W)`` in [0, 1]; outputs have the same shape and range.
    """
    filters.check_renderable(images)
    batch, _, height, width = images.shape
    generator = filters.seeded_generator(seed)
    scale = min(height, width) / 256.0

    # 1. Flat patches of paint, edges kept (Kuwahara). Computed at half resolution with
    #    half the radius when the image is large enough (8x cheaper, same patch size).
    if min(height, width) >= 64 and config.kuwahara_radius >= 2:
        half = filters.kuwahara(F.avg_pool2d(images, 2), config.kuwahara_radius // 2)
        patches = F.interpolate(half, size=(height, width), mode="bilinear", align_corners=False)
    else:
        patches = filters.kuwahara(images, config.kuwahara_radius)

    # 2. Strokes follow the forms: the flow is the edge tangent of the structure tensor.
    #    Paint is smeared along it, and a stroke pattern (noise blobs one stroke wide,
    #    drawn out along the flow) says where one stroke ends and the next begins.
    direction_x, direction_y = filters.stroke_directions(filters.luminance(images), config.orientation_sigma * scale)
    length = config.stroke_length * scale
    smeared = filters.smear_along(patches, direction_x, direction_y, 0.7 * length, config.stroke_taps)
    blobs = _blobs(batch, height, width, config.stroke_width * scale, generator, images)
    pattern = filters.smear_along(blobs, direction_x, direction_y, length, config.stroke_taps)
    # High-pass: strokes vary from their neighbours, not the picture's light at large.
    pattern = pattern - filters.gaussian_blur(pattern, 2.0 * config.stroke_width * scale)
    pattern = pattern / pattern.std(dim=(2, 3), keepdim=True).clamp_min(1e-6)
    value, hue = pattern[:, 0:1], pattern[:, 1:2]
    # One stroke a bit lighter, the next a bit darker and warmer or cooler: loaded brushes.
    shift = torch.tensor([1.0, 0.2, -0.8], device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    strokes = smeared * (1.0 + config.stroke_variation * value) + 0.1 * config.stroke_variation * hue * shift

    # 3. Palette: more saturation and contrast around mid-grey, umber shadows, warm glaze.
    #    The glaze comes first, so the saturation gain applies to the glazed colour too.
    gray = filters.luminance(strokes)
    umber = torch.tensor([0.10, 0.02, -0.08], device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    glaze = torch.tensor([1.03, 1.0, 0.86], device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    warmth = config.warm_glaze / 0.06
    # Umber and the yellow glaze show most on colourless paint: a deep blue or red keeps its hue.
    neutral = 1.0 - filters.saturation(strokes)
    glazed = (strokes + warmth * 0.5 * (1.0 - gray) * neutral * umber) * (1.0 + warmth * neutral * (glaze - 1.0))
    glazed_gray = filters.luminance(glazed)
    vivid = glazed_gray + (glazed - glazed_gray) * config.saturation_gain
    palette = (0.5 + (vivid - 0.5) * config.contrast).clamp(0.0, 1.0)

    # 4. Impasto: stroke bodies plus bristle grooves along them form a height field, lit
    #    from one side: shade = 1 + k (dh/dx * lx + dh/dy * ly); ridges facing the light glint.
    bristles = filters.uniform_noise((batch, 1, height, width), generator, images)
    bristles = filters.smear_along(bristles, direction_x, direction_y, length, config.stroke_taps)
    bristles = (bristles - bristles.mean(dim=(2, 3), keepdim=True)) / bristles.std(dim=(2, 3), keepdim=True).clamp_min(
        1e-6
    )
    height_field = 0.05 * torch.sigmoid(1.5 * value) + 0.012 * bristles
    slope_x, slope_y = filters.sobel(height_field)
    light_x, light_y = config.light_direction
    facing = (slope_x * -light_x + slope_y * -light_y) / max(scale, 0.25)
    shade = 1.0 + config.impasto_strength * facing
    glint = config.specular * (config.impasto_strength * facing - 0.04).clamp_min(0.0).pow(0.8)

    # 5. Canvas weave: threads alternate over and under, a product of two sine waves.
    ys = torch.arange(height, device=images.device, dtype=images.dtype).view(1, 1, -1, 1)
    xs = torch.arange(width, device=images.device, dtype=images.dtype).view(1, 1, 1, -1)
    weave = torch.sin(2 * math.pi * xs / config.canvas_period) * torch.sin(2 * math.pi * ys / config.canvas_period)
    canvas = 1.0 + config.canvas_strength * weave

    painting = (palette * shade * canvas + glint).clamp(0.0, 1.0)
    return {
        "patches": patches,
        "strokes": strokes.clamp(0.0, 1.0),
        "palette": palette,
        "impasto_height": (height_field - height_field.amin(dim=(2, 3), keepdim=True))
        / (height_field.amax(dim=(2, 3), keepdim=True) - height_field.amin(dim=(2, 3), keepdim=True)).clamp_min(1e-6),
        "impasto_shade": (shade / 2 + glint).clamp(0.0, 1.0),
        "canvas": canvas.expand(batch, 1, height, width) - 0.5,
        "final": painting,
    }


def _blobs(
    batch: int, height: int, width: int, size: float, generator: torch.Generator, like: torch.Tensor
) -> torch.Tensor:
    """Two channels of smooth noise with blobs about ``size`` pixels wide, ``(B, 2, H, W)``."""
    return torch.cat(
        [filters.smooth_noise(batch, height, width, max(size, 1.0), generator, like) for _ in range(2)], dim=1
    )


def render_oil(images: torch.Tensor, config: OilConfig = OilConfig(), seed: int = 0) -> torch.Tensor:
    """Photo batch ``(B, 3, H, W)`` in [0, 1] -> oil painting, same shape and range."""
    return oil_steps(images, config, seed)["final"]
