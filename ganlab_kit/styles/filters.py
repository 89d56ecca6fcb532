"""Small batched image filters the style renderers are built from.

Every function takes and returns float tensors shaped ``(B, C, H, W)`` with values in
[0, 1], works on any device, and has no hidden randomness: noise is drawn from a
``torch.Generator`` on the CPU (so the same seed gives the same pixels on CPU and GPU)
and then moved to the images' device.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# ITU-R BT.601 luma weights: how bright each primary looks to the eye.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


MIN_SIDE = 8  # renderers need a few pixels of neighbourhood for strokes and outlines


def check_images(images: torch.Tensor, name: str = "images") -> torch.Tensor:
    """Raise a clear error unless ``images`` is a float batch ``(B, 3, H, W)``."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if images.ndim == 3:
        raise ValueError(f"{name} has shape {tuple(images.shape)}: add a batch dimension, e.g. images[None]")
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"{name} must have shape (B, 3, H, W), got {tuple(images.shape)}")
    if not images.is_floating_point():
        raise TypeError(f"{name} must be float in [0, 1], got dtype {images.dtype}; divide uint8 by 255")
    return images


def check_renderable(images: torch.Tensor, name: str = "images") -> torch.Tensor:
    """``check_images``, and also: finite values, both sides at least ``MIN_SIDE`` pixels
    (what a renderer needs before it paints)."""
    check_images(images, name)
    if min(images.shape[-2:]) < MIN_SIDE:
        raise ValueError(
            f"{name} is {images.shape[-2]}x{images.shape[-1]} pixels: too small to paint, "
            f"both sides must be at least {MIN_SIDE}"
        )
    if not bool(torch.isfinite(images).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return images


def luminance(images: torch.Tensor) -> torch.Tensor:
    """Perceived brightness, ``(B, 3, H, W) -> (B, 1, H, W)``."""
    r, g, b = images[:, 0:1], images[:, 1:2], images[:, 2:3]
    return LUMA_WEIGHTS[0] * r + LUMA_WEIGHTS[1] * g + LUMA_WEIGHTS[2] * b


def saturation(images: torch.Tensor) -> torch.Tensor:
    """HSV saturation ``(max - min) / max`` per pixel, ``(B, 1, H, W)`` (0 for grey)."""
    high = images.amax(dim=1, keepdim=True)
    low = images.amin(dim=1, keepdim=True)
    return (high - low) / high.clamp_min(1e-6)


def gaussian_kernel1d(sigma: float, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Normalised 1-D Gaussian of radius ``ceil(3 sigma)``: 99.7% of the mass."""
    radius = max(1, int(math.ceil(3.0 * sigma)))
    x = torch.arange(-radius, radius + 1, device=device, dtype=dtype)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    return kernel / kernel.sum()


_BAND_CACHE: dict[tuple, torch.Tensor] = {}


def band_matrix(size: int, weights: torch.Tensor, offsets: range) -> torch.Tensor:
    """``(size, size)`` matrix ``M`` with ``(M @ v)[i] = sum_k weights[k] v[clamp(i + offsets[k])]``.

    A 1-D convolution with replicated borders, written as a matrix: blurring the rows of
    an image is then one matrix product, which BLAS runs much faster on a CPU than a
    depthwise convolution (see bench/bench_styles.py).
    """
    rows = torch.arange(size).unsqueeze(1)  # (size, 1)
    columns = (rows + torch.tensor(list(offsets)).unsqueeze(0)).clamp(0, size - 1)  # (size, taps)
    matrix = torch.zeros(size, size, dtype=weights.dtype)
    matrix.scatter_add_(1, columns, weights.unsqueeze(0).expand(size, -1).contiguous())
    return matrix


def _gaussian_matrix(size: int, sigma: float, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    key = ("gauss", size, round(float(sigma), 4), str(device), dtype)
    if key not in _BAND_CACHE:
        kernel = gaussian_kernel1d(sigma, torch.device("cpu"), torch.float64)
        radius = kernel.numel() // 2
        _BAND_CACHE[key] = band_matrix(size, kernel, range(-radius, radius + 1)).to(device=device, dtype=dtype)
    return _BAND_CACHE[key]


def gaussian_blur(images: torch.Tensor, sigma: float | tuple[float, float]) -> torch.Tensor:
    """Separable Gaussian blur with replicated borders; any number of channels.

    ``sigma`` is one number or ``(sigma_y, sigma_x)``. Rows and columns are blurred by
    one matrix product each: ``out = G_h @ images @ G_w^T``.
    """
    sigma_y, sigma_x = (sigma, sigma) if isinstance(sigma, (int, float)) else sigma
    height, width = images.shape[-2:]
    out = images
    if sigma_x > 0:
        out = out @ _gaussian_matrix(width, sigma_x, images.device, images.dtype).t()
    if sigma_y > 0:
        out = _gaussian_matrix(height, sigma_y, images.device, images.dtype) @ out
    return out


def sobel(gray: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Horizontal and vertical derivatives of ``(B, 1, H, W)`` (Sobel; a unit step gives 0.5).

    Written with slices of a replicate-padded image: a central difference in one
    direction, a [1, 2, 1] / 4 smoothing in the other.
    """
    p = F.pad(gray, (1, 1, 1, 1), mode="replicate")
    dx = (p[:, :, :, 2:] - p[:, :, :, :-2]) * 0.5  # (B, 1, H + 2, W)
    dy = (p[:, :, 2:, :] - p[:, :, :-2, :]) * 0.5  # (B, 1, H, W + 2)
    gx = (dx[:, :, :-2] + 2 * dx[:, :, 1:-1] + dx[:, :, 2:]) * 0.25
    gy = (dy[:, :, :, :-2] + 2 * dy[:, :, :, 1:-1] + dy[:, :, :, 2:]) * 0.25
    return gx, gy


def edge_magnitude(gray: torch.Tensor) -> torch.Tensor:
    """Gradient length ``sqrt(gx^2 + gy^2)`` of ``(B, 1, H, W)``; a unit step gives 0.5."""
    gx, gy = sobel(gray)
    return torch.sqrt(gx * gx + gy * gy + 1e-12)


def dilate(mask: torch.Tensor, width: int) -> torch.Tensor:
    """Grey-level dilation (running maximum) over a ``width x width`` square; odd widths."""
    if width <= 1:
        return mask
    width = width + 1 - width % 2
    return F.max_pool2d(mask, kernel_size=width, stride=1, padding=width // 2)


def box_mean(images: torch.Tensor, size: int) -> torch.Tensor:
    """Mean over a ``size x size`` window centred on each pixel (odd sizes, replicated borders)."""
    size = size + 1 - size % 2
    return window_mean(images, range(-(size // 2), size // 2 + 1), range(-(size // 2), size // 2 + 1))


def window_mean(images: torch.Tensor, rows: range, columns: range) -> torch.Tensor:
    """Mean over the window ``rows x columns`` of offsets around each pixel, as two matrix products."""
    height, width = images.shape[-2:]
    out = images @ _box_matrix(width, columns, images.device, images.dtype).t()
    return _box_matrix(height, rows, images.device, images.dtype) @ out


def _box_matrix(size: int, offsets: range, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    key = ("box", size, offsets.start, offsets.stop, str(device), dtype)
    if key not in _BAND_CACHE:
        weights = torch.full((len(offsets),), 1.0 / len(offsets), dtype=torch.float64)
        _BAND_CACHE[key] = band_matrix(size, weights, offsets).to(device=device, dtype=dtype)
    return _BAND_CACHE[key]


def kuwahara(images: torch.Tensor, radius: int) -> torch.Tensor:
    """Kuwahara filter: each pixel takes the mean colour of the least varied of the four
    ``(radius+1)^2`` squares that have it as a corner.

    Flat regions are smoothed while edges stay sharp, because the square that straddles
    an edge has a large variance and loses. The look is that of flat patches of paint.
    Variance is measured on luminance: ``Var = E[y^2] - E[y]^2`` over each square.
    """
    if radius < 1:
        return images
    gray = luminance(images)
    stacked = torch.cat([images, gray, gray * gray], dim=1)  # (B, 5, H, W)
    height, width = images.shape[-2:]
    before, after = range(-radius, 1), range(radius + 1)
    left = stacked @ _box_matrix(width, before, images.device, images.dtype).t()
    right = stacked @ _box_matrix(width, after, images.device, images.dtype).t()
    up = _box_matrix(height, before, images.device, images.dtype)
    down = _box_matrix(height, after, images.device, images.dtype)
    best_variance, best_colour = None, None
    for rows in (up, down):
        for columns in (left, right):
            window = rows @ columns  # (B, 5, H, W): means over one of the four squares
            variance = window[:, 4:5] - window[:, 3:4] ** 2  # E[y^2] - E[y]^2
            if best_variance is None:
                best_variance, best_colour = variance, window[:, :3]
                continue
            # A running minimum with torch.where is much faster on a CPU than argmin + gather.
            better = variance < best_variance
            best_variance = torch.where(better, variance, best_variance)
            best_colour = torch.where(better, window[:, :3], best_colour)
    return best_colour


def seeded_generator(seed: int) -> torch.Generator:
    generator = torch.Generator(device="cpu")
    generator.manual_seed(int(seed))
    return generator


def uniform_noise(shape: tuple[int, ...], generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """Uniform [0, 1) noise drawn on the CPU (device-independent), moved next to ``like``."""
    return torch.rand(shape, generator=generator).to(device=like.device, dtype=like.dtype)


def smooth_noise(
    batch: int, height: int, width: int, scale: float, generator: torch.Generator, like: torch.Tensor
) -> torch.Tensor:
    """Value noise in [0, 1], ``(B, 1, H, W)``, with features about ``scale`` pixels wide:
    a coarse random grid upsampled bicubically, then rescaled per image to fill [0, 1]."""
    coarse_h = max(2, int(round(height / scale)) + 1)
    coarse_w = max(2, int(round(width / scale)) + 1)
    coarse = uniform_noise((batch, 1, coarse_h, coarse_w), generator, like)
    noise = F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)
    low = noise.amin(dim=(2, 3), keepdim=True)
    high = noise.amax(dim=(2, 3), keepdim=True)
    return (noise - low) / (high - low).clamp_min(1e-6)


def fibre_texture(
    batch: int, height: int, width: int, generator: torch.Generator, like: torch.Tensor, length: float = 6.0
) -> torch.Tensor:
    """Paper fibres in [0, 1], ``(B, 1, H, W)``: white noise smeared along rows and along
    columns separately, so thin streaks run in both directions like pulp fibres."""
    white = uniform_noise((batch, 2, height, width), generator, like)
    along_rows = _blur_1d(white[:, 0:1], length, horizontal=True)
    along_cols = _blur_1d(white[:, 1:2], length, horizontal=False)
    fibres = torch.maximum(along_rows, along_cols)
    low = fibres.amin(dim=(2, 3), keepdim=True)
    high = fibres.amax(dim=(2, 3), keepdim=True)
    return (fibres - low) / (high - low).clamp_min(1e-6)


def _blur_1d(gray: torch.Tensor, sigma: float, horizontal: bool) -> torch.Tensor:
    return gaussian_blur(gray, (0.0, sigma) if horizontal else (sigma, 0.0))


def stretch_contrast(gray: torch.Tensor, low_quantile: float = 0.02, high_quantile: float = 0.98) -> torch.Tensor:
    """Map each image's ``low``..``high`` luminance quantiles to 0..1 (clamped), so dark and
    light photos use the whole tonal range before it is cut into tones or colours."""
    flat = gray.flatten(1)
    if flat.shape[1] > 65536:  # quantile() limits input size; a strided sample is enough
        flat = flat[:, :: flat.shape[1] // 65536 + 1]
    q = torch.quantile(flat.float(), torch.tensor([low_quantile, high_quantile], device=gray.device), dim=1)
    low = q[0].view(-1, 1, 1, 1).to(gray.dtype)
    high = q[1].view(-1, 1, 1, 1).to(gray.dtype)
    return ((gray - low) / (high - low).clamp_min(0.05)).clamp(0.0, 1.0)


def lerp(a: torch.Tensor, b: torch.Tensor, weight: torch.Tensor | float) -> torch.Tensor:
    """``a + weight (b - a)``, broadcasting ``weight``."""
    return a + (b - a) * weight


def stroke_directions(gray: torch.Tensor, sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit vectors ``(B, 1, H, W)`` x2 along which the image changes least (the edge tangent).

    The structure tensor ``J = G_sigma * [gx^2, gx gy; gx gy, gy^2]`` has its largest
    eigenvector across edges; a brush stroke runs perpendicular to it, at angle
    ``0.5 atan2(2 Jxy, Jxx - Jyy) + pi/2``.
    """
    gx, gy = sobel(gray)
    tensor = gaussian_blur(torch.cat([gx * gx, gx * gy, gy * gy], dim=1), sigma)
    jxx, jxy, jyy = tensor[:, 0:1], tensor[:, 1:2], tensor[:, 2:3]
    angle = 0.5 * torch.atan2(2 * jxy, jxx - jyy) + math.pi / 2
    return torch.cos(angle), torch.sin(angle)


def smear_along(
    values: torch.Tensor, direction_x: torch.Tensor, direction_y: torch.Tensor, half_length: float, taps: int
) -> torch.Tensor:
    """Average ``values`` over ``taps`` points on a line through each pixel along the given
    direction (a straight brush stroke), with bilinear sampling (``grid_sample``)."""
    height, width = values.shape[-2:]
    if taps == 1 or half_length <= 0:
        return values
    ys = torch.linspace(-1, 1, height, device=values.device, dtype=values.dtype)
    xs = torch.linspace(-1, 1, width, device=values.device, dtype=values.dtype)
    base = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)  # (H, W, 2) as (x, y) grid units
    # One pixel is 2 / (size - 1) grid units; the step is built once, (B, H, W, 2).
    step = torch.stack(
        [direction_x[:, 0] * (2.0 / max(width - 1, 1)), direction_y[:, 0] * (2.0 / max(height - 1, 1))], dim=-1
    )
    total = torch.zeros_like(values)
    for t in torch.linspace(-half_length, half_length, taps).tolist():
        grid = torch.addcmul(base, step, torch.tensor(t, dtype=values.dtype, device=values.device))
        total = total + F.grid_sample(values, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return total / taps


def per_image_quantiles(values: torch.Tensor, quantiles: torch.Tensor | list[float]) -> torch.Tensor:
    """``(B, C, H, W)``, ``(Q,)`` -> ``(B, Q)``: quantiles of each image, from a strided
    sample of at most 16384 values (plenty for levels and thresholds, and fast)."""
    flat = values.flatten(1).float()
    flat = flat[:, :: max(1, flat.shape[1] // 16384)]
    q = torch.as_tensor(quantiles, dtype=torch.float32, device=values.device)
    return torch.quantile(flat, q, dim=1).t().to(values.dtype)


def rgb_to_lab(images: torch.Tensor) -> torch.Tensor:
    """sRGB ``(B, 3, H, W)`` in [0, 1] -> CIE L*a*b* (D65): L in [0, 100], a and b about
    [-100, 100]. Distances in Lab follow what the eye sees far better than in RGB."""
    linear = torch.where(images <= 0.04045, images / 12.92, ((images.clamp_min(0) + 0.055) / 1.055) ** 2.4)
    matrix = torch.tensor(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]],
        device=images.device,
        dtype=images.dtype,
    )
    xyz = torch.einsum("ij,bjhw->bihw", matrix, linear)
    white = torch.tensor([0.9505, 1.0, 1.089], device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    t = xyz / white
    f = torch.where(t > 0.008856, t.clamp_min(1e-8) ** (1 / 3), 7.787 * t + 16 / 116)
    return torch.cat([116 * f[:, 1:2] - 16, 500 * (f[:, 0:1] - f[:, 1:2]), 200 * (f[:, 1:2] - f[:, 2:3])], dim=1)
