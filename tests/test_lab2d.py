"""Drive the 2-D lab from pytest the way a student drives it: clicks and values."""

import threading

import numpy as np
import pytest
import torch
from helpers import wait_until

from ganlab_kit.toy2d import Toy2DHyper, ToyModelConfig
from ganlab_kit.toy2d.fields import arrow_vectors, generator_gradients
from ganlab_kit.widgets.lab2d import GanLab2D, LabConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def lab_threads():
    return [t for t in threading.enumerate() if t.name in ("ganlab-session", "ganlab-refresh") and t.is_alive()]


def tiny_lab(live=False, distribution="ring", **training):
    config = LabConfig(
        distribution=distribution,
        model=ToyModelConfig(generator_neurons=8, discriminator_neurons=8),
        hyper=Toy2DHyper(batch_size=32, **training),
        fps=30,
        points_shown=32,
        heatmap_resolution=12,
        manifold_resolution=6,
        divergence_samples=128,
        live=live,
    )
    return GanLab2D(config)


def params(module):
    return [p.detach().clone() for p in module.parameters()]


def same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_play_pause_step_buttons_and_counter():
    before = len(lab_threads())
    lab = tiny_lab()
    # Stable handles for browser tests: button text, counter text, CSS class of the field.
    assert lab.bar.play_button.description == "Play" and lab.bar.counter.value == "step 0"
    assert "ganlab-field" in lab.field.widget._dom_classes
    lab.bar.play_button.click()
    assert lab.bar.play_button.description == "Pause"
    assert wait_until(lambda: lab.session.step_count >= 5)
    lab.bar.play_button.click()
    assert lab.bar.play_button.description == "Play" and not lab.session.running
    n = lab.session.step_count
    lab.bar.step_button.click()
    assert lab.session.step_count == n + 1 and lab.bar.counter.value == f"step {n + 1}"
    step_d = next(b for b in lab.bar._row.children if getattr(b, "description", "") == "Step D")
    step_g = next(b for b in lab.bar._row.children if getattr(b, "description", "") == "Step G")
    g0, d0 = params(lab.run.generator), params(lab.run.discriminator)
    step_d.click()
    assert same(g0, params(lab.run.generator)) and not same(d0, params(lab.run.discriminator))
    d1 = params(lab.run.discriminator)
    step_g.click()
    assert same(d1, params(lab.run.discriminator)) and not same(g0, params(lab.run.generator))
    assert lab.session.step_count == n + 3
    lab.close()
    assert len(lab_threads()) == before


def test_hyperparameters_change_while_running_and_bad_values_are_refused():
    lab = tiny_lab()
    lab.bar.play_button.click()
    lab.panels.generator_lr.value = 0.004
    lab.panels.discriminator_steps.value = 2
    lab.panels.loss.value = "hinge"
    assert wait_until(lambda: lab.run.hyper.generator_lr == 0.004)
    assert wait_until(lambda: lab.run.generator_optimizer.param_groups[0]["lr"] == 0.004)
    assert lab.run.hyper.discriminator_steps == 2 and lab.run.hyper.loss == "hinge"
    for widget, bad, words in [
        (lab.panels.discriminator_lr, -0.1, "discriminator_lr must be at least"),
        (lab.panels.batch_size, 0, "batch_size"),
        (lab.panels.discriminator_steps, 0, "discriminator_steps"),
        (lab.panels.r1, -1.0, "r1 must be"),
    ]:
        old = widget.value
        widget.value = bad
        assert widget.value == old, widget.description
        assert words in lab.bar.message.value and "refused" in lab.bar.message.value
    assert lab.session.running and lab.session.error is None  # the trainer never saw them
    lab.panels.generator_neurons.value = 0  # zero neurons: refused, no reset
    assert lab.panels.generator_neurons.value == 8 and "generator_neurons" in lab.bar.message.value
    assert lab.session.step_count > 0
    lab.panels.distribution.value = "drawn"  # empty drawing: refused
    assert lab.panels.distribution.value == "ring" and "drawing is empty" in lab.bar.message.value
    lab.close()


def test_architecture_change_resets_and_says_so():
    lab = tiny_lab()
    lab.train(5)
    lab.panels.discriminator_neurons.value = 12
    assert lab.session.step_count == 0 and lab.session.history == []
    assert lab.run.discriminator[0].out_features == 12
    assert "architecture changed" in lab.bar.message.value
    lab.panels.noise_dim.value = 1
    assert lab.run.generator[0].in_features == 1
    lab.train(3)
    lab.close()


def test_reset_gives_back_the_seeded_initial_networks():
    lab = tiny_lab()
    initial = params(lab.run.generator)
    lab.train(10)
    assert not same(initial, params(lab.run.generator))
    lab.bar.reset_button.click()
    assert same(initial, params(lab.run.generator)) and lab.session.step_count == 0
    assert lab.divergence_history == []
    lab.close()


def test_rapid_clicking_never_leaves_two_trainers_and_close_leaks_nothing():
    before = len(lab_threads())
    lab = tiny_lab(live=True)
    lab.refresher.start()
    buttons = [
        lab.bar.play_button,
        lab.bar.step_button,
        lab.bar.play_button,
        lab.bar.reset_button,
        lab.bar.play_button,
        lab.bar.play_button,
    ]
    for _ in range(25):
        for button in buttons:
            button.click()
            assert len([t for t in threading.enumerate() if t.name == "ganlab-session" and t.is_alive()]) <= 1
    assert lab.session.error is None and lab.refresher.error is None
    lab.close()
    assert len(lab_threads()) == before
    assert lab.session.state == "closed" and not lab.refresher.running


def test_live_refresh_sends_frames_that_change_while_training():
    lab = tiny_lab(live=True)
    lab.refresher.start()
    assert wait_until(lambda: lab.field.widget.frame >= 1)
    first = lab.field.widget.heatmap
    assert len(first) == 12 * 12 and len(lab.field.widget.fake) == 32 * 2 * 4
    lab.bar.play_button.click()
    assert wait_until(lambda: lab.session.step_count > 30 and lab.field.widget.heatmap != first)
    assert wait_until(lambda: lab.charts["losses"].widget.length > 0 and lab.bar.counter.value != "step 0")
    lab.close()
    assert lab.refresher.error is None


def test_frame_heatmap_and_arrows_match_the_networks():
    lab = tiny_lab(loss="lsgan")
    lab.train(20)
    lab.refresher.draw_now()
    frame = lab.frame
    d = lab.run.discriminator
    # The canvas gets the heatmap as bytes, top row first.
    sent = np.frombuffer(lab.field.widget.heatmap, dtype=np.uint8).reshape(12, 12)
    assert np.array_equal(sent, np.clip(np.rint(frame.heatmap[::-1] * 255), 0, 255).astype(np.uint8))
    # Arrows: the negative autograd gradient of the generator loss at the shown fakes.
    fake = torch.from_numpy(frame.fake)
    expected = arrow_vectors(generator_gradients(d, fake, "lsgan"))
    assert torch.allclose(torch.from_numpy(frame.arrows), expected, atol=1e-6)
    lab.close()


def test_layers_toggle_and_drawing_becomes_the_data():
    lab = tiny_lab()
    lab.panels.layers["arrows"].value = False
    assert lab.field.widget.layers["arrows"] is False and lab.field.widget.layers["heatmap"] is True
    lab.panels.draw.value = True
    assert lab.field.widget.drawing
    lab.field._on_message(lab.field.widget, {"type": "draw", "points": [[0.5, 0.5], [0.6, 0.5], [9.0, 9.0]]}, [])
    assert lab.field.drawn == [(0.5, 0.5), (0.6, 0.5)]  # the off-plane point is ignored
    lab.panels.use_drawing.click()
    assert lab.panels.distribution.value == "drawn" and lab.run.distribution.name == "drawn"
    real = lab.run.real_batch(200)
    assert (real - torch.tensor([0.55, 0.5])).norm(dim=1).max() < 0.5
    lab.panels.clear_drawing.click()
    assert lab.field.drawn == [] and lab.field.widget.drawn == b""
    lab.close()


def test_alarm_pauses_and_is_shown():
    lab = tiny_lab()
    lab.session.guards.append(lambda history: "test alarm: something happened" if len(history) >= 4 else None)
    lab.bar.play_button.click()
    assert wait_until(lambda: lab.session.alarm is not None)
    assert wait_until(lambda: not lab.session.running)
    lab.bar.update()
    assert "test alarm" in lab.bar.message.value and lab.bar.play_button.description == "Play"
    lab.close()


def test_static_display_without_front_end_starts_no_thread(capsys):
    before = len(lab_threads())
    lab = tiny_lab(live=False)
    lab.train(20)
    lab.show()
    assert len(lab_threads()) == before
    assert lab.frame is not None and lab.divergence_history[-1]["step"] == 20.0
    lab.close()


def test_save_and_load_pretrained(tmp_path):
    lab = tiny_lab()
    lab.train(5)
    lab.save(tmp_path / "lab.safetensors")
    lab.panels.pretrained.click()  # the current distribution: ring
    assert lab.run.steps_done > 1000 and lab.session.step_count == 0
    assert "pretrained ring" in lab.bar.message.value
    lab.field.add_points([[0.0, 0.0]])
    lab.panels.distribution.value = "drawn"
    lab.panels.pretrained.click()  # nothing shipped for a drawing: a message, no crash
    assert "no pretrained model" in lab.bar.message.value
    lab.train(2)
    lab.close()


def test_static_figure_has_no_empty_charts_and_is_projector_readable():
    import matplotlib.pyplot as plt

    lab = tiny_lab(live=False)
    untrained = lab.figure()  # step 0: nothing to chart yet, so the field alone
    assert len(untrained.axes) == 1 and "untrained" in untrained.axes[0].get_title()
    lab.train(20)
    trained = lab.figure()
    assert len(trained.axes) == 5  # the field and four charts, each with lines
    assert trained.dpi >= 110
    for ax in trained.axes:
        assert all(label.get_fontsize() >= 11 for label in ax.get_xticklabels() + ax.get_yticklabels())
        legend = ax.get_legend()
        assert legend is None or all(text.get_fontsize() >= 11 for text in legend.get_texts())
    for ax in trained.axes[1:]:
        assert ax.lines and all(len(line.get_xdata()) >= 2 for line in ax.lines)
    plt.close("all")
    lab.close()
