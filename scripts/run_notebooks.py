#!/usr/bin/env python3
"""Execute notebooks for real and store their outputs, ready to commit.

    python scripts/run_notebooks.py notebooks/01_gan_loss_math.ipynb [more...] [--fast]

Full mode by default (what students read); ``--fast`` sets GANLAB_FAST=1. After the run:
saved widget state (``metadata.widgets`` and widget-view outputs' state) is stripped,
and absolute paths of this machine are replaced, so the committed file leaks nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def scrub_paths(text: str) -> str:
    for prefix in {str(ROOT.parent), str(Path.home()), "/tmp"}:
        text = re.sub(re.escape(prefix) + r"/[^\s'\"]*", "<path>", text)
    return text


def clean(nb: nbformat.NotebookNode) -> None:
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"] = scrub_paths(out["text"])
            for key, value in list(out.get("data", {}).items()):
                if key.startswith("text/") and isinstance(value, str):
                    out["data"][key] = scrub_paths(value)
            if "traceback" in out:
                out["traceback"] = [scrub_paths(t) for t in out["traceback"]]


def run(path: Path, fast: bool, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    env_before = os.environ.get("GANLAB_FAST")
    os.environ["GANLAB_FAST"] = "1" if fast else "0"
    os.environ.setdefault("GANLAB_LIVE", "0")
    start = time.perf_counter()
    try:
        NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        ).execute()
    finally:
        if env_before is None:
            os.environ.pop("GANLAB_FAST", None)
        else:
            os.environ["GANLAB_FAST"] = env_before
    clean(nb)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--fast", action="store_true", help="run in fast mode (GANLAB_FAST=1)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    args = parser.parse_args()
    for path in args.notebooks:
        seconds = run(path, args.fast, args.timeout)
        print(f"{path.name}: ran in {seconds:.0f} s ({'fast' if args.fast else 'full'} mode), outputs stored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
