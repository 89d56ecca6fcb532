"""Acceleration in one place: device, channels_last, mixed precision, torch.compile, DDP.

A run builds its networks and optimizers as plain modules, then asks an
:class:`Accelerator` to prepare each one::

    accel = Accelerator(device="cuda", precision="bf16", channels_last=True, compile=True)
    generator = accel.prepare(raw_generator)      # a Prepared: .forward and .raw
    with accel.autocast():
        fake = generator.forward(z)
    accel.backward(loss, optimizer)               # scaled for fp16, plain otherwise

Why two handles per network: the *forward* module may be wrapped (``torch.compile``
gives an ``OptimizedModule`` whose state-dict keys start ``_orig_mod.``,
``DistributedDataParallel`` prefixes ``module.`` and has no ``.config``). Everything
that is not a forward pass (checkpoints, ``requires_grad`` toggles, reading the config,
copying weights for a view) uses the *raw* module, so keys and attributes are the same
however the run is accelerated. :func:`unwrap` recovers the raw module from any wrapper.

Precision: ``"fp32"`` (nothing changes), ``"bf16"`` (autocast to bfloat16: same range as
float32, no scaler needed; runs on CPU too), ``"fp16"`` (autocast to float16 with a
:class:`torch.amp.GradScaler`, which multiplies the loss so small gradients survive
float16 and skips steps whose gradients overflowed).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16")
_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module inside any ``torch.compile`` / DDP / DataParallel wrappers."""
    while True:
        if hasattr(module, "_orig_mod"):  # torch.compile's OptimizedModule
            module = module._orig_mod
        elif isinstance(module, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
            module = module.module
        else:
            return module


@dataclass(frozen=True)
class Prepared:
    """One network, twice: ``forward`` for forward passes (maybe wrapped), ``raw`` for
    everything else (checkpoints, requires_grad, ``.config``)."""

    forward: nn.Module
    raw: nn.Module


class Accelerator:
    """Places, wraps and runs networks for one device and precision (module docstring)."""

    def __init__(
        self,
        device: torch.device | str = "cpu",
        *,
        precision: str = "fp32",
        channels_last: bool = False,
        compile: bool = False,
        distributed: bool = False,
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
        if distributed and not (torch.distributed.is_available() and torch.distributed.is_initialized()):
            raise RuntimeError(
                "distributed=True needs a process group: call torch.distributed.init_process_group first"
            )
        self.device = torch.device(device)
        self.precision = precision
        self.channels_last = bool(channels_last)
        self.compile = bool(compile)
        self.distributed = bool(distributed)
        self.autocast_dtype: torch.dtype | None = _DTYPES[precision]
        # fp16 needs loss scaling; bf16 and fp32 do not. enabled=False on a device without
        # fp16 support would silently do nothing, so the scaler exists only when it works.
        self.scaler: torch.amp.GradScaler | None = (
            torch.amp.GradScaler(self.device.type) if precision == "fp16" else None
        )

    # ------------------------------------------------------------ modules
    def prepare(self, module: nn.Module) -> Prepared:
        """Move ``module`` to the device (channels_last if asked), then wrap it for forward
        passes: DDP first (it must see the plain module), then ``torch.compile``."""
        raw = unwrap(module).to(self.device)
        if self.channels_last:
            raw = raw.to(memory_format=torch.channels_last)
        forward: nn.Module = raw
        if self.distributed:
            device_ids = [self.device.index or 0] if self.device.type == "cuda" else None
            # Batch-norm statistics stay per process (as in a single-device run) instead of
            # being overwritten by rank 0's at every forward; newer torch names the option
            # forward_sync_buffers (the nets start identical: same seed on every rank).
            no_buffer_sync = (
                {"forward_sync_buffers": False}
                if "forward_sync_buffers" in inspect.signature(nn.parallel.DistributedDataParallel).parameters
                else {"broadcast_buffers": False}
            )
            forward = nn.parallel.DistributedDataParallel(forward, device_ids=device_ids, **no_buffer_sync)
        if self.compile:
            forward = torch.compile(forward)  # compiles lazily, at the first forward pass
        return Prepared(forward=forward, raw=raw)

    def to_device(self, images: torch.Tensor) -> torch.Tensor:
        """A batch on the device, in channels_last layout when that is on (4-D only)."""
        images = images.to(self.device, non_blocking=True)
        if self.channels_last and images.dim() == 4:
            images = images.contiguous(memory_format=torch.channels_last)
        return images

    # ------------------------------------------------------------ precision
    def autocast(self) -> contextlib.AbstractContextManager:
        """Mixed-precision context for forward passes (does nothing for fp32)."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def backward(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """``zero_grad``, backward and optimizer step; through the GradScaler for fp16."""
        optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)  # skipped if the scaled gradients overflowed
        self.scaler.update()

    def state_dict(self) -> dict:
        """What a checkpoint needs to resume exactly: the fp16 GradScaler's scale and
        counters (empty for fp32 / bf16, which keep no state)."""
        return {"grad_scaler": self.scaler.state_dict()} if self.scaler is not None else {}

    def load_state_dict(self, state: dict | None) -> None:
        if self.scaler is not None and state and state.get("grad_scaler"):
            self.scaler.load_state_dict(state["grad_scaler"])

    @classmethod
    def for_run(cls, config, device: torch.device | str = "cpu") -> Accelerator:
        """The accelerator a run's config asks for: its ``precision``, ``channels_last``,
        ``compile`` and (where the config has it) ``distributed`` fields."""
        return cls(
            device,
            precision=config.precision,
            channels_last=config.channels_last,
            compile=config.compile,
            distributed=getattr(config, "distributed", False),
        )

    def batch_stream(self, dataset, batch_size: int, seed: int):
        """A run's :class:`~ganlab_kit.data.BatchStream`: under DDP this process's share of
        every global batch (``batch_size`` per process), alone the whole batch."""
        from ..data import BatchStream

        rank, world_size = self.rank_and_world()
        return BatchStream(dataset, batch_size, seed=seed, rank=rank, world_size=world_size)

    def rank_and_world(self) -> tuple[int, int]:
        """``(rank, world_size)`` of this process under DDP; ``(0, 1)`` otherwise. A run's
        batch stream draws this rank's share of every global batch with them."""
        if not self.distributed:
            return 0, 1
        return torch.distributed.get_rank(), torch.distributed.get_world_size()

    @contextlib.contextmanager
    def no_sync(self, module: nn.Module) -> Iterator[None]:
        """Under DDP, a backward pass through ``module`` that must not all-reduce its
        gradients (the generator's update through a frozen discriminator); else nothing."""
        inner = module
        while hasattr(inner, "_orig_mod"):
            inner = inner._orig_mod
        if isinstance(inner, nn.parallel.DistributedDataParallel):
            with inner.no_sync():
                yield
        else:
            yield

    def describe(self) -> str:
        parts = [self.device.type, self.precision]
        parts += [
            name
            for name, on in (
                ("channels_last", self.channels_last),
                ("compile", self.compile),
                ("ddp", self.distributed),
            )
            if on
        ]
        return " + ".join(parts)


def set_requires_grad(module: nn.Module, flag: bool) -> None:
    """Turn gradients for every parameter of ``module`` (a raw module) on or off."""
    for parameter in unwrap(module).parameters():
        parameter.requires_grad_(flag)
