"""The graded cells of an nbgrader assignment: run the kit's check, give marks, say why.

A graded (locked) cell under each exercise reads::

    marks = Marks("optimal_discriminator", points=2)
    marks.check()
    ### BEGIN HIDDEN TESTS
    marks.check_hidden()
    ### END HIDDEN TESTS
    marks

The visible check is the one the student already sees in the notebook; the hidden one
(removed from the students' release, put back by nbgrader when it grades) probes the usual
mistakes with other inputs: another seed, batch size or step count. The cell never raises:
its last line shows the marks, whose plain-text form is the number of points earned, which
nbgrader reads as partial credit; its Markdown form, what a person sees, says what passed
and why points were lost. So an unanswered exercise costs its points without stopping the
notebook, and a student can run the whole lab top to bottom.

Anything the checks or the student's code write to stderr is captured: nbgrader gives no
points to a graded cell with any stderr output, and a warning is not a wrong answer.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import checks

HIDDEN_POINTS = 1.0  # of a graded cell's points, what the hidden probes are worth
CHECK_SECONDS = 60.0  # a student's function is stopped after this long (an endless loop)


@dataclass
class Outcome:
    part: str  # "visible" or "hidden"
    passed: bool
    message: str
    points: float
    out_of: float


def _user_namespace(depth: int) -> dict[str, Any]:
    """The notebook's variables: IPython's user namespace, or the caller's globals outside IPython."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # graded outside IPython (tests, scripts)
        shell = None
    if shell is not None:
        return shell.user_ns
    return sys._getframe(depth).f_globals


@dataclass
class Marks:
    """Points for one exercise, and the reasons for every point lost."""

    exercise: str
    points: float
    function: str | None = None  # the name the notebook defines (default: the exercise's)
    namespace: dict[str, Any] | None = None
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.exercise not in checks.EXERCISES:
            raise KeyError(f"no exercise named {self.exercise!r}; exercises: {', '.join(sorted(checks.EXERCISES))}")
        if self.points <= HIDDEN_POINTS:
            raise ValueError(f"a graded cell needs more than {HIDDEN_POINTS:g} points (the hidden probes' share)")
        self.function = self.function or self.exercise
        if self.namespace is None:
            self.namespace = _user_namespace(3)

    # ------------------------------------------------------------------ checks
    @property
    def visible_points(self) -> float:
        return self.points - HIDDEN_POINTS

    def check(self) -> Marks:
        """The check the student sees: worth all points but the hidden share."""
        return self._run("visible", self.visible_points, hidden=False)

    def check_hidden(self) -> Marks:
        """The hidden probes (graded labs): worth :data:`HIDDEN_POINTS`; run only if the visible check passed."""
        if not any(o.part == "visible" and o.passed for o in self.outcomes):
            self.outcomes.append(
                Outcome("hidden", False, "not run: the visible check must pass first.", 0.0, HIDDEN_POINTS)
            )
            return self
        return self._run("hidden", HIDDEN_POINTS, hidden=True)

    def _run(self, part: str, out_of: float, hidden: bool) -> Marks:
        func = self.namespace.get(self.function)
        if func is None or not callable(func):
            why = (
                f"no function named `{self.function}` in the notebook: the graded check calls it by that name. "
                "Was it renamed or deleted, or its cell not run?"
                if func is None
                else f"`{self.function}` is a {type(func).__name__}, not a function."
            )
            self.outcomes.append(Outcome(part, False, why, 0.0, out_of))
            return self
        result = _quiet_check(self.exercise, func, hidden)
        message = result.message
        if not result.passed and "raised NotImplementedError" in message:
            message = f"not answered: `{self.function}` still raises NotImplementedError."
        self.outcomes.append(Outcome(part, result.passed, message, out_of if result.passed else 0.0, out_of))
        return self

    # ------------------------------------------------------------------ the score
    @property
    def earned(self) -> float:
        return sum(o.points for o in self.outcomes)

    @property
    def hidden_ran(self) -> bool:
        return any(o.part == "hidden" for o in self.outcomes)

    def __repr__(self) -> str:
        # nbgrader reads this plain-text form as the cell's partial credit: keep it a bare number.
        return f"{self.earned:g}"

    def _repr_markdown_(self) -> str:
        lines = [f"**{self.exercise}: {self.earned:g} of {self.points:g} points**", ""]
        for o in self.outcomes:
            mark = "✅" if o.passed else "❌"
            lines.append(f"- {mark} {o.part} check ({o.points:g}/{o.out_of:g}): {o.message}")
        if not self.hidden_ran:
            lines.append(
                f"- hidden checks ({HIDDEN_POINTS:g} point{'s' if HIDDEN_POINTS != 1 else ''}): run when the "
                "assignment is graded, with other inputs."
            )
        return "\n".join(lines)

    def reasons_lost(self) -> list[str]:
        return [f"{o.part}: {o.message}" for o in self.outcomes if not o.passed]


def _quiet_check(exercise: str, func: Callable[..., Any], hidden: bool) -> checks.CheckResult:
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
        warnings.simplefilter("ignore")
        return checks.check(exercise, func, hidden=hidden, time_limit_s=CHECK_SECONDS)
