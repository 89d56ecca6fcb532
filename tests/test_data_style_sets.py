"""Datasets: reproducible patches, splits without leakage, cache, folders and bad input."""

import warnings

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from ganlab_kit import datasets
from ganlab_kit.styles import photos, renderers
from ganlab_kit.styles.renderers import StyleRenderer


@pytest.fixture(autouse=True)
def data_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path / "data"))


@pytest.fixture(scope="module")
def loaded():
    return photos.load_photos(photos.builtin_photos()[:3])


def test_patches_are_reproducible_and_in_range(loaded):
    config = datasets.PatchConfig(size=32)
    first = datasets.photo_patches(loaded, 12, config, seed=4)
    again = datasets.photo_patches(loaded, 12, config, seed=4)
    other = datasets.photo_patches(loaded, 12, config, seed=5)
    assert torch.equal(first.images_uint8, again.images_uint8)
    assert not torch.equal(first.images_uint8, other.images_uint8)
    item = first[0]
    assert item.shape == (3, 32, 32) and item.dtype == torch.float32
    assert -1.0 <= float(item.min()) and float(item.max()) <= 1.0
    assert first.sources[:3] == [s.name for s in loaded.sources]  # photos taken in turn


def test_patch_is_a_real_crop_of_its_source(loaded):
    config = datasets.PatchConfig(size=32, flip=False)
    patches = datasets.photo_patches(loaded, 3, config, seed=0)
    for index in range(3):
        source = datasets.prepare_image(loaded.images[index], config).float()
        patch = patches.images_uint8[index].float()
        windows = source.unfold(1, 32, 1).unfold(2, 32, 1)  # (3, H', W', 32, 32)
        difference = (windows - patch[:, None, None]).abs().sum(dim=(0, 3, 4))
        assert float(difference.min()) == 0.0


def test_style_data_splits_by_source_without_leakage():
    counting = {"calls": 0}

    def render(images, config, seed):
        counting["calls"] += 1
        return 1.0 - images

    style = StyleRenderer("negative", render, None)
    data = datasets.style_data(style, count=16, config=datasets.PatchConfig(size=32), held_out=2, seed=1)
    assert len(data.test_sources) == 2
    assert not set(data.train_sources) & set(data.test_sources)
    assert set(data.paired_train.photos.sources) <= set(data.train_sources)
    assert set(data.paired_test.photos.sources) <= set(data.test_sources)
    # unpaired: domain B is styled from *other* photos than domain A
    assert not set(data.unpaired_train.domain_a.sources) & set(data.unpaired_train.domain_b.sources)
    pair = data.paired_train[3]
    assert torch.allclose(pair["styled"], -pair["photo"], atol=1 / 127)  # 1 - x in [0,1] is -x in [-1,1]
    # no test patch equals any training patch
    train = data.train_photos.images_uint8.flatten(1).float()
    test = data.test_photos.images_uint8.flatten(1).float()
    assert float(torch.cdist(test, train).min()) > 0
    # rebuilding reads the cache instead of rendering again
    calls = counting["calls"]
    datasets.style_data(style, count=16, config=datasets.PatchConfig(size=32), held_out=2, seed=1)
    assert counting["calls"] == calls


def test_rendered_cache_key_depends_on_the_renderer_config(loaded):
    patches = datasets.photo_patches(loaded, 4, datasets.PatchConfig(size=32))
    bright = StyleRenderer("shift", lambda x, c, s: (x + c).clamp(0, 1), 0.2)
    dark = StyleRenderer("shift", lambda x, c, s: (x + c).clamp(0, 1), -0.2)
    a = datasets.rendered(patches, bright)
    b = datasets.rendered(patches, dark)
    assert float(a.all().mean()) > float(b.all().mean())
    assert len(list((datasets.data_dir() / "cache").glob("shift-*.safetensors"))) == 2


def test_real_renderer_paired_and_unpaired_items(loaded):
    patches = datasets.photo_patches(loaded, 4, datasets.PatchConfig(size=32))
    styled = datasets.rendered(patches, renderers.ink_wash(), cache=False)
    paired = datasets.PairedDataset(patches, styled)
    item = paired[1]
    assert set(item) == {"photo", "styled"} and item["styled"].shape == (3, 32, 32)
    unpaired = datasets.UnpairedDataset(patches, styled, seed=2)
    assert torch.equal(unpaired[2]["b"], datasets.UnpairedDataset(patches, styled, seed=2)[2]["b"])
    with pytest.raises(ValueError, match="equal length"):
        datasets.PairedDataset(patches, datasets.TensorImages(styled.images_uint8[:2], styled.sources[:2]))


def _folder(path, files):
    path.mkdir(parents=True)
    for name, array in files.items():
        Image.fromarray(array).save(path / name)
    return path


def test_image_folder_with_bad_files_is_checked_in_the_main_process(tmp_path):
    rng = np.random.default_rng(0)
    folder = _folder(tmp_path / "mine", {f"p{i}.png": rng.integers(0, 255, (48, 40, 3), dtype=np.uint8)
                                         for i in range(3)})
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    Image.fromarray(np.full((48, 48), 9, np.uint8)).save(folder / "gray.png")
    with pytest.warns(UserWarning, match="skipped 1 of 5"):
        dataset = datasets.ImageFolderDataset(folder, datasets.PatchConfig(size=32), seed=0)
    assert len(dataset) == 4
    loader = DataLoader(dataset, batch_size=2, num_workers=1)
    batches = list(loader)
    assert [tuple(b.shape) for b in batches] == [(2, 3, 32, 32), (2, 3, 32, 32)]
    first = dataset[3]  # a random-noise photo (index 0 is the flat grey one)
    dataset.set_epoch(1)
    assert not torch.equal(first, dataset[3])  # a new epoch draws new crops
    # A folder too big for memory is checked the same way and read per item: same pixels.
    with pytest.warns(UserWarning, match="skipped 1 of 5"):
        streamed = datasets.ImageFolderDataset(folder, datasets.PatchConfig(size=32), seed=0, max_in_memory=2)
    assert streamed.images is None and len(streamed) == 4
    streamed.set_epoch(1)
    assert torch.equal(streamed[3], dataset[3])


def test_image_folder_too_small_is_a_clear_error_or_an_upscale(tmp_path):
    folder = _folder(tmp_path / "small", {"a.png": np.zeros((20, 20, 3), np.uint8)})
    with pytest.raises(ValueError, match="smaller than the crop size 32"):
        datasets.ImageFolderDataset(folder, datasets.PatchConfig(size=32))
    dataset = datasets.ImageFolderDataset(folder, datasets.PatchConfig(size=32, too_small="upscale"))
    assert dataset[0].shape == (3, 32, 32)


def test_cyclegan_layout(tmp_path):
    rng = np.random.default_rng(1)
    for part in ("trainA", "trainB", "testA"):
        _folder(tmp_path / "set" / part, {f"{part}{i}.jpg": rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
                                          for i in range(2 if part != "trainB" else 3)})
    train = datasets.cyclegan_folder(tmp_path / "set", "train", datasets.PatchConfig(size=32))
    assert len(train) == 3 and train[0]["a"].shape == (3, 32, 32)
    with pytest.raises(FileNotFoundError, match="missing folder.*testB"):
        datasets.cyclegan_folder(tmp_path / "set", "test", datasets.PatchConfig(size=32))
    with pytest.raises(ValueError, match="no image files"), warnings.catch_warnings():
        (tmp_path / "set" / "testB").mkdir()
        datasets.cyclegan_folder(tmp_path / "set", "test", datasets.PatchConfig(size=32))
