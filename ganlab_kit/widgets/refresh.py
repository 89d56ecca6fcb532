"""Redraw views at a steady frame rate from a timer thread of their own.

A live lab has two loops: the training loop (in :class:`~ganlab_kit.train.session.TrainingSession`'s
thread) and the drawing loop (here). They meet only for the short moment a frame needs to
*read* the training state, under ``session.locked()``; everything slow (computing fields,
serialising arrays, sending them to the browser) happens outside the lock, so training
never waits for a redraw and a redraw never sees a half-finished step.

API (small on purpose)::

    refresher = ViewRefresher(read, draw, session=session, fps=15)
    refresher.start()        # idempotent: at most one timer thread
    refresher.stop()         # joins the thread; safe to call twice
    refresher.draw_now()     # one frame in the calling thread (tests, static snapshots)

``read()`` is called with the session's lock held and returns a snapshot (keep it to
copying tensors or numbers); ``draw(snapshot)`` turns it into pixels without the lock.
Leave ``read`` as ``None`` to call ``draw(None)`` only. A frame is skipped when the
session has not stepped since the last frame (``only_on_change=True``), so an idle lab
costs nothing. An exception inside a frame stops the refresher and is kept in
:attr:`ViewRefresher.error` (a broken view must not take the kernel with it).

Timing: :attr:`frames` counts drawn frames and :meth:`frame_seconds` is the mean time of
one frame (read + draw), which ``bench/`` scripts report.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

REFRESH_THREAD_NAME = "ganlab-refresh"


class ViewRefresher:
    """Call ``draw(read())`` about ``fps`` times per second on a daemon thread."""

    def __init__(
        self,
        read: Callable[[], Any] | None,
        draw: Callable[[Any], None],
        *,
        session=None,
        fps: float = 15.0,
        only_on_change: bool = True,
    ) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.read = read
        self.draw = draw
        self.session = session
        self.fps = float(fps)
        self.only_on_change = only_on_change
        self.frames = 0
        self.error: BaseException | None = None
        self._frame_time_total = 0.0
        self._last_step: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._control = threading.Lock()  # start/stop never race each other
        self._frame_lock = threading.Lock()  # draw_now and the timer never overlap

    # ---------------------------------------------------------------- frames
    def _snapshot(self) -> Any:
        if self.read is None:
            return None
        if self.session is None:
            return self.read()
        with self.session.locked():
            return self.read()

    def draw_now(self, force: bool = True) -> bool:
        """Draw one frame now in the calling thread; returns whether one was drawn."""
        with self._frame_lock:
            step = getattr(self.session, "step_count", None)
            if not force and self.only_on_change and step is not None and step == self._last_step:
                return False
            started = time.perf_counter()
            snapshot = self._snapshot()
            self.draw(snapshot)
            self._frame_time_total += time.perf_counter() - started
            self.frames += 1
            self._last_step = step
            return True

    @property
    def frame_lock(self) -> threading.Lock:
        """Held while a frame is read and drawn: hold it to change what frames read
        (a lab's reset) without a frame in flight seeing half of the change."""
        return self._frame_lock

    def frame_seconds(self) -> float:
        """Mean seconds per drawn frame so far (0 before the first)."""
        return self._frame_time_total / self.frames if self.frames else 0.0

    # ---------------------------------------------------------------- thread
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the timer thread (no-op if it already runs)."""
        with self._control:
            if self.running:
                return
            self.error = None
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=REFRESH_THREAD_NAME, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the timer thread and wait for it; the frame in flight finishes first."""
        with self._control:
            self._stop.set()
            thread = self._thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        period = 1.0 / self.fps
        next_time = time.perf_counter()
        while not self._stop.is_set():
            try:
                self.draw_now(force=False)
            except BaseException as exc:  # keep the kernel alive; report instead
                self.error = exc
                return
            # Fixed-rate schedule. A late frame (a wake-up delayed by the training
            # thread holding the GIL) is made up by drawing the next one sooner; more
            # than one period behind, start again from now instead of drawing a burst.
            next_time += period
            now = time.perf_counter()
            if next_time < now - period:
                next_time = now
            self._stop.wait(next_time - now)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"ViewRefresher({state}, fps={self.fps:g}, frames={self.frames})"
