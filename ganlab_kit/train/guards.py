"""Guards: notice trouble in a run's metrics, pause, and say what is happening.

A guard is a function of the metrics history (a list of dicts of floats, newest last)
that returns a message or ``None``; a :class:`~ganlab_kit.train.session.TrainingSession`
pauses when one speaks. They read the shared metric names of :mod:`.run`, so the same
guard works for every model:

* :func:`non_finite_guard` -- a NaN or infinite metric (always on in a session);
* :func:`discriminator_collapse_guard` -- D separates real from fake almost perfectly for
  a while (``d_loss`` near its floor): the generator's gradient is vanishing, especially
  with the saturating (minimax) loss;
* :func:`mode_collapse_guard` -- the generator's samples are good (near modes) but cover
  few of the modes, for a while (``modes_hit``, for data with known modes).

:func:`default_guards` picks the ones that fit a run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from .run import D_LOSS

Guard = Callable[[list[dict]], "str | None"]

# Below these D losses the discriminator wins outright. For minimax / non_saturating the
# floor is 0 (= -log 1 - log(1 - 0)); 0.02 means D(x) and 1 - D(G(z)) around 0.99.
# Wasserstein critics have no floor, so there is no such guard for them.
COLLAPSE_THRESHOLDS = {"minimax": 0.02, "non_saturating": 0.02, "lsgan": 0.005, "hinge": 0.005}


def _is_finite(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return bool(torch.isfinite(value).all())
    if isinstance(value, float):
        return math.isfinite(value)
    return True


def non_finite_guard(history: list[dict]) -> str | None:
    """Alarm on a NaN or infinite metric (float or tensor) in the latest step."""
    latest = history[-1]
    bad = [k for k, v in latest.items() if not _is_finite(v)]
    if bad:
        shown = ", ".join(
            str(float(latest[k]) if isinstance(latest[k], torch.Tensor) and latest[k].numel() == 1 else latest[k])
            for k in bad
        )
        return (
            f"training produced a non-finite value ({', '.join(bad)} = {shown}) at step "
            f"{int(latest.get('step', len(history)))}: the learning rate is probably too high or the "
            "loss diverged; lower it and reset."
        )
    return None


def discriminator_collapse_guard(loss: str, *, metric: str = D_LOSS, window: int = 200) -> Guard:
    """Alarm when ``metric`` (the discriminator's loss) stays below the collapse threshold
    of the ``loss`` kind for ``window`` steps. Silent for losses without a floor."""
    threshold = COLLAPSE_THRESHOLDS.get(loss)

    def guard(history: list[dict]) -> str | None:
        if threshold is None or len(history) < window or metric not in history[-1]:
            return None
        if all(float(m.get(metric, 1.0)) < threshold for m in history[-window:]):
            return (
                f"the discriminator's loss has stayed below {threshold} for {window} steps: D tells real from fake "
                "almost perfectly, so the generator's gradient is vanishing. Try the non-saturating loss, a lower "
                "discriminator learning rate, fewer D steps, or R1 / spectral norm."
            )
        return None

    return guard


def mode_collapse_guard(
    num_modes: int,
    *,
    metric: str = "modes_hit",
    window: int = 300,
    max_fraction: float = 0.34,
    min_quality: float = 0.5,
) -> Guard:
    """Alarm when, for ``window`` steps, at most ``max_fraction`` of the modes are hit while
    at least ``min_quality`` of the samples are high quality (good points, few kinds)."""

    def guard(history: list[dict]) -> str | None:
        if len(history) < window or metric not in history[-1]:
            return None
        collapsed = all(
            float(m.get(metric, num_modes)) <= max_fraction * num_modes
            and float(m.get("high_quality", 0.0)) >= min_quality
            for m in history[-window:]
        )
        if collapsed:
            hit = int(float(history[-1][metric]))
            return (
                f"mode collapse: for {window} steps the generator has covered only {hit} of {num_modes} modes while "
                "most of its samples sit on a mode. Try more D steps, a lower generator learning rate, "
                "WGAN-GP, or reset with another seed."
            )
        return None

    return guard


def guards_for(loss: str, num_modes: int | None = None) -> list[Guard]:
    """The guards for a loss kind and, when the data has modes, their number (the NaN
    guard is the session's own)."""
    guards = [discriminator_collapse_guard(loss)]
    if num_modes:
        guards.append(mode_collapse_guard(num_modes))
    return guards


def default_guards(run: Any) -> list[Guard]:
    """The guards that fit ``run``: a collapse guard for its loss (every GAN run reports
    ``d_loss``), and a mode-collapse guard when its data has known modes
    (``run.distribution.modes``, the 2-D runs)."""
    hyper = getattr(run, "next_hyper", None) or run.hyper
    distribution = getattr(run, "distribution", None)
    modes = getattr(distribution, "modes", None)
    return guards_for(getattr(hyper, "loss", ""), len(modes) if modes is not None else None)
