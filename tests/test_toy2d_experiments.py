"""The seeded experiment runner behind notebook 03's comparison table."""

import statistics

import pytest

from ganlab_kit.toy2d import Toy2DHyper, ToyModelConfig
from ganlab_kit.toy2d.experiments import (
    ExperimentResult,
    SeedSummary,
    converged_at,
    results_table,
    run_experiment,
    run_seeds,
    summary_table,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_converged_at_needs_js_to_stay_below_the_threshold():
    evaluations = [{"step": s, "js": js} for s, js in [(10, 0.6), (20, 0.3), (30, 0.5), (40, 0.2), (50, 0.1)]]
    assert converged_at(evaluations, 0.35) == 40  # the dip at step 20 does not count
    assert converged_at(evaluations, 0.05) is None
    assert converged_at(evaluations, 0.7) == 10
    assert converged_at(evaluations + [{"step": 60, "js": float("nan")}], 0.35) is None


def test_runs_are_seeded_and_measured_on_schedule():
    model = ToyModelConfig(generator_neurons=8, discriminator_neurons=8)
    training = Toy2DHyper(batch_size=32)
    a = run_experiment("a", "ring", model, training, steps=25, seed=3, eval_every=10)
    b = run_experiment("b", "ring", model, training, steps=25, seed=3, eval_every=10)
    assert [e["step"] for e in a.evaluations] == [10.0, 20.0, 25.0]
    assert a.evaluations == b.evaluations  # same seed, same numbers
    c = run_experiment("c", "ring", model, training, steps=25, seed=4, eval_every=10)
    assert c.evaluations != a.evaluations
    table = results_table([a, c])
    assert table.splitlines()[2].startswith("a ") and f"{a.final['js']:6.3f}" in table
    assert "/8" in table


def test_alarm_is_recorded_without_stopping_the_run():
    # lr so high that the losses blow up: the non-finite alarm is noted, the run goes on.
    model = ToyModelConfig(generator_neurons=8, discriminator_neurons=8)
    training = Toy2DHyper(batch_size=32, optimizer="sgd", discriminator_lr=10.0, generator_lr=10.0, loss="lsgan")
    result = run_experiment("boom", "ring", model, training, steps=40, seed=0, eval_every=20)
    assert len(result.evaluations) == 2
    assert result.first_alarm == "non-finite loss" and result.alarm_step <= 40


def test_converged_at_can_also_require_modes():
    evaluations = [
        {"step": 10, "js": 0.1, "modes_hit": 8},
        {"step": 20, "js": 0.1, "modes_hit": 6},
        {"step": 30, "js": 0.1, "modes_hit": 8},
    ]
    assert converged_at(evaluations, 0.2) == 10
    assert converged_at(evaluations, 0.2, min_modes=8) == 30  # the drop to 6 modes at step 20 counts
    assert converged_at(evaluations, 0.2, min_modes=9) is None


def test_seed_summary_counts_successes_and_averages_over_seeds():
    model = ToyModelConfig(generator_neurons=8, discriminator_neurons=8)
    training = Toy2DHyper(batch_size=32)
    summary = run_seeds("tiny", "ring", model, training, steps=20, seeds=[0, 1, 2], eval_every=10, js_threshold=0.7)
    assert [r.evaluations[0]["step"] for r in summary.results] == [10.0] * 3
    assert [r.seed for r in summary.results] == [0, 1, 2]
    assert summary.results[0].evaluations != summary.results[1].evaluations  # three different seeds
    assert summary.min_modes == 8  # default: every mode of the ring
    finals = [r.final for r in summary.results]
    expected = sum(f["js"] <= 0.7 and f["modes_hit"] >= 8 for f in finals)
    assert summary.successes == expected and summary.success_rate == expected / 3
    js_mean, js_sd = summary.js
    assert js_mean == pytest.approx(statistics.fmean(f["js"] for f in finals))
    assert js_sd == pytest.approx(statistics.stdev(f["js"] for f in finals))
    assert summary.modes[0] == pytest.approx(statistics.fmean(f["modes_hit"] for f in finals))
    # A lenient bar every seed meets, then one none can: the rate follows the bar.
    lenient = SeedSummary("x", summary.results, js_threshold=1.0, min_modes=0)
    strict = SeedSummary("x", summary.results, js_threshold=0.0, min_modes=0)
    assert lenient.success_rate == 1.0 and strict.success_rate == 0.0
    table = summary_table([summary, lenient])
    assert table.splitlines()[2].startswith("tiny") and f"{expected:>4d} / 3" in table and "/8" in table
    with pytest.raises(ValueError, match="at least one seed"):
        run_seeds("none", "ring", model, training, steps=5, seeds=[])


def test_median_steps_counts_only_converged_seeds():
    def result(step):
        r = ExperimentResult("r", [{"step": 10.0, "js": 0.1, "modes_hit": 8.0}])
        r.steps_to_converge = step
        return r

    summary = SeedSummary("m", [result(100), result(None), result(300), result(200)], js_threshold=0.2)
    assert summary.median_steps == 200
    assert SeedSummary("n", [result(None)], js_threshold=0.2).median_steps is None


def test_tables_keep_their_columns_aligned_under_a_long_name():
    def result(name):
        return ExperimentResult(name, [{"step": 10.0, "js": 0.1, "kl": 0.2, "modes_hit": 8.0, "num_modes": 8.0}])

    long_name = "before the grid fix (batch 512, no R1)"  # longer than the 28-character minimum
    summaries = [SeedSummary(name, [result(name)], js_threshold=0.2) for name in ("short", long_name)]
    for table in (summary_table(summaries), results_table([s.results[0] for s in summaries])):
        header, _, *rows = table.splitlines()
        assert all(len(row) == len(rows[0]) for row in rows), table
        # the name column is as wide as the longest name in the header and in every row
        start = len(long_name) + 1
        assert header[:start].rstrip() in ("configuration", "run") and header[start - 1] == " ", table
        assert [row[:start].rstrip() for row in rows] == ["short", long_name], table
