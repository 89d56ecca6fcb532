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

One seed says little about a GAN: :func:`run_seeds` repeats a configuration over several
seeds and :class:`SeedSummary` reports what a course can rely on: the success rate (JS at
or below the threshold *and* enough modes hit at the end), the median steps to converge
(over the seeds that converged), and the mean ± sd of the final JS and modes hit::

    summary = run_seeds("defaults", "ring", ToyModelConfig(), Toy2DHyper(), steps=2000, seeds=range(5))
    print(summary_table([summary, ...]))
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable
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
    seed: int | None = None

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
    min_modes: int | None = None,
) -> ExperimentResult:
    """Train ``steps`` steps from ``seed`` and measure along the way (see the module docstring)."""
    run = Toy2DRun(make_distribution(distribution), model_config, hyper, seed=seed)
    guards = default_guards(run)
    result = ExperimentResult(name, seed=seed)
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
    result.steps_to_converge = converged_at(result.evaluations, js_threshold, min_modes)
    return result


def converged_at(evaluations: list[dict[str, float]], js_threshold: float, min_modes: int | None = None) -> int | None:
    """First measured step from which JS stays <= ``js_threshold`` (and, when given, at
    least ``min_modes`` modes stay hit) to the end (None: never)."""
    converged = None
    for evaluation in reversed(evaluations):
        if not evaluation["js"] <= js_threshold:  # also stops at NaN
            break
        if min_modes is not None and not evaluation.get("modes_hit", 0) >= min_modes:
            break
        converged = int(evaluation["step"])
    return converged


@dataclass
class SeedSummary:
    """One configuration over several seeds (see the module docstring)."""

    name: str
    results: list[ExperimentResult]
    js_threshold: float
    min_modes: int | None = None

    def succeeded(self, result: ExperimentResult) -> bool:
        """JS <= threshold and (for mixtures) at least ``min_modes`` modes hit, at the end."""
        final = result.final
        enough_modes = self.min_modes is None or final.get("modes_hit", 0) >= self.min_modes
        return final["js"] <= self.js_threshold and enough_modes

    @property
    def successes(self) -> int:
        return sum(self.succeeded(r) for r in self.results)

    @property
    def success_rate(self) -> float:
        return self.successes / len(self.results)

    @property
    def median_steps(self) -> float | None:
        """Median steps to converge over the seeds that converged (None if none did)."""
        steps = [r.steps_to_converge for r in self.results if r.steps_to_converge is not None]
        return statistics.median(steps) if steps else None

    def _mean_sd(self, key: str) -> tuple[float, float]:
        values = [r.final[key] for r in self.results]
        return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0

    @property
    def js(self) -> tuple[float, float]:
        """(mean, sample sd) of the final JS over the seeds."""
        return self._mean_sd("js")

    @property
    def modes(self) -> tuple[float, float]:
        """(mean, sample sd) of the final number of modes hit over the seeds."""
        return self._mean_sd("modes_hit")

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.results)


def run_seeds(
    name: str,
    distribution: str,
    model_config: ToyModelConfig,
    hyper: Toy2DHyper,
    *,
    steps: int,
    seeds: Iterable[int],
    eval_every: int = 100,
    js_threshold: float = 0.2,
    min_modes: int | None = None,
) -> SeedSummary:
    """:func:`run_experiment` once per seed. ``min_modes`` (default: every mode of a mixture)
    is what a success must hit besides JS <= ``js_threshold``."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("run_seeds needs at least one seed")
    if min_modes is None:
        modes = make_distribution(distribution).modes
        min_modes = len(modes) if modes is not None else None
    results = [
        run_experiment(
            name,
            distribution,
            model_config,
            hyper,
            steps=steps,
            seed=seed,
            eval_every=eval_every,
            js_threshold=js_threshold,
            min_modes=min_modes,
        )
        for seed in seeds
    ]
    return SeedSummary(name, results, js_threshold, min_modes)


def summary_table(summaries: list[SeedSummary]) -> str:
    """Fixed-width text: success rate, median steps to converge, final JS and modes (mean ± sd).
    The name column is as wide as the longest name (at least 28), so the columns stay aligned."""
    width = max([28] + [len(s.name) for s in summaries])
    header = (
        f"{'configuration':{width}s} {'success':>8s} {'median steps':>12s} {'JS mean ± sd':>14s}"
        f" {'modes mean ± sd':>16s}"
    )
    lines = [header, "-" * len(header)]
    for s in summaries:
        median = f"{s.median_steps:.0f}" if s.median_steps is not None else "never"
        js_mean, js_sd = s.js
        modes = s.modes
        total = int(s.results[0].final.get("num_modes", 0))
        modes_text = f"{modes[0]:4.1f} ± {modes[1]:3.1f} /{total}" if total else "-"
        lines.append(
            f"{s.name:{width}s} {s.successes:>4d} / {len(s.results):<1d} {median:>12s} "
            f"{js_mean:7.3f} ± {js_sd:4.2f} {modes_text:>16s}"
        )
    return "\n".join(lines)


def results_table(results: list[ExperimentResult]) -> str:
    """A fixed-width text table: final JS / KL, coverage, steps to converge, first alarm."""
    width = max([28] + [len(r.name) for r in results])
    header = f"{'run':{width}s} {'JS':>6s} {'KL':>6s} {'modes':>7s} {'hi-q':>5s} {'converged at':>12s}  alarm"
    lines = [header, "-" * len(header)]
    for r in results:
        final = r.final
        modes = f"{int(final['modes_hit'])}/{int(final['num_modes'])}" if "modes_hit" in final else "-"
        quality = f"{final['high_quality']:.2f}" if "high_quality" in final else "-"
        converged = str(r.steps_to_converge) if r.steps_to_converge is not None else "never"
        alarm = f"step {r.alarm_step}: {r.first_alarm.split(':')[0]}" if r.first_alarm else ""
        lines.append(
            f"{r.name:{width}s} {final['js']:6.3f} {final['kl']:6.2f} {modes:>7s} {quality:>5s}"
            f" {converged:>12s}  {alarm}"
        )
    return "\n".join(lines)
