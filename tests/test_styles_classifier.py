"""The style classifier learns on a tiny config; its features and losses behave."""

from dataclasses import replace

import pytest
import torch

from ganlab_kit.styles import classifier, perceptual

TINY = classifier.StyleClassifierConfig(
    channels=(8, 16),
    image_size=32,
    patches_per_class=24,
    steps=150,
    batch_size=16,
    learning_rate=5e-3,
    held_out=2,
    seed=0,
)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny convolutions run faster on one thread than on two contended ones."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_data():
    return classifier.make_style_training_data(TINY)


@pytest.fixture(scope="module")
def trained(tiny_data):
    return classifier.train_style_classifier(TINY, data=tiny_data)


def test_training_data_is_balanced_and_split_by_source(tiny_data):
    assert tiny_data["train_images"].shape == (4 * 24, 3, 32, 32)
    assert torch.bincount(tiny_data["train_labels"]).tolist() == [24] * 4
    assert float(tiny_data["train_images"].min()) >= -1 and float(tiny_data["train_images"].max()) <= 1


def test_loss_decreases_and_accuracy_beats_chance(trained):
    network, history = trained
    losses = history["loss"]
    assert len(losses) == TINY.steps
    assert sum(losses[-10:]) / 10 < 0.7 * sum(losses[:10]) / 10
    assert history["train_accuracy"][0] > 0.6  # chance is 0.25
    assert history["test_accuracy"][0] > 0.4  # patches of photos never seen in training


def test_feature_extractor_is_frozen_and_shaped(trained):
    network, _ = trained
    extractor = classifier.FeatureExtractor(network, network.feature_dim, "tiny")
    extractor.train()  # stays in eval mode
    assert not extractor.training and not any(p.requires_grad for p in extractor.parameters())
    images = torch.rand(3, 3, 48, 40) * 2 - 1
    features = extractor(images)
    assert features.shape == (3, 2 * (8 + 16)) and extractor.feature_dim == 48
    maps = extractor.feature_maps(images)
    assert [tuple(m.shape) for m in maps] == [(3, 8, 24, 20), (3, 16, 12, 10)]


def test_save_load_round_trip_and_cached_extractor(trained, tmp_path, monkeypatch):
    network, _ = trained
    path = classifier.save_style_classifier(network, TINY, tmp_path / "m.safetensors")
    loaded, config = classifier.load_style_classifier(path)
    assert config == TINY
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.allclose(loaded(images), network(images))
    # style_feature_extractor trains once, then reads the cache
    calls = []
    real_train = classifier.train_style_classifier

    def counting_train(config, device="cpu", data=None):
        calls.append(config)
        return network, {}

    monkeypatch.setattr(classifier, "train_style_classifier", counting_train)
    first = classifier.style_feature_extractor(config=TINY, cache_dir=tmp_path / "cache")
    second = classifier.style_feature_extractor(config=TINY, cache_dir=tmp_path / "cache")
    assert len(calls) == 1 and real_train is not counting_train
    assert torch.allclose(first(images), second(images))


def test_the_default_key_is_kept_and_zoom_is_part_of_the_key():
    # "zoom" came after the default weights were shipped: unset, it leaves the key (and so the
    # shipped file's name) as it was; set, it names other weights
    default = classifier.StyleClassifierConfig()
    assert default.key() == "11db3cf03afc"
    assert (classifier.PRETRAINED_DIR / f"style_classifier-{default.key()}.safetensors").is_file()
    keys = {replace(TINY, zoom=zoom).key() for zoom in (None, (0.3, 0.6), (0.3, 0.7))}
    assert len(keys) == 3
    assert classifier.judge_config() == classifier.judge_config(128) == default
    assert classifier.judge_config(64).image_size == 64
    with pytest.raises(ValueError, match="judge sizes: 128, 64"):
        classifier.judge_config(96)


def test_zoomed_training_patches_and_their_config_round_trip(tiny_data, trained, tmp_path):
    zoomed = replace(TINY, zoom=(0.3, 0.6))
    data = classifier.make_style_training_data(zoomed)
    assert data["train_images"].shape == tiny_data["train_images"].shape
    assert not torch.equal(data["train_images"], tiny_data["train_images"])  # other windows, resized
    assert torch.equal(data["test_images"], tiny_data["test_images"])  # judged on whole windows, as before
    path = classifier.save_style_classifier(trained[0], zoomed, tmp_path / "zoomed.safetensors")
    _, config = classifier.load_style_classifier(path)
    assert config == zoomed and config.zoom == (0.3, 0.6)


def test_style_loss_and_content_loss(trained):
    network, _ = trained
    extractor = classifier.FeatureExtractor(network, network.feature_dim, "tiny")
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(2, 3, 32, 32, generator=generator) * 2 - 1
    b = torch.rand(2, 3, 32, 32, generator=generator) * 0.2
    assert float(perceptual.style_loss(extractor, a, a)) < 1e-10
    assert float(perceptual.style_loss(extractor, a, b)) > 0
    generated = a.clone().requires_grad_(True)
    loss = perceptual.style_loss(extractor, generated, b[:1]) + perceptual.content_loss(extractor, generated, b)
    loss.backward()
    assert generated.grad is not None and float(generated.grad.abs().sum()) > 0


def test_gram_matrix_against_einsum():
    features = torch.randn(2, 5, 4, 3, generator=torch.Generator().manual_seed(1))
    expected = torch.einsum("bchw,bdhw->bcd", features, features) / (5 * 4 * 3)
    assert torch.allclose(perceptual.gram_matrix(features), expected, atol=1e-6)


def test_vgg_path_without_weights_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(FileNotFoundError, match="never downloads"):
        classifier.vgg_feature_extractor()


def test_vgg_path_with_local_weights(tmp_path, monkeypatch):
    from torchvision.models.vgg import cfgs, make_layers

    # A trimmed VGG-16 checkpoint (the layers up to relu4_3), random weights, half precision.
    layers = make_layers(cfgs["D"])[:23]
    state = {f"features.{k}": v.half() for k, v in layers.state_dict().items()}
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    torch.save(state, tmp_path / "hub" / "checkpoints" / classifier.VGG16_FILE)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    extractor = classifier.vgg_feature_extractor()
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    assert extractor(images).shape == (2, 512)
    assert [m.shape[1] for m in extractor.feature_maps(images)] == [64, 128, 256, 512]
    torch.save({"features.0.weight": torch.zeros(1)}, tmp_path / "broken.pth")
    with pytest.raises(ValueError, match="lacks VGG-16 layers"):
        classifier.vgg_feature_extractor(weights_path=tmp_path / "broken.pth")


def test_packaged_weights_load_without_training_and_recognise_ink_wash(monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("the packaged weights should have been used")

    monkeypatch.setattr(classifier, "train_style_classifier", no_training)
    extractor = classifier.style_feature_extractor()
    assert extractor.feature_dim == 2 * sum(classifier.StyleClassifierConfig().channels)
    from ganlab_kit.styles import photos, render_ink_wash

    loaded = photos.load_photos(photos.builtin_photos()[:4])
    images = torch.stack([photos.resize_uint8(image, (64, 64)) for image in loaded.images]).float() / 255
    with torch.no_grad():
        predicted = extractor.network(render_ink_wash(images) * 2 - 1).argmax(1)
    assert (predicted == classifier.STYLE_CLASSES.index("ink_wash")).all()
    assert extractor(images * 2 - 1).shape == (4, extractor.feature_dim)


def test_packaged_64_pixel_judge_loads_without_training_and_names_64_pixel_patches(monkeypatch, tmp_path):
    def no_training(*args, **kwargs):
        raise AssertionError("the packaged 64-pixel judge should have been used")

    monkeypatch.setattr(classifier, "train_style_classifier", no_training)
    # an empty cache folder: only the file shipped in pretrained/ can serve
    judge = classifier.style_feature_extractor(config=classifier.judge_config(64), cache_dir=tmp_path).network
    from ganlab_kit.data import PatchConfig, photo_patches
    from ganlab_kit.styles import all_styles, builtin_photos, load_photos, split_by_source

    # 16 patches of the two photos no classifier trained on, at 64 px: the photos and each renderer's paintings
    _, held_out = split_by_source(builtin_photos(), 2, 0)
    photos = (photo_patches(load_photos(held_out, min_size=64), 16, PatchConfig(size=64), seed=5).all() + 1) / 2
    sets = {"photo": photos, **{style.name: style(photos, seed=3) for style in all_styles()}}
    with torch.no_grad():
        for label, name in enumerate(classifier.STYLE_CLASSES):
            named = judge(sets[name] * 2 - 1).argmax(1)
            # measured: 15, 16, 16, 16 of 16 (the 128-pixel default on the same patches: 10, 16, 12, 7)
            assert (named == label).float().mean() >= 14 / 16, name
