"""The 2-D lab's defaults converge (issue 10): the claim notebook 02 opens with, measured.

Claim (scripts/sweep_lab2d_defaults.py measured it, seeds 0-4): with ``ToyModelConfig()`` and
``Toy2DHyper()``, the ring's 8 modes are all hit with JS <= 0.2 at step 2000 for at least
4 of 5 seeds (5 of 5 measured; 7 of seeds 0-9); the grid ends with >= 20 of its 25 modes hit
at step 5000 for at least 4 of 5 seeds (5 of 5 measured, 22-25 modes; 10 of seeds 0-9).
Here three ring seeds, of which at most one may miss (the claim allows one miss in five),
and two grid seeds (they ended at 23 and 22), both of which must hold; the lab's own
``evaluate()`` judges. Slow (about two minutes on one core), but part of the normal suite.
"""

import pytest

from ganlab_kit.toy2d import Toy2DHyper, Toy2DRun, ToyModelConfig, make_distribution

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


def trained(distribution: str, seed: int, steps: int) -> dict[str, float]:
    run = Toy2DRun(make_distribution(distribution), ToyModelConfig(), Toy2DHyper(), seed=seed)
    for _ in range(steps):
        run.step()
    return run.evaluate()


def test_ring_defaults_cover_all_modes_with_low_js_by_step_2000():
    finals = {seed: trained("ring", seed, 2000) for seed in (0, 1, 2)}
    good = [s for s, f in finals.items() if f["modes_hit"] == 8 and f["js"] <= 0.2]
    assert len(good) >= 2, {s: (f["modes_hit"], round(f["js"], 3)) for s, f in finals.items()}


@pytest.mark.parametrize("seed", [0, 1])
def test_grid_defaults_end_with_20_of_25_modes_at_step_5000(seed):
    final = trained("grid", seed, 5000)
    assert final["modes_hit"] >= 20, final
