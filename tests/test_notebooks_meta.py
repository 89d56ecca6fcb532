"""House rules for every committed notebook, checked on the files themselves (no kernel).

nbval runs the notebooks; this test checks what nbval does not: that each notebook is valid
JSON and nbformat, carries no saved widget state and no absolute paths of the machine it
ran on, was committed with outputs from a real run (every code cell executed, in order, no
error outputs), starts with what the reader will be able to do, has a first code cell tagged
``parameters`` that reads fast mode, and marks at least one cell ``# NBVAL_CHECK_OUTPUT`` so
that some of its math is compared, not only executed.

``notebook_problems`` returns the problems as sentences; the tests at the bottom show that
it does find each kind of problem, so a clean result means something.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
OPENING_PHRASES = ("be able to", "you will", "after this notebook", "by the end")
# A user's home or this checkout's parent written into a notebook: /home/ann/..., /Users/ann/...,
# /root/..., C:\Users\ann\...
ABSOLUTE_PATH = re.compile(r"(/home/[^/\s'\"]+/|/Users/[^/\s'\"]+/|/root/|[A-Za-z]:\\\\?Users\\)")


def _text_of(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _cell_texts(cell) -> list[str]:
    """The source and every text-like output of a cell (images are not searched)."""
    texts = [_text_of(cell.get("source", ""))]
    for output in cell.get("outputs", []):
        if "text" in output:
            texts.append(_text_of(output["text"]))
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/") or mime.endswith("json"):
                texts.append(value if isinstance(value, str) else json.dumps(value))
        if "traceback" in output:
            texts.append("\n".join(output["traceback"]))
    return texts


def notebook_problems(raw: str, repo_root: Path = REPO_ROOT) -> list[str]:
    """Every house-rule problem of one notebook's file text, as sentences (empty: all good)."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return [f"not valid JSON: {exc}"]
    try:
        nb = nbformat.from_dict(data)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several types; any of them is the finding
        return [f"not a valid nbformat 4 notebook: {str(exc).splitlines()[0]}"]
    problems: list[str] = []

    if "widgets" in nb.metadata:
        problems.append(
            "metadata.widgets is present: saved widget state must be stripped (scripts/run_notebooks.py does it)"
        )

    local_roots = {str(repo_root), str(repo_root.parent), str(Path.home())}
    local_roots.discard("/")
    for index, cell in enumerate(nb.cells):
        for text in _cell_texts(cell):
            found = ABSOLUTE_PATH.search(text)
            local = next((root for root in local_roots if root + "/" in text), None)
            if found or local:
                problems.append(f"cell {index} contains an absolute path ({(found.group(0) if found else local)!r})")
                break

    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if not code_cells:
        problems.append("no code cells")
        return problems

    counts = []
    for index, cell in code_cells:
        if not _text_of(cell.source).strip():
            continue
        if cell.get("execution_count") is None:
            problems.append(
                f"code cell {index} has no stored run (execution_count is empty): commit outputs from a real run"
            )
        else:
            counts.append(cell.execution_count)
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            problems.append(f"code cell {index} stored an error ({errors[0].get('ename')}): the committed run failed")
    if counts and counts != sorted(counts):
        problems.append(f"cells were not run top to bottom in one go (execution counts {counts})")

    first_index, first_code = code_cells[0]
    if "parameters" not in first_code.metadata.get("tags", []):
        problems.append(f"the first code cell (cell {first_index}) is not tagged 'parameters'")
    source = _text_of(first_code.source)
    if "ganlab_kit.runtime" not in source or not ("fast_mode" in source or "pick(" in source):
        problems.append("the first code cell does not read fast mode (from ganlab_kit.runtime import fast_mode, pick)")

    first = nb.cells[0]
    opening = _text_of(first.source).lower()
    if first.cell_type != "markdown" or not any(phrase in opening for phrase in OPENING_PHRASES):
        problems.append("the notebook does not open (first cell, markdown) with what the reader will be able to do")

    if not any(CHECK_MARK in _text_of(c.source) for _, c in code_cells):
        problems.append(f"no cell is marked '{CHECK_MARK}': nbval would execute the math without checking it")
    return problems


# --------------------------------------------------------------------- the notebooks
@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_follows_house_rules(path: Path):
    problems = notebook_problems(path.read_text(encoding="utf-8"))
    assert not problems, f"{path.name}:\n  - " + "\n  - ".join(problems)


def test_notebooks_are_numbered_one_idea_each():
    names = [p.name for p in NOTEBOOKS]
    numbers = [name.split("_", 1)[0] for name in names]
    assert all(re.fullmatch(r"\d\d", n) for n in numbers), f"notebooks must be named NN_topic.ipynb: {names}"
    assert len(set(numbers)) == len(numbers), f"two notebooks share a number: {names}"


# ------------------------------------------------------- the checker finds problems
def _good_notebook() -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 99 · Example\n\nAfter this notebook you will be able to add."),
        nbformat.v4.new_code_cell(
            "from ganlab_kit.runtime import fast_mode, pick\nN = pick(10, 2)",
            metadata={"tags": ["parameters"]},
            execution_count=1,
        ),
        nbformat.v4.new_code_cell(
            f"{CHECK_MARK}\nprint(f'{{1 + 1:.1f}}')",
            execution_count=2,
            outputs=[nbformat.v4.new_output("stream", text="2.0\n")],
        ),
    ]
    return json.loads(nbformat.writes(nb))


def _problems_of(nb: dict) -> list[str]:
    return notebook_problems(json.dumps(nb))


def test_a_clean_notebook_has_no_problems():
    assert _problems_of(_good_notebook()) == []


@pytest.mark.parametrize(
    "spoil, expected",
    [
        (
            lambda nb: nb["metadata"].__setitem__("widgets", {"application/vnd.jupyter.widget-state+json": {}}),
            "metadata.widgets",
        ),
        (
            lambda nb: nb["cells"][2]["outputs"][0].__setitem__("text", "saved to /home/ann/runs/x.pt\n"),
            "absolute path",
        ),
        (
            lambda nb: nb["cells"][2]["outputs"][0].__setitem__("text", f"saved to {REPO_ROOT}/runs/x.pt\n"),
            "absolute path",
        ),
        (lambda nb: nb["cells"][2].__setitem__("execution_count", None), "no stored run"),
        (lambda nb: nb["cells"][2].__setitem__("execution_count", 0), "top to bottom"),
        (lambda nb: nb["cells"][1]["metadata"].__setitem__("tags", []), "not tagged 'parameters'"),
        (lambda nb: nb["cells"][1].__setitem__("source", "N = 10"), "does not read fast mode"),
        (lambda nb: nb["cells"][0].__setitem__("source", "# 99 · Example"), "does not open"),
        (lambda nb: nb["cells"][2].__setitem__("source", "print(2.0)"), "NBVAL_CHECK_OUTPUT"),
        (
            lambda nb: nb["cells"][2]["outputs"].append(
                {"output_type": "error", "ename": "ValueError", "evalue": "x", "traceback": []}
            ),
            "stored an error",
        ),
    ],
)
def test_the_checker_finds_each_problem(spoil, expected):
    nb = copy.deepcopy(_good_notebook())
    spoil(nb)
    problems = _problems_of(nb)
    assert any(expected in p for p in problems), f"expected a problem about {expected!r}, got {problems}"


def test_the_checker_rejects_broken_json():
    assert notebook_problems('{"cells": [')[0].startswith("not valid JSON")
    assert notebook_problems('{"cells": []}')[0].startswith("not a valid nbformat")
