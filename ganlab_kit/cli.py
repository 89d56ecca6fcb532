"""``ganlab-kit``: the kit's command line.

ganlab-kit doctor     versions, device, fast mode, and what to do about each problem found
ganlab-kit train      train a DCGAN, pix2pix or CycleGAN (the notebooks' runs) with checkpoints,
                      sample grids, --resume, and torchrun for more than one GPU or machine
ganlab-kit course     graded labs: an nbgrader course folder from the notebooks, autograding, reports
ganlab-kit demo       a classroom demo: a lab served as a Voila app with named presets
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from .course.command import add_course_parser, run_course
from .demo.command import add_demo_parser, run_demo


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
    from .runtime import LIVE_ENV, live_decision

    live, why = live_decision()
    out(f"  {'live labs':<12} {'yes' if live else 'no, static pictures'} (decided by: {why}; {LIVE_ENV}=1/0 overrides)")
    if device == "cpu":
        out("  note: no GPU found; every notebook runs on the CPU (full mode of the later ones is slow).")
    problems = [f for f in findings if not f.ok]
    for f in findings:
        out(f"  [{'ok' if f.ok else 'PROBLEM'}] {f.what}")
        if f.fix:
            out(f"      what to do: {f.fix}")
    out("  all good" if not problems else f"  {len(problems)} problem(s) found")
    return 1 if problems else 0


def add_train_parser(sub) -> None:
    from .train.launch import MODELS

    train = sub.add_parser(
        "train",
        help="train a model with checkpoints and samples (torchrun for several GPUs)",
        description="Train the notebooks' DCGAN, pix2pix or CycleGAN runs outside Jupyter. "
        "Several GPUs or machines: torchrun --nproc-per-node N -m ganlab_kit.cli train ...",
    )
    add = train.add_argument
    add("model", choices=MODELS)
    add(
        "--data",
        help="dcgan: digits|faces|photos|styled|FOLDER; pix2pix: ink_wash|oil|ukiyoe; "
        "cyclegan: ink_wash|oil|ukiyoe|a CycleGAN folder (trainA/, trainB/)",
    )
    add("--out", type=Path, default=None, help="output folder (default runs/<model>)")
    add("--image-size", type=int, default=32)
    add("--batch-size", type=int, default=16, help="the global batch: split across processes under torchrun")
    length = train.add_mutually_exclusive_group(required=True)
    length.add_argument("--steps", type=int)
    length.add_argument("--epochs", type=float)
    add("--width", type=int, help="channels of the nets' first layer (default: the model's)")
    add("--blocks", type=int, help="cyclegan: residual blocks per generator (the paper: 9 at 256 px)")
    add("--patches", type=int, default=256, help="built-in styles: training patches to render")
    add("--pool-size", type=int, default=50, help="cyclegan: fakes each image pool keeps (0: no pools)")
    add("--device", help="cpu, cuda, cuda:1, mps (default: the best available, or GANLAB_DEVICE)")
    add("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    add("--compile", action="store_true", help="torch.compile the nets")
    add("--channels-last", action="store_true")
    add("--workers", type=int, default=0, help="data-loader worker processes")
    add("--seed", type=int, default=0)
    add("--sample-every", type=int, default=500)
    add("--checkpoint-every", type=int, default=500)
    add("--keep", type=int, default=3, help="checkpoints kept (the newest)")
    add("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    add("--tensorboard", action="store_true", help="also log to TensorBoard (pip install tensorboard)")
    add("--no-progress", dest="progress", action="store_false")


def run_train(args: argparse.Namespace) -> int:
    from .train.launch import TrainError, TrainOptions, train

    values = {k: v for k, v in vars(args).items() if k != "command"}
    values["out"] = values["out"] or Path("runs") / args.model
    try:
        train(TrainOptions(**values))
    except TrainError as exc:
        print(f"ganlab-kit train: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "ganlab-kit train: interrupted; the checkpoint written on the way out lets --resume continue",
            file=sys.stderr,
        )
        return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ganlab-kit", description="GAN teaching kit tools")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check the installation and say what to fix")
    add_train_parser(sub)
    add_course_parser(sub)
    add_demo_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "doctor":
        return doctor()
    if args.command == "train":
        return run_train(args)
    if args.command == "course":
        return run_course(args)
    if args.command == "demo":
        return run_demo(args)
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
