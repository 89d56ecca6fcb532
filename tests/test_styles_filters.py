"""Filters against independent, slow reference computations."""

import torch
import torch.nn.functional as F

from ganlab_kit.styles import filters


def test_gaussian_blur_equals_padded_convolution():
    images = torch.rand(2, 3, 20, 17, generator=torch.Generator().manual_seed(0))
    sigma = 1.3
    kernel = filters.gaussian_kernel1d(sigma, images.device, images.dtype)
    r = kernel.numel() // 2
    flat = images.reshape(-1, 1, 20, 17)
    ref = F.conv2d(F.pad(flat, (r, r, 0, 0), mode="replicate"), kernel.view(1, 1, 1, -1))
    ref = F.conv2d(F.pad(ref, (0, 0, r, r), mode="replicate"), kernel.view(1, 1, -1, 1)).reshape(2, 3, 20, 17)
    assert torch.allclose(filters.gaussian_blur(images, sigma), ref, atol=1e-5)
    assert torch.allclose(filters.gaussian_blur(torch.full((1, 1, 9, 9), 0.3), 2.0), torch.full((1, 1, 9, 9), 0.3))


def test_kuwahara_picks_the_least_varied_quadrant():
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(1, 3, 12, 11, generator=generator)
    radius = 2
    out = filters.kuwahara(images, radius)
    gray = filters.luminance(images)[0, 0]
    for i, j in [(0, 0), (5, 6), (11, 10), (3, 9)]:
        best = None
        for dr, dc in [(-radius, -radius), (-radius, 0), (0, -radius), (0, 0)]:
            rows = [min(max(i + dr + a, 0), 11) for a in range(radius + 1)]
            cols = [min(max(j + dc + b, 0), 10) for b in range(radius + 1)]
            lum = gray[rows][:, cols].reshape(-1)
            colour = images[0][:, rows][:, :, cols].reshape(3, -1).mean(1)
            variance = lum.var(unbiased=False)
            if best is None or variance < best[0] - 1e-7:
                best = (variance, colour)
        assert torch.allclose(out[0, :, i, j], best[1], atol=1e-5)


def test_sobel_of_a_ramp_and_a_step():
    ramp = torch.arange(10.0).view(1, 1, 1, 10).expand(1, 1, 8, 10) * 0.1
    gx, gy = filters.sobel(ramp)
    assert torch.allclose(gx[..., 1:-1], torch.full_like(gx[..., 1:-1], 0.1), atol=1e-6)
    assert torch.allclose(gy, torch.zeros_like(gy), atol=1e-6)
    step = torch.zeros(1, 1, 6, 6)
    step[..., 3:] = 1.0
    assert abs(float(filters.edge_magnitude(step).max()) - 0.5) < 1e-4


def test_noise_is_seeded_and_in_range():
    like = torch.zeros(1)
    a = filters.smooth_noise(2, 30, 40, 8.0, filters.seeded_generator(4), like)
    b = filters.smooth_noise(2, 30, 40, 8.0, filters.seeded_generator(4), like)
    assert torch.equal(a, b) and a.shape == (2, 1, 30, 40)
    assert float(a.min()) == 0.0 and float(a.max()) == 1.0
    fibres = filters.fibre_texture(1, 30, 40, filters.seeded_generator(4), like)
    assert 0.0 <= float(fibres.min()) and float(fibres.max()) <= 1.0
