#!/usr/bin/env python3
"""Measure the 2-D demo presets the way the demo runs them: the lab itself, its alarms, its evaluate().

    OMP_NUM_THREADS=1 python scripts/measure_demo_presets.py [--seeds 0 1 2] [--steps 2000] [--candidates]

For every preset of :data:`ganlab_kit.demo.presets.LAB2D_PRESETS` and every seed, a static
:class:`~ganlab_kit.widgets.lab2d.GanLab2D` gets the preset (with that seed) and trains ``--steps``
steps or until an alarm pauses it (as Play does in the demo); the line printed gives the step it
stopped at, the alarm, and ``evaluate()`` (4,000 fresh samples: modes hit, JS). ``--candidates``
also measures fixes tried at the collapse setting's learning rate (0.02), one change each.

What it measured (ring, 2,000 steps, seeds 0, 1, 2; modes hit / JS at the end; "alarm N": the
mode-collapse alarm paused it at step N). The collapse presets run with R1 off and batches of 512
(the lab's defaults before issue 10's grid fix); the "+" rows change one thing from "mode collapse":

=========================================  ====================================================
setting                                    seed 0            seed 1            seed 2
=========================================  ====================================================
ring that converges (the defaults)         8/.17             8/.17             8/.15
mode collapse (both lr 0.02)               alarm 1060: 2/.55 alarm 1470: 1/.65 3/.40
  + R1 gamma 1                             1/.59             5/.41             1/.49
  + R1 gamma 10                            0/.60             2/.56             0/.66
  + 5 D steps per G step                   6/.35             2/.49             alarm ~980: 2/.46
  + G lr 0.001 (D stays 0.02)              4/.39             3/.40             2/.38
  + LSGAN loss                             0/.69             0/.69             0/.69
  + WGAN-GP (lambda 1, 2 D steps)          1/.54             1/.56             2/.57
  + Adam beta1 0.9                         1/.65             0/.69             0/.67
  + the defaults' R1 0.03, batch 1024      4/.49             3/.48             4/.52
  both lr 0.005 (4x smaller)               8/.29             4/.31             8/.21
**the fix: both lr 0.002 (10x smaller)**   8/.15             8/.14             8/.15
=========================================  ====================================================

The preset rows are this script's output; the "+" rows and "both lr 0.005" come from the same
training in a plain Toy2DRun loop or a static lab (the same numbers as the lab's where both were
run), its alarms checked every 20 steps. No single change at learning rate 0.02 kept all 8 modes on
any seed; lowering both learning rates 10x did on all three, with no alarm and a lower JS than the
defaults. With the defaults' stabilisers (R1 0.03, batch 1024) learning rates of 0.02 do not
collapse: the fakes smear along the whole circle, between the modes (3-4 of 8 modes, about 20% of
the fakes near a mode, no alarm), which is why "mode collapse" switches them off. Other single
changes from the defaults did not give a collapse the alarm names either (seeds 0-2, 2,000 steps:
G lr 0.02 alone 0/.69, 8/.29, 5/.43; both lr 0.01 8/.25, 8/.35, 3/.50; both lr 0.05 2/.51, 2/.50,
0/.69, no alarm on any; batch 64 8/.23, 8/.27, 7/.39).
Lowering the learning rate *after* the collapse does not undo it: at 0.001 for 2,000 more steps,
seed 0 stayed at 2 of 8 modes (JS 0.55 -> 0.42) and seed 1 at 1 of 8 (JS 0.60 -> 0.51). Start
afresh, as the fix preset does.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from ganlab_kit.demo.presets import LAB2D_PRESETS, MODE_COLLAPSE, Lab2DPreset, apply_lab2d_preset  # noqa: E402
from ganlab_kit.widgets.lab2d import GanLab2D, LabConfig  # noqa: E402


def candidates() -> list[Lab2DPreset]:
    """One change each from the collapse setting (both learning rates 0.02)."""
    hyper = MODE_COLLAPSE.hyper
    changes = {
        "+ R1 gamma 1": {"r1": 1.0},
        "+ R1 gamma 10": {"r1": 10.0},
        "+ 5 D steps per G step": {"discriminator_steps": 5},
        "+ G lr 0.001": {"generator_lr": 1e-3},
        "+ LSGAN loss": {"loss": "lsgan"},
        "+ WGAN-GP (lambda 1, k 2)": {"loss": "wasserstein", "gradient_penalty": 1.0, "discriminator_steps": 2},
        "+ Adam beta1 0.9": {"betas": (0.9, 0.999)},
        "both lr 0.005": {"generator_lr": 5e-3, "discriminator_lr": 5e-3},
        "+ the defaults' R1 0.03, batch 1024": {"r1": 0.03, "batch_size": 1024},
    }
    return [replace(MODE_COLLAPSE, name=name, hyper=replace(hyper, **change)) for name, change in changes.items()]


def measure(preset: Lab2DPreset, seed: int, steps: int) -> str:
    lab = GanLab2D(LabConfig(live=False))
    try:
        apply_lab2d_preset(lab, replace(preset, seed=seed))
        started = time.perf_counter()
        lab.train(steps, record_every=steps)
        evaluation = lab.run.evaluate()
        alarm = lab.session.alarm
        stop = f"alarm {lab.session.step_count}" if alarm else f"step {lab.session.step_count}"
        return (
            f"{preset.name:32s} seed {seed}  {stop:>10s}  modes {evaluation['modes_hit']:.0f}/"
            f"{evaluation['num_modes']:.0f}  JS {evaluation['js']:.3f}  ({time.perf_counter() - started:.0f} s)"
            + (f"  [{alarm[:60]}...]" if alarm else "")
        )
    finally:
        lab.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--candidates", action="store_true", help="also the fixes tried at learning rate 0.02")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    presets = list(LAB2D_PRESETS) + (candidates() if args.candidates else [])
    for preset in presets:
        for seed in args.seeds:
            print(measure(preset, seed, args.steps), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
