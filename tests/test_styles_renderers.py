"""Renderers: determinism, shape/range, and each tradition's traits measured by statistics."""

import pytest
import torch

from ganlab_kit.styles import photos, statistics
from ganlab_kit.styles.inkwash import InkWashConfig, ink_wash_steps, render_ink_wash
from ganlab_kit.styles.oil import OilConfig, render_oil
from ganlab_kit.styles.ukiyoe import UkiyoeConfig, render_ukiyoe

RENDERERS = {"ink_wash": render_ink_wash, "oil": render_oil, "ukiyoe": render_ukiyoe}


@pytest.fixture(scope="module")
def photo_batch() -> torch.Tensor:
    """Every built-in photo at 96x96, (N, 3, 96, 96) in [0, 1]."""
    loaded = photos.load_photos(photos.builtin_photos())
    return torch.stack([photos.resize_uint8(image, (96, 96)) for image in loaded.images]).float() / 255


@pytest.mark.parametrize("name", RENDERERS)
def test_same_seed_same_pixels_and_other_seed_differs(name, photo_batch):
    render = RENDERERS[name]
    first = render(photo_batch[:3], seed=5)
    again = render(photo_batch[:3].clone(), seed=5)
    other = render(photo_batch[:3], seed=6)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)  # the seed really drives the noise (paper, bristles, grain)


@pytest.mark.parametrize("name", RENDERERS)
@pytest.mark.parametrize("size", [(40, 56), (96, 96)])
def test_shape_dtype_and_range(name, size, photo_batch):
    images = torch.nn.functional.interpolate(photo_batch[:2], size=size, mode="bilinear", align_corners=False)
    out = RENDERERS[name](images.clamp(0, 1))
    assert out.shape == images.shape and out.dtype == images.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert torch.isfinite(out).all()
    assert not torch.allclose(out, images, atol=0.05)  # something was painted


@pytest.mark.parametrize("name", RENDERERS)
def test_bad_input_is_named(name):
    render = RENDERERS[name]
    with pytest.raises(ValueError, match="batch dimension"):
        render(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        render(torch.rand(1, 4, 32, 32))
    with pytest.raises(TypeError, match="float"):
        render(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))


def test_ink_wash_has_no_colour_and_much_blank_space(photo_batch):
    ink = statistics.style_statistics(render_ink_wash(photo_batch))
    photo = statistics.style_statistics(photo_batch)
    assert float(ink.saturation.max()) < 0.06  # monochrome up to the faint paper tint
    assert float(photo.saturation.mean()) > 0.2
    assert float(ink.blank_space.mean()) > 0.2
    assert float(ink.blank_space.mean()) > 2 * float(photo.blank_space.mean())


def test_ink_wash_cuts_five_tones(photo_batch):
    config = InkWashConfig(tone_softness=0.002)  # near-hard steps: a clean staircase
    tones = ink_wash_steps(photo_batch, config)["five_tones"]
    levels = torch.tensor([0.0, *config.tone_densities])
    distance = (tones.flatten().unsqueeze(1) - levels).abs().min(dim=1).values
    assert float((distance < 0.02).float().mean()) > 0.9  # almost all on one of the six plateaus
    for level in levels:  # and every plateau is used somewhere
        assert float(((tones - level).abs() < 0.02).float().mean()) > 0.03


def test_ink_wash_seal_is_the_only_red():
    plain = torch.full((1, 3, 64, 64), 0.5)
    with_seal = render_ink_wash(plain, InkWashConfig(seal=True))
    without = render_ink_wash(plain, InkWashConfig(seal=False))
    red = lambda x: (x[:, 0] - x[:, 2] > 0.2).float().mean()  # noqa: E731
    assert float(red(without)) == 0.0
    assert float(red(with_seal)) > 0.005
    corner = (with_seal[:, 0] - with_seal[:, 2] > 0.2)[0]
    rows, cols = corner.nonzero(as_tuple=True)
    assert rows.float().mean() > 40 and cols.float().mean() > 40  # lower right


def test_oil_is_more_saturated_than_the_photo(photo_batch):
    oil = statistics.mean_saturation(render_oil(photo_batch))
    photo = statistics.mean_saturation(photo_batch)
    assert bool((oil > photo).all())
    assert float(oil.mean()) > 1.2 * float(photo.mean())
    muted = statistics.mean_saturation(render_oil(photo_batch, OilConfig(saturation_gain=0.5)))
    assert float(muted.mean()) < float(oil.mean())  # the knob does what it says


def test_ukiyoe_uses_few_colours(photo_batch):
    prints = statistics.palette_size(render_ukiyoe(photo_batch))
    photo = statistics.palette_size(photo_batch)
    assert float(prints.mean()) < 0.6 * float(photo.mean())
    assert float(prints.max()) <= 20
    # Without grain, bokashi and key lines, every pixel is exactly one of the palette's inks.
    flat = render_ukiyoe(photo_batch, UkiyoeConfig(grain_strength=0.0, bokashi_strength=0.0, outline_threshold=9.0))
    palette = torch.tensor(list(UkiyoeConfig().palette.values()))
    pixels = flat.permute(0, 2, 3, 1).reshape(-1, 3)
    distance = (pixels.unsqueeze(1) - palette.unsqueeze(0)).abs().amax(dim=2).min(dim=1).values
    assert float(distance.max()) < 1e-6


def test_ukiyoe_config_rejects_unknown_colour():
    with pytest.raises(ValueError, match="not in the palette"):
        UkiyoeConfig(outline_colour="neon green")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", RENDERERS)
def test_gpu_matches_cpu(name, photo_batch):
    cpu = RENDERERS[name](photo_batch[:2], seed=3)
    gpu = RENDERERS[name](photo_batch[:2].cuda(), seed=3).cpu()
    # Same noise (drawn on the CPU); floating-point order differs, and a rare pixel may
    # flip between two palette colours or Kuwahara windows.
    assert float((cpu - gpu).abs().gt(0.02).float().mean()) < 0.01
