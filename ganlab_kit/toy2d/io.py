"""Save and load a trained 2-D GAN (safetensors), and the pretrained models shipped with the kit.

One ``.safetensors`` file holds both networks' weights (keys ``generator.*`` and
``discriminator.*``) and, in its text metadata, the architecture
(:class:`~ganlab_kit.toy2d.models.ToyModelConfig` as JSON), the distribution's name and
the number of steps trained. safetensors stores tensors only -- loading it never runs
code, unlike a pickle. Writing goes to a temporary file first, then ``os.replace``: an
interrupted save never leaves half a file where a good one was.

Pretrained models (``ganlab_kit/pretrained/<kind>.safetensors`` + ``<kind>.json`` with
how they were trained and how good they are) are made by ``scripts/make_pretrained.py``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from .data import BUILTIN_KINDS, make_distribution
from .models import ToyModelConfig, build_models
from .steps import ToyTrainConfig
from .trainer import ToyTrainer

PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "pretrained"
FORMAT = "ganlab_kit.toy2d/1"


def save_toy_model(path: str | os.PathLike, trainer: ToyTrainer, extra: dict | None = None) -> Path:
    """Write ``trainer``'s networks and architecture to ``path`` (atomically); returns the path."""
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"save to a .safetensors file, got {path.name!r}")
    tensors = {f"generator.{k}": v.detach().contiguous().clone() for k, v in trainer.generator.state_dict().items()}
    tensors.update({f"discriminator.{k}": v.detach().contiguous().clone() for k, v in trainer.discriminator.state_dict().items()})
    metadata = {
        "format": FORMAT,
        "model_config": json.dumps(trainer.model_config.to_dict()),
        "distribution": trainer.distribution.name,
        "steps": str(trainer.steps_done),
        "extra": json.dumps(extra or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        save_file(tensors, temporary, metadata=metadata)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


@dataclass
class LoadedToyModel:
    generator: torch.nn.Module
    discriminator: torch.nn.Module
    model_config: ToyModelConfig
    distribution: str
    steps: int
    extra: dict


def load_toy_model(path: str | os.PathLike) -> LoadedToyModel:
    """Read a file written by :func:`save_toy_model`; errors say what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved toy model at {path}")
    try:
        with safe_open(str(path), framework="pt") as reader:
            metadata = reader.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{path.name} is not a readable safetensors file: {exc}") from exc
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path.name} was not written by save_toy_model (format {metadata.get('format')!r})")
    config = ToyModelConfig.from_dict(json.loads(metadata["model_config"]))
    generator, discriminator = build_models(config)
    for prefix, module in (("generator.", generator), ("discriminator.", discriminator)):
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        module.load_state_dict(state)  # strict: a mismatch raises naming the keys
    return LoadedToyModel(generator, discriminator, config, metadata.get("distribution", ""), int(metadata.get("steps", 0)), json.loads(metadata.get("extra", "{}")))


def trainer_from_file(path: str | os.PathLike, train_config: ToyTrainConfig | None = None, seed: int = 0) -> ToyTrainer:
    """A :class:`ToyTrainer` that continues from a saved model (fresh optimizers)."""
    loaded = load_toy_model(path)
    if loaded.distribution not in BUILTIN_KINDS:
        raise ValueError(f"{Path(path).name} was trained on {loaded.distribution!r}; build that distribution yourself and load the weights with load_toy_model")
    trainer = ToyTrainer(make_distribution(loaded.distribution), loaded.model_config, train_config or ToyTrainConfig(), seed=seed)
    trainer.generator.load_state_dict(loaded.generator.state_dict())
    trainer.discriminator.load_state_dict(loaded.discriminator.state_dict())
    trainer.steps_done = loaded.steps
    return trainer


def pretrained_path(kind: str) -> Path:
    if kind not in BUILTIN_KINDS:
        raise ValueError(f"no pretrained model for {kind!r}; there is one for each of: {', '.join(BUILTIN_KINDS)}")
    path = PRETRAINED_DIR / f"{kind}.safetensors"
    if not path.is_file():
        raise FileNotFoundError(f"pretrained model {path.name} is missing; run scripts/make_pretrained.py")
    return path


def pretrained_info(kind: str) -> dict:
    """How the shipped model for ``kind`` was trained and how good it is (its JSON file)."""
    return json.loads(pretrained_path(kind).with_suffix(".json").read_text())


def load_pretrained(kind: str, train_config: ToyTrainConfig | None = None) -> ToyTrainer:
    """A trainer starting from the shipped pretrained model for ``kind`` (e.g. ``"ring"``)."""
    return trainer_from_file(pretrained_path(kind), train_config)
