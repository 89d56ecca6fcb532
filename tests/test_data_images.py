"""Image data: the offline sets, torchvision loaders on locally generated files, resumable batches."""

import pickle
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab_kit import image_data


@pytest.mark.parametrize("size", [16, 32])
def test_digits_range_shape_labels(size):
    data = image_data.digits(size)
    assert data.images.shape == (1797, 1, size, size)
    assert data.images.min() == -1.0 and data.images.max() == 1.0
    assert sorted(data.labels.unique().tolist()) == list(range(10))


def test_faces_ship_with_scikit_image_or_say_so():
    try:
        data = image_data.faces(16)
    except image_data.DataUnavailable as exc:
        assert "does not download" in str(exc)
        return
    assert data.images.shape == (100, 1, 16, 16)
    assert -1 <= data.images.min() < data.images.max() <= 1


def test_photo_crops_are_repeatable_and_grey_option():
    a = image_data.photo_crops(16, count=12, seed=3)
    b = image_data.photo_crops(16, count=12, seed=3)
    c = image_data.photo_crops(16, count=12, seed=4)
    assert a.images.shape == (12, 3, 16, 16) and torch.equal(a.images, b.images)
    assert not torch.equal(a.images, c.images)
    assert image_data.photo_crops(16, count=2, channels=1).images.shape == (2, 1, 16, 16)
    with pytest.raises(ValueError, match="unknown offline image set"):
        image_data.load_offline("imagenet")


def _write_idx(path, array, magic):
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic))
        for dim in array.shape:
            f.write(struct.pack(">I", dim))
        f.write(array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_style_loaders_read_idx_files(tmp_path, name, folder):
    raw = tmp_path / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28))
    images[0] = 0  # an all-black image must come out as all -1
    for split in ("train", "t10k"):
        _write_idx(raw / f"{split}-images-idx3-ubyte", images, 2051)
        _write_idx(raw / f"{split}-labels-idx1-ubyte", np.arange(5), 2049)
    dataset = image_data.torchvision_images(name, tmp_path, size=16)
    image, label = dataset[0]
    assert len(dataset) == 5 and image.shape == (1, 16, 16) and int(label) == 0
    assert torch.all(image == -1)
    assert dataset[3][1] == 3
    assert image_data.torchvision_images(name, tmp_path, size=32, channels=3)[1][0].shape == (3, 32, 32)


def test_missing_torchvision_files_are_a_clear_error(tmp_path):
    with pytest.raises(image_data.DataUnavailable, match="download=True"):
        image_data.torchvision_images("mnist", tmp_path, size=16)
    with pytest.raises(ValueError, match="cifar10"):
        image_data.torchvision_images("svhn", tmp_path)


def test_cifar10_loader_reads_python_batches(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(2, 3 * 32 * 32), dtype=np.uint8)
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, "labels": [7, 2]}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, f)
    # our generated files cannot match the real archive's MD5 sums: check existence only
    import os
    import torchvision.datasets.cifar as cifar_module

    monkeypatch.setattr(cifar_module, "check_integrity", lambda path, md5=None: os.path.isfile(path))
    dataset = image_data.torchvision_images("cifar10", tmp_path, size=16)
    assert len(dataset) == 10
    image, label = dataset[0]
    assert image.shape == (3, 16, 16) and label == 7 and -1 <= image.min() <= image.max() <= 1
    assert image_data.torchvision_images("cifar10", tmp_path, size=16, channels=1)[0][0].shape == (1, 16, 16)


def test_celeba_loader_reads_aligned_folder(tmp_path, monkeypatch):
    from torchvision.datasets import CelebA

    base = tmp_path / "celeba"
    (base / "img_align_celeba").mkdir(parents=True)
    names = [f"{i:06d}.jpg" for i in range(1, 4)]
    for i, name in enumerate(names):
        Image.fromarray(np.full((218, 178, 3), 40 * i, dtype=np.uint8)).save(base / "img_align_celeba" / name)
    attrs = ["Smiling", "Young"]
    (base / "list_eval_partition.txt").write_text("".join(f"{n} 0\n" for n in names))
    (base / "identity_CelebA.txt").write_text("".join(f"{n} {i}\n" for i, n in enumerate(names)))
    (base / "list_attr_celeba.txt").write_text(f"{len(names)}\n{' '.join(attrs)}\n" + "".join(f"{n} 1 -1\n" for n in names))
    (base / "list_bbox_celeba.txt").write_text(f"{len(names)}\nimage_id x_1 y_1 width height\n" + "".join(f"{n} 1 2 3 4\n" for n in names))
    (base / "list_landmarks_align_celeba.txt").write_text(f"{len(names)}\nlefteye_x lefteye_y\n" + "".join(f"{n} 5 6\n" for n in names))
    monkeypatch.setattr(CelebA, "_check_integrity", lambda self: True)  # MD5 of the real files only
    dataset = image_data.torchvision_images("celeba", tmp_path, size=32)
    image, attributes = dataset[2]
    assert len(dataset) == 3 and image.shape == (3, 32, 32)
    assert attributes.tolist() == [1, 0]
    assert image.mean().item() == pytest.approx(80 / 255 * 2 - 1, abs=0.02)


def test_resumable_sampler_continues_exactly():
    sampler = image_data.ResumableBatchSampler(dataset_size=10, batch_size=3, seed=7)
    stream = iter(sampler)
    first = [next(stream) for _ in range(7)]  # crosses two epoch boundaries (3 batches/epoch)
    assert all(len(b) == 3 for b in first)
    assert sorted(sum(first[:3], [])) == sorted(set(sum(first[:3], [])))  # no repeats within an epoch
    assert first[:3] != first[3:6]  # each epoch reshuffles
    resumed = image_data.ResumableBatchSampler(10, 3, seed=0)
    resumed.load_state_dict({"seed": 7, "batches_drawn": 4})
    assert next(iter(resumed)) == first[4]
    with pytest.raises(ValueError, match="batch_size"):
        image_data.ResumableBatchSampler(2, 3)


def test_batch_stream_state_counts_consumed_batches():
    data = image_data.digits(16)
    stream = image_data.BatchStream(data.dataset(), batch_size=4, seed=1)
    batches = [next(stream) for _ in range(5)]
    assert stream.state_dict() == {"seed": 1, "batches_drawn": 5}
    other = image_data.BatchStream(data.dataset(), batch_size=4, seed=99)
    other.load_state_dict({"seed": 1, "batches_drawn": 3})
    assert torch.equal(next(other), batches[3])


def test_styled_crops_use_the_style_renderers():
    painted = image_data.styled_crops(16, count=4, style="oil", seed=1, render_size=32)
    plain = image_data.photo_crops(32, count=4, seed=1)
    assert painted.images.shape == (4, 3, 16, 16) and painted.name == "styled_oil"
    assert -1 <= painted.images.min() < painted.images.max() <= 1
    # same crops (same seed), but painted: not just the photo resized
    assert not torch.allclose(painted.images, torch.nn.functional.interpolate(plain.images, size=16, mode="bilinear", antialias=True), atol=0.05)
    with pytest.raises(ValueError, match="ink_wash"):
        image_data.styled_crops(16, count=2, style="watercolour")
