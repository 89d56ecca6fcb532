"""A training loop that runs off the notebook cell, in a background thread.

The session knows nothing about widgets, plots or GANs: it calls a ``step`` function
that returns a dict of metrics (floats, or 0-d tensors such as a :class:`~ganlab_kit.train.run.Run`
returns), keeps the history as floats, and obeys play / pause / step / stop. Views read
``session.history`` at their own pace; the loop never waits for a redraw.

Metrics reach the host in batches: tensor metrics wait in a pending list and are read
in one stacked transfer every ``sync_every`` steps (a GPU sync point each), and whenever
someone reads :attr:`TrainingSession.history` / :attr:`~TrainingSession.latest`, and at
the end of ``step()`` / ``run()``. Guards and subscribers see floats, at each flush.

Thread safety: one lock guards the step function, so a "step" button pressed while
the thread runs, or a view reading the networks through :meth:`locked`, never
interleaves with a training step. A second, short lock guards the history: guards and
subscribers run under it, and a reset *replaces* the history list rather than clearing
it, so whoever holds the old list never sees it shrink. Play is idempotent: however fast
it is clicked there is at most one worker thread.

Process-wide side effects are scoped: a playing session holds :func:`gc.freeze` (see
:meth:`TrainingSession.play`) through a reference count shared by every session, so the
collector is unfrozen only when the last session that froze it is closed.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .guards import non_finite_guard
from .run import metrics_list_to_floats

Metrics = dict[str, float]
StepFn = Callable[[], dict[str, Any]]
Guard = Callable[[list[Metrics]], "str | None"]

IDLE, RUNNING, PAUSED, CLOSED = "idle", "running", "paused", "closed"

_live_sessions: weakref.WeakSet[TrainingSession] = weakref.WeakSet()
atexit.register(gc.unfreeze)  # frozen objects are otherwise never finalised at exit


def close_all_sessions() -> int:
    """Stop every session still alive in this process; returns how many were open."""
    sessions = [s for s in list(_live_sessions) if s.state != CLOSED]
    for session in sessions:
        session.close()
    return len(sessions)


# ------------------------------------------------------------ scoped gc.freeze
class _GcFreeze:
    """Reference-counted :func:`gc.freeze`: the first holder freezes (remembering whether
    the collector was frozen already), later holders freeze again (moving new objects
    too), and only the last one out unfreezes, and only if it was not frozen before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders: set[int] = set()
        self._was_frozen = False

    def acquire(self, holder: object) -> None:
        with self._lock:
            if not self._holders:
                self._was_frozen = gc.get_freeze_count() > 0
            self._holders.add(id(holder))
            gc.freeze()

    def release(self, holder: object) -> None:
        with self._lock:
            if id(holder) not in self._holders:
                return
            self._holders.discard(id(holder))
            if not self._holders and not self._was_frozen:
                gc.unfreeze()

    @property
    def holders(self) -> int:
        return len(self._holders)


gc_freeze = _GcFreeze()


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
        Called with no arguments; performs one training step and returns its metrics
        (floats or 0-d tensors).
    guards:
        Functions of the history returning an alarm message or ``None``, called after
        each flush of metrics (every ``sync_every`` steps). When one speaks the session
        pauses and keeps the message in :attr:`alarm`. A NaN guard is always on.
    max_steps:
        Pause by itself once the step count reaches this (``None``: run until paused).
        It is a *target*, cleared when reached (with a :attr:`notice`), so the next
        :meth:`play` trains on; ``play(steps)`` sets a new one.
    delay:
        Seconds to sleep between steps while playing ("slow motion").
    sync_every:
        Read tensor metrics to the host once per this many steps (1: every step).
    """

    def __init__(
        self,
        step: StepFn,
        *,
        guards: list[Guard] | None = None,
        max_steps: int | None = None,
        delay: float = 0.0,
        max_history: int = 200_000,
        sync_every: int = 1,
    ) -> None:
        if int(sync_every) < 1:
            raise ValueError(f"sync_every must be >= 1, got {sync_every!r}")
        self._step_fn = step
        self.guards: list[Guard] = [non_finite_guard, *(guards or [])]
        self.max_steps = max_steps
        self.delay = float(delay)
        self.max_history = max_history
        self.sync_every = int(sync_every)
        self._history: list[Metrics] = []
        self._pending: list[dict[str, Any]] = []  # steps' metrics not yet read to the host
        self.step_count = 0
        self.alarm: str | None = None
        self.notice: str | None = None  # why training paused by itself (not an alarm)
        self.error: BaseException | None = None
        self._subscribers: list[Callable[[Metrics], None]] = []
        self._step_lock = threading.RLock()  # guards the step function and the nets
        self._history_lock = threading.RLock()  # guards history, pending metrics, guards
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
    def history(self) -> list[Metrics]:
        """Every step's metrics as floats (pending ones are read to the host first).

        Only ever appended to; a reset replaces the list, so a view may keep the list
        it got without it shrinking under it."""
        self.flush()
        return self._history

    @property
    def latest(self) -> Metrics | None:
        history = self.history
        return history[-1] if history else None

    def steps_per_second(self) -> float:
        """Training speed since the last play (or creation)."""
        return self._stats.rate()

    def subscribe(self, callback: Callable[[Metrics], None]) -> Callable[[], None]:
        """Call ``callback(metrics)`` for every step, as floats, when its metrics are
        flushed (every ``sync_every`` steps, from the thread that flushes). Keep it cheap,
        and never take :meth:`locked` inside it (it runs under the history lock); views
        should poll instead. Returns an unsubscribe function."""
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

    # ------------------------------------------------------------- metrics
    def flush(self) -> None:
        """Read pending metrics to the host (one transfer), append them to the history,
        then call subscribers and guards, all under the history lock."""
        with self._history_lock:
            if not self._pending:
                return
            pending, self._pending = self._pending, []
            fresh = metrics_list_to_floats(pending)
            history = self._history
            history.extend(fresh)
            if len(history) > self.max_history + max(1, self.max_history // 8):
                # Replaced, not trimmed in place (amortised: once per max_history / 8 steps).
                self._history = history = history[-self.max_history :]
            for metrics in fresh:
                for callback in list(self._subscribers):
                    callback(metrics)
            for guard in self.guards:
                if guard is non_finite_guard:  # cheap: check every flushed step, not only the last
                    message = next(filter(None, (non_finite_guard([m]) for m in fresh)), None)
                else:
                    message = guard(history)
                if message:
                    self.alarm = message
                    self._run_event.clear()
                    break

    # ------------------------------------------------------------- stepping
    def _one_step(self, only_if_running: bool = False) -> bool:
        with self._step_lock:
            # The worker re-checks under the lock: a pause() that took the lock after
            # this thread's wait() returned must still prevent the step.
            if only_if_running and not self._run_event.is_set():
                return False
            metrics = dict(self._step_fn())
            self.step_count += 1
            metrics.setdefault("step", float(self.step_count))
            self._stats.steps += 1
            with self._history_lock:
                self._pending.append(metrics)
                if len(self._pending) >= self.sync_every:
                    self.flush()
            if self.max_steps is not None and self.step_count >= self.max_steps:
                self.flush()
                if not self.alarm:
                    self.notice = (
                        f"paused at step {self.step_count}: the {self.max_steps}-step target was reached. "
                        "Play trains on."
                    )
                self.max_steps = None
                self._run_event.clear()
        return True

    def step(self, n: int = 1) -> Metrics | None:
        """Pause if playing, then run ``n`` steps in the calling thread; returns the last
        step's metrics as floats."""
        self._check_open()
        if n < 1:
            raise ValueError(f"step(n) needs n >= 1, got {n}")
        self.pause()
        for _ in range(n):
            self._let_readers_in()
            self._one_step()
            if self.alarm:
                break
        return self.latest

    def run(self, steps: int, *, every: int = 0, callback: Callable[[Metrics], None] | None = None) -> Metrics | None:
        """Blocking run of ``steps`` steps in the calling thread (headless / nbval use).
        ``callback(metrics)`` (floats) is called every ``every`` steps if given. Stops
        early on an alarm. Returns the last step's metrics as floats."""
        self._check_open()
        self.pause()
        for i in range(1, steps + 1):
            self._let_readers_in()
            self._one_step()
            if callback is not None and every and i % every == 0:
                callback(self.latest)
            if self.alarm:
                break
        return self.latest

    # ----------------------------------------------------- background thread
    def play(self, steps: int | None = None) -> None:
        """Start (or resume) training in the background. Safe to call repeatedly.

        ``steps``: pause by itself after this many more steps (sets :attr:`max_steps`)."""
        self._check_open()
        if steps is not None and steps < 1:
            raise ValueError(f"play(steps) needs steps >= 1, got {steps}")
        with self._control_lock:
            self.alarm = None
            self.notice = None
            if steps is not None:
                self.max_steps = self.step_count + int(steps)
            elif self.max_steps is not None and self.step_count >= self.max_steps:
                self.max_steps = None  # a target already passed: train on
            self._stats = SessionStats()
            # Everything alive now (torch, Jupyter, the nets) is long-lived: moving it to
            # the permanent generation keeps a full garbage collection from walking it
            # mid-training, a pause of ~200 ms here that froze steps and views alike.
            # Held until close(), shared with other sessions (see _GcFreeze).
            gc_freeze.acquire(self)
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
        with contextlib.suppress(Exception):  # metrics of the last steps, read once
            self.flush()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread and release it. The session cannot be played again."""
        self._run_event.clear()
        self._stop_event.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None
        self._closed = True
        gc_freeze.release(self)  # the last session out lets the collector walk everything again

    def thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def replace_step(self, step: StepFn, *, clear_history: bool = True) -> None:
        """Swap the step function (after a reset of the nets), pausing first."""
        self.pause()
        with self._step_lock, self._history_lock:
            self._step_fn = step
            if clear_history:
                self._pending = []
                self._history = []  # a new list: holders of the old one see it unchanged
                self.step_count = 0
            else:
                self.flush()
            self.alarm = None
            self.notice = None
            self.error = None

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this training session is closed; create a new one")

    def __enter__(self) -> TrainingSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TrainingSession(state={self.state}, steps={self.step_count})"
