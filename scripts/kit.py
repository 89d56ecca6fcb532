#!/usr/bin/env python3
"""Set up the kit and open it, or set it up and test it: the README's two commands.

    python3 scripts/kit.py lab      # venv + install with the [lab] extras + JupyterLab on notebooks/
    python3 scripts/kit.py test     # venv + install with [lab,test] + lint + every test, notebooks in fast mode

Options (before or after the verb):
    --here        install into the running Python instead of ./.venv (for a conda env or a
                  GPU box whose torch you want to keep; torch is only lower-bounded)
    --reinstall   reinstall even when nothing changed since the last set-up

Only the standard library is used here: this runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"

# Checks the pair the way it breaks: torchvision's compiled ops must load against this torch.
PAIR_CHECK = (
    "import torch, torchvision, torchvision.ops as ops;"
    "ops.nms(torch.zeros(1, 4), torch.ones(1), 0.5);"
    "print(f'torch {torch.__version__} + torchvision {torchvision.__version__}: OK')"
)


def say(msg: str) -> None:
    print(f"[ganlab-kit] {msg}", flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_python(here: bool) -> Path:
    if here:
        return Path(sys.executable)
    python = venv_python()
    if not python.exists():
        say(f"creating a virtual environment in {VENV.name}/")
        venv.EnvBuilder(with_pip=True).create(VENV)
    return python


def run(cmd: list[str], **kw) -> int:
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kw)


def install(python: Path, extras: str, force: bool) -> None:
    spec = f".[{extras}]" if extras else "."
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()[:16]
    stamp = python.parent.parent / f".ganlab-kit-installed-{extras or 'base'}"
    if not force and stamp.exists() and stamp.read_text() == digest and pair_ok(python, quiet=True):
        say(f"already set up ({spec}); --reinstall to force")
        return
    say(f"installing the kit and its dependencies ({spec}); the first time downloads PyTorch")
    if run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"]) != 0:
        say("could not upgrade pip; continuing with the one there")
    if run([python, "-m", "pip", "install", "--quiet", "-e", spec]) != 0:
        sys.exit("[ganlab-kit] pip install failed: see the messages above (README, Troubleshooting).")
    repair_pair(python)
    stamp.write_text(digest)


def pair_ok(python: Path, quiet: bool = False) -> bool:
    out = subprocess.run([str(python), "-c", PAIR_CHECK], cwd=ROOT, capture_output=True, text=True)
    if not quiet:
        lines = (out.stdout if out.returncode == 0 else out.stderr).strip().splitlines() or ["(no output)"]
        say(lines[-1])
    return out.returncode == 0


def repair_pair(python: Path) -> None:
    """A torch without matching torchvision ops (e.g. a local CPU-only torch wheel next to
    the registry's CUDA torchvision) imports but fails with 'torchvision::nms does not
    exist'. Upgrading both together lets pip choose a release pair built for each other."""
    if pair_ok(python):
        return
    say("torch and torchvision do not work together; installing a matching pair from the registry")
    if run([python, "-m", "pip", "install", "--quiet", "--upgrade", "torch", "torchvision"]) != 0 or not pair_ok(
        python
    ):
        sys.exit(
            "[ganlab-kit] torch and torchvision still do not import together. Install a matching pair\n"
            "for your machine (https://pytorch.org/get-started), then run this command again."
        )


def main(argv: list[str]) -> int:
    flags = {a for a in argv if a in ("--here", "--reinstall")}
    rest = [a for a in argv if a not in flags]
    if not rest or rest[0] not in ("lab", "test", "setup"):
        print(__doc__)
        return 2
    verb, extra = rest[0], rest[1:]
    python = ensure_python("--here" in flags)
    # `lab` needs the notebooks' extras; `test` also runs the notebooks, so it needs both.
    install(python, "lab" if verb == "lab" else "lab,test", "--reinstall" in flags)
    if verb == "setup":
        return run([python, "-m", "ganlab_kit.cli", "doctor"])
    if verb == "lab":
        say("opening JupyterLab on notebooks/ (Ctrl-C in this terminal stops it)")
        as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # containers, CI boxes
        return run([python, "-m", "jupyter", "lab", "--notebook-dir", ROOT / "notebooks", *as_root, *extra])
    env = dict(os.environ, GANLAB_FAST=os.environ.get("GANLAB_FAST", "1"))
    say(f"running the package tests and every notebook (GANLAB_FAST={env['GANLAB_FAST']})")
    return run([python, "-m", "pytest", *extra], env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
