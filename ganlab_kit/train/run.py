"""The Run protocol: the one seam between a model and everything above it.

A *run* is one model being trained: its networks, optimizers, data stream and random
generators, plus the hyperparameters that may change while it trains. The session
(:mod:`.session`) steps any run, the image lab shows any run, the CLI trains any run,
checkpoints save any run. Each model keeps its own explicit training step (a plain
function of nets, optimizers and a batch); the run only holds the state between steps.

What a run provides (:class:`Run`)::

    run.step()            -> {"d_loss": tensor(0.69), "g_loss": ..., ...}   # one step
    run.visuals(modules)  -> {"samples": (B, C, H, W) in [-1, 1] on the CPU, ...}
    run.visual_modules    -> ("generator",)       # which modules visuals() needs
    run.visual_layout     -> (("real_A", "fake_B", "rec_A"), ...)  # optional: rows of visual names
    run.hyper             -> the current hyperparameter dataclass
    run.set_hyper(generator_lr=1e-4)              # validated now, applied at the next step
    run.modules           -> {"generator": raw nn.Module, "discriminator": ...}
    run.optimizers        -> {"generator": Adam, "discriminator": Adam}
    run.steps_done        -> int
    run.architecture()    -> JSON-able description, compared when a checkpoint is loaded
    run.state_dict() / run.load_state_dict(state)      # see RunState

One vocabulary across every model:

* hyperparameters: ``loss`` (a kind of :data:`ganlab_kit.losses.LOSS_KINDS`),
  ``generator_lr``, ``discriminator_lr``, ``betas``, ``discriminator_steps``,
  ``batch_size``, ``gradient_penalty`` (its weight), ``r1`` (its weight), and the
  model's own weights (``cycle_weight``, ``identity_weight``, ``l1_weight``, ...);
* metrics: ``d_loss``, ``g_loss``, ``d_real`` (mean sigmoid of D on real data),
  ``d_fake`` (the same on fakes), ``gradient_penalty``, then the model's own
  (``modes_hit``, ``cycle_loss``, ...). Steps return metrics as detached 0-d tensors
  (or floats); the session reads them to the host in batches, never one sync per step.

Visuals are computed *off the training thread*: a lab copies ``run.modules[name]`` for
each name in ``run.visual_modules`` into shadow copies under the session's lock, then
calls ``run.visuals(shadows)`` outside it. So ``visuals`` must use only the modules it is
given and tensors the run never changes in place (fixed noise, held-out photos).

Hyperparameter dataclasses describe their own controls through :func:`hyper_field`
metadata (choices, bounds, log scale, a help text), so a lab builds its controls from
any run without knowing the model, and :func:`validate_hyper` refuses bad values with a
message naming the field.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import torch
from torch import nn

from .schedules import linear_decay

Metrics = dict[str, "torch.Tensor | float"]
H = TypeVar("H")

# Shared metric names. A model may add its own; it must not rename these.
D_LOSS, G_LOSS, D_REAL, D_FAKE = "d_loss", "g_loss", "d_real", "d_fake"
GRADIENT_PENALTY = "gradient_penalty"
# Culture constraints (styles/constraints.py): unweighted terms that say what a style asks of
# a translation, reported by a run only while their weight is on.
BLANK_SPACE_LOSS, BRUSH_EDGE_LOSS, INK_DIFFUSION_LOSS = "blank_space_loss", "brush_edge_loss", "ink_diffusion_loss"
CONSTRAINT_LOSSES = (BLANK_SPACE_LOSS, BRUSH_EDGE_LOSS, INK_DIFFUSION_LOSS)


# --------------------------------------------------------------- hyperparameters
def hyper_field(
    default: Any,
    *,
    choices: tuple[Any, ...] | None = None,
    low: float | None = None,
    high: float | None = None,
    log: bool = False,
    live: bool = True,
    help: str = "",
) -> Any:
    """A dataclass field that says how to show and check itself.

    ``choices``: allowed values (a dropdown); ``low`` / ``high``: inclusive bounds;
    ``log``: a log-scale slider (learning rates); ``live``: may change while training
    (False: shown read-only, e.g. a batch size fixed by the data stream); ``help``: one
    line for a tooltip. Tuples (``betas``) are given as a default tuple.
    """
    metadata = {"choices": choices, "low": low, "high": high, "log": log, "live": live, "help": help}
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def hyper_spec(hyper: Any) -> list[dataclasses.Field]:
    """The fields of a hyperparameter dataclass (instance or class), in order."""
    if not dataclasses.is_dataclass(hyper):
        raise TypeError(f"hyperparameters must be a dataclass, got {type(hyper).__name__}")
    return list(dataclasses.fields(hyper))


def _check_value(name: str, value: Any, meta: Mapping[str, Any]) -> None:
    choices = meta.get("choices")
    if choices is not None:
        if value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
        return
    values = value if isinstance(value, tuple) else (value,)
    for item in values:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            continue
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        low, high = meta.get("low"), meta.get("high")
        if low is not None and item < low:
            raise ValueError(f"{name} must be at least {low}, got {value!r}")
        if high is not None and item > high:
            raise ValueError(f"{name} must be at most {high}, got {value!r}")


def validate_hyper(hyper: Any) -> None:
    """Raise ``ValueError`` naming the first field outside its :func:`hyper_field` limits,
    or of the wrong type (an int field given 2.5); then call ``hyper.validate()`` if the
    class defines one (checks that relate two fields)."""
    for spec in hyper_spec(hyper):
        value = getattr(hyper, spec.name)
        default = spec.default if spec.default is not dataclasses.MISSING else None
        if isinstance(default, int) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{spec.name} must be an integer, got {value!r}")
        if isinstance(default, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"{spec.name} must be a number, got {value!r}")
        _check_value(spec.name, value, spec.metadata)
    extra = getattr(hyper, "validate", None)
    if callable(extra):
        extra()


def hyper_to_dict(hyper: Any) -> dict[str, Any]:
    """JSON-able dict of a hyperparameter dataclass (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(hyper).items()}


def hyper_from_dict(cls: type[H], values: Mapping[str, Any]) -> H:
    """Inverse of :func:`hyper_to_dict`; unknown keys are an error naming them."""
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValueError(f"{cls.__name__} has no field(s) {', '.join(unknown)}; it has {', '.join(names)}")
    converted = {}
    for key, value in values.items():
        default = names[key].default
        converted[key] = tuple(value) if isinstance(default, tuple) and isinstance(value, list) else value
    return cls(**converted)


# --------------------------------------------------------------- the protocol
@dataclass
class RunState:
    """What ``Run.state_dict()`` returns and ``load_state_dict`` takes.

    ``modules`` / ``optimizers``: their ``state_dict()``s by name (raw modules: no
    ``_orig_mod.`` or ``module.`` prefixes); ``generators``: ``torch.Generator`` states
    (uint8 tensors); ``tensors``: other tensors (fixed noise); ``state``: JSON-able
    extras (step count, data position, hyperparameters).
    """

    modules: dict[str, dict[str, torch.Tensor]]
    optimizers: dict[str, dict[str, Any]] = field(default_factory=dict)
    generators: dict[str, torch.Tensor] = field(default_factory=dict)
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Run(Protocol):
    """What a session steps and a lab shows (see the module docstring)."""

    steps_done: int
    visual_modules: tuple[str, ...]

    @property
    def hyper(self) -> Any: ...

    @property
    def modules(self) -> dict[str, nn.Module]: ...

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]: ...

    def step(self) -> Metrics: ...

    def visuals(self, modules: Mapping[str, nn.Module] | None = None) -> dict[str, torch.Tensor]: ...

    def set_hyper(self, **changes: Any) -> Any: ...

    def architecture(self) -> dict[str, Any]: ...

    def state_dict(self) -> RunState: ...

    def load_state_dict(self, state: RunState) -> None: ...


class PendingHyper(Generic[H]):
    """Mixin: hyperparameters that change only *between* steps.

    ``set_hyper(**changes)`` validates at once (the error names the field) and keeps the
    new dataclass pending; the run calls :meth:`apply_pending_hyper` at the start of its
    next step, which swaps it in and calls ``on_hyper_change(old, new)`` (override it to
    update optimizers' learning rates, for instance). A change never lands mid-step.
    """

    _hyper: H
    _pending_hyper: H | None = None

    @property
    def hyper(self) -> H:
        """The hyperparameters in force (a pending change shows after the next step starts)."""
        return self._hyper

    @property
    def next_hyper(self) -> H:
        """What the next step will use: the pending change if any, else :attr:`hyper`."""
        return self._pending_hyper if self._pending_hyper is not None else self._hyper

    # One lock for every run (held for microseconds): a control thread's set_hyper and the
    # training thread's apply_pending_hyper must not interleave, or a change could be lost.
    _hyper_lock = threading.Lock()

    def set_hyper(self, **changes: Any) -> H:
        with self._hyper_lock:
            new = dataclasses.replace(self.next_hyper, **changes)
            validate_hyper(new)
            self._pending_hyper = new
        return new

    def apply_pending_hyper(self) -> None:
        with self._hyper_lock:
            if self._pending_hyper is None:
                return
            old, self._hyper, self._pending_hyper = self._hyper, self._pending_hyper, None
        self.on_hyper_change(old, self._hyper)

    def on_hyper_change(self, old: H, new: H) -> None:  # pragma: no cover - default does nothing
        pass

    def hyper_state(self) -> dict[str, Any]:
        """The hyperparameters in force and any pending change, JSON-able, for a RunState."""
        pending = self._pending_hyper
        return {
            "hyper": hyper_to_dict(self._hyper),
            "pending_hyper": hyper_to_dict(pending) if pending is not None else None,
        }

    def load_hyper_state(self, state: Mapping[str, Any]) -> None:
        """Inverse of :meth:`hyper_state` (values validated; the pending change stays pending)."""
        cls = type(self._hyper)
        hyper = hyper_from_dict(cls, state["hyper"])
        validate_hyper(hyper)
        pending = hyper_from_dict(cls, state["pending_hyper"]) if state.get("pending_hyper") else None
        if pending is not None:
            validate_hyper(pending)
        self._hyper, self._pending_hyper = hyper, pending


def capture_state(run: Any, **parts: Any) -> RunState:
    """A :class:`RunState` with every module's and optimizer's ``state_dict()`` by name;
    ``parts`` fill the rest (``generators=``, ``tensors=``, ``state=``)."""
    return RunState(
        modules={name: module.state_dict() for name, module in run.modules.items()},
        optimizers={name: optimizer.state_dict() for name, optimizer in run.optimizers.items()},
        **parts,
    )


def restore_optimizers(run: Any, state: RunState) -> None:
    """Load each saved optimizer state into ``run.optimizers`` by name. A deep copy: on the
    same device ``load_state_dict`` keeps the tensors, and two runs would share Adam's moments."""
    for name, optimizer in run.optimizers.items():
        if name in state.optimizers:
            optimizer.load_state_dict(copy.deepcopy(state.optimizers[name]))


def progress_state(run: Any, **extra: Any) -> dict[str, Any]:
    """The JSON-able part of a :class:`RunState` that every run keeps alike: steps done, the
    batch stream's position, the hyperparameters (in force and pending) and the
    accelerator's state; ``extra`` adds the run's own entries (its ``run_config``, pools)."""
    return {
        "steps_done": run.steps_done,
        "stream": run.stream.state_dict(),
        **run.hyper_state(),
        **extra,
        "accel": run.accel.state_dict(),
    }


def restore_run(run: Any, state: RunState) -> None:
    """Put back what :func:`capture_state` and :func:`progress_state` saved: the
    hyperparameters, every module's weights and optimizer's state by name, the step count,
    the batch stream and the accelerator. The run restores its own extras after this."""
    from .checkpoint import load_module_state

    run.load_hyper_state(state.state)
    for name, module in run.modules.items():
        load_module_state(module, state.modules[name])
    restore_optimizers(run, state)
    run.steps_done = int(state.state["steps_done"])
    run.stream.load_state_dict(state.state["stream"])
    run.accel.load_state_dict(state.state.get("accel"))


class DecayingLearningRates:
    """Mixin for the translation runs: Adam's betas follow the hyperparameters in every
    optimizer, and the learning rates follow the papers' schedule (constant, then linearly
    to zero over ``config.decay_steps``, by default the second half of ``config.total_steps``).
    Put it before :class:`PendingHyper` in the bases."""

    def on_hyper_change(self, old: Any, new: Any) -> None:
        for optimizer in self.optimizers.values():
            set_betas(optimizer, new.betas)

    def learning_rate_factor(self) -> float:
        """The schedule's factor for the next step (1 without ``total_steps``)."""
        return linear_decay(self.steps_done, self.config.total_steps, self.config.decay_steps)


def set_betas(optimizer: torch.optim.Optimizer, betas: tuple[float, float]) -> None:
    """Set Adam's betas in every parameter group (the next ``optimizer.step()`` uses them)."""
    for group in optimizer.param_groups:
        group["betas"] = tuple(betas)


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate (the next ``optimizer.step()`` uses it)."""
    for group in optimizer.param_groups:
        group["lr"] = float(lr)


def metrics_to_floats(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Read a step's metrics to the host in one transfer: 0-d tensors become floats."""
    keys = [k for k, v in metrics.items() if isinstance(v, torch.Tensor)]
    out = {k: float(v) for k, v in metrics.items() if not isinstance(v, torch.Tensor)}
    if keys:
        values = torch.stack([metrics[k].detach().reshape(()).float() for k in keys]).tolist()
        out.update(zip(keys, values))
    return {k: out[k] for k in metrics}


def metrics_list_to_floats(pending: list[Mapping[str, Any]]) -> list[dict[str, float]]:
    """Many steps' metrics -> floats, with one stacked transfer per device (not one per step:
    on a GPU each read waits for the queued work, so reading every step would stall it)."""
    if len(pending) == 1:
        return [metrics_to_floats(pending[0])]
    by_device: dict[torch.device, list[tuple[int, str, torch.Tensor]]] = {}
    out: list[dict[str, float]] = []
    for index, metrics in enumerate(pending):
        out.append({})
        for key, value in metrics.items():
            if isinstance(value, torch.Tensor):
                by_device.setdefault(value.device, []).append((index, key, value))
            else:
                out[index][key] = float(value)
    for items in by_device.values():
        values = torch.stack([t.detach().reshape(()).float() for _, _, t in items]).tolist()
        for (index, key, _), value in zip(items, values):
            out[index][key] = value
    return [{k: out[i][k] for k in metrics} for i, metrics in enumerate(pending)]  # keep key order
