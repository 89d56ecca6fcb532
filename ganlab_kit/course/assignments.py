"""The kit's notebooks as nbgrader instructor sources.

Each exercise in a notebook is a cell that defines a stub and hands it to the checker::

    def optimal_discriminator(p_data, p_g):
        # YOUR CODE HERE: one line, from the boxed formula above
        raise NotImplementedError("write D*(x) from p_data and p_g")


    optimal_d = use_if_passed("optimal_discriminator", optimal_discriminator)

:func:`instructor_source` turns it into an nbgrader *solution* cell, with the kit's reference
solution (``checks.EXERCISES[name].solution``) between nbgrader's solution markers in place of
the ``raise``, and adds a locked *graded* cell after it (see :mod:`.grading`). nbgrader's
release then puts ``raise NotImplementedError()`` back inside the function body: the student
version still runs top to bottom, an unanswered exercise failing its check while the notebook
goes on with the kit's reference (``use_if_passed``).

The sources are made from the notebooks each time, so an assignment and its notebook never
drift apart: one copy of the text, one of each solution (in :mod:`ganlab_kit.checks`).
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .. import checks
from . import ASSIGNMENTS  # noqa: F401  (re-exported: the assignments this module converts)

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"

# Points per exercise: a formula 2, a piece of a network or a step 3, a whole training loop 4.
# One point of each is the hidden probes' (grading.HIDDEN_POINTS).
POINTS = {
    "optimal_discriminator": 2,
    "jensen_shannon": 2,
    "non_saturating_generator_loss": 2,
    "hinge_discriminator_loss": 2,
    "make_toy_discriminator": 3,
    "make_toy_generator": 3,
    "toy_discriminator_step": 3,
    "toy_generator_step": 3,
    "train_toy_gan": 4,
    "transposed_conv_output_size": 2,
    "dcgan_generator_layers": 3,
    "unbiased_mmd2": 2,
    "slerp": 2,
    "patchgan_receptive_field": 3,
    "cycle_loss": 2,
    "image_pool_query": 3,
    "cyclegan_generator_step": 4,
}

_USE = re.compile(r"""use_if_passed\(\s*["'](?P<name>\w+)["']\s*,\s*(?P<func>\w+)\s*\)""")
_RAISE = re.compile(r"^(?P<indent>[ \t]+)raise NotImplementedError\b.*$", re.MULTILINE)
_YOUR_CODE = re.compile(r"^(?P<indent>[ \t]+)# YOUR CODE HERE:?[ \t]*(?P<rest>.*)\n", re.MULTILINE)


class AssignmentError(ValueError):
    """A notebook or solution that cannot become an assignment (named in the message)."""


@dataclass(frozen=True)
class ExerciseCell:
    index: int  # the cell's position in the notebook
    exercise: str  # the checker's name
    function: str  # the function the cell defines


def exercise_cells(nb: nbformat.NotebookNode) -> list[ExerciseCell]:
    """The cells that define an exercise stub and hand it to ``use_if_passed``."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "def use_if_passed" in cell.source:
            continue
        use = _USE.search(cell.source)
        if use and _RAISE.search(cell.source) and f"def {use['func']}(" in cell.source:
            found.append(ExerciseCell(index, use["name"], use["func"]))
    return found


def solution_body(exercise: str, function: str, signature: list[str]) -> str:
    """The reference solution's function body, with its imports moved inside, unindented.

    Raises :class:`AssignmentError` when the solution defines no such function or its
    parameters differ from the notebook's stub (the graded cell would then test another
    signature than the student writes)."""
    source = checks.EXERCISES[exercise].solution
    tree = ast.parse(source)
    lines = source.splitlines()
    imports = [
        ast.get_source_segment(source, node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    defs = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == exercise]
    if not defs:
        raise AssignmentError(f"the solution of {exercise!r} defines no function {exercise}()")
    definition = defs[0]
    params = [a.arg for a in definition.args.args]
    if params != signature:
        raise AssignmentError(
            f"the solution of {exercise!r} takes ({', '.join(params)}) but notebook's {function}() takes "
            f"({', '.join(signature)})"
        )
    body = textwrap.dedent("\n".join(lines[definition.body[0].lineno - 1 : definition.end_lineno]))
    return "\n".join([*imports, body]) if imports else body


def _stub_signature(source: str, function: str) -> list[str]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return [a.arg for a in node.args.args]
    raise AssignmentError(f"no def {function}() in the exercise cell")


def solution_cell_source(source: str, exercise: str, function: str) -> str:
    """The exercise cell with the solution between nbgrader's markers in place of the raise."""
    body = solution_body(exercise, function, _stub_signature(source, function))
    # nbgrader's release writes its own "# YOUR CODE HERE": keep the hint after ours, drop the words
    source = _YOUR_CODE.sub(lambda m: f"{m['indent']}# {m['rest']}\n" if m["rest"] else "", source, count=1)
    match = _RAISE.search(source)
    indent = match["indent"]
    block = "\n".join([f"{indent}{BEGIN}", textwrap.indent(body, indent), f"{indent}{END}"])
    return source[: match.start()] + block + source[match.end() :]


def graded_cell_source(exercise: str, function: str, points: float) -> str:
    call = f'Marks("{exercise}", points={points:g}' + (f', function="{function}")' if function != exercise else ")")
    return "\n".join(
        [
            f"# Graded ({points:g} points): the kit's check of `{function}` above. This cell is locked.",
            "from ganlab_kit.course.grading import Marks",
            "",
            f"marks = {call}",
            "marks.check()",
            BEGIN_HIDDEN,
            "marks.check_hidden()",
            END_HIDDEN,
            "marks",
        ]
    )


def _nbgrader(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


def instructor_source(notebook: Path | str) -> nbformat.NotebookNode:
    """The nbgrader instructor version of one of the kit's notebooks (outputs cleared)."""
    notebook = Path(notebook)
    nb = nbformat.read(notebook, as_version=4)
    found = exercise_cells(nb)
    if not found:
        raise AssignmentError(
            f"{notebook.name} has no exercise cells (def ...: raise NotImplementedError + use_if_passed)"
        )
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("nbgrader", None)
    total = 0.0
    for offset, item in enumerate(found):
        if item.exercise not in POINTS:
            raise AssignmentError(f"exercise {item.exercise!r} of {notebook.name} has no points in POINTS")
        points = POINTS[item.exercise]
        total += points
        cell = nb.cells[item.index + offset]
        cell.source = solution_cell_source(cell.source, item.exercise, item.function)
        cell.metadata["nbgrader"] = _nbgrader(item.exercise, solution=True)
        graded = nbformat.v4.new_code_cell(graded_cell_source(item.exercise, item.function, points))
        graded.metadata["nbgrader"] = _nbgrader(f"test_{item.exercise}", grade=True, locked=True, points=points)
        graded.metadata["editable"] = False
        graded.metadata["deletable"] = False
        nb.cells.insert(item.index + offset + 1, graded)
    header = nbformat.v4.new_markdown_cell(
        f"**Graded assignment: {notebook.stem}** ({total:g} points, {len(found)} exercises).\n\n"
        "Write each answer inside its function, where the cell says `raise NotImplementedError()`. Under each "
        "exercise a locked cell shows your marks and why any were lost; one point of each exercise comes from "
        "hidden checks with other inputs, run when the assignment is graded. An exercise you leave unanswered "
        "costs its points and nothing else: the notebook goes on with the kit's own answer, so run it top to "
        "bottom. Keep the functions' names: the graded cells call them by name."
    )
    header.metadata["nbgrader"] = _nbgrader("assignment_header", locked=True)
    nb.cells.insert(0, header)
    nb.metadata.pop("widgets", None)
    return nb


def total_points(nb: nbformat.NotebookNode) -> float:
    return sum(
        float(c.metadata["nbgrader"].get("points", 0)) for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
    )
