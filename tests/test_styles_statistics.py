"""Style statistics on images whose answers are known by construction."""

import pytest
import torch

from ganlab_kit.styles import statistics


def _image(*colours_and_widths, height=20):
    """Vertical bands: ((r, g, b), width) ... -> (1, 3, height, sum(width))."""
    columns = []
    for colour, width in colours_and_widths:
        columns.append(torch.tensor(colour).view(3, 1, 1).expand(3, height, width))
    return torch.cat(columns, dim=2).unsqueeze(0).contiguous()


def test_blank_space_counts_light_grey_not_light_colour():
    image = _image(((1.0, 1.0, 1.0), 10), ((1.0, 0.8, 0.2), 10), ((0.0, 0.0, 0.0), 20))
    assert abs(float(statistics.blank_space_ratio(image)) - 0.25) < 1e-6  # only the white quarter


def test_saturation_of_grey_and_pure_colour():
    grey = torch.full((1, 3, 8, 8), 0.4)
    red = _image(((1.0, 0.0, 0.0), 8), height=8)
    assert float(statistics.mean_saturation(grey)) == 0.0
    assert abs(float(statistics.mean_saturation(red)) - 1.0) < 1e-5


def test_palette_size_and_dominant_colours():
    image = _image(((0.9, 0.1, 0.1), 50), ((0.1, 0.1, 0.9), 30), ((0.1, 0.9, 0.1), 15), ((0.5, 0.5, 0.5), 5))
    # shares 0.5, 0.3, 0.15, 0.05: 90% coverage needs three colours, 99% needs four
    assert float(statistics.palette_size(image, coverage=0.9)) == 3
    assert float(statistics.palette_size(image, coverage=0.99)) == 4
    top = statistics.dominant_colours(image, count=2)[0]
    assert [round(share, 2) for _, share in top] == [0.5, 0.3]
    assert abs(top[0][0][0] - 0.9) < 1e-4 and abs(top[1][0][2] - 0.9) < 1e-4


def test_ink_tone_histogram_bands():
    levels = [0.1, 0.3, 0.45, 0.6, 0.75, 0.9]  # one value inside each band, dark -> paper
    image = torch.cat([torch.full((1, 3, 4, 4), v) for v in levels], dim=3)
    histogram = statistics.ink_tone_histogram(image)
    assert torch.allclose(histogram, torch.full((1, 6), 1 / 6))


def test_edge_density_and_stroke_width_of_stripes():
    flat = torch.full((1, 3, 32, 32), 0.7)
    assert float(statistics.edge_density(flat)) == 0.0
    assert float(statistics.stroke_width(flat)) == 0.0  # no dark pixels, no strokes
    stripes = torch.ones(1, 3, 32, 32)
    for start in (4, 14, 24):
        stripes[..., start : start + 4] = 0.0  # three vertical strokes, 4 px wide
    assert abs(float(statistics.stroke_width(stripes)) - 4.0) < 1e-6
    assert float(statistics.edge_density(stripes)) > 0.2


def test_texture_energy_is_zero_for_flat_and_grows_with_noise():
    generator = torch.Generator().manual_seed(0)
    flat = torch.full((1, 3, 32, 32), 0.5)
    noisy = (flat + 0.1 * torch.randn(1, 3, 32, 32, generator=generator)).clamp(0, 1)
    noisier = (flat + 0.2 * torch.randn(1, 3, 32, 32, generator=generator)).clamp(0, 1)
    assert float(statistics.texture_energy(flat)) < 1e-6
    assert 0 < float(statistics.texture_energy(noisy)) < float(statistics.texture_energy(noisier))


def test_set_statistics_average_the_per_image_values():
    a = torch.ones(1, 3, 16, 16)
    b = torch.zeros(1, 3, 16, 16)
    summary = statistics.set_statistics(torch.cat([a, b, b, b]), batch_size=3)
    assert abs(summary["blank_space"] - 0.25) < 1e-6
    assert abs(summary["tone 焦 burnt"] - 0.75) < 1e-6 and abs(summary["tone paper"] - 0.25) < 1e-6


def test_content_ssim_sees_structure_not_texture():
    torch.manual_seed(0)
    photo = statistics.filters.gaussian_blur(torch.rand(2, 3, 64, 64), 3.0)
    photo = (photo - photo.amin()) / (photo.amax() - photo.amin())
    assert torch.allclose(statistics.content_ssim(photo, photo), torch.ones(2), atol=1e-6)
    textured = (photo + 0.15 * (torch.rand_like(photo) - 0.5)).clamp(0, 1)  # fine grain only
    flipped = photo.flip(-1)  # the same pixels, another layout
    assert float(statistics.content_ssim(photo, textured).min()) > 0.9
    assert float(statistics.content_ssim(photo, flipped).max()) < float(statistics.content_ssim(photo, textured).min())
    with pytest.raises(ValueError, match="differ in shape"):
        statistics.content_ssim(photo, photo[:, :, :32])
