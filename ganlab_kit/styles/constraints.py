"""Culture constraints for ink-wash (水墨) style transfer, as differentiable losses.

A generic image-to-image GAN learns whatever makes its discriminator happy. ChipGAN
(He et al., ACM Multimedia 2018) adds what an ink-wash painter would insist on: leave
blank paper where nothing needs painting (留白), keep the brush strokes where the scene has
its contours, and let the ink diffuse softly into wet paper. Each constraint here is a
small named function, usable in a generator's loss next to the adversarial and cycle
terms.

* :func:`blank_space_loss`   light regions of the photo stay light in the painting;
* :func:`brush_edge_loss`    the painting's edges are where the photo's edges are;
* :func:`ink_diffusion_loss` the painting's edges are as soft as real ink-wash edges.

Where we deviate from the paper, said out loud: ChipGAN keeps blank space through the
cycle-consistency of its CycleGAN backbone, finds edges with a pretrained HED network and
scores them with a balanced cross-entropy, and judges ink diffusion with a discriminator
on blurred images. Here blank space is a direct penalty, edges come from a fixed Sobel
filter (nothing to download, nothing to train), and diffusion is one measured statistic
matched between two batches. Simpler, and each can be checked by hand.

Images are ``(B, 3, H, W)`` in [-1, 1] (the generator's tanh range). No value check is
made on the pixels (it would cost a device sync every training step); shapes are checked.

This lives in ``styles/`` rather than ``losses.py``: like ``perceptual.py`` it encodes
what a style is (luminance, paper, ink), while ``losses.py`` holds losses that hold for
any GAN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 luminance weights of R, G, B
EDGE_EPS = 1e-3  # keeps edge normalisation finite on a flat image
DIFFUSION_SIGMAS = (1.0, 2.0)  # blur scales (pixels) of the softness statistic


# ------------------------------------------------------------------ helpers
def check_batch(images: torch.Tensor, name: str) -> None:
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"{name} must have shape (B, 3, H, W) in [-1, 1], got {tuple(images.shape)}")
    if not images.is_floating_point():
        raise TypeError(f"{name} must be float in [-1, 1], got dtype {images.dtype}")


def luminance(images: torch.Tensor) -> torch.Tensor:
    """``(B, 3, H, W)`` in [-1, 1] -> grey level ``(B, 1, H, W)`` in [0, 1]."""
    r, g, b = ((images + 1) / 2).unbind(dim=1)
    return (LUMA[0] * r + LUMA[1] * g + LUMA[2] * b).unsqueeze(1)


def sobel_magnitude(grey: torch.Tensor) -> torch.Tensor:
    """Gradient length of ``(B, 1, H, W)``: Sobel kernels scaled so a unit step gives 0.5,
    replicated borders, ``sqrt(gx^2 + gy^2 + 1e-8)`` (finite gradient on flat regions)."""
    kernel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], device=grey.device) / 8
    kernels = torch.stack([kernel_x, kernel_x.T]).unsqueeze(1).to(grey.dtype)  # (2, 1, 3, 3)
    gradients = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), kernels)  # (B, 2, H, W)
    return (gradients.pow(2).sum(dim=1, keepdim=True) + 1e-8).sqrt()


def gaussian_blur(grey: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``(B, 1, H, W)``, radius ``3 sigma``, replicated borders."""
    radius = max(1, round(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, device=grey.device, dtype=grey.dtype)
    weights = torch.exp(-0.5 * (offsets / sigma) ** 2)
    weights = weights / weights.sum()
    out = F.conv2d(F.pad(grey, (radius, radius, 0, 0), mode="replicate"), weights.view(1, 1, 1, -1))
    return F.conv2d(F.pad(out, (0, 0, radius, radius), mode="replicate"), weights.view(1, 1, -1, 1))


# ------------------------------------------------------------ the constraints
def blank_space_loss(
    photo: torch.Tensor, output: torch.Tensor, threshold: float = 0.75, softness: float = 0.05, paper: float = 1.0
) -> torch.Tensor:
    r"""留白: where the photo is light, the painting must not be darker.

    With luminances ``Y_p`` (photo) and ``Y_o`` (output) in [0, 1] and a soft mask of the
    photo's light regions ``m = sigmoid((Y_p - threshold) / softness)``:

        L_blank = mean_{b,ij} m_ij * relu(min(Y_p,ij, paper) - Y_o,ij)

    the darkening inside the light regions, averaged over all pixels (an image with little
    light area contributes little; a dark photo asks for nothing). Zero when the output
    keeps (or whitens) every light region; brightening is never penalised (paper may be
    whiter than a sky). Dark regions of the photo are free to take ink. ``paper``: the
    luminance of the bare paper the painting is on; a light region need only stay as light
    as the paper (the kit's ink-wash paper is tinted, about 0.9).
    """
    check_batch(photo, "photo")
    check_batch(output, "output")
    if photo.shape != output.shape:
        raise ValueError(f"photo and output must have one shape, got {tuple(photo.shape)} and {tuple(output.shape)}")
    photo_light, output_light = luminance(photo.detach()), luminance(output)
    mask = torch.sigmoid((photo_light - threshold) / softness)  # (B, 1, H, W), the photo's light regions
    darkening = F.relu(photo_light.clamp(max=paper) - output_light)
    return (mask * darkening).mean()


def brush_edge_loss(photo: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    r"""Brush strokes follow the scene's contours: the edge maps of photo and output agree.

    With ``E(x) = |Sobel(Y(x))|``, the gradient length of the grey levels, normalised by
    its mean over the image so that only *where* the edges are counts, not how strong
    (an ink painting may be paler or bolder than the photo):

        N(x) = E(x) / (mean_ij E(x) + 1e-3),      L_edge = mean_{b,ij} | N(photo) - N(output) |

    Zero when the output's edges are the photo's (up to a global contrast factor);
    grows as edges vanish (blur) or appear where the photo has none.
    """
    check_batch(photo, "photo")
    check_batch(output, "output")
    if photo.shape != output.shape:
        raise ValueError(f"photo and output must have one shape, got {tuple(photo.shape)} and {tuple(output.shape)}")

    def normalised_edges(images: torch.Tensor) -> torch.Tensor:
        edges = sobel_magnitude(luminance(images))  # (B, 1, H, W)
        return edges / (edges.mean(dim=(1, 2, 3), keepdim=True) + EDGE_EPS)

    return (normalised_edges(photo.detach()) - normalised_edges(output)).abs().mean()


def edge_softness(images: torch.Tensor, sigmas: tuple[float, ...] = DIFFUSION_SIGMAS) -> torch.Tensor:
    r"""``(B, len(sigmas))``: how much edge strength survives a blur, per image and scale.

        s_sigma(x) = mean_ij |Sobel(G_sigma * Y)| / (mean_ij |Sobel(Y)| + 1e-4)

    A crisp edge loses much of its gradient to a Gaussian blur ``G_sigma`` (s well below
    1); an edge already diffused into wet paper loses little (s nearer 1). On the kit's
    64x64 patches photos give about 0.67-0.70 at sigma 1, and the ink-wash renderer's
    crisp contours on grainy paper about 0.63-0.66: near a photo's, so at this size the
    statistic separates washes from over-diffused mush, not ink from photographs.
    """
    grey = luminance(images)
    sharp = sobel_magnitude(grey).mean(dim=(1, 2, 3))
    blurred = [sobel_magnitude(gaussian_blur(grey, sigma)).mean(dim=(1, 2, 3)) for sigma in sigmas]
    return torch.stack(blurred, dim=1) / (sharp.unsqueeze(1) + 1e-4)


def ink_diffusion_loss(output: torch.Tensor, reference_ink_wash: torch.Tensor) -> torch.Tensor:
    r"""Ink diffuses: the outputs' edges are as soft as those of real ink-wash paintings.

    Matches the batch mean of :func:`edge_softness` at blur scales sigma = 1 and 2 pixels
    between a batch of outputs and a batch of ink-wash paintings (any batch sizes and image
    sizes; the reference is a target, no gradient flows into it):

        L_ink = mean_sigma | mean_b s_sigma(output_b) - mean_b' s_sigma(reference_b') |

    Small for ink-wash paintings against other ink-wash paintings, large for over-blurred
    mush (too soft); for photos it is small too at 64 px (see :func:`edge_softness`). A statistic of a batch, as in
    feature-matching losses: one image alone may legitimately be crisper than the average.
    """
    check_batch(output, "output")
    check_batch(reference_ink_wash, "reference_ink_wash")
    target = edge_softness(reference_ink_wash.detach()).mean(dim=0)  # (S,)
    return (edge_softness(output).mean(dim=0) - target).abs().mean()
