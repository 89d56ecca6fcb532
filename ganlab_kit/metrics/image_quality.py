"""Image quality against a ground truth: SSIM, PSNR and FSIM, one value per image.

When the right answer is known (a style renderer defines exactly which painting a photo
should become), a model's output can be scored pixel for pixel against it. The measures
come from the ``piq`` library (PyTorch Image Quality); this module fixes their settings,
checks the input, and returns one value per image, ``(B,)``.

* :func:`psnr`: peak signal-to-noise ratio, ``10 log10(1 / MSE)`` dB for images in [0, 1].
* :func:`ssim`: structural similarity (Wang et al., 2004): local means, variances and
  covariance under an 11x11 Gaussian window (sigma 1.5) combined as

      SSIM(x, y) = (2 mu_x mu_y + C1) (2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1) (sigma_x^2 + sigma_y^2 + C2))

  with C1 = 0.01^2, C2 = 0.03^2, averaged over every window that fits inside the image.
  This is scikit-image's ``structural_similarity(gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=1)``. piq's default first shrinks images whose
  short side is 384 pixels or more by average pooling (``downsample=True``), which changes
  the value (0.81 instead of 0.55 for a noisy 512x512 photo); we turn that off.
* :func:`fsim`: feature similarity (Zhang et al., 2011): agreement of phase congruency
  (where structure is, at any contrast) and gradient magnitude, weighted by phase
  congruency; FSIMc for colour adds the agreement of the chrominance channels.

All three take ``x`` and ``y`` of one shape ``(B, C, H, W)``, C = 1 (grey) or 3 (RGB),
float values in [0, 1], and are differentiable (they can serve as losses).
"""

from __future__ import annotations

import types

import torch

SSIM_WINDOW = 11  # Gaussian window side, pixels
SSIM_SIGMA = 1.5
PSNR_CAP_DB = 80.0  # piq adds 1e-8 to the MSE: identical images score 10 log10(1e8) = 80 dB
RANGE_TOLERANCE = 1e-3  # values this far outside [0, 1] are rounding (clamped), not a wrong range


def load_piq() -> types.ModuleType:
    """piq, imported on first use: it pulls in torchvision (about 1.5 s), which scoring
    digits with ``from ganlab_kit import metrics`` never needs."""
    try:
        import piq
    except ImportError as error:
        raise ImportError("SSIM, PSNR and FSIM come from the piq library: pip install piq") from error
    return piq


def check_image_pair(x: torch.Tensor, y: torch.Tensor, min_size: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Raise a clear error unless ``x`` and ``y`` are float image batches of one shape
    ``(B, 1 or 3, H, W)`` in [0, 1] on one device; return them clamped to [0, 1], float32
    or better."""
    for name, t in (("x", x), ("y", y)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dim() == 3:
            raise ValueError(f"{name} has shape {tuple(t.shape)}: add a batch dimension, e.g. {name}[None]")
        if t.dim() != 4 or t.shape[1] not in (1, 3):
            raise ValueError(f"{name} must have shape (B, 1 or 3, H, W), got {tuple(t.shape)}")
        if not t.is_floating_point():
            raise TypeError(f"{name} must be float in [0, 1], got dtype {t.dtype}; divide uint8 pixels by 255")
    if x.shape != y.shape:
        raise ValueError(f"x and y must have one shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.device != y.device:
        raise ValueError(f"x and y must be on one device, got {x.device} and {y.device}")
    if min(x.shape[-2:]) < min_size:
        raise ValueError(f"images must be at least {min_size}x{min_size} pixels, got {x.shape[-1]}x{x.shape[-2]}")
    for name, t in (("x", x), ("y", y)):
        low, high = float(t.detach().min()), float(t.detach().max())  # NaN fails both comparisons below
        if not (low >= -RANGE_TOLERANCE and high <= 1 + RANGE_TOLERANCE):
            hint = ""
            if low >= -1 - RANGE_TOLERANCE and low < 0 and high <= 1 + RANGE_TOLERANCE:
                hint = "; images in [-1, 1] (a tanh generator's range) become [0, 1] by (x + 1) / 2"
            elif high > 1 and high <= 255 + RANGE_TOLERANCE and low >= -RANGE_TOLERANCE:
                hint = "; pixels in [0, 255] become [0, 1] by dividing by 255"
            raise ValueError(f"{name} must hold values in [0, 1], found [{low:.4g}, {high:.4g}]{hint}")
    dtype = torch.promote_types(torch.promote_types(x.dtype, y.dtype), torch.float32)
    return x.to(dtype).clamp(0, 1), y.to(dtype).clamp(0, 1)


def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Structural similarity of each image pair, ``(B,)``; 1 for identical images.

    Wang et al. (2004) with an 11x11 Gaussian window, sigma 1.5, population (not sample)
    covariances, and no downsampling, as scikit-image computes it. Colour images: SSIM is
    computed for R, G and B separately and the three values are averaged (scikit-image's
    ``channel_axis`` convention). Images need at least 11x11 pixels.
    """
    x, y = check_image_pair(x, y, min_size=SSIM_WINDOW)
    return load_piq().ssim(
        x, y, kernel_size=SSIM_WINDOW, kernel_sigma=SSIM_SIGMA, data_range=1.0, reduction="none", downsample=False
    )


def psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio of each image pair in dB, ``(B,)``:
    ``10 log10(1 / (MSE + 1e-8))``, the MSE taken over all channels and pixels.

    Identical images give :data:`PSNR_CAP_DB` (80 dB) rather than infinity: piq adds 1e-8
    to the MSE, which also keeps the value finite and differentiable. Every 6 dB more
    halves the root-mean-square error.
    """
    x, y = check_image_pair(x, y)
    return load_piq().psnr(x, y, data_range=1.0, reduction="none")


def fsim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Feature similarity (Zhang et al., 2011) of each image pair, ``(B,)``, in (0, 1];
    1 for identical images.

    Grey images: FSIM on the grey levels. Colour images: FSIMc, which computes phase
    congruency and gradients on the luminance Y of the YIQ colour space and multiplies in
    the similarity of the chrominance channels I and Q. As in the authors' MATLAB code,
    images are first average-pooled by ``round(min(H, W) / 256)`` (a 512-pixel photo is
    scored at 256).
    """
    x, y = check_image_pair(x, y)
    return load_piq().fsim(x, y, data_range=1.0, reduction="none", chromatic=x.shape[1] == 3)
