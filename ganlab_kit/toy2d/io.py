"""Save and load a 2-D GAN run, and the pretrained models shipped with the kit.

A 2-D run is saved like every other run, with
:func:`~ganlab_kit.train.checkpoint.save_run`: one ``.safetensors`` file holding both
networks' weights, the optimizers' state, the random generators, the architecture
(:class:`~ganlab_kit.toy2d.models.ToyModelConfig`) and the run's own state (step count,
hyperparameters, the distribution's name). safetensors stores tensors only, so loading
never runs code, and the write is atomic: an interrupted save never leaves half a file
where a good one was.

Pretrained models (``ganlab_kit/pretrained/<kind>.safetensors`` + ``<kind>.json`` with
how they were trained and how good they are) are made by ``scripts/make_pretrained.py``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ..train.checkpoint import CheckpointError, load_run, read_run_state, save_run
from .data import BUILTIN_KINDS, make_distribution
from .models import ToyModelConfig, build_models
from .run import Toy2DHyper, Toy2DRun

PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "pretrained"
ARCHITECTURE = "toy2d_mlp"


def save_toy_model(
    path: str | os.PathLike, run: Toy2DRun, extra: dict | None = None, *, global_rng: bool = True
) -> Path:
    """Write ``run`` (networks, optimizers, RNG, step count, hyperparameters) to ``path``
    atomically; returns the path. ``global_rng=False`` leaves torch's / NumPy's / Python's
    global random states out (files that depend only on the run, like the pretrained ones)."""
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"save to a .safetensors file, got {path.name!r}")
    return save_run(path, run, extra=extra, global_rng=global_rng)


def _model_config(path: Path, architecture: dict) -> ToyModelConfig:
    if architecture.get("architecture") != ARCHITECTURE:
        raise CheckpointError(
            f"{path.name} holds a {architecture.get('architecture')!r} run, not a 2-D GAN ({ARCHITECTURE!r})"
        )
    return ToyModelConfig.from_dict({k: v for k, v in architecture.items() if k != "architecture"})


@dataclass
class LoadedToyModel:
    generator: torch.nn.Module
    discriminator: torch.nn.Module
    model_config: ToyModelConfig
    distribution: str
    steps: int
    extra: dict


def load_toy_model(path: str | os.PathLike) -> LoadedToyModel:
    """The networks of a file written by :func:`save_toy_model` (no run, no data needed)."""
    path = Path(path)
    architecture, state = read_run_state(path)
    config = _model_config(path, architecture)
    generator, discriminator = build_models(config)
    generator.load_state_dict(state.modules["generator"])  # strict: a mismatch names the keys
    discriminator.load_state_dict(state.modules["discriminator"])
    info = state.state
    return LoadedToyModel(
        generator,
        discriminator,
        config,
        info.get("distribution", ""),
        int(info.get("steps_done", 0)),
        dict(info.get("extra", {})),
    )


def run_from_file(path: str | os.PathLike, hyper: Toy2DHyper | None = None, seed: int | None = None) -> Toy2DRun:
    """A :class:`Toy2DRun` that continues from a saved run, on the distribution it was
    trained on (a built-in one). ``hyper``: train on with these instead of the saved ones
    (from the next step); ``seed``: a new random stream for the data and noise."""
    path = Path(path)
    architecture, state = read_run_state(path)
    config = _model_config(path, architecture)
    kind = state.state.get("distribution", "")
    if kind not in BUILTIN_KINDS:
        raise ValueError(
            f"{path.name} was trained on {kind!r}; build that distribution yourself, "
            "make a Toy2DRun and load_run() into it"
        )
    run = Toy2DRun(make_distribution(kind), config, seed=int(state.state.get("seed", 0)))
    load_run(path, run, global_rng=False)
    if seed is not None:
        run.seed = int(seed)
        run.rng = torch.Generator().manual_seed(run.seed)
    if hyper is not None:
        run.set_hyper(**{f.name: getattr(hyper, f.name) for f in dataclasses.fields(hyper)})
        run.apply_pending()
    return run


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


def load_pretrained(kind: str, hyper: Toy2DHyper | None = None) -> Toy2DRun:
    """A run starting from the shipped pretrained model for ``kind`` (e.g. ``"ring"``)."""
    return run_from_file(pretrained_path(kind), hyper)
