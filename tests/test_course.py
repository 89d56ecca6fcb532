"""Graded labs without running nbgrader: the instructor sources made from the notebooks, the
graded cells' marks and feedback, the hidden probes, the checks' time limit, the command's
bad-input messages. (nbgrader end to end: test_course_nbgrader.py.)"""

from __future__ import annotations

import builtins
import dataclasses
import signal
import sys
import time
from pathlib import Path

import nbformat
import pytest
import torch
from torch import nn

from ganlab_kit import checks, cli
from ganlab_kit.checks import build2d
from ganlab_kit.checks.limits import can_limit
from ganlab_kit.course import ASSIGNMENTS, assignments
from ganlab_kit.course.assignments import (
    BEGIN,
    BEGIN_HIDDEN,
    END,
    POINTS,
    AssignmentError,
    exercise_cells,
    instructor_source,
    total_points,
)
from ganlab_kit.course.grading import HIDDEN_POINTS, Marks
from ganlab_kit.course.nbgrader_course import CourseError, build_course

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def solved(name: str):
    namespace = {"torch": torch, "nn": nn}
    exec(checks.EXERCISES[name].solution, namespace)
    return namespace[name]


# ------------------------------------------------------------------ instructor sources
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_instructor_source_marks_every_exercise(assignment):
    original = nbformat.read(NOTEBOOKS / f"{assignment}.ipynb", as_version=4)
    found = exercise_cells(original)
    nb = instructor_source(NOTEBOOKS / f"{assignment}.ipynb")
    assert len(nb.cells) == len(original.cells) + len(found) + 1  # a graded cell per exercise, a header
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    for item in found:
        at = ids.index(item.exercise)
        solution, graded = nb.cells[at], nb.cells[at + 1]
        assert solution.metadata.nbgrader["solution"] and not solution.metadata.nbgrader["grade"]
        assert BEGIN in solution.source and END in solution.source
        assert "raise NotImplementedError" not in solution.source
        assert f"def {item.function}(" in solution.source  # the stub's signature stays the student's
        assert graded.metadata.nbgrader == {
            "grade": True,
            "grade_id": f"test_{item.exercise}",
            "locked": True,
            "points": POINTS[item.exercise],
            "schema_version": 3,
            "solution": False,
        }
        assert BEGIN_HIDDEN in graded.source and f'Marks("{item.exercise}"' in graded.source
    assert total_points(nb) == sum(POINTS[i.exercise] for i in found)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_the_solution_in_a_source_runs_and_passes(tmp_path):
    """Execute one source cell's function: the body between the markers is the kit's solution."""
    nb = instructor_source(NOTEBOOKS / "01_gan_loss_math.ipynb")
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "toy_discriminator_step")
    namespace = {"torch": torch, "use_if_passed": lambda name, func: func}
    exec(cell.source, namespace)
    assert checks.check("toy_discriminator_step", namespace["toy_discriminator_step"]).passed


def test_a_solution_with_another_signature_is_refused(monkeypatch):
    exercise = checks.EXERCISES["optimal_discriminator"]
    wrong = dataclasses.replace(exercise, solution="def optimal_discriminator(a, b):\n    return a / (a + b)\n")
    monkeypatch.setitem(checks.EXERCISES, "optimal_discriminator", wrong)
    with pytest.raises(AssignmentError, match=r"takes \(a, b\) but notebook's optimal_discriminator\(\) takes"):
        instructor_source(NOTEBOOKS / "01_gan_loss_math.ipynb")


def test_a_notebook_without_exercises_is_named():
    with pytest.raises(AssignmentError, match="02_gan_lab.ipynb has no exercise cells"):
        instructor_source(NOTEBOOKS / "02_gan_lab.ipynb")


def test_every_graded_exercise_has_points_and_a_hidden_probe():
    graded = {i.exercise for a in ASSIGNMENTS for i in exercise_cells(nbformat.read(NOTEBOOKS / f"{a}.ipynb", 4))}
    assert graded == set(POINTS)
    for name in graded:
        exercise = checks.EXERCISES[name]
        assert exercise.behaviour is None or exercise.hidden is not None, name


# ------------------------------------------------------------------ marks
def test_marks_for_a_right_answer_visible_then_hidden():
    namespace = {"cycle_loss": solved("cycle_loss")}
    marks = Marks("cycle_loss", points=2, namespace=namespace).check()
    assert repr(marks) == "1" and "hidden checks" in marks._repr_markdown_()  # the student's view
    marks.check_hidden()
    assert float(repr(marks)) == 2.0 and not marks.reasons_lost()
    assert "**cycle_loss: 2 of 2 points**" in marks._repr_markdown_()


def test_marks_name_the_mistake_and_skip_hidden_after_a_failure():
    def summed(fake_logits):
        return torch.nn.functional.softplus(-fake_logits).sum()

    namespace = {"non_saturating_generator_loss": summed}
    marks = Marks("non_saturating_generator_loss", points=2, namespace=namespace).check().check_hidden()
    assert float(repr(marks)) == 0.0
    lost = marks.reasons_lost()
    assert "a sum where a mean was meant" in lost[0]
    assert "not run: the visible check must pass first" in lost[1]


def test_marks_for_missing_unanswered_and_not_a_function():
    def stub(p, q):
        raise NotImplementedError()

    assert "no function named `jensen_shannon`" in Marks("jensen_shannon", 2, namespace={}).check().reasons_lost()[0]
    unanswered = Marks("jensen_shannon", 2, namespace={"jensen_shannon": stub}).check()
    assert "not answered" in unanswered.reasons_lost()[0] and repr(unanswered) == "0"
    assert (
        "is a int, not a function"
        in Marks("jensen_shannon", 2, namespace={"jensen_shannon": 3}).check()._repr_markdown_()
    )
    with pytest.raises(KeyError, match="no exercise named 'nope'"):
        Marks("nope", 2, namespace={})
    with pytest.raises(ValueError, match="more than"):
        Marks("jensen_shannon", HIDDEN_POINTS, namespace={})


def test_marks_read_the_callers_namespace_outside_ipython():
    def optimal_discriminator(p_data, p_g):
        return p_data / (p_data + p_g)

    globals()["optimal_discriminator"] = optimal_discriminator
    try:
        assert Marks("optimal_discriminator", 2).check().earned == 1
    finally:
        del globals()["optimal_discriminator"]


def test_marks_capture_what_the_student_writes_to_stderr(capfd):
    def noisy(p_data, p_g):
        import warnings

        print("debugging", file=sys.stderr)
        warnings.warn("careful", stacklevel=1)
        return p_data / (p_data + p_g)

    marks = Marks("optimal_discriminator", 2, namespace={"optimal_discriminator": noisy}).check()
    assert marks.earned == 1
    assert capfd.readouterr().err == ""  # nbgrader gives a cell that writes to stderr no points


# ------------------------------------------------------------------ hidden probes
@pytest.mark.parametrize("name", sorted(POINTS))
def test_every_solution_passes_visible_and_hidden(name):
    func = solved(name)
    assert checks.check(name, func).passed
    assert checks.check(name, func, hidden=True).passed


def test_an_answer_fitted_to_the_visible_cases_fails_the_hidden_ones():
    visible = {}
    rng = torch.Generator().manual_seed(0)
    for _ in range(3):
        p, g = checks.EXERCISES["optimal_discriminator"].random_inputs(rng)
        visible[tuple(p.tolist())] = p / (p + g)
    for case in checks.load_fixtures()["optimal_discriminator"]:
        visible[tuple(case["args"][0])] = torch.tensor(case["expected"])

    def memorised(p_data, p_g):
        return visible.get(tuple(p_data.tolist()), torch.full_like(p_data, 0.5))

    assert checks.check("optimal_discriminator", memorised).passed
    hidden = checks.check("optimal_discriminator", memorised, hidden=True)
    assert not hidden.passed and "hidden (other inputs) case" in hidden.message


def test_hidden_probes_of_the_build_exercises_catch_their_mistakes():
    shared = build2d.make_toy_discriminator()
    assert checks.check("make_toy_discriminator", lambda: shared).passed
    result = checks.check("make_toy_discriminator", lambda: shared, hidden=True)
    assert "same net" in result.message
    shared_g = build2d.make_toy_generator()
    assert "same net" in checks.check("make_toy_generator", lambda: shared_g, hidden=True).message
    summed = checks.check("toy_discriminator_step", build2d._d_variant("sum"), hidden=True)
    assert "64 times the kit's" in summed.message  # the hidden batch size, named
    summed_g = checks.check("toy_generator_step", build2d._g_variant("sum"), hidden=True)
    assert "64 times the kit's" in summed_g.message

    def fixed_steps(generator, discriminator, sample_real, sample_noise, steps):
        return build2d.train_toy_gan(generator, discriminator, sample_real, sample_noise, 20)

    assert "asked for 6 steps, your loop drew 20" in checks.check("train_toy_gan", fixed_steps, hidden=True).message

    def half_batch(generator, discriminator, sample_real, sample_noise, steps):
        return build2d.train_toy_gan(generator, discriminator, lambda n: sample_real(n // 2), sample_noise, steps)

    assert "batches of [128]" in checks.check("train_toy_gan", half_batch, hidden=True).message


# ------------------------------------------------------------------ time limit
@pytest.mark.skipif(not can_limit(), reason="needs SIGALRM in the main thread")
def test_an_endless_answer_is_stopped_and_named_and_an_outer_timer_survives():
    def endless(fake_logits):
        while True:
            pass

    previous = signal.getsignal(signal.SIGALRM)
    signal.setitimer(signal.ITIMER_REAL, 100)
    try:
        started = time.monotonic()
        result = checks.check("non_saturating_generator_loss", endless, time_limit_s=0.5)
        assert time.monotonic() - started < 5
        assert not result.passed and "your non_saturating_generator_loss did not finish within 0.5 s" in result.message
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 90 < remaining <= 100  # the outer timer is back, less the time spent
        assert signal.getsignal(signal.SIGALRM) is previous
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


@pytest.mark.skipif(not can_limit(), reason="needs SIGALRM in the main thread")
def test_the_environment_sets_the_limit(monkeypatch):
    monkeypatch.setenv("GANLAB_CHECK_SECONDS", "0.3")

    def endless(generator, discriminator, optimizer, noise):
        while True:
            pass

    assert "within 0.3 s" in checks.check("toy_generator_step", endless).message
    monkeypatch.setenv("GANLAB_CHECK_SECONDS", "soon")
    with pytest.raises(ValueError, match="GANLAB_CHECK_SECONDS='soon' is not a number"):
        checks.check("toy_generator_step", endless)


def test_solutions_can_be_switched_off(monkeypatch, capsys):
    monkeypatch.setenv("GANLAB_SOLUTIONS", "off")
    checks.show_solution("slerp")
    out = capsys.readouterr().out
    assert "switched off" in out and "arccos" not in out
    monkeypatch.delenv("GANLAB_SOLUTIONS")
    checks.show_solution("slerp")
    assert "arccos" in capsys.readouterr().out


# ------------------------------------------------------------------ the command
def test_course_build_writes_sources_without_nbgrader(tmp_path, capsys):
    code = cli.main(["course", "build", str(tmp_path / "c"), "--notebooks", str(NOTEBOOKS), "--no-release"])
    assert code == 0
    assert "01_gan_loss_math: 24 points" in capsys.readouterr().out
    for name in ASSIGNMENTS:
        assert (tmp_path / "c" / "source" / name / f"{name}.ipynb").exists()
    assert "add_missing_cells = True" in (tmp_path / "c" / "nbgrader_config.py").read_text()


def test_course_bad_input_is_named(tmp_path, capsys, monkeypatch):
    assert cli.main(["course", "build", str(tmp_path), "--notebooks", str(tmp_path), "--no-release"]) == 2
    assert "no kit notebooks in" in capsys.readouterr().err
    assert cli.main(["course", "build", str(tmp_path), "--assignments", "99_x", "--no-release"]) == 2
    assert "no assignment named 99_x; assignments: 01_gan_loss_math" in capsys.readouterr().err
    assert cli.main(["course", "grade", str(tmp_path), "01_gan_loss_math"]) == 2
    assert "no submissions" in capsys.readouterr().err
    real_import = builtins.__import__

    def no_nbgrader(name, *args, **kwargs):
        if name == "nbgrader" or name.startswith("nbgrader."):
            raise ImportError("No module named 'nbgrader'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_nbgrader)
    with pytest.raises(CourseError, match=r"pip install 'ganlab_kit\[course\]'"):
        build_course(tmp_path / "d", notebooks=NOTEBOOKS, assignments=("06_pix2pix",))


def test_assignments_module_reexports_the_list():
    assert assignments.ASSIGNMENTS == ASSIGNMENTS
