#!/usr/bin/env python3
"""Full-scale training speed: the paper's 256 px CycleGAN iteration (ResNet-9 generators,
70x70 PatchGANs, batch 1, identity loss on), the kit's run vs a plain fp32 eager loop.

    .venv/bin/python bench/bench_train.py                 # CPU (and the GPU when there is one)
    .venv/bin/python bench/bench_train.py --steps 1 --rounds 2 --size 128

Baseline, in the same process: the iteration written plainly in fp32 eager the way the
reference implementation does (``bench_style_transfer.plain_loop``: one Adam per network
pair, ``nn.MSELoss`` / ``nn.L1Loss``, a list-based pool, ``.item()`` every loss).
Contestant: :class:`~ganlab_kit.train.cyclegan.CycleGANRun` ``.step()``, the step that
``ganlab-kit train cyclegan`` and the notebooks run, in the settings each device is best at:

* CPU: fp32 eager, and fp32 + channels_last;
* GPU: fp32 eager; bf16 autocast + channels_last eager; the same with ``torch.compile``.
  Absolute iterations/s and model-FLOPs utilisation (FLOPs of one iteration counted by
  ``torch.utils.flop_counter`` on the nets, against the device's dense bf16 peak).

Data loading: the time to fetch one batch of real 256 px built-in training data through
the run's own ``BatchStream`` is printed beside the iteration time, so one can see it is not
the bottleneck (it runs once per step, before the step, on the CPU).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_style_transfer import cpu_timed, make_batches, make_nets, make_run, plain_loop, run_loop  # noqa: E402

# Dense bf16 tensor-core peaks (vendor data sheets, without sparsity), for utilisation.
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0, "A10": 125.0, "T4": 65.0}


def iteration_flops(args, device) -> float:
    """FLOPs of one CycleGAN iteration (forward + backward of every net), counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    batches = make_batches(args.size, 1, 1, device)
    run = make_run(args, batches)
    with FlopCounterMode(display=False) as counter:
        run.step()
    return float(counter.get_total_flops())


def data_fetch_seconds(args) -> float:
    """Median seconds for the run's BatchStream to hand out one batch of built-in 256 px data."""
    from ganlab_kit.data import PatchConfig, style_data
    from ganlab_kit.styles import renderers

    sets = style_data(renderers.ink_wash(), count=16, config=PatchConfig(size=args.size), held_out=2)
    from ganlab_kit.data import BatchStream

    stream = BatchStream(sets.unpaired_train, 1, seed=0)
    next(stream)
    times = []
    for _ in range(20):
        start = time.perf_counter()
        next(stream)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_cpu(args) -> None:
    torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    batches = make_batches(args.size, 1, 2, device)
    contestants = {
        "plain fp32 eager": lambda: plain_loop(make_nets(args.width, args.blocks, device), batches, args.steps),
        "kit run fp32": lambda: run_loop(make_run(args, batches), args.steps),
        "kit run fp32 channels_last": lambda: run_loop(make_run(args, batches, channels_last=True), args.steps),
    }
    for fn in contestants.values():  # warm-up: allocations, kernel choice
        fn()
    times = {name: [] for name in contestants}
    for r in range(args.rounds):
        names = list(contestants)
        for name in names if r % 2 == 0 else reversed(names):
            times[name].append(cpu_timed(contestants[name]))
    print(
        f"CPU ({torch.get_num_threads()} thread(s)): CycleGAN {args.size} px, width {args.width}, "
        f"{args.blocks} blocks, batch 1, {args.steps} step(s) x {args.rounds} rounds (median)"
    )
    base_wall = statistics.median(w for w, _ in times["plain fp32 eager"])
    base_cpu = statistics.median(c for _, c in times["plain fp32 eager"])
    for name, values in times.items():
        wall, cpu = statistics.median(w for w, _ in values), statistics.median(c for _, c in values)
        print(
            f"  {name:<28} {wall / args.steps:7.2f} s/it  {args.steps / wall:6.3f} it/s  "
            f"ratio to plain {base_wall / wall:.2f} (wall), {base_cpu / cpu:.2f} (CPU time)"
        )
    fetch = data_fetch_seconds(args)
    step = statistics.median(w for w, _ in times["kit run fp32"]) / args.steps
    print(f"  data: one batch from the run's BatchStream {fetch * 1000:.1f} ms = {fetch / step:.1%} of a step")


def bench_gpu(args) -> None:
    if not torch.cuda.is_available():
        print("GPU: skipped (torch sees no CUDA device)")
        return
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name()
    peak = next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)
    flops = iteration_flops(args, device)
    batches = make_batches(args.size, 1, 4, device)
    batches_cl = make_batches(args.size, 1, 4, device, channels_last=True)
    steps = args.gpu_steps

    def timed_run(run, n):
        torch.cuda.synchronize()
        start = time.perf_counter()
        run_loop(run, n)
        torch.cuda.synchronize()
        return time.perf_counter() - start

    def plain(n):
        nets = make_nets(args.width, args.blocks, device)
        torch.cuda.synchronize()
        start = time.perf_counter()
        plain_loop(nets, batches, n)
        torch.cuda.synchronize()
        return time.perf_counter() - start

    runs = {
        "kit fp32 eager": lambda: make_run(args, batches),
        "kit bf16 + channels_last eager": lambda: make_run(args, batches_cl, precision="bf16", channels_last=True),
        "kit bf16 + channels_last compiled": lambda: make_run(
            args, batches_cl, precision="bf16", channels_last=True, compile=True
        ),
    }
    plain(3)
    results = {"plain fp32 eager": [plain(steps) for _ in range(args.rounds)]}
    for label, make in runs.items():
        run = make()
        timed_run(run, 10 if "compiled" in label else 3)  # warm-up (compilation included)
        results[label] = [timed_run(run, steps) for _ in range(args.rounds)]
    print(f"GPU {name}: CycleGAN {args.size} px, batch 1, {steps} steps x {args.rounds} rounds (median)")
    print(f"  one iteration: {flops / 1e12:.2f} TFLOP (counted); peak bf16 {peak or 'unknown'} TFLOP/s")
    base = statistics.median(results["plain fp32 eager"])
    for label, values in results.items():
        seconds = statistics.median(values)
        its = steps / seconds
        mfu = f"{flops * its / (peak * 1e12):.1%}" if peak else "n/a"
        print(f"  {label:<36} {its:8.1f} it/s  ratio to plain {base / seconds:5.2f}  MFU {mfu}")
    fetch = data_fetch_seconds(args)
    best = min(statistics.median(v) for v in results.values()) / steps
    print(f"  data: one batch {fetch * 1000:.2f} ms on the CPU vs the fastest step {best * 1000:.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--width", type=int, default=64, help="the paper: 64")
    parser.add_argument("--blocks", type=int, default=9, help="the paper: 9 at 256 px")
    parser.add_argument("--steps", type=int, default=2, help="CPU steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gpu-steps", type=int, default=50)
    parser.add_argument("--gpu-only", action="store_true")
    args = parser.parse_args()
    if not args.gpu_only:
        bench_cpu(args)
    bench_gpu(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
