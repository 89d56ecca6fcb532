"""``ganlab-kit``: the kit's command line.

ganlab-kit doctor     versions, device, fast mode, and what to do about each problem found
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import platform
import sys
from dataclasses import dataclass


@dataclass
class Finding:
    ok: bool
    what: str
    fix: str = ""


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _torchvision_ops_work() -> tuple[bool, str]:
    try:
        import torch
        import torchvision.ops

        torchvision.ops.nms(torch.zeros(1, 4), torch.ones(1), 0.5)
        return True, ""
    except Exception as exc:  # any import or operator failure is the finding
        return False, f"{type(exc).__name__}: {exc}".splitlines()[0]


def diagnose() -> tuple[dict[str, str], list[Finding]]:
    """Collect versions and findings without printing (testable)."""
    versions = {"python": platform.python_version()}
    findings: list[Finding] = []
    for dist in ("torch", "torchvision", "ipywidgets", "jupyterlab", "notebook", "matplotlib", "safetensors", "nbval"):
        versions[dist] = _version(dist) or "missing"
    for dist in ("torch", "torchvision"):
        if versions[dist] == "missing":
            findings.append(Finding(False, f"{dist} is not installed", "run: python3 scripts/kit.py setup"))
    # The lean core trains without Jupyter: the lab's packages are an extra, reported, not required.
    lab_missing = [d for d in ("ipywidgets", "jupyterlab", "notebook", "matplotlib") if versions[d] == "missing"]
    if lab_missing:
        findings.append(
            Finding(
                True,
                f"core install: {', '.join(lab_missing)} not installed, so training works but the notebooks and "
                "live labs do not",
                "for the notebooks: python -m pip install 'ganlab_kit[lab]'  (or python3 scripts/kit.py lab)",
            )
        )
    if versions["torch"] != "missing" and versions["torchvision"] != "missing":
        ok, why = _torchvision_ops_work()
        if ok:
            findings.append(Finding(True, "torch and torchvision work together"))
        else:
            hint = ""
            if "+cpu" in versions["torch"]:
                hint = " (a CPU-only torch next to a torchvision built for another torch)"
            findings.append(
                Finding(
                    False,
                    f"torch {versions['torch']} and torchvision {versions['torchvision']} "
                    f"do not work together{hint}: {why}",
                    "run: python -m pip install --upgrade torch torchvision   (pip then picks a matching pair)",
                )
            )
    if versions["ipywidgets"] != "missing" and not versions["ipywidgets"].startswith("8"):
        findings.append(
            Finding(
                False, f"ipywidgets {versions['ipywidgets']} is not 8.x", "run: python -m pip install 'ipywidgets>=8.1'"
            )
        )
    return versions, findings


def doctor(out=print) -> int:
    """Print the report; return 0 when nothing needs fixing, 1 otherwise."""
    versions, findings = diagnose()
    out("ganlab-kit doctor")
    for name, value in versions.items():
        out(f"  {name:<12} {value}")
    from .runtime import FAST_ENV, fast_mode

    try:
        from .runtime import pick_device

        device = str(pick_device())
    except Exception as exc:
        device = "unknown"
        findings.append(Finding(False, f"the device cannot be chosen: {exc}", "unset GANLAB_DEVICE or set it to cpu"))
    out(f"  {'device':<12} {device}")
    out(f"  {'fast mode':<12} {'on' if fast_mode() else 'off'} ({FAST_ENV}=1 picks tiny configs)")
    if device == "cpu":
        out("  note: no GPU found; every notebook runs on the CPU (full mode of the later ones is slow).")
    problems = [f for f in findings if not f.ok]
    for f in findings:
        out(f"  [{'ok' if f.ok else 'PROBLEM'}] {f.what}")
        if f.fix:
            out(f"      what to do: {f.fix}")
    out("  all good" if not problems else f"  {len(problems)} problem(s) found")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ganlab-kit", description="GAN teaching kit tools")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check the installation and say what to fix")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        return doctor()
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
