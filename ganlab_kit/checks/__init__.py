"""Exercise checks for the notebooks.

A reader writes a function; ``check("name", their_function)`` runs it

1. on stored inputs shipped with the package (``fixtures/exercises.json``), comparing
   with the stored expected values, then
2. on fresh random inputs, comparing with the library's own implementation,

and says *pass*, or what is wrong in words a student can act on: an exception, a wrong
shape, a flipped sign, a constant factor (a sum where a mean was meant, a missing 1/2),
a NaN at extreme logits (``log(sigmoid(x))`` instead of ``logsigmoid``), or plain wrong
values with the first failing input. Inputs are float32 CPU tensors; results may be any
dtype or device, or numbers / NumPy arrays.

``hint("name")`` nudges; ``show_solution("name")`` prints a reference solution, which is
never shown unless asked for.

One module per notebook's exercises, each registering its own with :func:`register`:
:mod:`.core` (the checker, and notebook 01's loss-math exercises), :mod:`.dcgan`
(notebook 04), :mod:`.pix2pix` (notebook 06), :mod:`.cyclegan` (notebook 07), :mod:`.build2d`
(notebook 01's "Build your first GAN", judged by behaviour, with no stored cases). They are
imported in that order, which the stored fixtures' random cases depend on.
"""

from . import dcgan, pix2pix, cyclegan, build2d  # noqa: F401, I001  (registration order matters: see above)
from .core import (
    EXERCISES,
    FIXTURE_FILE,
    CheckResult,
    Exercise,
    check,
    describe,
    diagnose,
    hint,
    load_fixtures,
    make_fixtures,
    reference_for,
    register,
    show_solution,
)
from .cyclegan import POOL_EMPTY, STEP_LR, STEP_PROJECTIONS, STEP_SIZE

__all__ = [
    "EXERCISES",
    "FIXTURE_FILE",
    "POOL_EMPTY",
    "STEP_LR",
    "STEP_PROJECTIONS",
    "STEP_SIZE",
    "CheckResult",
    "Exercise",
    "check",
    "describe",
    "diagnose",
    "hint",
    "load_fixtures",
    "make_fixtures",
    "reference_for",
    "register",
    "show_solution",
]
