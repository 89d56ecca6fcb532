"""The classroom demos without a browser: presets change the lab as they say, the collapse preset
collapses and the fix does not (slow), the apps are built, and ``ganlab-kit demo`` refuses bad input
with a useful message. The browser side is tests/test_demo_browser.py."""

from __future__ import annotations

import sys
from dataclasses import fields

import nbformat
import pytest
from browser_util import free_port

from ganlab_kit import cli
from ganlab_kit.demo import command
from ganlab_kit.demo.apps import DEMOS, IMAGE_PRESETS, STYLE_PRESETS, image_lab_app, lab2d_app, stylise_app
from ganlab_kit.demo.presets import LAB2D_PRESETS, MODE_COLLAPSE, RING, THE_FIX, apply_lab2d_preset
from ganlab_kit.widgets.lab2d import GanLab2D, LabConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------ presets
def test_presets_are_named_described_and_distinct():
    assert [p.name for p in LAB2D_PRESETS] == ["ring that converges", "mode collapse", "the fix that cures it"]
    assert all(len(p.description) > 40 for p in LAB2D_PRESETS)
    settings = {(p.distribution, repr(p.model), repr(p.hyper), p.seed) for p in LAB2D_PRESETS}
    assert len(settings) == len(LAB2D_PRESETS)
    assert RING.hyper == type(RING.hyper)()  # the lab's defaults
    assert MODE_COLLAPSE.hyper.generator_lr == MODE_COLLAPSE.hyper.discriminator_lr == 0.02


def test_applying_a_preset_sets_the_lab_and_its_controls():
    lab = GanLab2D(LabConfig(distribution="two_moons", seed=3, live=False))
    try:
        lab.train(5)
        apply_lab2d_preset(lab, MODE_COLLAPSE)
        assert lab.session.step_count == 0  # a fresh start
        assert lab.run.distribution.name == "ring" and lab.run.seed == MODE_COLLAPSE.seed
        for spec in fields(MODE_COLLAPSE.hyper):
            assert getattr(lab.run.hyper, spec.name) == getattr(MODE_COLLAPSE.hyper, spec.name), spec.name
        assert lab.run.generator_optimizer.param_groups[0]["lr"] == 0.02  # in force now, not at the next step
        assert lab.panels.generator_lr.value == 0.02 and lab.panels.discriminator_lr.value == 0.02
        assert lab.panels.distribution.value == "ring" and lab.panels.seed.value == MODE_COLLAPSE.seed
        assert "mode collapse" in lab.bar.message.value

        apply_lab2d_preset(lab, THE_FIX)
        assert lab.run.model_config == THE_FIX.model
        for spec in fields(THE_FIX.hyper):
            assert getattr(lab.run.hyper, spec.name) == getattr(THE_FIX.hyper, spec.name), spec.name
        panels = lab.panels
        assert panels.generator_lr.value == THE_FIX.hyper.generator_lr
        assert panels.discriminator_steps.value == THE_FIX.hyper.discriminator_steps
        assert panels.generator_neurons.value == THE_FIX.model.generator_neurons
    finally:
        lab.close()


def _train_preset(preset, steps: int = 2000):
    lab = GanLab2D(LabConfig(live=False))
    apply_lab2d_preset(lab, preset)
    lab.train(steps, record_every=500)  # stops early when an alarm speaks
    result = (lab.session.step_count, lab.session.alarm, lab.run.evaluate())
    lab.close()
    return result


@pytest.mark.slow
def test_the_collapse_preset_collapses_and_the_fix_cures_it():
    """The same seed, the lab's own alarms and evaluate(): the numbers the presets' descriptions quote."""
    steps, alarm, evaluation = _train_preset(MODE_COLLAPSE)
    assert alarm is not None and "mode collapse" in alarm, alarm
    assert steps < 2000 and evaluation["modes_hit"] <= 3
    steps, alarm, evaluation = _train_preset(THE_FIX)
    assert alarm is None and steps == 2000
    assert evaluation["modes_hit"] == 8 and evaluation["js"] < 0.2, evaluation


# --------------------------------------------------------------------- apps
def test_the_2d_app_has_a_title_big_text_and_presets_that_change_the_lab():
    app = lab2d_app(live=False)
    try:
        html_text = " ".join(getattr(child, "value", "") for child in app.widget.children)
        assert "ganlab-demo-title" in html_text and "font-size: 48px" in html_text
        assert "--jp-widgets-font-size: 20px" in html_text
        assert app.lab.widget in app.widget.children
        assert list(app.presets) == [p.name for p in LAB2D_PRESETS]
        app.presets["mode collapse"].click()
        assert app.lab.run.hyper.generator_lr == 0.02
        assert "mode collapse" in app.about.value
        app.presets["ring that converges"].click()
        assert app.lab.run.hyper.generator_lr == RING.hyper.generator_lr
    finally:
        app.close()


def test_the_image_app_presets_set_the_hyperparameters_of_a_fresh_run(monkeypatch):
    monkeypatch.setenv("GANLAB_FAST", "1")
    app = image_lab_app(live=False)
    try:
        app.lab.train(2)
        app.presets["slow discriminator"].click()
        wanted = next(p for p in IMAGE_PRESETS if p.name == "slow discriminator").hyper
        assert app.lab.session.step_count == 0
        for name, value in wanted.items():
            assert getattr(app.lab.run.next_hyper, name) == value, name
        assert "slow discriminator" in app.about.value
    finally:
        app.close()


def test_the_stylise_app_buttons_move_the_mixing_slider():
    app = stylise_app(live=False)
    oil = next(p for p in STYLE_PRESETS if p.name == "oil")
    app.presets["oil"].click()
    assert app.lab.slider.value == oil.position
    assert "100% oil" in app.lab.mix_caption.value


def test_every_listed_demo_has_an_app():
    assert set(DEMOS) == set(command.demo_names())


# ---------------------------------------------------------------------- CLI
def _demo(argv, capsys):
    code = cli.main(["demo", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_demo_list_names_each_demo_on_one_line(capsys):
    code, out, _ = _demo(["--list"], capsys)
    assert code == 0
    for name in DEMOS:
        assert sum(line.strip().startswith(name + " ") for line in out.splitlines()) == 1


def test_an_unknown_demo_lists_the_demos_and_exits_2(capsys):
    code, _, err = _demo(["lab3d"], capsys)
    assert code == 2
    assert "no demo named 'lab3d'; demos: lab2d, image, stylise" in err


def test_no_name_and_a_bad_port_are_refused(capsys):
    code, _, err = _demo([], capsys)
    assert code == 2 and "name a demo" in err and "lab2d" in err
    code, _, err = _demo(["lab2d", "--port", "70000"], capsys)
    assert code == 2 and "--port" in err


def test_a_port_in_use_is_refused_with_a_message(capsys):
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        code, _, err = _demo(["lab2d", "--port", str(port), "--no-browser"], capsys)
    assert code == 2 and f"port {port} is in use" in err and "--port" in err


def test_without_voila_the_command_says_how_to_install_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "voila", None)  # "import voila" now raises ImportError
    started = []
    monkeypatch.setattr(command.subprocess, "Popen", lambda *a, **k: started.append(a))
    code, _, err = _demo(["lab2d", "--no-browser"], capsys)
    assert code == 2
    assert "pip install 'ganlab_kit[demo]'" in err
    assert not started


def test_the_demo_notebook_has_one_silent_code_cell(tmp_path):
    path = command.write_demo_notebook("lab2d", tmp_path)
    notebook = nbformat.read(path, as_version=4)
    (cell,) = notebook.cells
    assert cell.cell_type == "code" and "show_demo('lab2d')" in cell.source
    assert "print" not in cell.source and cell.source.rstrip().splitlines()[-1].startswith("_app =")
    assert notebook.metadata.kernelspec.name == "python3"


def test_the_command_serves_the_notebook_with_voila_from_this_python(capsys, monkeypatch):
    """What run_demo starts, without starting it: Voilà on this interpreter, the port, no browser."""
    pytest.importorskip("voila")
    seen = {}

    class FakeProcess:
        def __init__(self, argv, cwd):
            seen["argv"], seen["cwd"] = argv, cwd
            seen["notebook_exists"] = (cwd / "lab2d.ipynb").exists()

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(command.subprocess, "Popen", FakeProcess)
    port = free_port()
    code, out, _ = _demo(["lab2d", "--port", str(port), "--no-browser"], capsys)
    assert code == 0 and f"http://127.0.0.1:{port}/" in out
    argv = seen["argv"]
    assert argv[:3] == [sys.executable, "-m", "voila"] and f"--port={port}" in argv and "--no-browser" in argv
    assert "--Voila.port_retries=0" in argv  # the printed address is the served one
    assert seen["notebook_exists"] and not seen["cwd"].exists()  # the temporary folder is removed afterwards
