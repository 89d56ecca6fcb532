"""The one crop pipeline and the one pixel conversion: reproducible, real crops, exact round trips, cache."""

import subprocess
import sys

import pytest
import torch

from ganlab_kit import data, runtime
from ganlab_kit.data import images as image_sets
from ganlab_kit.styles import photos
from ganlab_kit.styles.renderers import StyleRenderer

pytestmark = pytest.mark.usefixtures("data_in_tmp")


@pytest.fixture(scope="module")
def loaded(loaded_photos):
    return loaded_photos


def test_patches_are_reproducible_and_in_range(loaded):
    config = data.PatchConfig(size=32)
    first = data.photo_patches(loaded, 12, config, seed=4)
    again = data.photo_patches(loaded, 12, config, seed=4)
    other = data.photo_patches(loaded, 12, config, seed=5)
    assert torch.equal(first.pixels, again.pixels)
    assert not torch.equal(first.pixels, other.pixels)
    item = first[0]
    assert set(item) == {"image"}
    assert item["image"].shape == (3, 32, 32) and item["image"].dtype == torch.float32
    assert -1.0 <= float(item["image"].min()) and float(item["image"].max()) <= 1.0
    assert first.sources[:3] == [s.name for s in loaded.sources]  # photos taken in turn


def test_patch_is_a_real_crop_of_its_source(loaded):
    config = data.PatchConfig(size=32, flip=False)
    patches = data.photo_patches(loaded, 3, config, seed=0)
    for index in range(3):
        source = data.prepare_image(loaded.images[index], config).float()
        patch = patches.pixels[index].float()
        windows = source.unfold(1, 32, 1).unfold(2, 32, 1)  # (3, H', W', 32, 32)
        difference = (windows - patch[:, None, None]).abs().sum(dim=(0, 3, 4))
        assert float(difference.min()) == 0.0


def test_one_conversion_round_trips_uint8_exactly():
    pixels = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16)
    signed = data.to_signed(pixels)
    assert signed.dtype == torch.float32 and float(signed.min()) == -1.0 and float(signed.max()) == 1.0
    assert torch.equal(data.to_uint8(signed), pixels)
    assert torch.allclose(data.to_unit(signed), pixels.float() / 255, atol=1e-6)
    # a float image in [0, 1] takes the same road: 0 -> -1, 1 -> 1, overshoot clamped
    assert data.to_signed(torch.tensor([0.0, 0.5, 1.0, 1.02])).tolist() == [-1.0, 0.0, 1.0, 1.0]
    with pytest.raises(TypeError, match="uint8 pixels or float"):
        data.to_signed(torch.zeros(3, dtype=torch.int32))


def _former_style_patch(image, size, load_size, flip, seed, index):
    """The crop pipeline of the former ``ganlab_kit/datasets.py`` (photo_patches, image
    folders, style sets), frozen here to prove the one pipeline gives its users the same pixels."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + index)
    short_side = min(image.shape[-2:])
    if short_side > load_size:
        scale = load_size / short_side
        image = photos.resize_uint8(
            image, (max(size, round(image.shape[-2] * scale)), max(size, round(image.shape[-1] * scale)))
        )
    height, width = image.shape[-2:]
    top = int(torch.randint(0, height - size + 1, (1,), generator=generator))
    left = int(torch.randint(0, width - size + 1, (1,), generator=generator))
    patch = image[:, top : top + size, left : left + size]
    if flip and bool(torch.rand((), generator=generator) < 0.5):
        patch = patch.flip(-1)
    return patch


@pytest.mark.parametrize("flip", [True, False])
def test_former_patch_users_get_identical_crops(loaded, flip):
    config = data.PatchConfig(size=32, flip=flip)
    patches = data.photo_patches(loaded, 7, config, seed=3)
    for index in range(7):
        expected = _former_style_patch(loaded.images[index % 3], 32, 64, flip, 3, index)
        assert torch.equal(patches.pixels[index], expected)


def test_dcgan_photo_crops_go_through_the_one_pipeline():
    # The one place behaviour changed: photo_crops / styled_crops (formerly image_data.py,
    # one NumPy stream, a random photo per crop, float bilinear resize) now cut crop i from
    # photo i mod n with the seeded per-item generator and the uint8 resize of every patch.
    # Same zoom range (1/8 to 1/3 of the shorter side), no flips; pixels differ from before.
    crops = data.photo_crops(16, count=5, seed=2)
    builtin = photos.load_photos(photos.builtin_photos())
    expected = data.photo_patches(builtin, 5, image_sets._crop_config(16), seed=2).all()
    assert torch.equal(crops.images, expected)
    config = image_sets._crop_config(16)
    assert config.scale == (1 / 8, 1 / 3) and not config.flip and config.load_size == 128


def test_zoomed_window_is_a_resized_crop(loaded):
    config = data.PatchConfig(size=16, load_size=64, flip=False, scale=(0.5, 0.5))
    image = data.prepare_image(loaded.images[0], config)
    patch = data.random_patch(image, config, torch.Generator().manual_seed(0))
    assert patch.shape == (3, 16, 16) and patch.dtype == torch.uint8
    side = round(0.5 * min(image.shape[-2:]))  # every window has this side; find which one
    windows = image.float().unfold(1, side, 1).unfold(2, side, 1)  # (3, H', W', side, side)
    best = min(
        float((photos.resize_uint8(windows[:, i, j].to(torch.uint8), (16, 16)).float() - patch.float()).abs().max())
        for i in range(windows.shape[1])
        for j in range(windows.shape[2])
    )
    assert best == 0.0
    with pytest.raises(ValueError, match="scale"):
        data.PatchConfig(size=16, scale=(0.5, 1.5))


def test_rendered_cache_key_depends_on_the_renderer_config(loaded):
    patches = data.photo_patches(loaded, 4, data.PatchConfig(size=32))
    bright = StyleRenderer("shift", lambda x, c, s: (x + c).clamp(0, 1), 0.2)
    dark = StyleRenderer("shift", lambda x, c, s: (x + c).clamp(0, 1), -0.2)
    a = data.rendered(patches, bright)
    b = data.rendered(patches, dark)
    assert float(a.all().mean()) > float(b.all().mean())
    cache = runtime.data_dir() / "cache"
    assert len(list(cache.glob("shift-*.safetensors"))) == 2
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # atomic_path left no temporary
    assert torch.equal(data.rendered(patches, bright).pixels, a.pixels)  # read back from the cache


def test_importing_the_data_package_loads_no_widgets_or_plots():
    code = (
        "import sys, ganlab_kit.data; "
        "print(sorted(m for m in ('ipywidgets', 'IPython', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
