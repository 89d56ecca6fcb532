"""SSIM, PSNR and FSIM against a ground truth: fixed points, blur, agreement with
scikit-image on real photos (grey and colour), and clear errors for bad input."""

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from torchvision.transforms.v2.functional import gaussian_blur

from ganlab_kit import metrics
from ganlab_kit.styles import builtin_photos, load_photos

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def centre_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    _, height, width = image.shape
    top, left = (height - size) // 2, (width - size) // 2
    return image[:, top : top + size, left : left + size]


@pytest.fixture(scope="module")
def photos() -> torch.Tensor:
    """Every built-in photo, centre 128x128, (N, 3, 128, 128) in [0, 1]."""
    loaded = load_photos(builtin_photos(), min_size=128)
    assert len(loaded.images) >= 5
    return torch.stack([centre_crop(image, 128) for image in loaded.images]).float() / 255


@pytest.fixture(scope="module")
def astronaut() -> torch.Tensor:
    """A whole 512x512 photo: large enough that piq's default would downsample it."""
    source = next((s for s in builtin_photos() if s.name == "astronaut"), None)
    if source is None:
        pytest.skip("scikit-image's astronaut photo is not installed")
    image = load_photos([source]).images[0]
    return image[None].float() / 255


def distorted(images: torch.Tensor) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(images.shape, generator=generator)
    return {
        "blur": gaussian_blur(images, kernel_size=[7, 7], sigma=[1.5, 1.5]),
        "noise": (images + 0.08 * noise).clamp(0, 1),
        "darker": images * 0.7,
    }


def skimage_ssim(x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """scikit-image's SSIM per image; colour: channel_axis over (H, W, C) = per-channel mean."""
    out = []
    for a, b in zip(x.double().numpy(), y.double().numpy(), strict=True):
        kwargs = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1)
        if a.shape[0] == 1:
            out.append(structural_similarity(a[0], b[0], **kwargs))
        else:
            out.append(structural_similarity(a.transpose(1, 2, 0), b.transpose(1, 2, 0), channel_axis=2, **kwargs))
    return np.array(out)


def grey(images: torch.Tensor) -> torch.Tensor:
    return (0.299 * images[:, 0:1] + 0.587 * images[:, 1:2] + 0.114 * images[:, 2:3]).clamp(0, 1)


def test_identical_images_score_the_top_values(photos):
    assert metrics.ssim(photos, photos).shape == (len(photos),)
    assert torch.allclose(metrics.ssim(photos, photos), torch.ones(len(photos)), atol=1e-5)
    assert torch.allclose(metrics.fsim(photos, photos), torch.ones(len(photos)), atol=1e-5)
    assert torch.all(metrics.psnr(photos, photos) == metrics.PSNR_CAP_DB)


def test_blur_lowers_every_score(photos):
    blurred = distorted(photos)["blur"]
    more_blurred = gaussian_blur(photos, kernel_size=[15, 15], sigma=[3.0, 3.0])
    for measure in (metrics.ssim, metrics.psnr, metrics.fsim):
        some, more = measure(photos, blurred), measure(photos, more_blurred)
        top = measure(photos, photos)
        assert torch.all(some < top - 1e-3) and torch.all(more < some), measure.__name__
    values = metrics.fsim(photos, more_blurred)
    assert torch.all(values > 0) and torch.all(values <= 1)


@pytest.mark.parametrize("kind", ["blur", "noise", "darker"])
def test_ssim_agrees_with_scikit_image_per_image_in_colour_and_grey(photos, kind):
    other = distorted(photos)[kind]
    colour = np.abs(metrics.ssim(photos, other).double().numpy() - skimage_ssim(photos, other))
    grey_diff = np.abs(
        metrics.ssim(grey(photos), grey(other)).double().numpy() - skimage_ssim(grey(photos), grey(other))
    )
    assert colour.max() < 0.005 and grey_diff.max() < 0.005
    assert colour.max() < 1e-4  # in fact the same computation, up to float32 rounding


def test_ssim_does_not_downsample_a_large_photo(astronaut):
    noisy = distorted(astronaut)["noise"]
    ours = metrics.ssim(astronaut, noisy).double().numpy()
    assert np.abs(ours - skimage_ssim(astronaut, noisy)).max() < 0.005
    assert (
        np.abs(
            metrics.ssim(grey(astronaut), grey(noisy)).double().numpy() - skimage_ssim(grey(astronaut), grey(noisy))
        ).max()
        < 0.005
    )


def test_psnr_agrees_with_scikit_image(photos):
    noisy = distorted(photos)["noise"]
    reference = [
        peak_signal_noise_ratio(a.numpy(), b.numpy(), data_range=1) for a, b in zip(photos, noisy, strict=True)
    ]
    assert np.allclose(metrics.psnr(photos, noisy).numpy(), reference, atol=1e-3)


def test_scores_are_differentiable(photos):
    output = distorted(photos[:2])["blur"].requires_grad_(True)
    for measure in (metrics.ssim, metrics.psnr, metrics.fsim):
        output.grad = None
        measure(output, photos[:2]).sum().backward()
        assert output.grad is not None and torch.isfinite(output.grad).all() and output.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32), r"\[0, 1\].*\(x \+ 1\) / 2"),
        (torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32) * 255, r"y must hold values in \[0, 1\].*255"),
        (torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 24), "one shape"),
        (torch.rand(3, 32, 32), torch.rand(3, 32, 32), "batch dimension"),
        (torch.rand(2, 4, 32, 32), torch.rand(2, 4, 32, 32), r"\(B, 1 or 3, H, W\)"),
        (torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8), "at least 11x11"),
        (torch.full((1, 3, 16, 16), float("nan")), torch.rand(1, 3, 16, 16), r"\[0, 1\]"),
    ],
)
def test_bad_input_is_a_clear_error(x, y, message):
    with pytest.raises(ValueError, match=message):
        metrics.ssim(x, y)


def test_bad_types_are_a_clear_error():
    with pytest.raises(TypeError, match="divide uint8"):
        metrics.psnr(torch.zeros(1, 3, 16, 16, dtype=torch.uint8), torch.zeros(1, 3, 16, 16, dtype=torch.uint8))
    with pytest.raises(TypeError, match="torch.Tensor"):
        metrics.fsim(np.zeros((1, 3, 16, 16)), torch.zeros(1, 3, 16, 16))
    with pytest.raises(ValueError, match="one shape"):
        metrics.fsim(torch.rand(1, 3, 16, 16), torch.rand(1, 1, 16, 16))


def test_rounding_just_outside_the_range_is_accepted():
    x = torch.rand(1, 3, 16, 16)
    assert metrics.psnr(x + 5e-4, x).shape == (1,)
