"""The shared live-view pieces: refresher thread, transport bar, line chart."""

import threading
import time

import ipywidgets as widgets
import numpy as np
import pytest
from helpers import wait_until

from ganlab_kit.train.session import TrainingSession
from ganlab_kit.widgets.charts import LineChart
from ganlab_kit.widgets.controls import TransportBar, bind_value
from ganlab_kit.widgets.refresh import REFRESH_THREAD_NAME, ViewRefresher


def threads(name):
    return [t for t in threading.enumerate() if t.name == name and t.is_alive()]


def counting_session():
    state = {"n": 0}

    def step():
        state["n"] += 1
        time.sleep(0.0005)
        return {"loss": 1.0 / state["n"], "other": float(state["n"])}

    return TrainingSession(step)


def test_refresher_reads_under_the_lock_and_stops_cleanly():
    session = counting_session()
    seen = []

    def read():
        # The read runs while the session lock is held: no step can be in flight, so
        # the history length always equals the step count.
        return (session.step_count, len(session.history))

    before = len(threads(REFRESH_THREAD_NAME))
    refresher = ViewRefresher(read, seen.append, session=session, fps=50)
    refresher.start()
    refresher.start()  # idempotent
    assert len(threads(REFRESH_THREAD_NAME)) == before + 1
    session.play()
    assert wait_until(lambda: len(seen) >= 5)
    session.pause()
    refresher.stop()
    refresher.stop()
    assert not refresher.running and len(threads(REFRESH_THREAD_NAME)) == before
    assert all(count == length for count, length in seen)
    # Paused session: the refresher draws nothing new when nothing changed.
    refresher.draw_now(force=False)  # catch up with the last steps, if any
    frames = refresher.frames
    assert refresher.draw_now(force=False) is False and refresher.frames == frames
    assert refresher.draw_now() is True and refresher.frames == frames + 1
    session.close()


def test_refresher_error_is_kept_not_raised():
    def draw(_):
        raise RuntimeError("broken view")

    refresher = ViewRefresher(None, draw, fps=100, only_on_change=False)
    refresher.start()
    assert wait_until(lambda: refresher.error is not None)
    assert wait_until(lambda: not refresher.running)
    assert "broken view" in str(refresher.error)
    refresher.stop()
    with pytest.raises(ValueError, match="fps"):
        ViewRefresher(None, draw, fps=0)


def test_transport_bar_play_pause_step_reset_and_labels():
    session = counting_session()
    resets = []

    def on_reset():
        session.replace_step(lambda: {"loss": 0.0})
        resets.append(True)

    bar = TransportBar(session, on_reset=on_reset)
    bar.play_button.click()
    assert session.running and bar.play_button.description == "Pause"
    assert wait_until(lambda: session.step_count > 3)
    bar.play_button.click()
    assert not session.running and bar.play_button.description == "Play"
    n = session.step_count
    bar.step_button.click()
    assert session.step_count == n + 1 and bar.counter.value == f"step {n + 1}"
    bar.slow_motion.value = True
    assert session.delay == bar.slow_delay
    bar.slow_motion.value = False
    assert session.delay == 0.0
    bar.reset_button.click()
    assert resets and session.step_count == 0 and bar.counter.value == "step 0"
    session.close()


def test_rapid_clicking_never_leaves_two_trainers():
    session = counting_session()
    bar = TransportBar(session, on_reset=lambda: session.replace_step(lambda: {"loss": 0.0}))
    seen = set()
    for _ in range(60):
        for button in (bar.play_button, bar.step_button, bar.play_button, bar.reset_button, bar.play_button):
            button.click()
        seen.update(t.ident for t in threads("ganlab-session"))
        assert len(threads("ganlab-session")) <= 1
    session.close()
    assert not session.thread_alive()


def test_errors_in_handlers_become_messages():
    session = counting_session()
    bar = TransportBar(session)
    bar.add_button("Explode", lambda: 1 / 0)
    explode = [b for b in bar._row.children if getattr(b, "description", "") == "Explode"][0]
    explode.click()
    assert "ZeroDivisionError" in bar.message.value
    session.close()


def test_bind_value_refuses_bad_values_and_reverts():
    session = counting_session()
    bar = TransportBar(session)
    applied = []
    lr = widgets.FloatText(value=0.001, description="lr")
    bind_value(lr, applied.append, lambda v: None if v > 0 else "must be positive", bar)
    lr.value = 0.01
    lr.value = -1.0
    assert applied == [0.01]
    assert lr.value == 0.01
    assert "refused" in bar.message.value and "must be positive" in bar.message.value

    def strict(v):
        raise ValueError("apply refuses too")

    other = widgets.IntText(value=3, description="k")
    bind_value(other, strict, None, bar)
    other.value = 5
    assert other.value == 3 and "apply refuses too" in bar.message.value
    session.close()


def test_line_chart_is_incremental_bins_and_notices_reset():
    chart = LineChart(["loss", "other"], max_points=50)
    history = [{"step": float(i + 1), "loss": float(i), "other": 2.0 * i} for i in range(30)]
    chart.update(history)
    assert chart.widget.length == 30
    data = np.frombuffer(chart.widget.data, dtype=np.float32).reshape(3, 30)
    np.testing.assert_allclose(data[1], np.arange(30))
    history += [{"step": float(i + 1), "loss": float(i), "other": 2.0 * i} for i in range(30, 1000)]
    chart.update(history)
    assert chart._steps.size == 1000  # every step kept once
    x, y = chart.binned()
    assert x.size == 50
    # Each bin is the mean of 20 consecutive steps: loss = step - 1.
    np.testing.assert_allclose(y[0], x - 1, rtol=1e-9)
    np.testing.assert_allclose(y[1], 2 * (x - 1), rtol=1e-9)
    chart.update([{"step": 1.0, "loss": 5.0, "other": 0.0}])  # a reset happened
    assert chart._steps.tolist() == [1.0] and chart.widget.length == 1
    assert chart.figure() is not None


def test_transport_bar_says_why_training_paused_by_itself():
    session = counting_session()
    bar = TransportBar(session)
    session.play(steps=3)
    assert wait_until(lambda: session.state == "paused")
    bar.update()
    assert "target" in bar.message.value and "Play trains on" in bar.message.value
    bar.play_button.click()  # trains on past the target
    assert wait_until(lambda: session.step_count > 3)
    assert "target" not in bar.message.value
    bar.play_button.click()
    session.close()


def test_chart_snapshot_is_readable_on_a_projector():
    chart = LineChart(["loss"], title="losses")
    chart.update([{"step": float(i), "loss": 1.0 / (i + 1)} for i in range(10)])
    ax = chart.figure().axes[0]
    assert ax.title.get_fontsize() >= 11 and ax.xaxis.label.get_fontsize() >= 11
    assert all(t.get_fontsize() >= 11 for t in ax.get_xticklabels() + ax.get_legend().get_texts())
