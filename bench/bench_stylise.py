#!/usr/bin/env python3
"""How fast does the shipped multi-style generator paint a 256 px photo on this machine?

    .venv/bin/python bench/bench_stylise.py               # 256 px, every style, median of 9
    .venv/bin/python bench/bench_stylise.py --size 512 --threads 1

Baseline in the same process: one generator of the paper's CycleGAN (ResNet-9, width 64), which paints
*one* style, on the same photo. The kit's target: at most 0.2 s per style at 256 px on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganlab_kit.nets import ResnetGenerator  # noqa: E402
from ganlab_kit.styles.stylise import load_style_generator, stylise  # noqa: E402


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    photo = torch.rand(1, 3, args.size, args.size) * 2 - 1
    generator = load_style_generator()
    paper = ResnetGenerator(width=64, blocks=9, seed=0).eval()
    with torch.no_grad():
        baseline = median_seconds(lambda: paper(photo), args.repeats)
    print(f"CPU, {torch.get_num_threads()} thread(s), {args.size} px, median of {args.repeats}:")
    print(f"  paper's CycleGAN generator (one style)   {baseline:.3f} s per image   ratio 1.00")
    for name in generator.styles:
        seconds = median_seconds(lambda name=name: stylise(generator, photo, name), args.repeats)
        print(
            f"  kit's multi-style generator, {name:<10}  {seconds:.3f} s per image   "
            f"ratio {baseline / seconds:.2f}   {'within' if seconds <= 0.2 else 'OVER'} 0.2 s"
        )
    mixed = median_seconds(lambda: stylise(generator, photo, {"ink_wash": 0.5, "ukiyoe": 0.5}), args.repeats)
    print(f"  a 50/50 mix                              {mixed:.3f} s per image   ratio {baseline / mixed:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
