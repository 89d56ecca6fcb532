"""Make student submissions from an nbgrader release: fill answers, delete or rename cells."""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat

STUB = "# YOUR CODE HERE\n"


def cell_by_id(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(grade_id)


def answer(nb: nbformat.NotebookNode, exercise: str, body: str) -> None:
    """Write ``body`` (a function body, unindented) where the release's stub raises."""
    cell = cell_by_id(nb, exercise)
    lines = cell.source.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == STUB.strip())
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    assert lines[at + 1].strip() == "raise NotImplementedError()", lines[at + 1]
    lines[at : at + 2] = textwrap.indent(textwrap.dedent(body).strip("\n"), indent).splitlines()
    cell.source = "\n".join(lines)


def submit(course: Path, student: str, assignment: str, nb: nbformat.NotebookNode) -> Path:
    target = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target
