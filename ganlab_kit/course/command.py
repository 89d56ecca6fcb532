"""``ganlab-kit course``: build an nbgrader course folder from the kit, grade, report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_course_parser(sub) -> None:
    from . import ASSIGNMENTS

    course = sub.add_parser(
        "course",
        help="graded labs: build an nbgrader course folder from the notebooks, autograde, report",
        description="Graded labs with nbgrader (pip install 'ganlab_kit[course]'). build: source/ with the "
        "solutions and hidden tests, release/ without them. grade: autograde submitted/<student>/<assignment>/ "
        "and say, per student, which cell lost which points and why. Autograding runs students' code: run it in "
        "a container or as a separate user.",
    )
    actions = course.add_subparsers(dest="action", required=True)
    build = actions.add_parser("build", help="write source/ and release/ for the assignments")
    build.add_argument("folder", type=Path, help="the course folder (made if missing)")
    build.add_argument("--notebooks", type=Path, help="the kit's notebooks folder (default ./notebooks)")
    build.add_argument("--assignments", nargs="+", default=list(ASSIGNMENTS), metavar="NAME", help="default: all")
    build.add_argument("--no-release", dest="release", action="store_false", help="write source/ only")
    build.add_argument("--timeout", type=int, default=120, help="seconds a cell may run when graded")
    grade = actions.add_parser("grade", help="autograde the submissions of one assignment, then report")
    grade.add_argument("folder", type=Path)
    grade.add_argument("assignment", choices=ASSIGNMENTS)
    grade.add_argument("--full", action="store_true", help="run the notebooks at full size (default: fast mode)")
    grade.add_argument("--timeout", type=int, help="seconds a cell may run (default: nbgrader_config.py's)")
    grade.add_argument("--student", help="grade one student only")
    grade.add_argument("--json", action="store_true", help="print the report as JSON")
    report = actions.add_parser("report", help="the report of an assignment already autograded")
    report.add_argument("folder", type=Path)
    report.add_argument("assignment", choices=ASSIGNMENTS)
    report.add_argument("--json", action="store_true")


def run_course(args: argparse.Namespace) -> int:
    from .nbgrader_course import CourseError, autograde, build_course, course_report, report_json

    try:
        if args.action == "build":
            points = build_course(
                args.folder,
                notebooks=args.notebooks,
                assignments=tuple(args.assignments),
                release=args.release,
                timeout=args.timeout,
            )
            for name, total in points.items():
                print(f"{name}: {total:g} points -> {args.folder / 'source' / name}")
            if args.release:
                print(f"students' versions (no solutions, no hidden tests): {args.folder / 'release'}")
            return 0
        if args.action == "grade":
            autograde(args.folder, args.assignment, fast=not args.full, timeout=args.timeout, student=args.student)
        reports = course_report(args.folder, args.assignment)
        if not reports:
            print(f"no autograded submissions of {args.assignment} in {args.folder / 'autograded'}", file=sys.stderr)
            return 1
        if args.json:
            print(report_json(reports))
        else:
            for report in reports:
                print("\n".join(report.lines()))
        return 0
    except CourseError as error:
        print(f"ganlab-kit course: {error}", file=sys.stderr)
        return 2
