"""Seeded, repeatable 2-D GAN runs, measured the same way, for side-by-side comparison.

    result = run_experiment("hinge + SN", "ring", ToyModelConfig(spectral_norm=True),
                            Toy2DHyper(loss="hinge"), steps=2000, seed=0)
    print(results_table([result, ...]))

Every ``eval_every`` steps a run is measured on fresh samples with a fixed seed
(:meth:`Toy2DRun.evaluate`: KL and JS on a 30x30 grid, mode coverage for mixtures).
*Steps to converge* is the first measured step from which JS stays at or below
``js_threshold`` until the end (``None`` if never): a run that touches the threshold
and then oscillates away does not count as converged. The lab's guards
(:func:`~ganlab_kit.train.guards.default_guards`) watch the run too; their first message is
kept, but here they do not stop it, so every run gets the same budget.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ..train.guards import default_guards
from ..train.run import metrics_to_floats
from .data import make_distribution
from .models import ToyModelConfig
from .run import Toy2DHyper, Toy2DRun


@dataclass
class ExperimentResult:
    name: str
    evaluations: list[dict[str, float]] = field(default_factory=list)  # one per eval step, with "step"
    steps_to_converge: int | None = None
    first_alarm: str | None = None
    alarm_step: int | None = None
    seconds: float = 0.0

    @property
    def final(self) -> dict[str, float]:
        return self.evaluations[-1]


def run_experiment(
    name: str,
    distribution: str,
    model_config: ToyModelConfig,
    hyper: Toy2DHyper,
    *,
    steps: int,
    seed: int = 0,
    eval_every: int = 100,
    js_threshold: float = 0.35,
) -> ExperimentResult:
    """Train ``steps`` steps from ``seed`` and measure along the way (see the module docstring)."""
    run = Toy2DRun(make_distribution(distribution), model_config, hyper, seed=seed)
    guards = default_guards(run)
    result = ExperimentResult(name)
    history: list[dict[str, float]] = []
    started = time.perf_counter()
    for step in range(1, steps + 1):
        metrics = metrics_to_floats(run.step())
        history.append(metrics)
        if not all(math.isfinite(v) for v in metrics.values()) and result.first_alarm is None:
            result.first_alarm, result.alarm_step = "non-finite loss", step
        if step % eval_every == 0 or step == steps:
            result.evaluations.append({"step": float(step), **run.evaluate()})
            if result.first_alarm is None:
                for guard in guards:
                    message = guard(history)
                    if message:
                        result.first_alarm, result.alarm_step = message, step
                        break
            history = history[-1000:]  # guards look back a few hundred steps at most
    result.seconds = time.perf_counter() - started
    result.steps_to_converge = converged_at(result.evaluations, js_threshold)
    return result


def converged_at(evaluations: list[dict[str, float]], js_threshold: float) -> int | None:
    """First measured step from which JS stays <= ``js_threshold`` to the end (None: never)."""
    converged = None
    for evaluation in reversed(evaluations):
        if not evaluation["js"] <= js_threshold:  # also stops at NaN
            break
        converged = int(evaluation["step"])
    return converged


def results_table(results: list[ExperimentResult]) -> str:
    """A fixed-width text table: final JS / KL, coverage, steps to converge, first alarm."""
    header = f"{'run':28s} {'JS':>6s} {'KL':>6s} {'modes':>7s} {'hi-q':>5s} {'converged at':>12s}  alarm"
    lines = [header, "-" * len(header)]
    for r in results:
        final = r.final
        modes = f"{int(final['modes_hit'])}/{int(final['num_modes'])}" if "modes_hit" in final else "-"
        quality = f"{final['high_quality']:.2f}" if "high_quality" in final else "-"
        converged = str(r.steps_to_converge) if r.steps_to_converge is not None else "never"
        alarm = f"step {r.alarm_step}: {r.first_alarm.split(':')[0]}" if r.first_alarm else ""
        lines.append(
            f"{r.name:28s} {final['js']:6.3f} {final['kl']:6.2f} {modes:>7s} {quality:>5s} {converged:>12s}  {alarm}"
        )
    return "\n".join(lines)
