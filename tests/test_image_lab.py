"""The image lab driven from pytest on a tiny fake Run: buttons clicked, values set, no front end."""

import gc
import threading
import time

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from fake_run import FakeRun
from helpers import wait_until

from ganlab_kit.nets.latent import latent_arithmetic, latent_path, lerp, slerp
from ganlab_kit.widgets.image_lab import ImageLab, ImageLabConfig, LatentExplorer, chart_keys, png_bytes, to_grid
from ganlab_kit.widgets.shadow import ShadowModules


@pytest.fixture
def lab():
    seeds = iter(range(100))
    make_run = lambda: FakeRun(seed=next(seeds))  # each reset: new weights
    lab = ImageLab(make_run(), ImageLabConfig(grid_images=9, snapshot_every=5, fps=30), make_run=make_run, live=True)
    yield lab
    lab.close()


def background_threads():
    return [t for t in threading.enumerate() if t.name in ("ganlab-session", "ganlab-refresh") and t.is_alive()]


def test_step_button_trains_and_updates_views(lab):
    first_png = lab.grids["output"].value
    assert first_png[:8] == b"\x89PNG\r\n\x1a\n"
    for _ in range(5):
        lab.bar.step_button.click()
    assert lab.session.step_count == 5 and lab.run.steps_done == 5
    assert lab.bar.counter.value == "step 5"
    lab.refresher.draw_now()
    assert lab.grids["output"].value != first_png  # the generator changed, so did its grid
    assert [s.step for s in lab.snapshots] == [0, 5]
    assert lab.charts["losses"].binned()[0].tolist() == [1, 2, 3, 4, 5]
    assert all(type(v) is float for v in lab.session.history[-1].values())  # the run returned tensors


def test_metrics_read_in_batches_still_reach_history_and_charts_as_floats():
    lab = ImageLab(FakeRun(), ImageLabConfig(sync_every=4), live=True)
    assert lab.session.sync_every == 4
    cpu_default = ImageLab(FakeRun(), live=False)
    assert cpu_default.session.sync_every == 1  # networks on the CPU
    cpu_default.close()
    lab.session.run(6)  # one flush of four, then two at the end of run()
    lab.refresher.draw_now()
    assert [m["step"] for m in lab.session.history] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert all(type(v) is float for m in lab.session.history for v in m.values())
    assert lab.charts["losses"].binned()[0].tolist() == [1, 2, 3, 4, 5, 6]
    lab.close()


def test_two_visuals_make_two_captioned_grids_and_charts_follow_the_metrics(lab):
    assert list(lab.grids) == ["input", "output"]
    assert [label.value for label in lab.grid_titles.values()] == ["input", "output"]
    assert lab.grid_view is lab.grids["input"]
    assert lab.snapshots[0].pictures["output"].shape == (3 * 9 + 1, 3 * 9 + 1, 3)  # 9 images, 3 x 3
    assert lab.charts == {}  # no metrics yet: no empty charts
    lab.session.step()
    lab.refresher.draw_now()
    assert lab.charts["losses"].keys == ["d_loss", "g_loss"]
    assert lab.charts["reconstruction"].keys == ["cycle_loss"]  # its own chart: another scale
    assert lab.charts["probabilities"].keys == ["d_real", "d_fake"]
    assert chart_keys({"step": 1.0, "modes_hit": 3.0}) == {}


def test_play_pause_in_background_and_live_redraws(lab):
    lab.start_views()
    lab.bar.play_button.click()
    assert lab.bar.play_button.description == "Pause"
    assert wait_until(lambda: lab.session.step_count >= 12 and lab.refresher.frames >= 3)
    lab.bar.play_button.click()
    assert lab.bar.play_button.description == "Play" and not lab.session.running
    paused_at = lab.session.step_count
    time.sleep(0.2)
    assert lab.session.step_count == paused_at
    assert wait_until(lambda: len(lab.snapshots) >= 2)  # taken by the redraws, not by the steps


def test_controls_are_built_from_the_hyper_dataclass(lab):
    controls = lab.hyper_controls.controls
    assert list(controls) == ["loss", "generator_lr", "discriminator_lr", "cycle_weight", "batch_size", "betas"]
    assert isinstance(controls["loss"], widgets.Dropdown) and controls["loss"].options == (
        "non_saturating",
        "wasserstein",
        "least_squares",
    )
    assert isinstance(controls["generator_lr"], widgets.FloatLogSlider) and isinstance(
        controls["discriminator_lr"], widgets.FloatLogSlider
    )
    assert controls["generator_lr"].min == pytest.approx(-6) and controls["generator_lr"].max == pytest.approx(0)
    assert isinstance(controls["cycle_weight"], widgets.FloatText)
    assert isinstance(controls["batch_size"], widgets.IntText) and controls["batch_size"].disabled  # live=False
    assert controls["betas"].value == "0.5, 0.999"


def test_hyper_changes_apply_at_the_next_step(lab):
    controls = lab.hyper_controls.controls
    controls["generator_lr"].value = 1e-3
    controls["discriminator_lr"].value = 1e-4
    controls["loss"].value = "wasserstein"
    controls["betas"].value = "0.0, 0.9"
    assert lab.run.hyper.loss == "non_saturating"  # pending: nothing changes mid-step
    assert "from the next step" in lab.bar.message.value
    lab.bar.step_button.click()
    assert lab.run.hyper.loss == "wasserstein" and lab.run.hyper.betas == (0.0, 0.9)
    assert lab.run.optimizers["generator"].param_groups[0]["lr"] == pytest.approx(1e-3)
    assert lab.run.optimizers["discriminator"].param_groups[0]["lr"] == pytest.approx(1e-4)
    assert lab.session.history[-1]["gradient_penalty"] > 0  # only the Wasserstein step computes it


def test_a_bad_value_is_refused_at_the_control(lab):
    weight = lab.hyper_controls.controls["cycle_weight"]
    weight.value = -3.0
    assert weight.value == 10.0 and lab.run.next_hyper.cycle_weight == 10.0
    assert "refused" in lab.bar.message.value and "cycle_weight must be at least 0" in lab.bar.message.value
    lab.hyper_controls.controls["betas"].value = "half, 0.9"
    assert lab.hyper_controls.controls["betas"].value == "0.5, 0.999" and "separated by commas" in lab.bar.message.value


def test_training_never_waits_for_drawing(lab):
    """A frame whose visuals() blocks must not stop steps: drawing runs on shadow copies
    outside the session lock."""
    gate = threading.Event()
    lab.run.visual_gate = gate
    lab.run.in_visuals.clear()
    drawer = threading.Thread(target=lab.refresher.draw_now)
    drawer.start()
    try:
        assert lab.run.in_visuals.wait(10)
        stepper = threading.Thread(target=lab.session.step, args=(3,))
        stepper.start()
        stepper.join(10)
        assert not stepper.is_alive() and lab.session.step_count == 3  # while the frame is still drawing
        assert drawer.is_alive()
    finally:
        gate.set()
        drawer.join(10)
    lab.run.visual_gate = None


def test_shadow_copies_follow_the_weights_in_place():
    run = FakeRun()
    shadows = ShadowModules()
    first = shadows.copy_from({"generator": run.generator})["generator"]
    assert first is not run.generator
    run.step()
    second = shadows.copy_from({"generator": run.generator})["generator"]
    assert second is first  # reused, copied in place
    for mine, theirs in zip(second.parameters(), run.generator.parameters()):
        assert torch.equal(mine, theirs) and not mine.requires_grad
    assert shadows.copy_from({"generator": FakeRun(seed=1).generator})["generator"] is not first  # another module


def test_history_slider_scrubs_back_and_follow_returns(lab):
    for steps in (5, 5, 2):
        lab.session.run(steps)
        lab.refresher.draw_now()
    assert [s.step for s in lab.snapshots] == [0, 5, 10]
    assert lab.history_slider.max == 2 and lab.history_slider.value == 2
    lab.history_slider.value = 0
    assert not lab.follow_live.value
    assert lab.grids["output"].value == png_bytes(lab.snapshots[0].pictures["output"], lab.config.pixels)
    assert "step 0" in lab.grid_caption.value
    lab.session.run(5)
    lab.refresher.draw_now()
    assert lab.history_slider.value == 0  # not following: stays where the user put it
    lab.follow_live.value = True
    assert lab.history_slider.value == lab.history_slider.max == 3
    assert "live" in lab.grid_caption.value


def test_reset_starts_over_and_keeps_the_controls_values(lab):
    lab.hyper_controls.controls["cycle_weight"].value = 20.0
    lab.session.run(7)
    lab.refresher.draw_now()
    first_weight = lab.run.generator.net[0].weight.clone()
    lab.bar.reset_button.click()
    assert lab.session.step_count == 0 and lab.run.steps_done == 0
    assert [s.step for s in lab.snapshots] == [0]
    assert lab.run.next_hyper.cycle_weight == 20.0
    assert not torch.equal(first_weight, lab.run.generator.net[0].weight)  # fresh nets


def test_play_after_train_trains_on(lab):
    lab.train(3)
    assert wait_until(lambda: lab.session.state == "paused" and lab.session.step_count == 3)
    lab.bar.update()
    assert "target" in lab.bar.message.value  # said why it paused
    lab.bar.play_button.click()  # the old lab did nothing here, silently
    assert wait_until(lambda: lab.session.step_count > 3, timeout=10)
    lab.session.pause()


def test_close_leaves_nothing_running():
    before = len(background_threads())
    lab = ImageLab(FakeRun(), ImageLabConfig(grid_images=4), live=True)
    lab.train(10_000)
    assert wait_until(lambda: lab.session.step_count > 2)
    lab.close()
    assert len(background_threads()) == before


def test_two_labs_restore_threads_and_gc_only_when_the_last_closes():
    gc.unfreeze()
    original = torch.get_num_threads()
    wanted = 1 if original != 1 else 2
    first = ImageLab(FakeRun(), ImageLabConfig(torch_threads=wanted), live=True)
    second = ImageLab(FakeRun(seed=1), ImageLabConfig(torch_threads=wanted), live=True)
    for lab in (first, second):
        lab.train(2)
        assert wait_until(lambda session=lab.session: not session.running)
    assert torch.get_num_threads() == wanted and gc.get_freeze_count() > 0
    first.close()
    assert torch.get_num_threads() == wanted and gc.get_freeze_count() > 0
    second.close()
    assert torch.get_num_threads() == original and gc.get_freeze_count() == 0


def test_static_mode_trains_blocking_and_draws_a_figure():
    lab = ImageLab(FakeRun(), ImageLabConfig(grid_images=4, snapshot_every=3), live=False)
    lab.train(6)
    assert lab.session.step_count == 6 and not lab.session.thread_alive()
    assert [s.step for s in lab.snapshots] == [0, 3, 6]  # snapshots on the way, not only at the end
    lab.show()  # displays the static figure (no widget without a front end)
    figure = lab.figure()
    assert figure is not None and len(figure.axes) == 2 + 3  # two grids, three charts
    assert figure.dpi >= 110
    titles = [ax.title for ax in figure.axes]
    assert [t.get_text() for t in titles[:2]] == ["input, step 6", "output, step 6"]
    assert all(t.get_fontsize() >= 11 for t in titles)
    for ax in figure.axes[2:]:
        assert all(label.get_fontsize() >= 11 for label in ax.get_xticklabels() + ax.get_legend().get_texts())
    lab.close()


def test_grid_shape_and_range():
    picture = to_grid(torch.linspace(-1, 1, 4 * 3 * 8 * 8).reshape(4, 3, 8, 8))
    assert picture.dtype == np.uint8 and picture.shape == (2 * 9 + 1, 2 * 9 + 1, 3)
    assert picture.min() == 0 and picture.max() == 255
    with pytest.raises(ValueError, match="B, C, H, W"):
        to_grid(torch.zeros(3, 8, 8))


def test_latent_explorer_buttons(lab):
    explorer = LatentExplorer(lab.run, lab.session)
    assert explorer.latent_dim == 4  # read from run.modules["generator"].latent_dim
    explorer.steps.value = 5
    explorer.interpolate_button.click()
    assert explorer.last_images.shape == (5, 3, 8, 8)
    assert torch.allclose(explorer.last_images[0], lab.run.sample(explorer.noise(1)[None])[0])
    assert torch.allclose(explorer.last_images[-1], lab.run.sample(explorer.noise(2)[None])[0], atol=1e-5)
    explorer.arithmetic_button.click()
    assert explorer.last_images.shape == (4, 3, 8, 8) and explorer.view.value[:4] == b"\x89PNG"
    assert explorer.figure() is not None
    assert LatentExplorer(lab.run, latent_dim=4).latent_dim == 4

    class NoLatent:
        modules = {"generator": torch.nn.Linear(2, 2)}

        def sample(self, z):
            return z

    with pytest.raises(ValueError, match="latent_dim"):
        LatentExplorer(NoLatent())


def test_slerp_keeps_length_and_endpoints():
    torch.manual_seed(0)
    z0, z1 = torch.randn(64), torch.randn(64)
    path = latent_path(z0, z1, 9, "slerp")
    assert torch.allclose(path[0], z0, atol=1e-5) and torch.allclose(path[-1], z1, atol=1e-5)
    # the middle of a linear path is much shorter than typical noise; slerp's is not
    assert lerp(z0, z1, torch.tensor([0.5]))[0].norm() < 0.8 * z0.norm()
    assert slerp(z0, z1, torch.tensor([0.5]))[0].norm() > 0.95 * min(z0.norm(), z1.norm())
    assert torch.allclose(slerp(z0, 2 * z0, torch.tensor([0.5]))[0], 1.5 * z0)  # parallel: falls back to lerp
    assert torch.allclose(latent_arithmetic(z0, z1, z0), 2 * z0 - z1)
    with pytest.raises(ValueError, match="slerp"):
        latent_path(z0, z1, 3, "cubic")


def test_lab_pauses_on_the_models_collapse_guard_for_the_loss_in_force():
    # A run whose discriminator wins outright: d_loss stays at its floor. The lab must pause
    # with the collapse alarm (the guard reads d_loss, the shared name), for the loss chosen now.
    class WinningD(FakeRun):
        def step(self):
            metrics = super().step()
            metrics["d_loss"] = torch.tensor(0.001)
            return metrics

    lab = ImageLab(WinningD(), ImageLabConfig(grid_images=4), live=False)
    lab.train(250)
    assert lab.session.step_count == 200 and "discriminator" in (lab.session.alarm or "")
    lab.close()
