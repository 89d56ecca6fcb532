"""The seeded experiment runner behind notebook 03's comparison table."""

import pytest

from ganlab_kit.toy2d import Toy2DHyper, ToyModelConfig
from ganlab_kit.toy2d.experiments import converged_at, results_table, run_experiment

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
