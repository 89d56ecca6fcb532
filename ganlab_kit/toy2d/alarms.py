"""Guards for the 2-D lab: notice trouble, pause, and say what is happening.

A guard is a function of the metrics history that returns a message or ``None``; a
:class:`~ganlab_kit.train.session.TrainingSession` pauses when one speaks (a NaN guard is
always on there). The lab installs :func:`lab_guards`:

* **collapsing discriminator loss** -- D separates real from fake almost perfectly for a
  while (its loss near its floor): the generator's gradient is vanishing, especially with
  the saturating (minimax) loss;
* **mode collapse** -- the generator's samples are good (near modes) but cover few of the
  modes, for a while.
"""

from __future__ import annotations

from typing import Callable

from ..train.session import Guard

# Below these D losses the discriminator wins outright. For minimax / non_saturating the
# floor is 0 (= -log 1 - log(1 - 0)); 0.02 means D(x) and 1 - D(G(z)) around 0.99.
# Wasserstein critics have no floor, so there is no such guard for them.
COLLAPSE_THRESHOLDS = {"minimax": 0.02, "non_saturating": 0.02, "lsgan": 0.005, "hinge": 0.005}


def discriminator_collapse_guard(loss_kind: str, window: int = 200) -> Guard:
    """Alarm when ``loss_d`` stays below its collapse threshold for ``window`` steps."""
    threshold = COLLAPSE_THRESHOLDS.get(loss_kind)

    def guard(history: list[dict]) -> str | None:
        if threshold is None or len(history) < window:
            return None
        recent = history[-window:]
        if all(m.get("loss_d", 1.0) < threshold for m in recent):
            return (
                f"the discriminator's loss has stayed below {threshold} for {window} steps: D tells real from fake "
                "almost perfectly, so the generator's gradient is vanishing. Try the non-saturating loss, a lower "
                "discriminator learning rate, fewer D steps, or R1 / spectral norm."
            )
        return None

    return guard


def mode_collapse_guard(num_modes: int, window: int = 300, max_fraction: float = 0.34, min_quality: float = 0.5) -> Guard:
    """Alarm when, for ``window`` steps, at most ``max_fraction`` of the modes are hit while at
    least ``min_quality`` of the samples are high quality (good points, few kinds)."""

    def guard(history: list[dict]) -> str | None:
        if len(history) < window or "modes_hit" not in history[-1]:
            return None
        recent = history[-window:]
        collapsed = all(
            m.get("modes_hit", num_modes) <= max_fraction * num_modes and m.get("high_quality", 0.0) >= min_quality
            for m in recent
        )
        if collapsed:
            hit = int(history[-1]["modes_hit"])
            return (
                f"mode collapse: for {window} steps the generator has covered only {hit} of {num_modes} modes while "
                "most of its samples sit on a mode. Try more D steps, a lower generator learning rate, "
                "WGAN-GP, or reset with another seed."
            )
        return None

    return guard


def lab_guards(loss_kind: str, num_modes: int | None) -> list[Callable[[list[dict]], str | None]]:
    """The guards the lab installs for this loss and distribution (NaN is the session's own)."""
    guards = [discriminator_collapse_guard(loss_kind)]
    if num_modes:
        guards.append(mode_collapse_guard(num_modes))
    return guards
