"""Where code runs and how reproducibly: device choice, seeding, fast mode.

Every notebook starts by asking three questions of this module:

* ``pick_device()``: which accelerator to use (CUDA, then Apple's MPS, then the CPU),
  overridable with the ``GANLAB_DEVICE`` environment variable or an argument;
* ``seed_everything(seed)``: make a run repeatable (Python, NumPy, torch, and the
  worker processes of a ``DataLoader`` through ``worker_init_fn`` / ``make_generator``);
* ``fast_mode()``: whether to pick tiny configurations (``GANLAB_FAST=1``), so the same
  notebook runs in seconds under nbval in CI and in full for a student;
* ``data_dir()``: where generated and downloaded data live (``GANLAB_DATA``).

And one way for the whole kit to write a file that must never be left half-written:
:func:`atomic_write` / :func:`atomic_path`.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

FAST_ENV = "GANLAB_FAST"
DEVICE_ENV = "GANLAB_DEVICE"
LIVE_ENV = "GANLAB_LIVE"
DATA_ENV = "GANLAB_DATA"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env_flag(name: str) -> bool | None:
    """Read an on/off environment variable; ``None`` when unset, error when unreadable."""
    return _flag_value(name, os.environ.get(name))


def _flag_value(name: str, raw: str | None) -> bool | None:
    if raw is None:
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r} is not understood: use 1 (on) or 0 (off).")


def fast_mode() -> bool:
    """True when ``GANLAB_FAST`` is 1/true/yes/on: notebooks then use tiny configs."""
    return bool(_env_flag(FAST_ENV))


def pick(full, fast):
    """Return ``fast`` in fast mode and ``full`` otherwise (``steps = pick(3000, 60)``)."""
    return fast if fast_mode() else full


def data_dir() -> Path:
    """Where generated and downloaded data live: ``$GANLAB_DATA``, else the checkout's
    ``data/`` folder (when writable), else ``~/.cache/ganlab_kit``."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    checkout = Path(__file__).resolve().parents[1] / "data"
    if checkout.is_dir() and os.access(checkout, os.W_OK):
        return checkout
    return Path.home() / ".cache" / "ganlab_kit"


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(preferred: str | torch.device | None = None) -> torch.device:
    """Choose a device: the argument, else ``GANLAB_DEVICE``, else cuda > mps > cpu.

    Asking for a device that is not there is an error, not a silent fallback: a class
    that believes it trains on a GPU should hear that it does not.
    """
    choice = preferred if preferred is not None else os.environ.get(DEVICE_ENV) or None
    if choice is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(choice)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {str(choice)!r} was asked for but torch sees no CUDA GPU "
            f"(torch {torch.__version__}); unset {DEVICE_ENV} or use 'cpu'."
        )
    if device.type == "mps" and not mps_available():
        raise RuntimeError(f"device {str(choice)!r} was asked for but MPS is not available here.")
    return device


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's ``random``, NumPy and torch (all devices) and return a torch
    ``Generator`` seeded the same way, for a ``DataLoader``'s ``generator=`` argument.

    DataLoader worker processes are seeded by torch from that generator; pass
    ``worker_init_fn=seed_worker`` so NumPy and ``random`` inside workers follow too.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn`` for DataLoaders: derive NumPy/random seeds from torch's
    per-worker seed, which torch already derives from the loader's generator."""
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def live_decision(
    environ: Mapping[str, str] | None = None, modules: Iterable[str] | None = None, kernel: bool | None = None
) -> tuple[bool, str]:
    """``(live, why)``: will a front end render this kernel's widgets? One signal decides each case,
    checked in this order (``environ`` / ``modules`` / ``kernel`` default to this process's own):

    1. ``GANLAB_LIVE=1`` / ``0``: the user's override, always first.
    2. No IPython kernel (plain Python, a terminal IPython): nothing renders widgets -> static.
    3. Google Colab: the ``google.colab`` module, which Colab's kernel imports at start-up, or its
       ``COLAB_RELEASE_TAG`` variable -> live (Colab renders ipywidgets 8).
    4. Voilà: it starts each kernel with ``SERVER_SOFTWARE=voila/<version>`` and ``VOILA_BASE_URL`` /
       ``VOILA_PREHEAT`` (pre-heated kernels) in its environment -> live. Voilà runs the notebook with
       an nbclient-style executor, so it has none of the server-session signals below.
    5. VS Code: its Jupyter extension starts kernels with ``VSCODE_PID`` set -> live.
    6. A Jupyter server session (JupyterLab 4, Notebook 7, and a JupyterHub single-user server, which
       is the same server): jupyter_server starts a session's kernel with ``JPY_SESSION_NAME`` (the
       notebook's path); a JupyterHub server's environment also has ``JUPYTERHUB_API_TOKEN`` -> live.
    7. Otherwise a headless executor (nbclient, nbval, papermill, ``jupyter nbconvert --execute``):
       they start kernels with none of the above -> static (pictures, blocking training).
    """
    environ = os.environ if environ is None else environ
    flag = _flag_value(LIVE_ENV, environ.get(LIVE_ENV))
    if flag is not None:
        return flag, f"{LIVE_ENV}={environ[LIVE_ENV]}"
    if kernel is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython ships with ipykernel
            return False, "IPython is not installed"
        shell = get_ipython()
        kernel = shell is not None and hasattr(shell, "kernel")
    if not kernel:
        return False, "no IPython kernel (plain Python or a terminal)"
    modules = set(sys.modules if modules is None else modules)
    if "google.colab" in modules or "COLAB_RELEASE_TAG" in environ:
        return True, "Google Colab"
    if environ.get("SERVER_SOFTWARE", "").startswith("voila") or {"VOILA_BASE_URL", "VOILA_PREHEAT"} & set(environ):
        return True, "Voila"
    if "VSCODE_PID" in environ:
        return True, "VS Code"
    if "JPY_SESSION_NAME" in environ:
        return True, "a Jupyter server session (JupyterLab, Notebook 7, JupyterHub)"
    if "JUPYTERHUB_API_TOKEN" in environ:
        return True, "a JupyterHub single-user server"
    return False, "a kernel without a front end's signal (nbclient, nbval, papermill, nbconvert --execute)"


def frontend_attached() -> bool:
    """Best guess whether a live Jupyter front end will render widgets (:func:`live_decision`).

    True: labs show live widgets and train in the background. False: labs show static
    snapshots and train in the foreground, so headless runs finish with their pictures.
    """
    return live_decision()[0]


@dataclass(frozen=True)
class RuntimeInfo:
    device: torch.device
    fast: bool
    torch_version: str

    def __str__(self) -> str:
        mode = "fast (tiny configs)" if self.fast else "full"
        return f"device={self.device}  mode={mode}  torch={self.torch_version}"


def runtime_info(preferred: str | None = None) -> RuntimeInfo:
    """What a notebook prints in its first cell: device, mode and torch version."""
    return RuntimeInfo(pick_device(preferred), fast_mode(), torch.__version__)


# ------------------------------------------------------------------ files
@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without an error, the
    temporary file is flushed to disk and moved onto ``path`` with ``os.replace``.

    A crash or an exception leaves either the old file or the new one, never half of
    one, and the temporary file is removed. Use it with writers that want a file name
    (``safetensors.torch.save_file``, ``torch.save``)::

        with atomic_path("model.safetensors") as temporary:
            save_file(tensors, temporary)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        with open(temporary, "rb+") as file:  # the bytes reach the disk before the rename
            os.fsync(file.fileno())
        # mkstemp makes the file private (0600); give it the mode a plain open() would
        # (0666 less the umask), or an existing file's mode when replacing one.
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_current_umask()
        os.chmod(temporary, mode)
        os.replace(temporary, path)  # atomic on POSIX and Windows
    finally:
        if temporary.exists():
            temporary.unlink()


def _current_umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`); returns the path."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return Path(path)


# ------------------------------------------------------------------ torch threads
class TorchThreadLimit:
    """One holder's claim on ``torch.set_num_threads`` (see :func:`limit_torch_threads`).

    ``release()`` (idempotent) or leave its ``with`` block to give the claim back."""

    def __init__(self, threads: int | None) -> None:
        self.threads = threads
        self.released = threads is None  # None: claims nothing, restores nothing

    def release(self) -> None:
        if not self.released:
            self.released = True
            _thread_limits.release(self)

    def __enter__(self) -> TorchThreadLimit:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class _ThreadLimits:
    """Reference-counted intra-op thread setting shared by every lab in the process.

    The first claim remembers torch's setting; each claim sets its own number (the
    newest open claim wins); releasing one re-applies the newest claim still open;
    the last release restores what the first claim found."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claims: list[TorchThreadLimit] = []
        self._before: int | None = None

    def acquire(self, claim: TorchThreadLimit) -> None:
        with self._lock:
            if not self._claims:
                self._before = torch.get_num_threads()
            self._claims.append(claim)
            torch.set_num_threads(claim.threads)

    def release(self, claim: TorchThreadLimit) -> None:
        with self._lock:
            if claim not in self._claims:
                return
            self._claims.remove(claim)
            if self._claims:
                torch.set_num_threads(self._claims[-1].threads)
            elif self._before is not None:
                torch.set_num_threads(self._before)
                self._before = None

    @property
    def holders(self) -> int:
        return len(self._claims)


_thread_limits = _ThreadLimits()


def limit_torch_threads(threads: int | None) -> TorchThreadLimit:
    """Use ``threads`` intra-op threads in torch until the returned claim is released.

    Tiny nets gain nothing from torch's threads, and on a small machine a training
    thread and a drawing thread fight over them, so a lab sets 1 while it is open::

        claim = limit_torch_threads(1)   # in the lab's constructor
        claim.release()                  # in its close(); or: with limit_torch_threads(1): ...

    Two labs open at once share the setting: the first remembers torch's own number,
    the last one to release restores it. ``None`` claims nothing (leaves torch alone).
    """
    if threads is None:
        return TorchThreadLimit(None)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"torch threads must be a positive integer or None, got {threads!r}")
    claim = TorchThreadLimit(threads)
    _thread_limits.acquire(claim)
    return claim
