"""Image folders: checked in the main process, bad files skipped, the CycleGAN layout."""

import warnings

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from ganlab_kit import data


def _folder(path, files):
    path.mkdir(parents=True)
    for name, array in files.items():
        Image.fromarray(array).save(path / name)
    return path


def test_image_folder_with_bad_files_is_checked_in_the_main_process(tmp_path):
    rng = np.random.default_rng(0)
    folder = _folder(
        tmp_path / "mine", {f"p{i}.png": rng.integers(0, 255, (48, 40, 3), dtype=np.uint8) for i in range(3)}
    )
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    Image.fromarray(np.full((48, 48), 9, np.uint8)).save(folder / "gray.png")
    with pytest.warns(UserWarning, match="skipped 1 of 5"):
        dataset = data.ImageFolderDataset(folder, data.PatchConfig(size=32), seed=0)
    assert len(dataset) == 4
    loader = DataLoader(dataset, batch_size=2, num_workers=1)
    batches = list(loader)
    assert [set(b) for b in batches] == [{"image"}, {"image"}]
    assert [tuple(b["image"].shape) for b in batches] == [(2, 3, 32, 32), (2, 3, 32, 32)]
    first = dataset[3]["image"]  # a random-noise photo (index 0 is the flat grey one)
    dataset.set_epoch(1)
    assert not torch.equal(first, dataset[3]["image"])  # a new epoch draws new crops
    # A folder too big for memory is checked the same way and read per item: same pixels.
    with pytest.warns(UserWarning, match="skipped 1 of 5"):
        streamed = data.ImageFolderDataset(folder, data.PatchConfig(size=32), seed=0, max_in_memory=2)
    assert streamed.images is None and len(streamed) == 4
    streamed.set_epoch(1)
    assert torch.equal(streamed[3]["image"], dataset[3]["image"])


def test_image_folder_too_small_is_a_clear_error_or_an_upscale(tmp_path):
    folder = _folder(tmp_path / "small", {"a.png": np.zeros((20, 20, 3), np.uint8)})
    with pytest.raises(ValueError, match="smaller than the crop size 32"):
        data.ImageFolderDataset(folder, data.PatchConfig(size=32))
    dataset = data.ImageFolderDataset(folder, data.PatchConfig(size=32, too_small="upscale"))
    assert dataset[0]["image"].shape == (3, 32, 32)


def test_cyclegan_layout(tmp_path):
    rng = np.random.default_rng(1)
    for part in ("trainA", "trainB", "testA"):
        _folder(
            tmp_path / "set" / part,
            {
                f"{part}{i}.jpg": rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
                for i in range(2 if part != "trainB" else 3)
            },
        )
    train = data.cyclegan_folder(tmp_path / "set", "train", data.PatchConfig(size=32))
    assert len(train) == 3 and train[0]["A"].shape == (3, 32, 32) and train[0]["B"].shape == (3, 32, 32)
    with pytest.raises(FileNotFoundError, match="missing folder.*testB"):
        data.cyclegan_folder(tmp_path / "set", "test", data.PatchConfig(size=32))
    with pytest.raises(ValueError, match="no image files"), warnings.catch_warnings():
        (tmp_path / "set" / "testB").mkdir()
        data.cyclegan_folder(tmp_path / "set", "test", data.PatchConfig(size=32))
