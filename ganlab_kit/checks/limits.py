"""A time limit for the reader's code inside a check.

A student's loop that never ends would otherwise hang the check, the notebook and, in a
graded lab, the autograder. :func:`time_limit` raises :class:`CheckTimeout` in the reader's
code after ``seconds``, so the check can say which exercise ran too long and the notebook
goes on.

It uses ``SIGALRM`` (``setitimer``), so it works only in the main thread on Unix, which is
where a Jupyter kernel runs a cell; elsewhere (Windows, a background thread) the code runs
without a limit and a runaway loop is stopped by whoever runs the notebook (nbgrader's cell
timeout in a graded lab). An outer timer that would fire sooner, such as pytest-timeout's,
is left in charge; a later one is restored, less the time spent, when the block ends.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_SECONDS = 120.0  # the slowest check (a 1,500-step training loop) takes a few seconds
SECONDS_ENV = "GANLAB_CHECK_SECONDS"  # overrides every check's limit (a course's grader, the tests)


def limit_seconds(default: float | None) -> float | None:
    """The limit to use: ``GANLAB_CHECK_SECONDS`` when set, else ``default``."""
    value = os.environ.get(SECONDS_ENV, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{SECONDS_ENV}={value!r} is not a number of seconds") from None


class CheckTimeout(Exception):
    """The reader's code ran past the check's time limit."""


def can_limit() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None, what: str = "your code") -> Iterator[None]:
    """Raise :class:`CheckTimeout` in the block after ``seconds`` (None or <= 0: no limit;
    ``GANLAB_CHECK_SECONDS`` in the environment overrides it)."""
    seconds = limit_seconds(seconds)
    if not seconds or seconds <= 0 or not can_limit():
        yield
        return
    outer_remaining, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    if 0 < outer_remaining <= seconds:
        yield  # an outer timer fires first: it stays in charge
        return

    def expire(signum, frame):
        raise CheckTimeout(
            f"{what} did not finish within {seconds:g} s and was stopped: an endless loop, or far more work "
            "than the exercise needs?"
        )

    previous = signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining > 0:
            left = max(outer_remaining - (time.monotonic() - started), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)
