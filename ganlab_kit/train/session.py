"""A training loop that runs off the notebook cell, in a background thread.

The session knows nothing about widgets, plots or GANs: it calls a ``step`` function
that returns a dict of floats (one training step's metrics), keeps the history, and
obeys play / pause / step / stop. Views read ``session.history`` (or subscribe) at their
own pace; the loop never waits for a redraw.

Thread safety: one lock guards the step function, so a "step" button pressed while
the thread runs, or a view reading the networks through :meth:`locked`, never
interleaves with a training step. Play is idempotent: however fast it is clicked there
is at most one worker thread.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Callable, Iterator

from .guards import non_finite_guard
from .run import metrics_to_floats

Metrics = dict[str, float]
StepFn = Callable[[], Metrics]
Guard = Callable[[list[Metrics]], "str | None"]

IDLE, RUNNING, PAUSED, CLOSED = "idle", "running", "paused", "closed"

_live_sessions: "weakref.WeakSet[TrainingSession]" = weakref.WeakSet()
atexit.register(gc.unfreeze)  # frozen objects are otherwise never finalised at exit


def close_all_sessions() -> int:
    """Stop every session still alive in this process; returns how many were open."""
    sessions = [s for s in list(_live_sessions) if s.state != CLOSED]
    for session in sessions:
        session.close()
    return len(sessions)


@dataclass
class SessionStats:
    steps: int = 0
    started_at: float = field(default_factory=time.perf_counter)

    def rate(self) -> float:
        elapsed = time.perf_counter() - self.started_at
        return self.steps / elapsed if elapsed > 0 else 0.0


class TrainingSession:
    """Run ``step()`` repeatedly in a background thread, or synchronously on demand.

    Parameters
    ----------
    step:
        Called with no arguments; performs one training step and returns its metrics.
    guards:
        Functions of the history returning an alarm message or ``None``. When one
        speaks the session pauses and keeps the message in :attr:`alarm`. A NaN guard
        is always on.
    max_steps:
        Pause by itself after this many steps in total (``None``: run until paused).
    delay:
        Seconds to sleep between steps while playing ("slow motion").
    """

    def __init__(
        self,
        step: StepFn,
        *,
        guards: list[Guard] | None = None,
        max_steps: int | None = None,
        delay: float = 0.0,
        max_history: int = 200_000,
    ) -> None:
        self._step_fn = step
        self.guards: list[Guard] = [non_finite_guard, *(guards or [])]
        self.max_steps = max_steps
        self.delay = float(delay)
        self.max_history = max_history
        self.history: list[Metrics] = []
        self.step_count = 0
        self.alarm: str | None = None
        self.error: BaseException | None = None
        self._subscribers: list[Callable[[Metrics], None]] = []
        self._step_lock = threading.RLock()  # guards the step function and the nets
        self._control_lock = threading.Lock()  # guards thread start/stop
        self._readers_waiting = 0  # threads waiting in locked(): served before the next step
        self._readers_changed = threading.Condition()
        self._run_event = threading.Event()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stats = SessionStats()
        _live_sessions.add(self)

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> str:
        if self._closed:
            return CLOSED
        if self._run_event.is_set():
            return RUNNING
        return PAUSED if (self.step_count or self.alarm) else IDLE

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def latest(self) -> Metrics | None:
        return self.history[-1] if self.history else None

    def steps_per_second(self) -> float:
        """Training speed since the last play (or creation)."""
        return self._stats.rate()

    def subscribe(self, callback: Callable[[Metrics], None]) -> Callable[[], None]:
        """Call ``callback(metrics)`` after every step (from the training thread).
        Keep it cheap; views should poll instead. Returns an unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the training lock: no step runs inside this block (for reading nets).

        Readers go first: Python's locks are not fair, and a training thread that
        releases the lock and takes it again at once would keep a view waiting for
        hundreds of milliseconds. So a reader announces itself, and the worker lets
        it in before starting its next step."""
        with self._readers_changed:
            self._readers_waiting += 1
        try:
            self._step_lock.acquire()
        finally:
            with self._readers_changed:
                self._readers_waiting -= 1
                self._readers_changed.notify_all()
        try:
            yield
        finally:
            self._step_lock.release()

    def _let_readers_in(self, timeout: float = 0.5) -> None:
        with self._readers_changed:
            self._readers_changed.wait_for(lambda: self._readers_waiting == 0, timeout)

    # ------------------------------------------------------------- stepping
    def _one_step(self, only_if_running: bool = False) -> Metrics | None:
        with self._step_lock:
            # The worker re-checks under the lock: a pause() that took the lock after
            # this thread's wait() returned must still prevent the step.
            if only_if_running and not self._run_event.is_set():
                return None
            metrics = metrics_to_floats(self._step_fn())  # 0-d tensors -> floats, one transfer
            self.step_count += 1
            metrics.setdefault("step", float(self.step_count))
            self.history.append(metrics)
            if len(self.history) > self.max_history:
                del self.history[: len(self.history) - self.max_history]
            self._stats.steps += 1
        for callback in list(self._subscribers):
            callback(metrics)
        for guard in self.guards:
            message = guard(self.history)
            if message:
                self.alarm = message
                self._run_event.clear()
                break
        if self.max_steps is not None and self.step_count >= self.max_steps:
            self._run_event.clear()
        return metrics

    def step(self, n: int = 1) -> Metrics | None:
        """Pause if playing, then run ``n`` steps in the calling thread."""
        self._check_open()
        if n < 1:
            raise ValueError(f"step(n) needs n >= 1, got {n}")
        self.pause()
        metrics = None
        for _ in range(n):
            self._let_readers_in()
            metrics = self._one_step()
            if self.alarm:
                break
        return metrics

    def run(self, steps: int, *, every: int = 0, callback: Callable[[Metrics], None] | None = None) -> Metrics | None:
        """Blocking run of ``steps`` steps in the calling thread (headless / nbval use).
        ``callback(metrics)`` is called every ``every`` steps if given. Stops early on an alarm."""
        self._check_open()
        self.pause()
        metrics = None
        for i in range(1, steps + 1):
            self._let_readers_in()
            metrics = self._one_step()
            if callback is not None and every and i % every == 0:
                callback(metrics)
            if self.alarm:
                break
        return metrics

    # ----------------------------------------------------- background thread
    def play(self) -> None:
        """Start (or resume) training in the background. Safe to call repeatedly."""
        self._check_open()
        with self._control_lock:
            self.alarm = None
            if self.max_steps is not None and self.step_count >= self.max_steps:
                return
            self._stats = SessionStats()
            # Everything alive now (torch, Jupyter, the nets) is long-lived: moving it to
            # the permanent generation keeps a full garbage collection from walking it
            # mid-training, a pause of ~200 ms here that froze steps and views alike.
            gc.freeze()
            self._run_event.set()
            if self._thread is None or not self._thread.is_alive():
                self._stop_event.clear()
                self._thread = threading.Thread(target=self._worker, name="ganlab-session", daemon=True)
                self._thread.start()

    def pause(self, timeout: float = 10.0) -> None:
        """Stop stepping after the step in flight; once this returns no further step
        starts until play() or step() is called."""
        self._run_event.clear()
        # Taking the step lock waits for the step in flight, unless this thread holds it.
        if self._step_lock.acquire(timeout=timeout):
            self._step_lock.release()

    def toggle(self) -> None:
        self.pause() if self.running else self.play()

    def _worker(self) -> None:
        while not self._stop_event.is_set():
            if not self._run_event.wait(timeout=0.05):
                continue
            self._let_readers_in()
            try:
                self._one_step(only_if_running=True)
            except BaseException as exc:  # keep the kernel alive; report instead
                self.error = exc
                self.alarm = f"training stopped with an error: {type(exc).__name__}: {exc}"
                self._run_event.clear()
            if self.delay > 0:
                self._stop_event.wait(self.delay)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread and release it. The session cannot be played again."""
        self._run_event.clear()
        self._stop_event.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None
        self._closed = True
        gc.unfreeze()  # let the interpreter collect normally again (and at exit)

    def thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def replace_step(self, step: StepFn, *, clear_history: bool = True) -> None:
        """Swap the step function (after a reset of the nets), pausing first."""
        self.pause()
        with self._step_lock:
            self._step_fn = step
            if clear_history:
                self.history.clear()
                self.step_count = 0
            self.alarm = None
            self.error = None

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this training session is closed; create a new one")

    def __enter__(self) -> "TrainingSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TrainingSession(state={self.state}, steps={self.step_count})"
