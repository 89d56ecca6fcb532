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
  weight is touched; a 64x64 checkpoint loaded into a 32x32 run names both;
* **the same keys however the run is accelerated**: ``torch.compile`` (``_orig_mod.``) and
  DistributedDataParallel (``module.``) prefixes are stripped on save and tolerated on load.

Every :class:`~ganlab_kit.train.run.Run` is saved the same way, :func:`save_run` /
:func:`load_run`, from its :class:`~ganlab_kit.train.run.RunState`: the 2-D runs, the
DCGAN, and the pretrained 2-D models shipped with the kit.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_bytes
from torch import nn

from ..runtime import atomic_write
from .run import RunState

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


# ----------------------------------------------------------------- keys
WRAPPER_PREFIXES: tuple[str, ...] = ("_orig_mod.", "module.")


def strip_wrapper_prefixes(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Drop leading ``_orig_mod.`` (torch.compile) and ``module.`` (DDP) from every key,
    however they are nested, so a wrapped network's weights have the plain keys."""
    out = {}
    for key, value in state_dict.items():
        stripped = True
        while stripped:
            stripped = False
            for prefix in WRAPPER_PREFIXES:
                if key.startswith(prefix):
                    key, stripped = key[len(prefix) :], True
        out[key] = value
    return out


# ----------------------------------------------------------------- writing
def _optimizer_parts(name: str, state_dict: Mapping[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer's ``state_dict()`` into tensors and JSON-able hyper-parameters."""
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


def _pack(architecture: dict[str, Any], run_state: RunState, global_rng: bool) -> bytes:
    """The bytes of a checkpoint file holding ``run_state``."""
    arrays: dict[str, torch.Tensor] = {}
    for name, weights in run_state.modules.items():
        for key, value in strip_wrapper_prefixes(weights).items():
            arrays[f"module/{name}/{key}"] = value.detach().cpu().contiguous()
    optimizer_meta = {}
    for name, optimizer_state in run_state.optimizers.items():
        opt_tensors, optimizer_meta[name] = _optimizer_parts(name, optimizer_state)
        arrays.update(opt_tensors)
    for name, rng_state in run_state.generators.items():
        arrays[f"generator/{name}"] = rng_state.cpu()
    for name, value in run_state.tensors.items():
        arrays[f"tensor/{name}"] = value.detach().cpu().contiguous()
    meta: dict[str, Any] = {
        "format": FORMAT,
        "architecture": architecture,
        "optimizers": optimizer_meta,
        "state": run_state.state,
    }
    if global_rng:
        arrays["rng/torch_cpu"] = torch.get_rng_state()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
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
    return safetensors_bytes(arrays, metadata={METADATA_KEY: header})


def save_run(
    path: str | Path,
    run: Any,
    *,
    history: list[dict[str, float]] | None = None,
    extra: dict[str, Any] | None = None,
    global_rng: bool = True,
) -> Path:
    """Write everything needed to continue ``run`` exactly (atomically); returns the path.

    ``run`` is any :class:`~ganlab_kit.train.run.Run`: its ``architecture()`` and
    ``state_dict()`` are stored, with ``history`` (the metrics so far) and ``extra``
    (JSON-able notes) beside its own state. ``global_rng``: also torch's, NumPy's and
    Python's global random states.
    """
    run_state = run.state_dict()
    run_state = RunState(
        modules=run_state.modules,
        optimizers=run_state.optimizers,
        generators=run_state.generators,
        tensors=run_state.tensors,
        state={**run_state.state, "history": list(history or []), "extra": dict(extra or {})},
    )
    return atomic_write(Path(path), _pack(run.architecture(), run_state, global_rng))


class CheckpointMethods:
    """Mixin for runs: ``run.save(path)`` and ``run.load(path)`` through :func:`save_run`
    and :func:`load_run`, so every model saves and loads the same way."""

    def save(self, path: str | Path, history: list[dict[str, float]] | None = None, extra: dict | None = None) -> Path:
        """Write everything needed to continue this run exactly (atomically)."""
        return save_run(path, self, history=history, extra=extra)

    def load(self, path: str | Path) -> dict[str, Any]:
        """Restore a checkpoint of a run of the same model, architecture, size (and direction
        or domains) into this one; else :class:`CheckpointMismatch`, with nothing touched.
        Returns the stored state (``history`` included)."""
        return load_run(path, self)


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
    """Write loose objects as a checkpoint (what :func:`save_run` does for a run).

    ``architecture``: JSON-able description compared on load. ``modules`` / ``optimizers``
    / ``generators`` (``torch.Generator`` objects): saved under their names. ``tensors``:
    extra tensors. ``state``: JSON-able extras.
    """
    run_state = RunState(
        modules={name: module.state_dict() for name, module in modules.items()},
        optimizers={name: optimizer.state_dict() for name, optimizer in (optimizers or {}).items()},
        generators={name: rng.get_state() for name, rng in (generators or {}).items()},
        tensors=dict(tensors or {}),
        state=dict(state or {}),
    )
    return atomic_write(Path(path), _pack(architecture, run_state, global_rng))


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
        raise CheckpointError(
            f"{path} is a safetensors file but not a ganlab_kit checkpoint (no '{METADATA_KEY}' metadata)"
        )
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
    return {key[len(prefix) :]: value for key, value in arrays.items() if key.startswith(prefix)}


def _unpack(meta: dict[str, Any], arrays: dict[str, torch.Tensor]) -> RunState:
    """The :class:`RunState` stored in a checkpoint (CPU tensors)."""
    names = sorted({key.split("/")[1] for key in arrays if key.startswith("module/")})
    modules = {name: strip_wrapper_prefixes(_prefixed(arrays, f"module/{name}/")) for name in names}
    optimizers = {}
    for name, opt_meta in meta.get("optimizers", {}).items():
        state: dict[int, dict[str, Any]] = {}
        for key, value in _prefixed(arrays, f"optimizer/{name}/").items():
            param_id, entry = key.split("/", 1)
            state.setdefault(int(param_id), {})[entry] = value
        for param_id, entries in opt_meta["scalars"].items():
            state.setdefault(int(param_id), {}).update(entries)
        groups = [{k: tuple(v) if k == "betas" else v for k, v in g.items()} for g in opt_meta["param_groups"]]
        optimizers[name] = {"state": state, "param_groups": groups}
    generators = {key.split("/", 1)[1]: value for key, value in arrays.items() if key.startswith("generator/")}
    return RunState(
        modules=modules,
        optimizers=optimizers,
        generators=generators,
        tensors=_prefixed(arrays, "tensor/"),
        state=dict(meta["state"]),
    )


def _restore_global_rng(meta: dict[str, Any], arrays: dict[str, torch.Tensor]) -> None:
    if "rng/torch_cpu" not in arrays:
        return
    torch.set_rng_state(arrays["rng/torch_cpu"])
    cuda_states = [arrays[f"rng/cuda/{i}"] for i in range(torch.cuda.device_count()) if f"rng/cuda/{i}" in arrays]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states)
    kind, keys, pos, has_gauss, cached = meta["numpy_random"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    version, internal, gauss_next = meta["python_random"]
    random.setstate((version, tuple(internal), gauss_next))


def read_run_state(path: str | Path) -> tuple[dict[str, Any], RunState]:
    """``(architecture, RunState)`` stored at ``path``, touching no run (to build a run
    that fits a file before loading it, as the pretrained 2-D models do)."""
    meta, arrays = read_checkpoint(path)
    return meta["architecture"], _unpack(meta, arrays)


def load_run(path: str | Path, run: Any, *, global_rng: bool = True) -> dict[str, Any]:
    """Restore a checkpoint written by :func:`save_run` into ``run``; return its state
    (``steps_done``, ``history``, ``extra``, ...).

    The architecture is compared first: on a mismatch nothing is touched and
    :class:`CheckpointMismatch` names both sides. Weights saved from (or loaded into) a
    compiled or DDP-wrapped network load all the same.
    """
    meta, arrays = read_checkpoint(path)
    check_architecture(meta["architecture"], run.architecture(), path)
    run_state = _unpack(meta, arrays)
    expected = set(run.modules)
    if set(run_state.modules) != expected:
        raise CheckpointError(
            f"{Path(path).name} holds weights for {sorted(run_state.modules)} but this run has {sorted(expected)}"
        )
    run.load_state_dict(run_state)
    if global_rng:
        _restore_global_rng(meta, arrays)
    return run_state.state


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
    run_state = _unpack(meta, arrays)
    for name, module in modules.items():
        if name not in run_state.modules:
            raise CheckpointError(
                f"{Path(path).name} has no weights for {name!r}; it holds: {sorted(run_state.modules)}"
            )
        load_module_state(module, run_state.modules[name])
    for name, optimizer in (optimizers or {}).items():
        optimizer.load_state_dict(run_state.optimizers[name])  # moves state to the params' device
    for name, rng in (generators or {}).items():
        rng.set_state(run_state.generators[name])
    if tensors_out is not None:
        tensors_out.update(run_state.tensors)
    if global_rng:
        _restore_global_rng(meta, arrays)
    return run_state.state


def load_module_state(module: nn.Module, weights: Mapping[str, torch.Tensor]) -> None:
    """``load_state_dict`` (strict) into ``module`` or the plain module inside its compile /
    DDP wrappers, with the weights moved to the module's device."""
    from .accel import unwrap

    raw = unwrap(module)
    current = raw.state_dict()
    device = next(iter(current.values())).device if current else torch.device("cpu")
    raw.load_state_dict({k: v.to(device) for k, v in strip_wrapper_prefixes(weights).items()}, strict=True)
