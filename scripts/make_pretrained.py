#!/usr/bin/env python3
"""Train and ship one small 2-D GAN per built-in distribution (ganlab_kit/pretrained/).

    python scripts/make_pretrained.py            # all of them (a few minutes on 2 CPU cores)
    python scripts/make_pretrained.py ring grid  # some of them

Each model has GAN Lab's small architecture (2 hidden layers of 32 ReLU units for G and D,
2-D gaussian noise; the lab's defaults until issue 10 made them 3 x 64 leaky ReLU), pinned
here so that running this again reproduces the shipped files. A demo can start the lab
from a trained state: the file carries its architecture, the lab builds it. Next to each
``<kind>.safetensors`` goes ``<kind>.json``: how it was trained and how good it is
(KL / JS on a 30x30 grid, mode coverage for mixtures), measured on fresh samples.
Seeded: running it again gives the same files on the same torch build. (The shipped
files were trained with the former trainer and re-saved in the checkpoint format by
``scripts/convert_pretrained.py``; their ``.json`` still names the former
hyperparameters ``lr_generator`` / ``lr_discriminator`` / ``beta1``.)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganlab_kit.toy2d import BUILTIN_KINDS, Toy2DHyper, Toy2DRun, ToyModelConfig, make_distribution  # noqa: E402
from ganlab_kit.toy2d.io import PRETRAINED_DIR, save_toy_model  # noqa: E402
from ganlab_kit.train.run import hyper_to_dict  # noqa: E402

# Many modes need more steps; everything else settles within a few thousand.
STEPS = {"line": 2500, "gaussian_mixture": 2500, "ring": 4000, "grid": 6000, "two_moons": 4000, "spiral": 5000}


# The shipped models' architecture and batch (the former lab defaults), pinned.
MODEL = ToyModelConfig(
    generator_layers=2, generator_neurons=32, discriminator_layers=2, discriminator_neurons=32, activation="relu"
)


def make(kind: str, seed: int = 0) -> dict:
    hyper = Toy2DHyper(  # the shipped models' training, pinned (no R1: the lab's default before issue 10)
        loss="non_saturating", optimizer="adam", discriminator_lr=1e-3, generator_lr=1e-3, batch_size=256, r1=0.0
    )
    run = Toy2DRun(make_distribution(kind), MODEL, hyper, seed=seed)
    started = time.perf_counter()
    for _ in range(STEPS[kind]):
        run.step()
    seconds = time.perf_counter() - started
    quality = run.evaluate()
    info = {
        "distribution": kind,
        "steps": STEPS[kind],
        "seed": seed,
        "training": hyper_to_dict(hyper),
        "model": run.model_config.to_dict(),
        "evaluation": quality,
        "torch": torch.__version__,
    }
    path = save_toy_model(PRETRAINED_DIR / f"{kind}.safetensors", run, extra={"evaluation": quality}, global_rng=False)
    path.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    print(
        f"{kind:17s} {STEPS[kind]} steps in {seconds:5.1f} s  " + "  ".join(f"{k}={v:.3f}" for k, v in quality.items())
    )
    return info


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kinds", nargs="*", default=list(BUILTIN_KINDS))
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny nets: one thread is fastest and leaves the other core free
    for kind in args.kinds:
        make(kind)
    total = sum(p.stat().st_size for p in PRETRAINED_DIR.iterdir())
    print(f"pretrained/: {total / 1024:.0f} KiB in total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
