"""The live style labs (issue 11, point 5): the one image lab on tiny real pix2pix and CycleGAN
runs trained on ink-wash renderings at 32 px, driven from pytest. Layout of the visuals, one
chart line per loss term, weights and learning rates applied at the next step, pause / step /
reset, Save checkpoint, and two checkpoints side by side (CheckpointCompare)."""

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from helpers import wait_until

from ganlab_kit.data import PatchConfig, style_data
from ganlab_kit.nets import PatchDiscriminatorConfig, ResnetGeneratorConfig, UnetGeneratorConfig
from ganlab_kit.styles import ink_wash
from ganlab_kit.train.checkpoint import load_run
from ganlab_kit.train.cyclegan import CycleGANRun, CycleGANRunConfig
from ganlab_kit.train.pix2pix import Pix2PixRun, Pix2PixRunConfig
from ganlab_kit.widgets.checkpoint_compare import CheckpointCompare
from ganlab_kit.widgets.image_lab import ImageLab, ImageLabConfig, chart_keys, to_grid, visual_rows

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CYCLE_ROWS = [["real_A", "fake_B", "rec_A"], ["real_B", "fake_A", "rec_B"]]


@pytest.fixture(scope="module")
def ink():
    """Eight 32 px photo patches and their ink-wash renderings; held-out photos of other sources."""
    return style_data(ink_wash(), 8, config=PatchConfig(size=32), held_out=2, seed=0, cache=False)


@pytest.fixture(scope="module")
def make_cyclegan(ink):
    config = CycleGANRunConfig(
        image_size=32,
        generator=ResnetGeneratorConfig(width=8, blocks=2),
        discriminator=PatchDiscriminatorConfig(3, 8, 2),
        domains=("photo", "ink_wash"),
        batch_size=2,
        num_visuals=2,
        pool_size=6,
    )
    return lambda: CycleGANRun(config, ink.unpaired_train, held_out=ink.unpaired_test)


def pix2pix_config(**kw):
    return Pix2PixRunConfig(
        image_size=32,
        generator=UnetGeneratorConfig(width=8, downs=5),
        discriminator=PatchDiscriminatorConfig(in_channels=6, width=8, layers=2, norm="batch"),
        batch_size=2,
        num_visuals=3,
        **kw,
    )


@pytest.fixture(scope="module")
def make_pix2pix(ink):
    return lambda: Pix2PixRun(pix2pix_config(), ink.paired_train, held_out=ink.paired_test)


@pytest.fixture
def cyclegan_lab(make_cyclegan, tmp_path):
    lab = ImageLab(
        make_cyclegan(),
        ImageLabConfig(grid_images=4, snapshot_every=2, fps=30, checkpoint_dir=tmp_path / "checkpoints"),
        make_run=make_cyclegan,
        live=True,
    )
    yield lab
    lab.close()


@pytest.fixture
def pix2pix_lab(make_pix2pix):
    lab = ImageLab(make_pix2pix(), ImageLabConfig(grid_images=4, fps=30), make_run=make_pix2pix, live=True)
    yield lab
    lab.close()


def shown_rows(lab):
    """The captions of the grids as the widget lays them out, row by row."""
    return [[cell.children[0].value for cell in row.children] for row in lab.grid_box.children]


def picture_axes(figure, count):
    return figure.axes[:count]


# ------------------------------------------------------------------ layout
def test_cyclegan_lab_shows_both_round_trips_as_two_rows(cyclegan_lab):
    lab = cyclegan_lab
    assert lab.rows() == CYCLE_ROWS
    assert shown_rows(lab) == CYCLE_ROWS  # A -> B -> A over B -> A -> B
    for name in ("fake_B", "fake_A", "rec_A"):
        assert f"ganlab-grid-{name}" in lab.grids[name]._dom_classes  # stable handles for the browser
    caption = lab.grid_titles["fake_B"]
    assert caption.style.font_weight == "bold" and int(caption.style.font_size.rstrip("px")) >= 14
    assert all(lab.grids[name].value[:4] == b"\x89PNG" for name in lab.grids)


def test_pix2pix_lab_shows_input_output_target_in_one_row(pix2pix_lab):
    assert pix2pix_lab.rows() == [["input", "output", "target"]]
    assert shown_rows(pix2pix_lab) == [["input", "output", "target"]]
    assert pix2pix_lab.snapshots[0].pictures["output"].shape == (2 * 33 + 1, 2 * 33 + 1, 3)  # 3 images: 2 x 2 grid


def test_static_figure_follows_the_layout_and_is_projector_sized(make_cyclegan, make_pix2pix):
    for make_run, rows in ((make_cyclegan, CYCLE_ROWS), (make_pix2pix, [["input", "output", "target"]])):
        lab = ImageLab(make_run(), ImageLabConfig(grid_images=4), live=False)
        try:
            lab.train(2)
            figure = lab.figure()
            count = sum(len(row) for row in rows)
            axes = picture_axes(figure, count)
            assert [ax.get_title() for ax in axes] == [f"{name}, step 2" for row in rows for name in row]
            tops = [round(ax.get_position().y1, 3) for ax in axes]
            lefts = [round(ax.get_position().x0, 3) for ax in axes]
            flat = [(r, c) for r, row in enumerate(rows) for c in range(len(row))]
            for (r1, c1), t1, l1 in zip(flat, tops, lefts, strict=True):  # same row: same top; same column: same left
                for (r2, c2), t2, l2 in zip(flat, tops, lefts, strict=True):
                    assert (t1 == t2) == (r1 == r2) and (l1 == l2) == (c1 == c2)
            assert figure.dpi >= 110 and all(ax.title.get_fontsize() >= 11 for ax in figure.axes)
            assert len(figure.axes) == count + len(lab.charts)  # and every chart beside them
        finally:
            lab.close()


def test_visual_rows_keeps_what_the_layout_leaves_out_and_names_a_bad_layout():
    names = ["real_A", "fake_B", "rec_A", "real_B", "fake_A", "rec_B", "attention"]
    assert visual_rows(names, CYCLE_ROWS) == [*CYCLE_ROWS, ["attention"]]
    assert visual_rows(["input", "output"], [["input", "output", "target"]]) == [["input", "output"]]
    assert visual_rows(["b", "a"]) == [["b", "a"]] and visual_rows([]) == []
    with pytest.raises(ValueError, match="visual_layout must be rows of visual names"):
        visual_rows(names, ["real_A", "fake_B"])  # a flat list: each string would be a row of letters


# ------------------------------------------------------------------ charts
def test_cyclegan_charts_one_line_per_loss_term(cyclegan_lab):
    cyclegan_lab.session.run(2)
    cyclegan_lab.refresher.draw_now()
    charts = {name: chart.keys for name, chart in cyclegan_lab.charts.items()}
    assert charts == {
        "losses": ["d_loss", "adversarial_loss", "d_A_loss", "d_B_loss"],
        "objective": ["g_loss"],  # adversarial + 10 cycle + 5 identity: another scale
        "reconstruction": ["cycle_loss", "identity_loss"],
        "probabilities": ["d_real", "d_fake"],
    }
    metrics = cyclegan_lab.session.history[-1]
    charted = [key for keys in charts.values() for key in keys]
    assert sorted(charted) == sorted(k for k in metrics if k.endswith("_loss") or k in ("d_real", "d_fake"))
    assert len(charted) == len(set(charted))  # each term on exactly one chart
    assert all(len(keys) <= 4 for keys in charts.values())  # few lines: readable on a projector
    assert cyclegan_lab.charts["reconstruction"].binned()[0].tolist() == [1, 2]
    values = cyclegan_lab.charts["reconstruction"].binned()[1]
    assert np.allclose(values[:, -1], [metrics["cycle_loss"], metrics["identity_loss"]])


def test_pix2pix_charts_and_the_dcgan_vocabulary():
    pix2pix = {"d_loss": 0.7, "g_loss": 31.0, "d_real": 0.5, "d_fake": 0.5, "adversarial_loss": 0.7, "l1_loss": 0.3}
    assert chart_keys(pix2pix) == {
        "losses": ["d_loss", "adversarial_loss"],
        "objective": ["g_loss"],
        "reconstruction": ["l1_loss"],
        "probabilities": ["d_real", "d_fake"],
    }
    dcgan = {"d_loss": 1.2, "g_loss": 0.8, "d_real": 0.6, "d_fake": 0.4}  # g_loss is the adversarial term itself
    assert chart_keys(dcgan) == {"losses": ["d_loss", "g_loss"], "probabilities": ["d_real", "d_fake"]}


def test_pix2pix_lab_charts(pix2pix_lab):
    pix2pix_lab.bar.step_button.click()
    pix2pix_lab.refresher.draw_now()
    assert pix2pix_lab.charts["reconstruction"].keys == ["l1_loss"]
    assert pix2pix_lab.charts["objective"].keys == ["g_loss"]


# ------------------------------------------------------------------ hyperparameters
def test_cyclegan_weights_and_rates_apply_at_the_next_step(cyclegan_lab):
    lab = cyclegan_lab
    controls = lab.hyper_controls.controls
    assert isinstance(controls["cycle_weight"], widgets.FloatText) and isinstance(
        controls["identity_weight"], widgets.FloatText
    )
    assert isinstance(controls["generator_lr"], widgets.FloatLogSlider)
    assert isinstance(controls["discriminator_lr"], widgets.FloatLogSlider)
    controls["cycle_weight"].value = 2.0  # through a control
    controls["generator_lr"].value = 1e-3
    lab.run.set_hyper(identity_weight=0.0, discriminator_lr=5e-4)  # through set_hyper
    assert lab.run.hyper.cycle_weight == 10.0 and lab.run.hyper.identity_weight == 5.0  # pending: not mid-step
    assert "generator_lr = 0.001 (from the next step)" in lab.bar.message.value  # the last change, said
    lab.bar.step_button.click()
    hyper = lab.run.hyper
    assert (hyper.cycle_weight, hyper.identity_weight) == (2.0, 0.0)
    assert lab.run.optimizers["generator"].param_groups[0]["lr"] == pytest.approx(1e-3)
    assert lab.run.optimizers["discriminator_A"].param_groups[0]["lr"] == pytest.approx(5e-4)
    assert lab.run.optimizers["discriminator_B"].param_groups[0]["lr"] == pytest.approx(5e-4)
    m = lab.session.history[-1]  # that very step used the new weights
    assert m["identity_loss"] == 0.0
    assert m["g_loss"] == pytest.approx(m["adversarial_loss"] + 2.0 * m["cycle_loss"], rel=1e-5)
    controls["cycle_weight"].value = -1.0  # refused at the control, the run untouched
    assert controls["cycle_weight"].value == 2.0 and lab.run.next_hyper.cycle_weight == 2.0
    assert "cycle_weight must be at least 0" in lab.bar.message.value


def test_pix2pix_l1_weight_from_the_control_applies_at_the_next_step(pix2pix_lab):
    control = pix2pix_lab.hyper_controls.controls["l1_weight"]
    assert isinstance(control, widgets.FloatText) and control.value == 100.0
    control.value = 5.0
    assert pix2pix_lab.run.hyper.l1_weight == 100.0
    pix2pix_lab.bar.step_button.click()
    m = pix2pix_lab.session.history[-1]
    assert pix2pix_lab.run.hyper.l1_weight == 5.0
    assert m["g_loss"] == pytest.approx(m["adversarial_loss"] + 5.0 * m["l1_loss"], rel=1e-5)


# ------------------------------------------------------------------ transport
def test_play_pause_step_reset_on_a_real_run(cyclegan_lab):
    lab = cyclegan_lab
    initial = {k: v.clone() for k, v in lab.run.modules["generator_AB"].state_dict().items()}
    first_fake = lab.grids["fake_B"].value
    lab.start_views()
    lab.bar.play_button.click()
    assert lab.bar.play_button.description == "Pause"
    assert wait_until(lambda: lab.session.step_count >= 3, timeout=60)
    lab.bar.play_button.click()
    assert not lab.session.running and lab.bar.play_button.description == "Play"
    paused = lab.session.step_count
    assert lab.run.steps_done == paused  # nothing runs after Pause
    lab.bar.step_button.click()
    assert lab.session.step_count == lab.run.steps_done == paused + 1
    lab.refresher.draw_now()
    assert lab.grids["fake_B"].value != first_fake  # the generator learned, its grid changed
    lab.hyper_controls.controls["cycle_weight"].value = 3.0
    lab.bar.reset_button.click()
    assert lab.session.step_count == 0 and lab.run.steps_done == 0 and lab.session.history == []
    assert [s.step for s in lab.snapshots] == [0] and lab.charts["losses"].binned()[0].size == 0
    fresh = lab.run.modules["generator_AB"].state_dict()
    assert all(torch.equal(fresh[k], v) for k, v in initial.items())  # step-0 networks again
    assert lab.run.next_hyper.cycle_weight == 3.0  # the controls' values carry over
    assert shown_rows(lab) == CYCLE_ROWS


# ------------------------------------------------------------------ checkpoints
def test_save_checkpoint_button_writes_loadable_files_and_never_overwrites(cyclegan_lab, make_cyclegan):
    lab = cyclegan_lab
    assert lab.save_button in lab.bar._row.children and lab.save_button.description == "Save checkpoint"
    lab.session.run(2)
    weights = {k: v.clone() for k, v in lab.run.modules["generator_AB"].state_dict().items()}
    lab.save_button.click()
    first = lab.config.checkpoint_dir / "cyclegan_step000002.safetensors"
    assert lab.saved_checkpoints == [first] and first.is_file()
    assert "saved step 2" in lab.bar.message.value
    lab.save_button.click()  # the same step again: a second file, the first kept
    assert lab.saved_checkpoints[-1].name == "cyclegan_step000002_2.safetensors"
    lab.session.run(1)
    lab.save_button.click()
    assert lab.saved_checkpoints[-1].name == "cyclegan_step000003.safetensors"
    assert lab.save_checkpoint("after warm-up.safetensors").name == "after_warm-up.safetensors"  # a name of one's own
    written = sorted(p.name for p in first.parent.iterdir())
    assert written == sorted(p.name for p in lab.saved_checkpoints)  # every file kept, no temp files left
    resumed = make_cyclegan()
    state = load_run(first, resumed, global_rng=False)
    assert resumed.steps_done == 2 and [m["step"] for m in state["history"]] == [1.0, 2.0]
    loaded = resumed.modules["generator_AB"].state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in weights.items())


def test_save_while_training_in_the_background_holds_a_whole_step(cyclegan_lab, make_cyclegan):
    lab = cyclegan_lab
    lab.bar.play_button.click()
    try:
        assert wait_until(lambda: lab.session.step_count >= 2, timeout=60)
        path = lab.save_checkpoint()
    finally:
        lab.session.pause()
    resumed = make_cyclegan()
    state = load_run(path, resumed, global_rng=False)
    assert resumed.steps_done >= 2 and all(m["step"] <= resumed.steps_done for m in state["history"])


def test_no_checkpoint_dir_no_button(pix2pix_lab):
    assert pix2pix_lab.save_button is None
    assert "Save checkpoint" not in [getattr(w, "description", "") for w in pix2pix_lab.bar._row.children]
    with pytest.raises(RuntimeError, match="checkpoint_dir"):
        pix2pix_lab.save_checkpoint()
    with pytest.raises(ValueError, match="nothing to compare yet"):
        pix2pix_lab.compare()


@pytest.fixture
def two_checkpoints(cyclegan_lab):
    """Checkpoints at steps 2 and 6, with the fake_B grid the lab drew at each."""
    lab, drawn = cyclegan_lab, {}
    for steps in (2, 4):
        lab.session.run(steps)
        lab.save_checkpoint()
        drawn[lab.run.steps_done] = to_grid(lab.run.visuals()["fake_B"][:4])
    return lab, lab.saved_checkpoints[-2:], drawn


def test_compare_two_checkpoints_side_by_side_on_the_same_inputs(two_checkpoints, make_cyclegan):
    lab, paths, drawn = two_checkpoints
    rng, numpy_rng = torch.get_rng_state(), np.random.get_state()[1].copy()
    compare = CheckpointCompare(make_cyclegan, paths, grid_images=4, live=True)
    assert torch.equal(rng, torch.get_rng_state())  # building and loading left the notebook's random state alone
    assert np.array_equal(numpy_rng, np.random.get_state()[1])
    assert [(e.label, e.step) for e in compare.entries] == [("cyclegan_step000002", 2), ("cyclegan_step000006", 6)]
    assert compare.problems == [] and compare.message.value == ""
    first, second = compare.entries
    for name in ("real_A", "real_B"):  # the same held-out photos for both
        assert np.array_equal(first.pictures[name], second.pictures[name])
    assert not np.array_equal(first.pictures["fake_B"], second.pictures["fake_B"])
    assert np.array_equal(first.pictures["fake_B"], drawn[2]) and np.array_equal(second.pictures["fake_B"], drawn[6])
    # each layout row once per checkpoint: fake_B at step 2 right above fake_B at step 6
    rows = compare.grid_box.children
    assert len(rows) == 4
    header = lambda row: row.children[0].value
    captions = lambda row: [cell.children[0].value for cell in row.children[1:]]
    assert "cyclegan_step000002" in header(rows[0]) and "step 2" in header(rows[0])
    assert captions(rows[1]) == ["real_A, step 6", "fake_B, step 6", "rec_A, step 6"]
    assert captions(rows[2]) == ["real_B, step 2", "fake_A, step 2", "rec_B, step 2"]
    assert "ganlab-grid-fake_B" in compare.grids[("cyclegan_step000006", "fake_B")]._dom_classes
    # the lab's shortcut: the last two it saved
    via_lab = lab.compare(grid_images=4)
    assert [(e.label, e.step) for e in via_lab.entries] == [(e.label, e.step) for e in compare.entries]


def test_compare_static_figure(two_checkpoints, make_cyclegan, capsys):
    _, paths, _ = two_checkpoints
    compare = CheckpointCompare(make_cyclegan, paths, grid_images=4, live=False)
    figure = compare.figure()
    titles = [ax.get_title() for ax in figure.axes]
    assert len(figure.axes) == 4 * 3 and figure.dpi >= 110
    assert titles[:3] == [f"cyclegan_step000002\n{name}, step 2" for name in CYCLE_ROWS[0]]
    assert titles[3:6] == [f"cyclegan_step000006\n{name}, step 6" for name in CYCLE_ROWS[0]]
    assert all(ax.title.get_fontsize() >= 11 for ax in figure.axes)
    compare.show()
    assert capsys.readouterr().out.count("Figure") == 1  # displayed as a figure, no problem printed


def test_compare_names_a_checkpoint_of_another_model_or_direction(
    two_checkpoints, make_cyclegan, ink, tmp_path, capsys
):
    _, paths, _ = two_checkpoints
    pix2pix = Pix2PixRun(pix2pix_config(), ink.paired_train).save(tmp_path / "pix2pix.safetensors")
    junk = tmp_path / "notes.safetensors"
    junk.write_bytes(b"not a checkpoint")
    compare = CheckpointCompare(
        make_cyclegan, [paths[0], pix2pix, tmp_path / "missing.safetensors", junk], grid_images=4, live=False
    )
    assert [e.label for e in compare.entries] == ["cyclegan_step000002"]  # the good one is still shown
    problems = "\n".join(compare.problems)
    assert "pix2pix: CheckpointMismatch: pix2pix.safetensors holds a PIX2PIX" in problems
    assert "this run is a CYCLEGAN" in problems
    assert "missing: FileNotFoundError: no checkpoint at" in problems
    assert "notes: CheckpointError:" in problems
    assert "CheckpointMismatch" in compare.message.value and "color:#b00020" in compare.message.value
    assert "Traceback" not in compare.message.value
    compare.show()
    out = capsys.readouterr().out
    assert "holds a PIX2PIX" in out and "Traceback" not in out
    # a pix2pix checkpoint of the other direction, compared as AtoB
    b_to_a = Pix2PixRun(pix2pix_config(direction="BtoA"), ink.paired_train).save(tmp_path / "b_to_a.safetensors")
    direction = CheckpointCompare(lambda: Pix2PixRun(pix2pix_config(), ink.paired_train), [b_to_a], live=True)
    assert direction.entries == [] and "direction: checkpoint 'BtoA' vs run 'AtoB'" in direction.message.value
    with pytest.raises(ValueError, match="nothing to compare"):
        direction.figure()


def test_compare_picks_two_from_the_folder(two_checkpoints, make_cyclegan, tmp_path):
    lab, paths, _ = two_checkpoints
    compare = CheckpointCompare(make_cyclegan, folder=lab.config.checkpoint_dir, grid_images=4, live=True)
    assert [name for name, _ in compare.pickers[0].options] == [p.name for p in paths]
    assert [p.value for p in compare.pickers] == [str(p) for p in paths]  # the last two, oldest first
    assert compare.entries == [] and "pick two" in compare.message.value
    compare.compare_button.click()
    assert [e.step for e in compare.entries] == [2, 6]
    empty = CheckpointCompare(make_cyclegan, folder=tmp_path / "none_yet", live=True)
    assert "0 checkpoint(s)" in empty.message.value
    empty.compare_button.click()  # nothing picked: said, never a traceback
    assert "pick two" in empty.message.value
