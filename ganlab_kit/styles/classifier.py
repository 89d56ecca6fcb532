"""A small style classifier (photo / ink wash / oil / ukiyo-e) trained by the kit itself,
and the feature extractor later notebooks use for KID-style scores and style losses.

ImageNet networks cannot be downloaded in many classrooms, so the kit trains its own
features: a four-block CNN learns, in about three minutes on a CPU, to tell the four
domains apart from 128x128 patches. Its pooled activations summarise "what style is this"; its
feature maps feed Gram-matrix style losses (``perceptual.py``).

Public API for other modules (metrics, notebooks):

    extractor = style_feature_extractor(device)        # trained, frozen, eval mode
    features = extractor(images)                        # (B, 3, H, W) in [-1, 1] -> (B, D)
    maps = extractor.feature_maps(images)               # list of (B, C_l, H_l, W_l)

``vgg_feature_extractor`` offers the same interface on torchvision's VGG-16 when its
ImageNet weights are already on disk (it never downloads).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..runtime import atomic_path

STYLE_CLASSES = ("photo", "ink_wash", "oil", "ukiyoe")
PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "pretrained"


@dataclass(frozen=True)
class StyleClassifierConfig:
    """Network size and training run of the style classifier."""

    channels: tuple[int, ...] = (16, 32, 64, 96)  # one stride-2 block each
    image_size: int = 128  # for 64-pixel images use judge_config(64): trained at 64 px, with zoom
    patches_per_class: int = 512
    steps: int = 2000
    batch_size: int = 32
    learning_rate: float = 2e-3
    held_out: int = 2  # source photos kept for testing
    seed: int = 0
    # Which renderers drew the training data: part of the key, so weights trained on
    # older renderings are never loaded for the current ones. Bump it when they change.
    renderers: str = "3"
    # None: every patch is an image_size window of the photo (its shorter side first reduced
    # to 2 x image_size). (low, high): windows of a random fraction of that shorter side,
    # resized to image_size before rendering (PatchConfig.scale): more views of few photos.
    zoom: tuple[float, float] | None = None

    def key(self) -> str:
        """Short hash naming the weights this configuration produces.

        Fields added after weights were shipped are hashed only when set (not None), so
        the shipped default keeps its key; any value that changes training changes it.
        """
        fields = {name: value for name, value in asdict(self).items() if not (name == "zoom" and value is None)}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


# One judge per patch size the kit scores at: a classifier trained on patches of that size.
# At 64 px the 128-px default names only 55% of the ukiyo-e renderer's own held-out patches
# ukiyo-e; the 64-px judge is measured in scripts/measure_style_classifier.py.
JUDGE_CONFIGS: dict[int, StyleClassifierConfig] = {
    128: StyleClassifierConfig(),
    64: StyleClassifierConfig(image_size=64, patches_per_class=1024, steps=3000, zoom=(0.15, 1.0)),
}


def judge_config(judge_size: int = 128) -> StyleClassifierConfig:
    """The classifier config trained to judge ``judge_size``-pixel patches (``JUDGE_CONFIGS``).

    ``style_feature_extractor(config=judge_config(64))`` loads (or trains) the 64-pixel judge.
    """
    if judge_size not in JUDGE_CONFIGS:
        sizes = ", ".join(str(size) for size in JUDGE_CONFIGS)
        raise ValueError(f"no style classifier judges {judge_size!r}-pixel patches; judge sizes: {sizes}")
    return JUDGE_CONFIGS[judge_size]


class StyleNet(nn.Module):
    """``(B, 3, H, W)`` in [-1, 1] -> class logits; any H, W >= 16 (global pooling).

    Each block halves the resolution: 3x3 conv (stride 2), GroupNorm, LeakyReLU. The
    embedding concatenates, per block, the spatial mean and standard deviation of every
    channel: first- and second-order statistics, which is what "style" is made of
    (Gatys et al., 2016; Huang and Belongie's AdaIN, 2017).
    """

    def __init__(self, channels: tuple[int, ...] = (16, 32, 64, 96), num_classes: int = len(STYLE_CLASSES)):
        super().__init__()
        blocks, previous = [], 3
        for width in channels:
            blocks.append(
                nn.Sequential(
                    nn.Conv2d(previous, width, 3, stride=2, padding=1),
                    nn.GroupNorm(min(8, width), width),
                    nn.LeakyReLU(0.2),
                )
            )
            previous = width
        self.blocks = nn.ModuleList(blocks)
        self.feature_dim = 2 * sum(channels)
        self.head = nn.Linear(self.feature_dim, num_classes)

    def feature_maps(self, images: torch.Tensor) -> list[torch.Tensor]:
        maps, x = [], images
        for block in self.blocks:
            x = block(x)
            maps.append(x)
        return maps

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, feature_dim)``: per-channel mean and std of every block's output."""
        pooled = []
        for x in self.feature_maps(images):
            flat = x.flatten(2)  # (B, C, H*W)
            pooled += [flat.mean(2), flat.std(2, unbiased=False)]
        return torch.cat(pooled, dim=1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(images))


class FeatureExtractor(nn.Module):
    """Frozen features for metrics and losses: ``forward`` gives ``(B, feature_dim)``,
    ``feature_maps`` a list of maps. Inputs are ``(B, 3, H, W)`` in [-1, 1]."""

    def __init__(self, network: nn.Module, feature_dim: int, name: str):
        super().__init__()
        self.network = network.eval()
        self.network.requires_grad_(False)
        self.feature_dim = feature_dim
        self.name = name

    def train(self, mode: bool = True) -> FeatureExtractor:
        return super().train(False)  # always frozen: eval-mode normalisation layers

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.network.embed(images)

    def feature_maps(self, images: torch.Tensor) -> list[torch.Tensor]:
        return self.network.feature_maps(images)


def make_style_training_data(config: StyleClassifierConfig) -> dict[str, torch.Tensor]:
    """Patches of the built-in photos in all four domains, split by source photo.

    Returns ``train_images``, ``train_labels``, ``test_images``, ``test_labels``;
    images ``(N, 3, S, S)`` in [-1, 1], labels index ``STYLE_CLASSES``.
    """
    from ..data import PatchConfig, photo_patches, rendered
    from .photos import builtin_photos, load_photos, split_by_source
    from .renderers import all_styles

    train_patches = PatchConfig(size=config.image_size, scale=config.zoom)
    test_patches = PatchConfig(size=config.image_size)  # judged as they come: whole windows
    train_sources, test_sources = split_by_source(builtin_photos(), config.held_out, config.seed)
    out = {}
    for split, sources, count, patch_config in (
        ("train", train_sources, config.patches_per_class, train_patches),
        ("test", test_sources, max(16, config.patches_per_class // 4), test_patches),
    ):
        loaded = load_photos(sources, min_size=config.image_size)
        images, labels = [], []
        for label, name in enumerate(STYLE_CLASSES):
            # Each domain gets its own crops, so the classifier cannot match pixels across classes.
            patches = photo_patches(
                loaded, count, patch_config, seed=config.seed * 100 + label + (50 if split == "test" else 0)
            )
            if name != "photo":
                style = next(s for s in all_styles() if s.name == name)
                patches = rendered(patches, style, seed=config.seed + label, cache=False)
            images.append(patches.all())
            labels.append(torch.full((len(patches),), label, dtype=torch.long))
        out[f"{split}_images"] = torch.cat(images)
        out[f"{split}_labels"] = torch.cat(labels)
    return out


@torch.no_grad()
def accuracy(network: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 128) -> float:
    was_training = network.training
    network.eval()
    correct = 0
    for start in range(0, len(images), batch_size):
        logits = network(images[start : start + batch_size])
        correct += int((logits.argmax(1) == labels[start : start + batch_size].to(logits.device)).sum())
    network.train(was_training)
    return correct / len(images)


def train_style_classifier(
    config: StyleClassifierConfig = StyleClassifierConfig(),
    device: torch.device | str = "cpu",
    data: dict[str, torch.Tensor] | None = None,
) -> tuple[StyleNet, dict[str, list[float]]]:
    """Train a ``StyleNet`` with Adam and cross-entropy; return it and its history.

    History: ``loss`` per step, and ``train_accuracy`` / ``test_accuracy`` at the end
    (test = patches of source photos never seen in training).
    """
    device = torch.device(device)
    data = data if data is not None else make_style_training_data(config)
    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)  # the network's initial weights
    network = StyleNet(config.channels).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate, betas=(0.9, 0.99))
    train_images = data["train_images"].to(device)
    train_labels = data["train_labels"].to(device)
    history: dict[str, list[float]] = {"loss": []}
    for _ in range(config.steps):
        index = torch.randint(0, len(train_images), (config.batch_size,), generator=generator).to(device)
        batch = train_images[index]
        flip = (torch.rand(len(index), generator=generator) < 0.5).to(device).view(-1, 1, 1, 1)
        batch = torch.where(flip, batch.flip(-1), batch)  # mirrored patches are the same style
        loss = F.cross_entropy(network(batch), train_labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        history["loss"].append(loss.item())
    history["train_accuracy"] = [accuracy(network, train_images, train_labels)]
    history["test_accuracy"] = [accuracy(network, data["test_images"].to(device), data["test_labels"])]
    return network.eval(), history


def save_style_classifier(network: StyleNet, config: StyleClassifierConfig, path: str | Path) -> Path:
    """Write weights (safetensors) atomically, with the config in the file's metadata."""
    from safetensors.torch import save_file

    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    with atomic_path(path) as temporary:
        save_file(state, str(temporary), metadata={"config": json.dumps(asdict(config))})
    return path


def load_style_classifier(
    path: str | Path, device: torch.device | str = "cpu"
) -> tuple[StyleNet, StyleClassifierConfig]:
    """Load weights written by ``save_style_classifier`` (safetensors: no code execution)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    if "config" not in metadata:
        raise ValueError(f"{path.name!r} has no style-classifier config in its metadata")
    raw = json.loads(metadata["config"])
    raw["channels"] = tuple(raw["channels"])
    if raw.get("zoom") is not None:
        raw["zoom"] = tuple(raw["zoom"])  # JSON gave a list
    config = StyleClassifierConfig(**raw)
    network = StyleNet(config.channels)
    network.load_state_dict(load_file(str(path)))
    return network.to(device).eval(), config


def style_feature_extractor(
    device: torch.device | str = "cpu", config: StyleClassifierConfig | None = None, cache_dir: str | Path | None = None
) -> FeatureExtractor:
    """The kit's own trained style features, ready for KID and style losses.

    Looks for weights of ``config`` (default: ``StyleClassifierConfig()``) in the
    package's ``pretrained/`` folder, then in ``cache_dir`` (default ``data/models``);
    if none exist, trains them (about three minutes on a CPU for the default config) and
    saves them atomically to ``cache_dir`` for next time.
    """
    from ..runtime import data_dir

    config = config or StyleClassifierConfig()
    file_name = f"style_classifier-{config.key()}.safetensors"
    cache_dir = Path(cache_dir) if cache_dir is not None else data_dir() / "models"
    for candidate in (PRETRAINED_DIR / file_name, cache_dir / file_name):
        if candidate.is_file():
            network, _ = load_style_classifier(candidate, device)
            break
    else:
        network, _ = train_style_classifier(config, device)
        save_style_classifier(network, config, cache_dir / file_name)
    return FeatureExtractor(network, network.feature_dim, f"style_classifier-{config.key()}")


# --- torchvision VGG-16, when its ImageNet weights are already on disk ----------------

VGG16_FILE = "vgg16-397923af.pth"  # torchvision's file name for VGG16_Weights.IMAGENET1K_V1
VGG_LAYERS = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22}  # index in vgg16().features
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGGFeatures(nn.Module):
    """VGG-16 up to relu4_3 (the layers used by perceptual losses, Johnson et al., 2016)."""

    def __init__(self, layers: nn.Sequential):
        super().__init__()
        self.layers = layers
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.feature_dim = 512

    def feature_maps(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = ((images + 1) / 2 - self.mean) / self.std  # [-1, 1] -> ImageNet normalisation
        maps, stops = [], set(VGG_LAYERS.values())
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index in stops:
                maps.append(x)
        return maps

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        return self.feature_maps(images)[-1].mean(dim=(2, 3))  # (B, 512)


def find_vgg16_weights(weights_path: str | Path | None = None) -> Path:
    """Locate VGG-16 ImageNet weights on disk without downloading: ``weights_path``, else
    torch hub's cache (``$TORCH_HOME/hub/checkpoints``). A clear error when absent."""
    if weights_path is not None:
        path = Path(weights_path)
        if not path.is_file():
            raise FileNotFoundError(f"VGG-16 weights {str(path)!r} not found")
        return path
    path = Path(torch.hub.get_dir()) / "checkpoints" / VGG16_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"VGG-16 ImageNet weights are not on this machine (looked for {path}). This kit never downloads "
            "them; use style_feature_extractor() instead, or on a machine that is online run "
            "torchvision.models.vgg16(weights='IMAGENET1K_V1') once and copy the file there."
        )
    return path


def vgg_feature_extractor(
    device: torch.device | str = "cpu", weights_path: str | Path | None = None
) -> FeatureExtractor:
    """VGG-16 features (relu1_2 ... relu4_3; embedding = mean of relu4_3) from local weights.

    Weights are read with ``torch.load(weights_only=True)``; only the convolution layers
    up to relu4_3 are needed, so a trimmed file works too.
    """
    from torchvision.models.vgg import cfgs, make_layers

    path = find_vgg16_weights(weights_path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    last = max(VGG_LAYERS.values())
    # Only the convolutional part ("D" is VGG-16's layout), so the 100M-parameter
    # classifier head is never built.
    layers = make_layers(cfgs["D"])[: last + 1]
    wanted = {
        k[len("features.") :]: v for k, v in state.items() if k.startswith("features.") and int(k.split(".")[1]) <= last
    }
    missing = set(layers.state_dict()) - set(wanted)
    if missing:
        raise ValueError(f"{path.name!r} lacks VGG-16 layers {sorted(missing)[:4]}...; is it a VGG-16 checkpoint?")
    layers.load_state_dict(wanted)
    network = VGGFeatures(layers).to(device)
    return FeatureExtractor(network, network.feature_dim, "vgg16")


def main(argv: list[str] | None = None) -> None:
    """``python -m ganlab_kit.styles.classifier [SIZE]``: train the judge of ``SIZE``-pixel
    patches (``judge_config``; default 128, the default classifier) and store its weights in
    the package's ``pretrained/`` folder (how the shipped files were made)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    torch.set_num_threads(1)
    config = judge_config(int(args[0]) if args else 128)
    network, history = train_style_classifier(config)
    path = save_style_classifier(network, config, PRETRAINED_DIR / f"style_classifier-{config.key()}.safetensors")
    print(
        f"wrote {path.name}: train accuracy {history['train_accuracy'][0]:.3f}, "
        f"held-out photos accuracy {history['test_accuracy'][0]:.3f}"
    )


if __name__ == "__main__":
    main()
