"""``ganlab-kit train``: the notebooks' runs, trained from the command line.

The command builds the same :class:`~ganlab_kit.train.dcgan.DCGANRun`,
:class:`~ganlab_kit.train.pix2pix.Pix2PixRun` or :class:`~ganlab_kit.train.cyclegan.CycleGANRun`
a notebook builds and calls its ``step()`` in a loop; there is no second training loop
body. Around the loop it adds what a long run needs:

* a progress bar with images per second (tqdm);
* sample grids (``samples/step0000500.png``) and checkpoints
  (``checkpoints/step0000500.safetensors``, written atomically, the last ``keep`` kept)
  every N steps, and a last checkpoint when the run ends or is interrupted (Ctrl-C);
* ``--resume``: continue from the newest checkpoint in the output folder, exactly
  (weights, optimizers, data order, random states);
* one process per GPU under ``torchrun`` (DDP; :func:`distributed_context`), where only
  rank 0 writes files;
* clear messages instead of tracebacks for what a user can fix: out of GPU memory (the
  options that reduce memory), a checkpoint of another model or size, bad data.

Everything here is plain Python; the notebooks never need it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..runtime import atomic_path, atomic_write, pick_device, seed_everything
from .checkpoint import CheckpointError, CheckpointMismatch, load_run, save_run
from .run import metrics_list_to_floats

MODELS: tuple[str, ...] = ("dcgan", "pix2pix", "cyclegan")
STYLES: tuple[str, ...] = ("ink_wash", "oil", "ukiyoe")
DCGAN_SETS: tuple[str, ...] = ("digits", "faces", "photos", "styled")
SYNC_EVERY = 25  # steps whose metrics are read to the host together (a GPU is not stalled every step)
HISTORY_KEPT = 10_000  # metrics of the last steps stored in each checkpoint (metrics.jsonl keeps them all)
CHECKPOINT_PATTERN = re.compile(r"^step(\d{7,})\.safetensors$")


class TrainError(RuntimeError):
    """A problem the user can fix; the CLI prints the message, not a traceback."""


@dataclass
class TrainOptions:
    """What ``ganlab-kit train`` accepts (one field per command-line option).

    data: dcgan: ``digits``, ``faces``, ``photos``, ``styled`` or a folder of images;
          pix2pix: a built-in style (``ink_wash``, ``oil``, ``ukiyoe``) rendered from the
          built-in photos; cyclegan: a built-in style, or a folder in the CycleGAN layout
          (``trainA/``, ``trainB/``) such as a downloaded ``ukiyoe2photo``.
    steps / epochs: how long; an epoch is one pass over the training set's items.
    width: the nets' first-layer channels (None: the model's default for the image size).
    """

    model: str
    out: Path
    data: str | None = None
    image_size: int = 32
    batch_size: int = 16
    steps: int | None = None
    epochs: float | None = None
    width: int | None = None
    blocks: int | None = None
    patches: int = 256
    pool_size: int = 50
    device: str | None = None
    precision: str = "fp32"
    compile: bool = False
    channels_last: bool = False
    workers: int = 0
    seed: int = 0
    sample_every: int = 500
    checkpoint_every: int = 500
    keep: int = 3
    resume: bool = False
    tensorboard: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.model not in MODELS:
            raise TrainError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        if self.data is None:
            self.data = "digits" if self.model == "dcgan" else "ink_wash"
        if (self.steps is None) == (self.epochs is None):
            raise TrainError("give exactly one of --steps and --epochs")
        for name in ("batch_size", "sample_every", "checkpoint_every", "keep", "patches"):
            if getattr(self, name) < 1:
                raise TrainError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.steps is not None and self.steps < 1:
            raise TrainError(f"--steps must be at least 1, got {self.steps}")
        if self.epochs is not None and self.epochs <= 0:
            raise TrainError(f"--epochs must be positive, got {self.epochs}")
        if self.pool_size < 0:
            raise TrainError(f"--pool-size must be 0 or more, got {self.pool_size}")
        if self.workers < 0:
            raise TrainError(f"--workers must be 0 or more, got {self.workers}")


# ------------------------------------------------------------------ processes
@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands: ``rank`` of ``world_size``; ``device`` is its own."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def writes(self) -> bool:
        """Only rank 0 writes files (checkpoints, samples, logs)."""
        return self.rank == 0


@contextmanager
def distributed_context(device: str | None = None) -> Iterator[DistributedContext]:
    """Join the process group that ``torchrun`` describes in the environment (``RANK``,
    ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``), or run alone.

    Backend: NCCL between GPUs, gloo on the CPU. Each process takes the GPU of its
    ``LOCAL_RANK``. The group is left when the block ends, also after an error.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        yield DistributedContext(0, 1, pick_device(device))
        return
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    chosen = pick_device(device)
    if chosen.type == "cuda":
        chosen = torch.device("cuda", local_rank)
        torch.cuda.set_device(chosen)
    backend = "nccl" if chosen.type == "cuda" else "gloo"
    torch.distributed.init_process_group(backend)
    try:
        yield DistributedContext(rank, world_size, chosen)
    finally:
        torch.distributed.destroy_process_group()


# ------------------------------------------------------------------ data and runs
def _patch_config(size: int):
    from ..data import PatchConfig

    return PatchConfig(size=size)


def _renderer(style: str):
    from ..styles import renderers

    return {"ink_wash": renderers.ink_wash, "oil": renderers.oil, "ukiyoe": renderers.ukiyoe}[style]()


def _dcgan_data(options: TrainOptions):
    from ..data import ImageFolderDataset, load_offline

    if options.data in DCGAN_SETS:
        return load_offline(options.data, options.image_size)
    folder = Path(options.data)
    if not folder.is_dir():
        raise TrainError(
            f"--data {options.data!r} is neither a built-in set ({', '.join(DCGAN_SETS)}) nor a folder of images"
        )
    return ImageFolderDataset(folder, _patch_config(options.image_size), seed=options.seed)


def _style_sets(options: TrainOptions):
    """(training data, held-out data) for pix2pix (paired) or CycleGAN (unpaired)."""
    from ..data import cyclegan_folder, style_data

    if options.data in STYLES:
        sets = style_data(
            _renderer(options.data), count=options.patches, config=_patch_config(options.image_size), seed=options.seed
        )
        if options.model == "pix2pix":
            return sets.paired_train, sets.paired_test
        return sets.unpaired_train, sets.unpaired_test
    if options.model == "pix2pix":
        raise TrainError(f"pix2pix trains on paired data: --data must be one of {', '.join(STYLES)}")
    root = Path(options.data)
    if not root.is_dir():
        raise TrainError(
            f"--data {options.data!r} is neither a built-in style ({', '.join(STYLES)}) nor a CycleGAN folder "
            "(trainA/, trainB/)"
        )
    config = _patch_config(options.image_size)
    held_out = cyclegan_folder(root, "test", config, options.seed) if (root / "testA").is_dir() else None
    return cyclegan_folder(root, "train", config, options.seed), held_out


def build_run(options: TrainOptions, context: DistributedContext):
    """The Run the options describe, on ``context.device``: the same objects the notebooks use."""
    if options.batch_size % context.world_size:
        raise TrainError(
            f"--batch-size {options.batch_size} is the global batch: it must divide evenly among "
            f"{context.world_size} processes"
        )
    common = dict(
        batch_size=options.batch_size // context.world_size,  # each process's share of the global batch
        seed=options.seed,
        precision=options.precision,
        channels_last=options.channels_last,
        compile=options.compile,
    )
    if options.model == "dcgan":
        from ..nets.dcgan import DCGANConfig
        from .dcgan import DCGANRun, DCGANRunConfig

        data = _dcgan_data(options)
        channels = int(data[0]["image"].shape[0])
        width = {} if options.width is None else dict(generator_width=options.width, discriminator_width=options.width)
        model = DCGANConfig(image_size=options.image_size, channels=channels, **width)
        config = DCGANRunConfig(model=model, distributed=context.distributed, **common)
        return DCGANRun(config, data, device=context.device)
    train, held_out = _style_sets(options)
    total = _total_steps(options, len(train))
    if options.model == "pix2pix":
        from ..nets import PatchDiscriminatorConfig, UnetGeneratorConfig
        from .pix2pix import Pix2PixRun, Pix2PixRunConfig

        downs = max(5, options.image_size.bit_length() - 1)
        width = {} if options.width is None else {"width": options.width}
        config = Pix2PixRunConfig(
            image_size=options.image_size,
            generator=UnetGeneratorConfig(downs=downs, **width),
            discriminator=PatchDiscriminatorConfig(in_channels=6, norm="batch", **width),
            total_steps=total,
            distributed=context.distributed,
            **common,
        )
        return Pix2PixRun(config, train, device=context.device, held_out=held_out)
    from ..nets import PatchDiscriminatorConfig, ResnetGeneratorConfig
    from .cyclegan import CycleGANRun, CycleGANRunConfig

    generator = {} if options.width is None else {"width": options.width}
    if options.blocks is not None:
        generator["blocks"] = options.blocks
    width = {} if options.width is None else {"width": options.width}
    domains = ("photo", options.data) if options.data in STYLES else ("A", "B")
    config = CycleGANRunConfig(
        image_size=options.image_size,
        generator=ResnetGeneratorConfig(**generator),
        discriminator=PatchDiscriminatorConfig(**width),
        domains=domains,
        pool_size=options.pool_size,
        total_steps=total,
        distributed=context.distributed,
        **common,
    )
    return CycleGANRun(config, train, device=context.device, held_out=held_out)


def _total_steps(options: TrainOptions, items: int) -> int:
    if options.steps is not None:
        return options.steps
    return max(1, round(options.epochs * items / options.batch_size))


# ------------------------------------------------------------------ files
def checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of every finished checkpoint in ``folder``, oldest first
    (temporary files of an interrupted write are not checkpoints)."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = CHECKPOINT_PATTERN.match(path.name)
        if match and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


def save_sample_grid(visuals: dict[str, torch.Tensor], path: Path) -> Path:
    """One PNG with a row per visual (samples; or input / output / target...), atomically."""
    from torchvision.utils import save_image

    rows = list(visuals.values())
    columns = min(rows[0].shape[0], 8)
    channels = max(row.shape[1] for row in rows)
    images = torch.cat([row[:columns].expand(-1, channels, -1, -1) for row in rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".tmp.png") as tmp:
        save_image(images.float() * 0.5 + 0.5, tmp, nrow=columns, padding=2, pad_value=1.0)
    return path


class _Writers:
    """Rank 0's files: checkpoints, samples, the metrics log and (optionally) TensorBoard."""

    def __init__(self, options: TrainOptions, enabled: bool) -> None:
        self.options, self.enabled = options, enabled
        self.checkpoint_dir = options.out / "checkpoints"
        self.sample_dir = options.out / "samples"
        self.log_path = options.out / "metrics.jsonl"
        self.board = None
        if enabled:
            options.out.mkdir(parents=True, exist_ok=True)
            if options.tensorboard:
                try:
                    from torch.utils.tensorboard import SummaryWriter
                except ImportError as exc:  # tensorboard is an extra, not a core dependency
                    raise TrainError(
                        "--tensorboard needs the tensorboard package: python -m pip install 'ganlab_kit[tensorboard]'"
                    ) from exc
                self.board = SummaryWriter(str(options.out / "tensorboard"))

    def metrics(self, first_step: int, entries: list[dict[str, float]]) -> None:
        """Append the metrics of steps ``first_step``, ``first_step + 1``, ... to the log."""
        if not self.enabled:
            return
        with self.log_path.open("a") as log:
            for step, metrics in enumerate(entries, start=first_step):
                log.write(json.dumps({"step": step, **metrics}) + "\n")
                if self.board is not None:
                    for name, value in metrics.items():
                        self.board.add_scalar(name, value, step)

    def samples(self, run, step: int) -> None:
        if self.enabled:
            save_sample_grid(run.visuals(), self.sample_dir / f"step{step:07d}.png")

    def checkpoint(self, run, step: int, history: list[dict[str, float]]) -> Path | None:
        if not self.enabled:
            return None
        path = save_run(
            self.checkpoint_dir / f"step{step:07d}.safetensors",
            run,
            history=history[-HISTORY_KEPT:],
            extra={"options": _options_record(self.options)},
        )
        for _, old in checkpoints(self.checkpoint_dir)[: -self.options.keep]:
            old.unlink(missing_ok=True)
        return path

    def close(self) -> None:
        if self.board is not None:
            self.board.close()


def _options_record(options: TrainOptions) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(options).items()}


# ------------------------------------------------------------------ the loop
OUT_OF_MEMORY = (
    "out of GPU memory at step {step} ({where}). To need less memory: a smaller --batch-size "
    "(now {batch}), a smaller --image-size (now {size}), --precision bf16 (now {precision}), "
    "or narrower nets with --width (now {width}). The last checkpoint is kept: add --resume to continue."
)


def _is_out_of_memory(exc: BaseException) -> bool:
    kinds = tuple(k for k in (getattr(torch, "OutOfMemoryError", None), torch.cuda.OutOfMemoryError) if k)
    return isinstance(exc, kinds) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


def train(options: TrainOptions, say=print) -> dict[str, Any]:
    """Train as ``options`` say; returns ``{"run", "steps", "checkpoint", "history_tail", "seconds"}``.

    Raises :class:`TrainError` with a message for problems the user can fix.
    """
    with distributed_context(options.device) as context:
        seed_everything(options.seed)
        writers = _Writers(options, context.writes)
        try:
            try:
                run = build_run(options, context)
            except (ValueError, FileNotFoundError) as exc:
                raise TrainError(str(exc)) from exc
            if options.workers:
                run.stream.num_workers = options.workers  # read before the stream's first batch
            history: list[dict[str, float]] = []
            if options.resume:
                history = _resume(run, writers.checkpoint_dir, say)
            total = _total_steps(options, len(run.stream.dataset))
            return _loop(run, options, context, writers, history, total, say)
        finally:
            writers.close()


def _resume(run, folder: Path, say) -> list[dict[str, float]]:
    found = checkpoints(folder)
    if not found:
        say(f"--resume: no checkpoint in {folder}, starting from step 0")
        return []
    step, path = found[-1]
    try:
        meta = load_run(path, run)
    except (CheckpointMismatch, CheckpointError) as exc:
        raise TrainError(f"cannot resume from {path}: {exc}") from exc
    say(f"resumed from {path.name} (step {step})")
    return list(meta.get("history", []))


def _loop(run, options, context, writers, history, total, say) -> dict[str, Any]:
    from tqdm.auto import tqdm

    start = logged = run.steps_done  # steps up to `logged` are in metrics.jsonl already
    last_checkpoint = None
    bar = tqdm(
        total=total, initial=start, unit="step", disable=not (options.progress and context.writes), dynamic_ncols=True
    )
    images_per_step = options.batch_size  # the global batch (each rank draws its share under DDP)
    began, done_here = time.perf_counter(), 0
    pending: list[dict[str, Any]] = []  # steps' metrics still on the device

    def read_pending() -> None:
        """Move the pending metrics to the host in one transfer; stop at NaN before a checkpoint keeps it."""
        floats = metrics_list_to_floats(pending)
        first = run.steps_done - len(pending) + 1
        pending.clear()
        for offset, metrics in enumerate(floats):
            if not all(v == v for v in metrics.values()):
                raise TrainError(
                    f"the losses became NaN at step {first + offset}: {metrics}. Lower the learning rates or "
                    "use --precision fp32; the last good checkpoint is kept (--resume continues from it)."
                )
        history.extend(floats)
        elapsed = max(time.perf_counter() - began, 1e-9)
        bar.set_postfix(
            {"img/s": f"{done_here * images_per_step / elapsed:.1f}"}
            | {k: f"{v:.3f}" for k, v in floats[-1].items() if k in ("d_loss", "g_loss")}
        )

    try:
        while run.steps_done < total:
            try:
                pending.append(run.step())
            except Exception as exc:
                if _is_out_of_memory(exc):
                    width = options.width if options.width is not None else "the default"
                    raise TrainError(
                        OUT_OF_MEMORY.format(
                            step=run.steps_done + 1,
                            where=context.device,
                            batch=options.batch_size,
                            size=options.image_size,
                            precision=options.precision,
                            width=width,
                        )
                    ) from exc
                raise
            done_here += 1
            step = run.steps_done
            bar.update(1)
            sample_due = step % options.sample_every == 0 or step == total
            checkpoint_due = step % options.checkpoint_every == 0 or step == total
            if len(pending) >= SYNC_EVERY or sample_due or checkpoint_due:
                read_pending()
            if sample_due:
                writers.samples(run, step)
            if checkpoint_due:
                last_checkpoint = writers.checkpoint(run, step, history)
                writers.metrics(logged + 1, history[len(history) - (step - logged) :])
                logged = step
    except KeyboardInterrupt:
        say(f"interrupted at step {run.steps_done}: writing a checkpoint")
        read_pending()
        last_checkpoint = writers.checkpoint(run, run.steps_done, history)
        raise
    finally:
        bar.close()
    seconds = time.perf_counter() - began
    if context.writes:
        say(
            f"trained steps {start}..{run.steps_done} in {seconds:.1f} s "
            f"({done_here * images_per_step / max(seconds, 1e-9):.1f} images/s); "
            f"checkpoint: {last_checkpoint}"
        )
        atomic_write(
            options.out / "summary.json",
            json.dumps(
                {
                    "steps": run.steps_done,
                    "seconds": seconds,
                    "checkpoint": str(last_checkpoint),
                    "options": _options_record(options),
                    "last": history[-1] if history else {},
                },
                indent=2,
            ).encode(),
        )
    return {
        "run": run,
        "steps": run.steps_done,
        "checkpoint": last_checkpoint,
        "history_tail": history[-5:],
        "seconds": seconds,
    }
