"""Built-in photos, a user's folder, and every kind of bad input, handled in the main process."""

import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab_kit.styles import photos


def test_builtin_photos_are_present_with_provenance_and_licence():
    sources = photos.builtin_photos()
    names = [s.name for s in sources]
    assert {"china", "flower", "astronaut", "coffee", "chelsea"} <= set(names)
    for source in sources:
        assert source.path.is_file()
        assert source.provenance and source.licence and source.licence != "the user's own"
    assert len(set(names)) == len(names)


def test_builtin_photos_decode_to_rgb_uint8():
    loaded = photos.load_photos(photos.builtin_photos()[:2])
    for image in loaded.images:
        assert image.dtype == torch.uint8 and image.shape[0] == 3 and min(image.shape[1:]) >= 256


def _save(path, array, mode=None, **kwargs):
    Image.fromarray(array, mode=mode).save(path, **kwargs) if mode else Image.fromarray(array).save(path, **kwargs)
    return path


def test_grayscale_rgba_palette_and_16bit_are_converted(tmp_path):
    gray = _save(tmp_path / "gray.png", np.full((10, 12), 77, np.uint8))
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, 6:, 3] = 255  # left half fully transparent -> white paper, right half opaque red
    rgba_path = _save(tmp_path / "rgba.png", rgba)
    palette_image = Image.fromarray(np.tile(np.arange(4, dtype=np.uint8), (10, 3))).convert("P")
    palette_image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9] + [0] * 756)
    palette_image.save(tmp_path / "palette.png")
    sixteen = np.full((10, 12), 65535, np.uint16)
    sixteen[:, :6] = 32768
    Image.fromarray(sixteen).save(tmp_path / "sixteen.png")
    assert Image.open(tmp_path / "sixteen.png").mode.startswith("I")

    assert torch.equal(photos.read_image(gray), torch.full((3, 10, 12), 77, dtype=torch.uint8))
    converted = photos.read_image(rgba_path)
    assert converted[:, 0, 0].tolist() == [255, 255, 255] and converted[:, 0, 11].tolist() == [200, 0, 0]
    pal = photos.read_image(tmp_path / "palette.png")
    assert pal[:, 0, 0].tolist() == [255, 0, 0] and pal[:, 0, 2].tolist() == [0, 0, 255]
    deep = photos.read_image(tmp_path / "sixteen.png")
    assert deep[:, 0, 11].tolist() == [255, 255, 255] and deep[:, 0, 0].tolist() == [128, 128, 128]


def test_corrupt_files_are_skipped_with_a_count_and_a_warning(tmp_path):
    _save(tmp_path / "good.png", np.full((40, 40, 3), 120, np.uint8))
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image")
    good_jpeg = tmp_path / "whole.jpg"
    _save(good_jpeg, np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8), quality=90)
    (tmp_path / "truncated.jpg").write_bytes(good_jpeg.read_bytes()[:300])
    (tmp_path / "notes.txt").write_text("ignored: not an image suffix")
    with pytest.warns(UserWarning, match=r"skipped 3 of 5 image files"):
        loaded = photos.load_photos(photos.folder_photos(tmp_path))
    assert [s.name for s in loaded.sources] == ["good", "whole"]
    assert sorted(p.name for p, _ in loaded.skipped) == ["empty.jpg", "text.png", "truncated.jpg"]


def test_empty_missing_and_all_bad_folders_say_so(tmp_path):
    with pytest.raises(ValueError, match="no image files"):
        photos.folder_photos(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        photos.folder_photos(tmp_path / "nope")
    (tmp_path / "bad.png").write_text("x")
    with pytest.raises(ValueError, match="no usable images"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        photos.load_photos(photos.folder_photos(tmp_path))


def test_too_small_images_error_upscale_or_skip(tmp_path):
    _save(tmp_path / "tiny.png", np.full((20, 30, 3), 50, np.uint8))
    _save(tmp_path / "big.png", np.full((80, 90, 3), 50, np.uint8))
    sources = photos.folder_photos(tmp_path)
    with pytest.raises(ValueError, match=r"'tiny.png' is 30x20 pixels, smaller than the crop size 64"):
        photos.load_photos(sources, min_size=64)
    upscaled = photos.load_photos(sources, min_size=64, too_small="upscale")
    sizes = {s.name: tuple(i.shape[1:]) for s, i in zip(upscaled.sources, upscaled.images)}
    assert sizes["tiny"] == (64, 96) and sizes["big"] == (80, 90)
    with pytest.warns(UserWarning, match="skipped 1 of 2"):
        kept = photos.load_photos(sources, min_size=64, too_small="skip")
    assert [s.name for s in kept.sources] == ["big"]


def test_split_by_source_is_disjoint_complete_and_seeded():
    sources = photos.builtin_photos()
    train, held = photos.split_by_source(sources, 2, seed=3)
    assert len(held) == 2 and len(train) == len(sources) - 2
    assert not {s.name for s in train} & {s.name for s in held}
    assert {s.name for s in train} | {s.name for s in held} == {s.name for s in sources}
    assert photos.split_by_source(sources, 2, seed=3) == (train, held)
    with pytest.raises(ValueError, match="cannot hold out"):
        photos.split_by_source(sources, len(sources))
