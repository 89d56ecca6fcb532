"""An nbgrader course folder made from the kit: build it, grade it, report why marks were lost.

    ganlab-kit course build COURSE            source/ (instructor versions) and release/ (students')
    ganlab-kit course grade COURSE ASSIGNMENT autograde submitted/<student>/<assignment>/, then the report

nbgrader does the work (``generate_assignment``, ``autograde``); the kit writes the sources
(:mod:`.assignments`), an ``nbgrader_config.py`` that makes grading robust to what students
hand in, and a report that says, per student, which graded cell lost which points and why.

What the config makes nbgrader do with a difficult submission:

* a deleted graded cell, or one whose nbgrader id was changed: put back from the source
  (``OverwriteCells.add_missing_cells``) and graded;
* a cell that runs forever: stopped after ``Execute.timeout`` seconds (interrupt, then the
  rest runs); the kit's checks also stop a student's function after 60 s themselves;
* a notebook saved with errors or outputs in it: outputs are cleared and it is run afresh;
* an edited graded cell: nbgrader restores the locked source before running it.

Autograding runs the students' code with the grader's rights: run it in a container or as
a separate user (see the README's instructors section).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import ASSIGNMENTS
from .assignments import instructor_source, total_points

DEFAULT_TIMEOUT = 120  # seconds per cell when grading (fast mode's slowest cell takes a few)
MISSING_NOTE = "was missing from the submission"


class CourseError(RuntimeError):
    """A course folder, notebook folder or nbgrader problem, said in words."""


def _require_nbgrader() -> None:
    try:
        import nbgrader  # noqa: F401
    except ImportError as error:
        raise CourseError(
            "nbgrader is not installed: python -m pip install 'ganlab_kit[course]'  (or: pip install nbgrader)"
        ) from error


CONFIG = """\
# nbgrader configuration written by `ganlab-kit course build` (edit freely; rebuilding keeps an edited file).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
# A deleted (or re-labelled) graded cell is put back from the source and graded, not silently skipped.
c.OverwriteCells.add_missing_cells = True
# A cell that runs forever is interrupted after this many seconds; grading goes on with the next cell.
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
"""


def write_config(course: Path, *, course_id: str = "ganlab_kit", timeout: int = DEFAULT_TIMEOUT) -> Path:
    path = course / "nbgrader_config.py"
    if not path.exists():
        path.write_text(CONFIG.format(course_id=course_id, timeout=timeout), encoding="utf-8")
    return path


def find_notebooks(notebooks: Path | None) -> Path:
    candidates = (
        [Path(notebooks)] if notebooks else [Path("notebooks"), Path(__file__).resolve().parents[2] / "notebooks"]
    )
    for folder in candidates:
        if folder and (folder / f"{ASSIGNMENTS[0]}.ipynb").exists():
            return folder.resolve()
    where = notebooks or "./notebooks"
    raise CourseError(
        f"no kit notebooks in {where} (looked for {ASSIGNMENTS[0]}.ipynb): run from the kit's folder or pass "
        "--notebooks PATH"
    )


def build_course(
    course: Path,
    *,
    notebooks: Path | None = None,
    assignments: tuple[str, ...] = ASSIGNMENTS,
    release: bool = True,
    timeout: int = DEFAULT_TIMEOUT,
) -> dict[str, float]:
    """Write ``course/source/<a>/<a>.ipynb`` for each assignment (and ``release/`` through
    nbgrader); return the points of each assignment."""
    unknown = [a for a in assignments if a not in ASSIGNMENTS]
    if unknown:
        raise CourseError(f"no assignment named {', '.join(unknown)}; assignments: {', '.join(ASSIGNMENTS)}")
    folder = find_notebooks(notebooks)
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    write_config(course, timeout=timeout)
    points = {}
    for name in assignments:
        nb = instructor_source(folder / f"{name}.ipynb")
        target = course / "source" / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        points[name] = total_points(nb)
    if release:
        _require_nbgrader()
        for name in assignments:
            _nbgrader(course, "generate_assignment", name, "--force")
    return points


def _nbgrader(course: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ if env is None else env)
    # nbgrader runs `alembic` (its database migrations) from PATH: the one beside this Python
    scripts = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([scripts, env.get("PATH", "")])
    process = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
    )
    if process.returncode != 0:
        tail = "\n".join((process.stdout + process.stderr).strip().splitlines()[-15:])
        raise CourseError(f"nbgrader {' '.join(args)} failed (exit {process.returncode}):\n{tail}")
    return process


def autograde(
    course: Path, assignment: str, *, fast: bool = True, timeout: int | None = None, student: str | None = None
) -> subprocess.CompletedProcess:
    """``nbgrader autograde`` every submission of ``assignment`` (fast mode: the kit's tiny
    sizes; the checks are the same in both modes)."""
    _require_nbgrader()
    course = Path(course)
    if not (course / "submitted").is_dir():
        raise CourseError(f"no submissions: {course / 'submitted'} does not exist (submitted/<student>/{assignment}/)")
    unlabel_unknown_cells(course, assignment)  # the report names such cells: their real ones come back restored
    env = dict(os.environ, GANLAB_LIVE="0")
    if fast:
        env["GANLAB_FAST"] = "1"
    args = ["autograde", assignment, "--force"]
    if timeout is not None:
        args.append(f"--Execute.timeout={int(timeout)}")
    if student is not None:
        args.append(f"--student={student}")
    return _nbgrader(course, *args, env=env)


def unlabel_unknown_cells(course: Path, assignment: str) -> list[str]:
    """Drop the nbgrader label of submitted cells whose id the assignment does not have.

    A student who edits a graded cell's id leaves a cell nbgrader cannot place; nbgrader 0.9
    then stops grading the whole notebook (a KeyError in ``add_missing_grade_cells``). Such a
    cell is graded as an ordinary cell and the real one is put back from the source, which is
    what nbgrader means to do. Only the label (metadata) changes; the student's code stays.
    Returns ``"student/notebook: id"`` for each label dropped."""
    course = Path(course)
    known: dict[str, set[str]] = {}
    for path in (course / "source" / assignment).glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        known[path.name] = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}
    dropped = []
    for path in sorted((course / "submitted").glob(f"*/{assignment}/*.ipynb")):
        if path.name not in known:
            continue
        nb = nbformat.read(path, as_version=4)
        changed = False
        for cell in nb.cells:
            label = cell.metadata.get("nbgrader", {}).get("grade_id")
            if label is not None and label not in known[path.name]:
                del cell.metadata["nbgrader"]
                dropped.append(f"{path.parent.parent.name}/{path.stem}: {label}")
                changed = True
        if changed:
            nbformat.write(nb, path)
    return dropped


# ---------------------------------------------------------------------- the report
@dataclass
class CellMarks:
    grade_id: str
    score: float
    max_score: float
    reasons: list[str] = field(default_factory=list)


@dataclass
class NotebookReport:
    student: str
    notebook: str
    score: float
    max_score: float
    cells: list[CellMarks]
    errors: list[str]  # cells (graded or not) that ended in an error, named

    def lines(self) -> list[str]:
        out = [f"{self.student} / {self.notebook}: {self.score:g} of {self.max_score:g} points"]
        for cell in self.cells:
            if cell.score < cell.max_score:
                out.append(f"  {cell.grade_id}: {cell.score:g}/{cell.max_score:g}")
                out.extend(f"      - {reason}" for reason in cell.reasons)
        out.extend(f"  error: {error}" for error in self.errors)
        return out


def _reasons(cell: nbformat.NotebookNode) -> list[str]:
    reasons = []
    first_line = cell.source.splitlines()[0] if cell.source else ""
    if MISSING_NOTE in first_line:
        reasons.append("this graded cell was deleted or re-labelled in the submission; nbgrader put it back")
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            # nbgrader interrupts a cell at its timeout: the kernel reports KeyboardInterrupt, nbgrader CellTimeoutError
            if output.ename in ("CellTimeoutError", "KeyboardInterrupt"):
                reasons.append("stopped: the cell ran past the grading timeout (c.Execute.timeout)")
            else:
                reasons.append(f"{output.ename}: {output.evalue}".strip())
        markdown = output.get("data", {}).get("text/markdown", "")
        reasons.extend(line[2:].replace("❌ ", "") for line in markdown.splitlines() if line.startswith("- ❌"))
        if output.output_type == "stream" and output.get("name") == "stderr":
            reasons.append("the cell wrote to stderr (nbgrader gives such a cell no points): " + output.text[:200])
    return list(dict.fromkeys(reasons))  # once each


def _cell_name(cell: nbformat.NotebookNode, index: int) -> str:
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    first = next((line for line in cell.source.splitlines() if line.strip()), "")[:60]
    return f"cell {index}" + (f" ({grade_id})" if grade_id else "") + f" `{first}`"


def notebook_report(course: Path, assignment: str, student: str) -> list[NotebookReport]:
    """The marks of one student's autograded assignment: nbgrader's gradebook for the points,
    the graded cells' outputs for the reasons."""
    _require_nbgrader()
    from nbgrader.api import Gradebook

    course = Path(course)
    folder = course / "autograded" / student / assignment
    reports = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for path in sorted(folder.glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
            submission = gradebook.find_submission_notebook(path.stem, assignment, student)
            cells = []
            for grade in sorted(submission.grades, key=lambda g: g.name):
                score = grade.score if grade.score is not None else 0.0
                cell = by_id.get(grade.name)
                reasons = _reasons(cell) if cell is not None else ["the graded cell is missing from the notebook"]
                cells.append(CellMarks(grade.name, score, grade.max_score, reasons))
            errors = [
                f"{_cell_name(cell, i)}: " + "; ".join(_reasons(cell))
                for i, cell in enumerate(nb.cells)
                if cell.cell_type == "code"
                and not cell.metadata.get("nbgrader", {}).get("grade")
                and any(o.output_type == "error" for o in cell.get("outputs", []))
            ]
            reports.append(NotebookReport(student, path.stem, submission.score, submission.max_score, cells, errors))
    return reports


def course_report(course: Path, assignment: str) -> list[NotebookReport]:
    folder = Path(course) / "autograded"
    students = sorted(p.name for p in folder.iterdir() if (p / assignment).is_dir()) if folder.is_dir() else []
    return [report for student in students for report in notebook_report(course, assignment, student)]


def report_json(reports: list[NotebookReport]) -> str:
    return json.dumps([r.__dict__ | {"cells": [c.__dict__ for c in r.cells]} for r in reports], indent=1)
