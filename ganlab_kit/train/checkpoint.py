"""Checkpoints that are safe to write, safe to read, and resume exactly.

One ``.safetensors`` file per checkpoint:

* tensors: network weights and buffers (``generator/...``), optimizer state tensors
  (``optimizer/generator/3/exp_avg``), random-number-generator states (bytes as uint8) and
  any extra tensors (fixed noise);
* the file's JSON metadata (``ganlab_kit`` key): the architecture description, optimizer
  hyper-parameters, Python's and NumPy's RNG states, and the caller's own state (step
  count, data-stream position, history).

Why this shape:

* **safe to read**: safetensors holds only arrays and a JSON header, so loading cannot run
  code (a pickled ``torch.save`` file can, unless read with ``weights_only=True``);
* **safe to write**: bytes go to a temporary file in the same folder, are flushed to disk,
  then ``os.replace`` swaps it in: a crash leaves either the old file or the new one,
  never half of one;
* **exact resume**: with the weights, Adam's moments, every RNG and the data position
  restored, the next steps on the CPU produce the same losses bit for bit as an
  uninterrupted run (tests/test_checkpoint.py checks it);
* **clear mismatch errors**: the architecture description is compared *before* any
  weight is touched; a 64x64 checkpoint loaded into a 32x32 run names both.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_bytes
from torch import nn

FORMAT = "ganlab_kit.checkpoint/1"
METADATA_KEY = "ganlab_kit"


class CheckpointMismatch(ValueError):
    """The checkpoint was written for another architecture or size."""


class CheckpointError(ValueError):
    """The file is not a readable ganlab_kit checkpoint."""


def describe_architecture(architecture: dict[str, Any]) -> str:
    """``DCGAN 64x64x1 (latent_dim=64, ...)`` for a DCGAN description, ``name(k=v, ...)`` otherwise."""
    name = str(architecture.get("architecture", "network")).upper()
    rest = {k: v for k, v in architecture.items() if k not in ("architecture", "image_size", "channels")}
    inner = ", ".join(f"{k}={v}" for k, v in rest.items())
    if "image_size" in architecture:
        size = architecture["image_size"]
        return f"{name} {size}x{size}x{architecture.get('channels', '?')} ({inner})"
    return f"{name} ({inner})"


# ----------------------------------------------------------------- writing
def _optimizer_parts(name: str, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into tensors and JSON-able hyper-parameters."""
    state_dict = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for param_id, param_state in state_dict["state"].items():
        for key, value in param_state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer/{name}/{param_id}/{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(param_id), {})[key] = value
    groups = []
    for group in state_dict["param_groups"]:
        clean = {}
        for key, value in group.items():
            if isinstance(value, torch.Tensor):  # e.g. a tensor learning rate
                value = value.item()
            clean[key] = list(value) if isinstance(value, tuple) else value
        groups.append(clean)
    return tensors, {"param_groups": groups, "scalars": scalars}


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)  # atomic on POSIX and Windows
    except BaseException:
        with _suppress():
            os.unlink(temp_name)
        raise


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> bool:
        return True


def save_checkpoint(
    path: str | Path,
    *,
    architecture: dict[str, Any],
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer] | None = None,
    generators: dict[str, torch.Generator] | None = None,
    tensors: dict[str, torch.Tensor] | None = None,
    state: dict[str, Any] | None = None,
    global_rng: bool = True,
) -> Path:
    """Write a checkpoint atomically and return its path.

    ``architecture``: JSON-able description compared on load (e.g. ``DCGANConfig.to_dict()``).
    ``modules`` / ``optimizers`` / ``generators`` (``torch.Generator`` objects such as a noise
    source): saved under their names. ``tensors``: extra tensors. ``state``: JSON-able extras.
    ``global_rng``: also save torch's (CPU and CUDA), NumPy's and Python's global RNG states.
    """
    path = Path(path)
    arrays: dict[str, torch.Tensor] = {}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            arrays[f"module/{name}/{key}"] = value.detach().cpu().contiguous()
    optimizer_meta = {}
    for name, optimizer in (optimizers or {}).items():
        opt_tensors, optimizer_meta[name] = _optimizer_parts(name, optimizer)
        arrays.update(opt_tensors)
    for name, rng in (generators or {}).items():
        arrays[f"generator/{name}"] = rng.get_state().cpu()
    for name, value in (tensors or {}).items():
        arrays[f"tensor/{name}"] = value.detach().cpu().contiguous()
    meta: dict[str, Any] = {
        "format": FORMAT,
        "architecture": architecture,
        "optimizers": optimizer_meta,
        "generator_devices": {name: str(rng.device) for name, rng in (generators or {}).items()},
        "state": state or {},
    }
    if global_rng:
        arrays["rng/torch_cpu"] = torch.get_rng_state()
        if torch.cuda.is_available():
            for i, cuda_state in enumerate(torch.cuda.get_rng_state_all()):
                arrays[f"rng/cuda/{i}"] = cuda_state
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        version, internal, gauss_next = random.getstate()
        meta["numpy_random"] = [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)]
        meta["python_random"] = [version, list(internal), gauss_next]
    try:
        header = json.dumps(meta)
    except TypeError as exc:
        raise TypeError(f"checkpoint state must be JSON-serialisable (numbers, strings, lists, dicts): {exc}") from exc
    _atomic_write(path, safetensors_bytes(arrays, metadata={METADATA_KEY: header}))
    return path


# ----------------------------------------------------------------- reading
def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """``(metadata, tensors)`` of a checkpoint, without touching any network."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as file:
            raw = (file.metadata() or {}).get(METADATA_KEY)
            arrays = {key: file.get_tensor(key) for key in file.keys()}
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise CheckpointError(f"{path} is not a readable safetensors checkpoint: {exc}") from exc
    if raw is None:
        raise CheckpointError(f"{path} is a safetensors file but not a ganlab_kit checkpoint (no '{METADATA_KEY}' metadata)")
    meta = json.loads(raw)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} has checkpoint format {meta.get('format')!r}; this kit reads {FORMAT!r}")
    return meta, arrays


def check_architecture(saved: dict[str, Any], expected: dict[str, Any], path: str | Path = "checkpoint") -> None:
    """Raise :class:`CheckpointMismatch` naming both architectures if they differ."""
    if saved == expected:
        return
    differing = [
        f"{key}: checkpoint {saved.get(key, '(missing)')!r} vs run {expected.get(key, '(missing)')!r}"
        for key in sorted(set(saved) | set(expected))
        if saved.get(key) != expected.get(key)
    ]
    raise CheckpointMismatch(
        f"{Path(path).name} holds a {describe_architecture(saved)}, but this run is a "
        f"{describe_architecture(expected)}. Differences: {'; '.join(differing)}. "
        "Build the run with the checkpoint's configuration, or pick the matching checkpoint."
    )


def _prefixed(arrays: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}


def load_checkpoint(
    path: str | Path,
    *,
    architecture: dict[str, Any],
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer] | None = None,
    generators: dict[str, torch.Generator] | None = None,
    tensors_out: dict[str, torch.Tensor] | None = None,
    global_rng: bool = True,
) -> dict[str, Any]:
    """Restore what :func:`save_checkpoint` wrote into the given objects; return ``state``.

    The architecture is checked first; nothing is modified when it does not match.
    Extra tensors are put into ``tensors_out`` (a dict you pass in) if given.
    """
    meta, arrays = read_checkpoint(path)
    check_architecture(meta["architecture"], architecture, path)
    for name, module in modules.items():
        weights = _prefixed(arrays, f"module/{name}/")
        if not weights:
            raise CheckpointError(f"{Path(path).name} has no weights for {name!r}; it holds: {sorted({k.split('/')[1] for k in arrays if k.startswith('module/')})}")
        device = next(iter(module.state_dict().values())).device
        module.load_state_dict({k: v.to(device) for k, v in weights.items()}, strict=True)
    for name, optimizer in (optimizers or {}).items():
        opt_meta = meta["optimizers"][name]
        state: dict[int, dict[str, Any]] = {}
        for key, value in _prefixed(arrays, f"optimizer/{name}/").items():
            param_id, entry = key.split("/", 1)
            state.setdefault(int(param_id), {})[entry] = value
        for param_id, entries in opt_meta["scalars"].items():
            state.setdefault(int(param_id), {}).update(entries)
        groups = [{k: tuple(v) if k == "betas" else v for k, v in g.items()} for g in opt_meta["param_groups"]]
        optimizer.load_state_dict({"state": state, "param_groups": groups})  # moves state to the params' device
    for name, rng in (generators or {}).items():
        rng.set_state(arrays[f"generator/{name}"])
    if tensors_out is not None:
        tensors_out.update(_prefixed(arrays, "tensor/"))
    if global_rng and "rng/torch_cpu" in arrays:
        torch.set_rng_state(arrays["rng/torch_cpu"])
        cuda_states = [arrays[f"rng/cuda/{i}"] for i in range(torch.cuda.device_count()) if f"rng/cuda/{i}" in arrays]
        if cuda_states and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(cuda_states)
        kind, keys, pos, has_gauss, cached = meta["numpy_random"]
        np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
        version, internal, gauss_next = meta["python_random"]
        random.setstate((version, tuple(internal), gauss_next))
    return meta["state"]
