"""Renderers: determinism, shape/range, and each tradition's traits measured by statistics."""

import pytest
import torch

from ganlab_kit.styles import photos, statistics
from ganlab_kit.styles.inkwash import InkWashConfig, ink_wash_steps, render_ink_wash
from ganlab_kit.styles.oil import OilConfig, render_oil
from ganlab_kit.styles.ukiyoe import SKY_INKS, UkiyoeConfig, render_ukiyoe, ukiyoe_steps

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
    with pytest.raises(ValueError, match="too small"):
        render(torch.rand(1, 3, 4, 32))
    broken = torch.rand(1, 3, 32, 32)
    broken[0, 1, 5, 7] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        render(broken)


def test_ink_wash_has_no_colour_and_much_blank_space(photo_batch):
    ink = statistics.style_statistics(render_ink_wash(photo_batch))
    photo = statistics.style_statistics(photo_batch)
    assert float(ink.saturation.max()) < 0.06  # monochrome up to the faint paper tint
    assert float(photo.saturation.mean()) > 0.2
    assert float(ink.blank_space.mean()) > 0.15  # dark backgrounds get a pale wash, light ones stay paper
    assert float(ink.blank_space.mean()) > 2 * float(photo.blank_space.mean())


def test_ink_wash_leaves_a_plain_background_as_paper():
    """A dark vase-like subject on a plain light wall: the wall must stay bare paper (留白)."""
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 128), torch.linspace(-1, 1, 128), indexing="ij")
    subject = ((xx / 0.35) ** 2 + (yy / 0.55) ** 2 < 1).float()
    stripes = 0.15 * torch.sin(yy * 40)  # some detail on the subject
    photo = (0.85 - subject * (0.55 + stripes)).expand(1, 3, 128, 128).contiguous()
    photo[:, 0] += 0.03  # a faintly warm wall, not pure grey
    out = render_ink_wash(photo.clamp(0, 1), seed=1)
    blank = float(statistics.blank_space_ratio(out))
    assert blank >= 0.55, (
        f"only {blank:.2f} of the picture left as paper; the plain wall is {1 - float(subject.mean()):.2f}"
    )
    inside = statistics.blank_space_ratio(out * subject + (1 - subject) * 0.0)  # paper inside the subject only
    assert float(inside) < 0.5 * float(subject.mean())  # and the subject itself carries ink


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
    red = lambda x: (x[:, 0] - x[:, 2] > 0.2).float().mean()
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
    flat = render_ukiyoe(
        photo_batch, UkiyoeConfig(grain_strength=0.0, bokashi_strength=0.0, outline_contrast=999.0, detail_lines=9.0)
    )
    palette = torch.tensor(list(UkiyoeConfig().palette.values()))
    pixels = flat.permute(0, 2, 3, 1).reshape(-1, 3)
    distance = (pixels.unsqueeze(1) - palette.unsqueeze(0)).abs().amax(dim=2).min(dim=1).values
    assert float(distance.max()) < 1e-6


def test_ukiyoe_palette_size_at_most_its_stated_number_of_inks(photo_batch):
    """With key lines, bokashi and grain off, a print holds at most ``len(palette)`` colours;
    with everything on, the 8x8x8 palette measure stays small too."""
    config = UkiyoeConfig(grain_strength=0.0, bokashi_strength=0.0, outline_contrast=999.0, detail_lines=9.0)
    flat = render_ukiyoe(photo_batch, config)
    for image in flat:
        colours = torch.unique(image.flatten(1).t(), dim=0)
        assert len(colours) <= len(config.palette)
    assert float(statistics.palette_size(render_ukiyoe(photo_batch)).max()) <= 12


def test_ukiyoe_bokashi_step_has_no_key_lines(photo_batch):
    steps = ukiyoe_steps(photo_batch[:2])
    lines = steps["keyblock"] < 0.5
    assert float(lines.float().mean()) > 0.01
    sumi = torch.tensor(UkiyoeConfig().palette["sumi black"]).view(1, 3, 1, 1)
    # Where the key block prints, the final print is sumi; the bokashi step is not (it comes before).
    near_sumi = lambda x: (x - sumi).abs().amax(dim=1, keepdim=True) < 0.05
    assert float(near_sumi(steps["final"])[lines].float().mean()) > 0.5
    assert (
        float(near_sumi(steps["bokashi"])[lines].float().mean())
        < float(near_sumi(steps["final"])[lines].float().mean()) - 0.3
    )


def test_ukiyoe_night_sky_stays_a_sky_colour():
    """A dark blue sky above a grey ground prints in a blue ink, not green or brown."""
    photo = torch.zeros(1, 3, 96, 96)
    photo[:, :, :60] = torch.tensor([0.08, 0.12, 0.30]).view(1, 3, 1, 1)  # night sky
    photo[:, :, 60:] = torch.tensor([0.45, 0.45, 0.42]).view(1, 3, 1, 1)  # ground
    steps = ukiyoe_steps(photo)
    names = list(UkiyoeConfig().palette)
    sky_inks = {names.index("prussian blue (bero-ai)"), names.index("light indigo (ai)")}
    assert set(torch.unique(steps["labels"][0, 5:30]).tolist()) <= sky_inks  # the upper sky: only sky inks
    sky = steps["labels"][0, 5:55]
    is_sky_ink = (sky == min(sky_inks)) | (sky == max(sky_inks))
    assert float(is_sky_ink.float().mean()) > 0.9  # and nearly all of it down to the horizon


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


def test_ukiyoe_face_keeps_eyes_and_mouth():
    """A pale face with small, only moderately dark eyes and mouth: the key block draws them
    (the regions alone would print one flat flesh blob)."""
    photo = torch.empty(1, 3, 128, 128)
    photo[:] = torch.tensor([0.55, 0.62, 0.75]).view(1, 3, 1, 1)  # background
    yy, xx = torch.meshgrid(torch.arange(128.0), torch.arange(128.0), indexing="ij")
    face = ((yy - 64) / 40) ** 2 + ((xx - 64) / 32) ** 2 < 1
    photo[0, :, face] = torch.tensor([0.90, 0.72, 0.60]).view(3, 1)  # skin
    features = {"left eye": (52, 50), "right eye": (52, 78), "mouth": (84, 64)}
    for y, x in features.values():
        photo[0, :, y - 2 : y + 3, x - 3 : x + 4] = torch.tensor([0.72, 0.55, 0.46]).view(3, 1, 1)  # moderately dark
    lines = ukiyoe_steps(photo)["keyblock"][0, 0] < 0.5
    for name, (y, x) in features.items():
        assert bool(lines[y - 3 : y + 4, x - 4 : x + 5].any()), f"no key line at the {name}"
    assert not bool(lines[64:72, 56:72].any())  # the cheek stays a flat area


def test_ukiyoe_dark_building_under_a_sky_is_not_sky():
    """A dark grey tower in the upper half that does not reach the top edge is a building,
    not sky: it never gets a sky ink (the china photo's pagoda used to print Prussian blue)."""
    photo = torch.empty(1, 3, 128, 128)
    photo[:] = torch.tensor([0.80, 0.86, 0.93]).view(1, 3, 1, 1)  # pale sky
    photo[:, :, 96:] = torch.tensor([0.35, 0.50, 0.25]).view(1, 3, 1, 1)  # grass
    photo[:, :, 24:100, 44:84] = torch.tensor([0.20, 0.20, 0.21]).view(1, 3, 1, 1)  # tower in shadow
    labels = ukiyoe_steps(photo)["labels"][0]
    names = list(UkiyoeConfig().palette)
    sky_inks = torch.tensor([names.index(n) for n in SKY_INKS])
    tower = labels[32:92, 52:76]
    assert not bool(torch.isin(tower, sky_inks).any())
    assert bool(torch.isin(labels[2:12, 2:40], sky_inks).all())  # the sky itself still is


def test_renderers_refuse_images_outside_zero_one_with_a_hint():
    from ganlab_kit.styles import renderers

    signed = torch.rand(1, 3, 16, 16) * 2 - 1
    with pytest.raises(ValueError, match=r"\[0, 1\].*\(x \+ 1\) / 2"):
        renderers.oil()(signed)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        renderers.ink_wash()(torch.rand(3, 16, 16))
