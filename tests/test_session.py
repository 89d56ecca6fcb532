import threading
import time

import pytest
from helpers import wait_until

from ganlab_kit.train.session import TrainingSession, close_all_sessions


def counting_step(delay=0.0):
    state = {"n": 0}

    def step():
        state["n"] += 1
        if delay:
            time.sleep(delay)
        return {"loss": 1.0 / state["n"]}

    return step, state


def session_threads():
    return [t for t in threading.enumerate() if t.name == "ganlab-session" and t.is_alive()]


def test_play_pause_step_close_leaks_nothing():
    step, state = counting_step()
    before = len(session_threads())
    s = TrainingSession(step)
    assert s.state == "idle"
    s.play()
    assert wait_until(lambda: s.step_count > 20)
    s.pause()
    assert s.state == "paused"
    n = s.step_count
    time.sleep(0.05)
    assert s.step_count == n  # paused means no more steps
    assert state["n"] == n and len(s.history) == n
    s.step(3)
    assert s.step_count == n + 3
    s.close()
    assert s.state == "closed" and not s.thread_alive()
    assert len(session_threads()) == before
    with pytest.raises(RuntimeError, match="closed"):
        s.play()


def test_rapid_play_pause_never_two_threads():
    step, _ = counting_step(delay=0.001)
    s = TrainingSession(step)
    seen = set()
    for _ in range(200):
        s.play()
        s.toggle()
        s.play()
        seen.update(t.ident for t in session_threads())
    assert len(seen) == 1
    s.close()
    assert not s.thread_alive()


def test_step_button_while_running_pauses_and_never_interleaves():
    inside = {"now": 0, "max": 0}

    def step():
        inside["now"] += 1
        inside["max"] = max(inside["max"], inside["now"])
        time.sleep(0.001)
        inside["now"] -= 1
        return {"x": 0.0}

    s = TrainingSession(step)
    s.play()
    for _ in range(20):
        s.step()
        s.play()
    s.close()
    assert inside["max"] == 1


def test_nan_guard_pauses_with_message():
    values = iter([1.0, 0.5, float("nan"), 0.1])
    s = TrainingSession(lambda: {"d_loss": next(values)})
    s.play()
    assert wait_until(lambda: s.alarm is not None)
    assert s.state == "paused" and s.step_count == 3
    assert "d_loss" in s.alarm and "nan" in s.alarm and "learning rate" in s.alarm
    s.close()


def test_errors_in_step_are_reported_not_raised_in_thread():
    def bad():
        raise ZeroDivisionError("boom")

    s = TrainingSession(bad)
    s.play()
    assert wait_until(lambda: s.alarm is not None)
    assert "ZeroDivisionError: boom" in s.alarm and isinstance(s.error, ZeroDivisionError)
    assert s.state == "paused"
    s.close()


def test_max_steps_and_run_and_subscribers():
    step, _ = counting_step()
    s = TrainingSession(step, max_steps=50)
    got = []
    unsubscribe = s.subscribe(got.append)
    s.play()
    assert wait_until(lambda: s.state == "paused")
    assert s.step_count == 50 and len(got) == 50
    unsubscribe()
    s.max_steps = None
    calls = []
    last = s.run(10, every=5, callback=calls.append)
    assert s.step_count == 60 and len(calls) == 2 and last["step"] == 60.0
    assert len(got) == 50
    s.replace_step(lambda: {"y": 2.0})
    assert s.step_count == 0 and s.history == []
    s.step()
    assert s.latest == {"y": 2.0, "step": 1.0}
    assert close_all_sessions() >= 1
    assert s.state == "closed"


def test_no_step_starts_after_pause_returns():
    """Regression: a worker past its run-event check must not step after pause()."""
    step, _ = counting_step()
    s = TrainingSession(step)
    for _ in range(300):
        s.play()
        time.sleep(0.0005)
        s.pause()
        n = s.step_count
        time.sleep(0.001)
        assert s.step_count == n
    s.close()


def test_reader_gets_in_before_the_next_step():
    """A view asking for locked() is served after at most the step in flight,
    not starved by a worker that re-takes the lock at once (locks are not fair)."""
    step, _ = counting_step(delay=0.002)
    s = TrainingSession(step)
    s.play()
    assert wait_until(lambda: s.step_count > 3)
    waited = []
    for _ in range(40):
        before = s.step_count
        with s.locked():
            waited.append(s.step_count - before)
        time.sleep(0.003)
    s.close()
    assert max(waited) <= 1, waited


# ------------------------------------------------------------ regressions (issue 8)
def test_reset_while_a_guard_runs_never_surfaces_an_error():
    """A guard reading history[-1] while a Reset clears the history must not crash the
    trainer: guards run under the history lock, and a reset replaces the list."""
    in_guard, release = threading.Event(), threading.Event()
    calls = {"n": 0}

    def slow_guard(history):
        calls["n"] += 1
        if calls["n"] == 3:
            in_guard.set()
            release.wait(5)
        history[-1]  # what every real guard does first

    step, _ = counting_step()
    s = TrainingSession(step, guards=[slow_guard])
    s.play()
    assert in_guard.wait(10)
    resetter = threading.Thread(target=s.replace_step, args=(lambda: {"loss": 0.0},))
    resetter.start()
    resetter.join(0.3)  # the old code cleared the list here, under the guard's feet
    release.set()
    resetter.join(10)
    assert not resetter.is_alive()
    s.close()  # joins the worker: whatever the guard raised is recorded by now
    assert s.error is None and s.alarm is None, s.alarm


def test_play_after_a_step_target_trains_on_and_says_why_it_paused():
    step, _ = counting_step()
    s = TrainingSession(step, max_steps=5)
    s.play()
    assert wait_until(lambda: s.state == "paused")
    assert s.step_count == 5 and "target" in s.notice
    s.play()  # the old code returned here without a word
    assert wait_until(lambda: s.step_count > 5, timeout=5)
    s.pause()
    s.play(steps=3)
    target = s.step_count + 3
    assert wait_until(lambda: s.state == "paused") and s.step_count <= target
    s.close()


def test_gc_freeze_is_released_only_by_the_last_session():
    import gc

    gc.unfreeze()
    a, b = TrainingSession(counting_step()[0]), TrainingSession(counting_step()[0])
    a.play()
    b.play()
    a.pause()
    b.pause()
    assert gc.get_freeze_count() > 0
    a.close()
    assert gc.get_freeze_count() > 0  # b still plays: the old close() unfroze for everyone
    b.close()
    assert gc.get_freeze_count() == 0


def test_tensor_metrics_are_read_in_batches_and_returned_as_floats():
    import torch

    reads = {"n": 0}
    real_tolist = torch.Tensor.tolist

    def counting_tolist(self):
        reads["n"] += 1
        return real_tolist(self)

    count = {"n": 0}

    def step():
        count["n"] += 1
        return {"d_loss": torch.tensor(float(count["n"])), "g_loss": torch.tensor(2.0), "lr": 0.5}

    seen = []
    s = TrainingSession(step, sync_every=4)
    s.subscribe(seen.append)
    torch.Tensor.tolist = counting_tolist
    try:
        s.run(8)  # two flushes of four steps: two transfers
        transfers_for_eight = reads["n"]
        last = s.step()  # ends with a flush: floats even mid-batch
    finally:
        torch.Tensor.tolist = real_tolist
    assert transfers_for_eight == 2
    assert last == {"d_loss": 9.0, "g_loss": 2.0, "lr": 0.5, "step": 9.0}
    assert all(type(v) is float for m in s.history for v in m.values())
    assert [m["d_loss"] for m in s.history] == [float(i) for i in range(1, 10)]
    assert len(seen) == 9 and seen[0]["d_loss"] == 1.0
    with pytest.raises(ValueError, match="sync_every"):
        TrainingSession(step, sync_every=0)
    s.close()


def test_pending_metrics_are_flushed_before_history_is_read_and_before_guards():
    import torch

    values = iter([1.0, float("nan"), 1.0, 1.0, 1.0, 1.0])
    s = TrainingSession(lambda: {"d_loss": torch.tensor(next(values))}, sync_every=3)
    s._one_step()
    assert s.latest == {"d_loss": 1.0, "step": 1.0}  # read through the property: flushed
    s._one_step()
    s.flush()
    assert s.alarm and "d_loss" in s.alarm  # the NaN guard saw floats at the flush
    s.close()


def test_a_nan_inside_a_batch_of_metrics_still_raises_the_alarm():
    import torch

    values = iter([1.0, float("inf"), 1.0, 1.0])
    s = TrainingSession(lambda: {"g_loss": torch.tensor(next(values))}, sync_every=4)
    s.run(4)
    assert s.alarm and "g_loss" in s.alarm and "step 2" in s.alarm
    s.close()
