#!/usr/bin/env python3
"""How long nbgrader takes to autograde one submission of each assignment, in fast mode.

    python bench/bench_autograde.py [--assignments 01_gan_loss_math ...] [--full]

For each assignment: the instructor's source is submitted by one student and graded with
``ganlab-kit course grade``'s code (nbgrader autograde: clear, restore locked cells, run every
cell, save the marks). The baseline, run in the same process, is executing the same notebook
once with nbclient and nothing else: the ratio is what grading costs on top of running the
notebook (kernel start, nbgrader's database and checks, the hidden probes).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganlab_kit.course import ASSIGNMENTS  # noqa: E402
from ganlab_kit.course.nbgrader_course import autograde, build_course, course_report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignments", nargs="+", default=list(ASSIGNMENTS))
    parser.add_argument("--full", action="store_true", help="full-size notebooks (default: fast mode)")
    args = parser.parse_args()
    os.environ["GANLAB_LIVE"] = "0"
    if not args.full:
        os.environ["GANLAB_FAST"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        started = time.perf_counter()
        build_course(course, notebooks=ROOT / "notebooks", assignments=tuple(args.assignments))
        print(f"build (sources + nbgrader release of {len(args.assignments)}): {time.perf_counter() - started:.1f} s")
        print(f"{'assignment':<20} {'run once (s)':>12} {'autograde (s)':>14} {'ratio':>6}  marks")
        for name in args.assignments:
            source = course / "source" / name / f"{name}.ipynb"
            nb = nbformat.read(source, as_version=4)
            workdir = Path(tmp) / f"run_{name}"
            workdir.mkdir()
            started = time.perf_counter()
            NotebookClient(
                nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
            ).execute()
            baseline = time.perf_counter() - started
            target = course / "submitted" / "student" / name / f"{name}.ipynb"
            target.parent.mkdir(parents=True)
            target.write_bytes(source.read_bytes())
            started = time.perf_counter()
            autograde(course, name, fast=not args.full, student="student")
            graded = time.perf_counter() - started
            report = course_report(course, name)[0]
            print(
                f"{name:<20} {baseline:>12.1f} {graded:>14.1f} {graded / baseline:>6.2f}  "
                f"{report.score:g}/{report.max_score:g}"
            )


if __name__ == "__main__":
    main()
