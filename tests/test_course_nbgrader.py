"""nbgrader end to end: build the course from the notebooks, release it, run the students'
version top to bottom, autograde the instructor's solutions (full marks), typical wrong
answers (each loses marks, the feedback names the mistake) and difficult submissions
(a deleted and a re-labelled graded cell, a renamed function, an endless function, a cell
that runs forever, a notebook saved with errors): grading finishes and says why.

Runs the notebooks in fast mode under nbgrader: a few minutes in all, marked slow.
"""

from __future__ import annotations

import os

import nbformat
import pytest
from course_util import answer, cell_by_id, submit
from nbclient import NotebookClient

from ganlab_kit.course import ASSIGNMENTS
from ganlab_kit.course.assignments import BEGIN, BEGIN_HIDDEN, POINTS, exercise_cells, solution_body
from ganlab_kit.course.nbgrader_course import autograde, build_course, course_report

pytest.importorskip("nbgrader", reason="nbgrader is not installed: pip install 'ganlab_kit[course]'")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

NOTEBOOKS = os.path.join(os.path.dirname(__file__), "..", "notebooks")
GRADING_TIMEOUT = 60  # seconds a cell may run under nbgrader here (fast mode's slowest cell takes a few)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    folder = tmp_path_factory.mktemp("course")
    points = build_course(folder, notebooks=NOTEBOOKS)
    assert set(points) == set(ASSIGNMENTS)
    return folder


def release(course, assignment):
    return nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)


def source(course, assignment):
    return nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)


@pytest.fixture(autouse=True)
def fast_env(monkeypatch):
    monkeypatch.setenv("GANLAB_FAST", "1")
    monkeypatch.setenv("GANLAB_LIVE", "0")
    monkeypatch.setenv("GANLAB_CHECK_SECONDS", "20")  # an endless answer is stopped after 20 s


def test_release_has_no_solutions_or_hidden_tests(course):
    for assignment in ASSIGNMENTS:
        src, rel = source(course, assignment), release(course, assignment)
        text = "\n".join(c.source for c in rel.cells)
        assert BEGIN_HIDDEN not in text and "check_hidden" not in text
        assert BEGIN_HIDDEN in "\n".join(c.source for c in src.cells)
        for item in exercise_cells(nbformat.read(os.path.join(NOTEBOOKS, f"{assignment}.ipynb"), as_version=4)):
            body = solution_body(item.exercise, item.function, _params(item, assignment))
            cell = cell_by_id(rel, item.exercise)
            assert "raise NotImplementedError()" in cell.source and BEGIN not in cell.source
            code = [
                line.strip() for line in body.splitlines() if line.strip() and not line.lstrip().startswith("import")
            ]
            assert code, item.exercise
            handed_out = {line.strip() for line in cell.source.splitlines()}
            for line in code:
                assert line not in handed_out, f"{assignment}: the solution of {item.exercise} leaks: {line}"
            graded = cell_by_id(rel, f"test_{item.exercise}")
            assert graded.metadata.nbgrader["locked"] and graded.metadata.nbgrader["points"] == POINTS[item.exercise]


def _params(item, assignment):
    import ast

    nb = nbformat.read(os.path.join(NOTEBOOKS, f"{assignment}.ipynb"), as_version=4)
    tree = ast.parse(nb.cells[item.index].source)
    definition = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == item.function)
    return [a.arg for a in definition.args.args]


def test_student_version_runs_top_to_bottom_without_answers(course, tmp_path):
    """Every exercise unanswered: each graded cell shows 0 points and 'not answered', and the
    notebook still runs to the end (allow_errors=False raises on the first failing cell)."""
    for assignment in ASSIGNMENTS:
        nb = release(course, assignment)
        workdir = tmp_path / assignment
        workdir.mkdir()
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
        graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert graded
        for cell in graded:
            result = next(o for o in cell.outputs if o.output_type == "execute_result")
            assert float(result.data["text/plain"]) == 0.0
            assert "not answered" in result.data["text/markdown"], result.data["text/markdown"]


def _submission_with_mistakes(course):
    """The usual mistakes, one per exercise."""
    nb = release(course, "01_gan_loss_math")
    answer(nb, "optimal_discriminator", "return p_data / (p_data + p_g)")
    answer(nb, "jensen_shannon", 'return "about 0.3"')  # the wrong type
    answer(nb, "non_saturating_generator_loss", "return F.softplus(-fake_logits).sum()")  # a sum, not a mean
    answer(  # the wrong sign
        nb,
        "hinge_discriminator_loss",
        "return -(F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean())",
    )
    answer(nb, "make_toy_discriminator", "return nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))")
    answer(  # a tanh output: the ring is out of reach
        nb,
        "make_toy_generator",
        "return nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2), nn.Tanh())",
    )
    answer(  # fakes not detached
        nb,
        "toy_discriminator_step",
        """
        fake = generator(noise)
        loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
        """,
    )
    answer(
        nb,
        "toy_generator_step",
        """
        loss = F.softplus(-discriminator(generator(noise))).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
        """,
    )
    answer(  # ignores `steps`: passes the visible check (1500 steps), not the hidden one
        nb,
        "train_toy_gan",
        """
        d_opt = torch.optim.Adam(discriminator.parameters(), lr=2e-3, betas=(0.5, 0.999))
        g_opt = torch.optim.Adam(generator.parameters(), lr=2e-3, betas=(0.5, 0.999))
        for _ in range(1500):
            d_step(generator, discriminator, d_opt, sample_real(256), sample_noise(256))
            g_step(generator, discriminator, g_opt, sample_noise(256))
        """,
    )
    return nb


def _submission_with_troubles(course):
    """Swapped labels, a wrong shape, an endless function, a deleted and a re-labelled graded
    cell, a renamed function, a cell that runs forever, errors saved in the notebook."""
    nb = release(course, "01_gan_loss_math")
    answer(nb, "optimal_discriminator", "return (p_data / (p_data + p_g)).sum()")  # one number, not one per x
    answer(
        nb,
        "jensen_shannon",
        """
        m = 0.5 * (p + q)
        kl = lambda a, b: torch.where(a > 0, a * torch.log(a / b), torch.zeros_like(a)).sum(-1)
        return 0.5 * kl(p, m) + 0.5 * kl(q, m)
        """,
    )
    nb.cells.remove(cell_by_id(nb, "test_jensen_shannon"))  # deleted: nbgrader puts it back
    answer(nb, "hinge_discriminator_loss", "return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()")
    cell_by_id(nb, "test_hinge_discriminator_loss").metadata.nbgrader["grade_id"] = "my_cell"  # re-labelled
    renamed = cell_by_id(nb, "make_toy_discriminator")
    answer(nb, "make_toy_discriminator", "return nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 1))")
    renamed.source = renamed.source.replace("make_toy_discriminator", "make_my_discriminator").replace(
        '"make_my_discriminator"', '"make_toy_discriminator"'
    )
    answer(  # real and fake labels swapped
        nb,
        "toy_discriminator_step",
        """
        fake = generator(noise).detach()
        loss = F.softplus(discriminator(real)).mean() + F.softplus(-discriminator(fake)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
        """,
    )
    answer(nb, "toy_generator_step", "while True:\n    pass")  # never returns: the check stops it
    runaway = nbformat.v4.new_code_cell("# my experiment\nwhile True:\n    pass")
    nb.cells.insert(3, runaway)
    saved = cell_by_id(nb, "make_toy_generator")
    saved.outputs = [
        nbformat.v4.new_output("error", ename="NameError", evalue="name 'nn' is not defined", traceback=[])
    ]
    stale = cell_by_id(nb, "test_make_toy_generator")
    stale.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "3"}, execution_count=1)]
    return nb


def test_autograde_instructor_mistakes_and_troubles(course):
    for assignment in ASSIGNMENTS:
        submit(course, "instructor", assignment, source(course, assignment))
    submit(course, "mistakes", "01_gan_loss_math", _submission_with_mistakes(course))
    submit(course, "troubles", "01_gan_loss_math", _submission_with_troubles(course))
    for assignment in ASSIGNMENTS:
        autograde(course, assignment, timeout=GRADING_TIMEOUT)
    reports = {(r.student, r.notebook): r for a in ASSIGNMENTS for r in course_report(course, a)}

    for assignment in ASSIGNMENTS:  # the instructor's solutions: full marks, nothing lost
        report = reports["instructor", assignment]
        original = nbformat.read(os.path.join(NOTEBOOKS, f"{assignment}.ipynb"), as_version=4)
        assert report.max_score == sum(POINTS[i.exercise] for i in exercise_cells(original)) > 0
        assert report.score == report.max_score, "\n".join(report.lines())

    mistakes = {c.grade_id: c for c in reports["mistakes", "01_gan_loss_math"].cells}
    expected = {  # exercise -> (points kept, words the feedback must contain)
        "optimal_discriminator": (2, None),
        "jensen_shannon": (0, "returned a str"),
        "non_saturating_generator_loss": (0, "a sum where a mean was meant"),
        "hinge_discriminator_loss": (0, "negatives of the answer"),
        "make_toy_discriminator": (3, None),
        "make_toy_generator": (0, "tanh"),
        "toy_discriminator_step": (0, "detach"),
        "toy_generator_step": (3, None),
        "train_toy_gan": (3, "asked for 6 steps"),  # the hidden probe's point lost
    }
    for exercise, (kept, words) in expected.items():
        cell = mistakes[f"test_{exercise}"]
        assert cell.score == kept, (exercise, cell)
        if words:
            assert any(words in reason for reason in cell.reasons), (exercise, cell.reasons)
        else:
            assert not cell.reasons, (exercise, cell.reasons)

    troubles = reports["troubles", "01_gan_loss_math"]
    cells = {c.grade_id: c for c in troubles.cells}
    assert cells["test_optimal_discriminator"].score == 0
    assert any("shape" in r for r in cells["test_optimal_discriminator"].reasons)
    for restored in ("test_jensen_shannon", "test_hinge_discriminator_loss"):  # put back, graded, full marks
        assert cells[restored].score == POINTS[restored[5:]], cells[restored]
        assert any("deleted or re-labelled" in r for r in cells[restored].reasons)
    assert cells["test_make_toy_discriminator"].score == 0
    assert any("no function named `make_toy_discriminator`" in r for r in cells["test_make_toy_discriminator"].reasons)
    assert cells["test_make_toy_generator"].score == 0  # the stale "3" saved in the notebook does not count
    assert any("not answered" in r for r in cells["test_make_toy_generator"].reasons)
    assert any("labels swapped" in r for r in cells["test_toy_discriminator_step"].reasons)
    assert cells["test_toy_generator_step"].score == 0
    assert any("did not finish within 20 s" in r for r in cells["test_toy_generator_step"].reasons)
    assert troubles.score == 4  # the two restored cells' answers, nothing else
    assert troubles.errors == [
        "cell 3 `# my experiment`: stopped: the cell ran past the grading timeout (c.Execute.timeout)"
    ]
    text = "\n".join(troubles.lines())
    assert "troubles / 01_gan_loss_math: 4 of 24 points" in text


def test_rebuild_keeps_an_edited_config(course):
    config = course / "nbgrader_config.py"
    edited = config.read_text() + "\nc.Execute.timeout = 77\n"
    config.write_text(edited)
    build_course(course, notebooks=NOTEBOOKS, assignments=("06_pix2pix",), release=False)
    assert config.read_text() == edited
