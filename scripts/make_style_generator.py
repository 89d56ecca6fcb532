#!/usr/bin/env python3
"""Train and ship the multi-style generator (ganlab_kit/pretrained/style_generator.*).

    python scripts/make_style_generator.py                  # the shipped model (about an hour on 2 CPU cores)
    python scripts/make_style_generator.py --steps 50 --count 32 --out /tmp/sg   # a quick try

One conditional generator (:class:`~ganlab_kit.nets.conditional.ConditionalStyleGenerator`)
learns the three renderers (ink wash, oil, ukiyo-e) from the built-in photos, by L1 + edge
regression on the renderers' paired data (:mod:`ganlab_kit.train.stylise`). Then, on the
held-out photos (never seen in training), per style: PSNR / SSIM / FSIM against the
renderer, the identity baseline, the style classifier's target rate, at the training size
and at 256 px; and the CPU time to paint one 256 px photo. Everything goes into
``style_generator.json`` beside the weights: data, steps, seed, scores, times, versions.
Seeded: the same command gives the same file on the same torch build.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganlab_kit.data import PatchConfig, style_data  # noqa: E402
from ganlab_kit.nets.conditional import StyleGeneratorConfig  # noqa: E402
from ganlab_kit.runtime import seed_everything  # noqa: E402
from ganlab_kit.styles import renderers  # noqa: E402
from ganlab_kit.styles.stylise import GENERATOR_FILE, PRETRAINED_DIR, save_style_generator, stylise  # noqa: E402
from ganlab_kit.train.stylise import MultiStylePairs, StyliseHyper, StyliseRun, StyliseRunConfig  # noqa: E402

STYLES = {"ink_wash": renderers.ink_wash, "oil": renderers.oil, "ukiyoe": renderers.ukiyoe}


def paired_sets(size: int, count: int, seed: int):
    sets = {
        name: style_data(make(), count=count, config=PatchConfig(size=size), seed=seed) for name, make in STYLES.items()
    }
    first = next(iter(sets.values()))
    return (
        MultiStylePairs({n: s.paired_train for n, s in sets.items()}),
        MultiStylePairs({n: s.paired_test for n, s in sets.items()}),
        {"train_photos": first.train_sources, "held_out_photos": first.test_sources},
    )


def evaluate(generator, held_out: MultiStylePairs) -> dict[str, dict[str, float]]:
    from ganlab_kit import metrics

    unit = lambda t: (t + 1) / 2  # noqa: E731
    scores = {}
    for k, name in enumerate(held_out.styles):
        pairs = held_out.sets[k]
        photos = torch.stack([pairs[i]["A"] for i in range(len(pairs))])
        targets = torch.stack([pairs[i]["B"] for i in range(len(pairs))])
        outputs = torch.cat([stylise(generator, chunk, name) for chunk in photos.split(16)])
        result = metrics.style_transfer_scores(unit(photos), unit(outputs), unit(targets), name)
        keep = ("psnr", "psnr_identity", "ssim", "ssim_identity", "fsim", "fsim_identity", "target_rate")
        scores[name] = {key: round(float(result[key]), 4) for key in keep if key in result}
    return scores


def seconds_per_image(generator, size: int = 256, repeats: int = 7) -> float:
    photo = torch.rand(1, 3, size, size) * 2 - 1
    stylise(generator, photo, "oil")  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        stylise(generator, photo, "oil")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=96, help="training patch side")
    parser.add_argument("--count", type=int, default=384, help="training pairs per style")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=PRETRAINED_DIR)
    args = parser.parse_args()

    seed_everything(args.seed)
    started = time.perf_counter()
    train, held_out, photos = paired_sets(args.size, args.count, args.seed)
    _, held_out_256, _ = paired_sets(256, 16, args.seed)
    data_seconds = time.perf_counter() - started
    config = StyliseRunConfig(
        image_size=args.size,
        generator=StyleGeneratorConfig(styles=tuple(STYLES), width=args.width, blocks=args.blocks),
        batch_size=args.batch,
        seed=args.seed,
    )
    hyper = StyliseHyper()
    run = StyliseRun(config, train, hyper=hyper, held_out=held_out)
    started = time.perf_counter()
    history = []
    for step in range(1, args.steps + 1):
        history.append({k: float(v) for k, v in run.step().items()})
        if step % max(1, args.steps // 20) == 0:
            recent = history[-50:]
            print(
                f"step {step}/{args.steps}  l1 {statistics.mean(h['l1_loss'] for h in recent):.4f}  "
                f"edge {statistics.mean(h['edge_loss'] for h in recent):.4f}  "
                f"({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    train_seconds = time.perf_counter() - started
    generator = run.generator.eval()
    info = {
        "what": "conditional multi-style generator (conditional instance norm), L1 + edge regression on the "
        "renderers' paired data",
        "command": "python scripts/make_style_generator.py " + " ".join(sys.argv[1:]),
        "data": {"styles": list(STYLES), "patch_size": args.size, "pairs_per_style": args.count, **photos},
        "training": {
            "steps": args.steps,
            "batch_size": args.batch,
            "seed": args.seed,
            "hyper": {"generator_lr": hyper.generator_lr, "betas": list(hyper.betas), "edge_weight": hyper.edge_weight},
            "seconds": round(train_seconds, 1),
            "data_seconds": round(data_seconds, 1),
            "final_l1": round(statistics.mean(h["l1_loss"] for h in history[-100:]), 4),
        },
        "generator": config.generator.to_dict(),
        "parameters": sum(p.numel() for p in generator.parameters()),
        "scores_held_out": {
            f"{args.size}px": evaluate(generator, held_out),
            "256px": evaluate(generator, held_out_256),
        },
        "cpu_seconds_per_256px_image": round(seconds_per_image(generator), 4),
        "cpu_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.machine(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = save_style_generator(generator, args.out / GENERATOR_FILE, info={"scores": info["scores_held_out"]})
    path.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info["scores_held_out"], indent=1))
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB), {info['cpu_seconds_per_256px_image']} s per 256 px image"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
