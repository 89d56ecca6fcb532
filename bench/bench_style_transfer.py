#!/usr/bin/env python3
"""How fast is the kit's CycleGAN iteration, compared with a plain PyTorch loop, in the same run?

    .venv/bin/python bench/bench_style_transfer.py                    # CPU: 64 px, width 32, 6 blocks, batch 1
    .venv/bin/python bench/bench_style_transfer.py --size 32 --steps 5 --rounds 3
    .venv/bin/python bench/bench_style_transfer.py --gpu-only         # the CUDA path only (skips without CUDA)

Contestants train the *same* networks (same seeds, same initial weights) on the same
pre-made unpaired batches, taking turns round by round so that background load hits all
of them alike; each reports the median over rounds:

* plain:    the loop as one writes it from the CycleGAN paper by hand: ``nn.MSELoss`` /
            ``nn.L1Loss``, a list-based image pool drawing from Python's ``random``, one Adam
            over both generators and one over both discriminators, ``.item()`` on every loss;
* kit:      :func:`ganlab_kit.train.cyclegan.cyclegan_step` (the same updates in the same order,
            the kit's pools, one host transfer for all metrics);
* kit run:  :class:`~ganlab_kit.train.cyclegan.CycleGANRun` ``.step()`` (schedule, hyperparameters
            applied between steps, batch checks) on the same batches.

Expected on the CPU: kit / plain >= 1.0. With CUDA, the pair runs again at 256 px with the
paper's networks, in fp32 and with channels_last + bfloat16 autocast.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganlab_kit.nets import PatchDiscriminator, ResnetGenerator  # noqa: E402
from ganlab_kit.train.accel import Accelerator  # noqa: E402
from ganlab_kit.train.cyclegan import CycleGANHyper, CycleGANRun, CycleGANRunConfig, cyclegan_step  # noqa: E402
from ganlab_kit.train.image_pool import ImagePool  # noqa: E402
from ganlab_kit.train.run import metrics_to_floats  # noqa: E402


def make_batches(size, batch, count, device, channels_last=False):
    """``count`` unpaired (a, b) batches of smooth random images (B, 3, size, size) in [-1, 1]."""
    rng = torch.Generator().manual_seed(0)
    out = []
    for _ in range(count):
        a = (
            torch.nn.functional.interpolate(torch.rand(batch, 3, size // 8, size // 8, generator=rng), size=size) * 2
            - 1
        )
        b = (
            torch.nn.functional.interpolate(torch.rand(batch, 3, size // 8, size // 8, generator=rng), size=size) * 2
            - 1
        )
        a, b = a.to(device), b.to(device)
        if channels_last:
            a, b = (x.contiguous(memory_format=torch.channels_last) for x in (a, b))
        out.append((a, b))
    return out


def make_nets(width, blocks, device, channels_last=False):
    nets = [
        ResnetGenerator(width=width, blocks=blocks, seed=0),
        ResnetGenerator(width=width, blocks=blocks, seed=1),
        PatchDiscriminator(width=width, seed=2),
        PatchDiscriminator(width=width, seed=3),
    ]
    nets = [n.to(device) for n in nets]
    if channels_last:
        nets = [n.to(memory_format=torch.channels_last) for n in nets]
    return nets


class ListPool:
    """The image pool as the reference code writes it: a list and Python's random."""

    def __init__(self, size=50):
        self.size, self.images = size, []

    def query(self, images):
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif random.random() < 0.5:
                i = random.randint(0, self.size - 1)
                out.append(self.images[i].clone())
                self.images[i] = image
            else:
                out.append(image)
        return torch.cat(out)


def plain_loop(nets, batches, steps, amp_dtype=None):
    """CycleGAN's iteration written out by hand (LSGAN, cycle 10, identity 5)."""
    g_ab, g_ba, d_a, d_b = nets
    g_opt = torch.optim.Adam(itertools.chain(g_ab.parameters(), g_ba.parameters()), 2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(itertools.chain(d_a.parameters(), d_b.parameters()), 2e-4, betas=(0.5, 0.999))
    mse, l1 = nn.MSELoss(), nn.L1Loss()
    pool_a, pool_b = ListPool(), ListPool()
    device = batches[0][0].device
    amp = lambda: torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None)
    for i in range(steps):
        real_a, real_b = batches[i % len(batches)]
        for p in itertools.chain(d_a.parameters(), d_b.parameters()):
            p.requires_grad_(False)
        g_opt.zero_grad()
        with amp():
            fake_b, fake_a = g_ab(real_a), g_ba(real_b)
            rec_a, rec_b = g_ba(fake_b), g_ab(fake_a)
            idt_b, idt_a = g_ab(real_b), g_ba(real_a)
            pred_b, pred_a = d_b(fake_b).float(), d_a(fake_a).float()
        adversarial = mse(pred_b, torch.ones_like(pred_b)) + mse(pred_a, torch.ones_like(pred_a))
        cycle = l1(rec_a.float(), real_a) + l1(rec_b.float(), real_b)
        identity = l1(idt_a.float(), real_a) + l1(idt_b.float(), real_b)
        g_loss = adversarial + 10 * cycle + 5 * identity
        g_loss.backward()
        g_opt.step()
        for p in itertools.chain(d_a.parameters(), d_b.parameters()):
            p.requires_grad_(True)
        d_opt.zero_grad()
        losses = []
        for d, real, fake, pool in ((d_a, real_a, fake_a, pool_a), (d_b, real_b, fake_b, pool_b)):
            with amp():
                real_pred, fake_pred = d(real).float(), d(pool.query(fake)).float()
            loss = 0.5 * (mse(real_pred, torch.ones_like(real_pred)) + mse(fake_pred, torch.zeros_like(fake_pred)))
            loss.backward()
            losses.append(loss)
        d_opt.step()
        _ = (g_loss.item(), cycle.item(), identity.item(), losses[0].item(), losses[1].item())


def kit_loop(nets, batches, steps, amp_dtype=None):
    g_ab, g_ba, d_a, d_b = nets
    g_opt = torch.optim.Adam(itertools.chain(g_ab.parameters(), g_ba.parameters()), 2e-4, betas=(0.5, 0.999))
    da_opt = torch.optim.Adam(d_a.parameters(), 2e-4, betas=(0.5, 0.999))
    db_opt = torch.optim.Adam(d_b.parameters(), 2e-4, betas=(0.5, 0.999))
    precision = {None: "fp32", torch.bfloat16: "bf16"}[amp_dtype]
    accel = Accelerator(batches[0][0].device, precision=precision)
    hyper, pool_a, pool_b = CycleGANHyper(), ImagePool(50, seed=4), ImagePool(50, seed=5)
    for i in range(steps):
        real_a, real_b = batches[i % len(batches)]
        metrics = cyclegan_step(
            g_ab, g_ba, d_a, d_b, g_opt, da_opt, db_opt, real_a, real_b, hyper, pool_a, pool_b, accel=accel
        )
        metrics_to_floats(metrics)  # read to the host every step, as the plain loop does


class _Cycle:
    def __init__(self, batches):
        self.batches, self.i = batches, 0

    def __next__(self):  # a batch as BatchStream hands it out
        self.i += 1
        a, b = self.batches[(self.i - 1) % len(self.batches)]
        return {"A": a, "B": b}


def make_run(args, batches, **config_changes):
    from ganlab_kit.data import ImageSet, UnpairedDataset
    from ganlab_kit.nets import PatchDiscriminatorConfig, ResnetGeneratorConfig

    a = torch.cat([a for a, _ in batches]).cpu()
    b = torch.cat([b for _, b in batches]).cpu()
    data = UnpairedDataset(ImageSet("a", a), ImageSet("b", b))
    config = CycleGANRunConfig(
        image_size=args.size,
        generator=ResnetGeneratorConfig(width=args.width, blocks=args.blocks),
        discriminator=PatchDiscriminatorConfig(width=args.width),
        batch_size=batches[0][0].shape[0],
        num_visuals=1,
        **config_changes,
    )
    run = CycleGANRun(config, data, device=batches[0][0].device)
    run.stream = _Cycle(batches)  # the same pre-made batches as the others
    return run


def run_loop(run, steps):
    for _ in range(steps):
        metrics_to_floats(run.step())


def timed(fn, *args, sync=False):
    start = time.perf_counter()
    fn(*args)
    if sync:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def cpu_timed(fn, *args):
    """(wall seconds, CPU seconds of this process): on a shared machine the CPU time is
    the steadier of the two, since time spent waiting for a core is not counted."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_cpu(args) -> None:
    torch.set_num_threads(args.threads)
    random.seed(0)
    device = torch.device("cpu")
    batches = make_batches(args.size, args.batch, 4, device)
    for warm in (plain_loop, kit_loop):  # first calls allocate and pick kernels
        warm(make_nets(args.width, args.blocks, device), batches, 1)
    times = {"plain": [], "kit": [], "kit run": []}
    for r in range(args.rounds):
        order = [("plain", plain_loop), ("kit", kit_loop)]
        if r % 2:
            order.reverse()
        for name, loop in order:
            times[name].append(cpu_timed(loop, make_nets(args.width, args.blocks, device), batches, args.steps))
        times["kit run"].append(cpu_timed(run_loop, make_run(args, batches), args.steps))
    print(
        f"CPU ({torch.get_num_threads()} thread(s)), CycleGAN {args.size}x{args.size}, width {args.width}, "
        f"{args.blocks} blocks, batch {args.batch}, {args.steps} steps x {args.rounds} rounds (median):"
    )
    plain_wall = statistics.median(w for w, _ in times["plain"])
    plain_cpu = statistics.median(c for _, c in times["plain"])
    for name, values in times.items():
        wall, cpu = statistics.median(w for w, _ in values), statistics.median(c for _, c in values)
        per_round = ", ".join(f"{w / args.steps * 1000:.0f}" for w, _ in values)
        print(
            f"  {name:<8} {wall / args.steps * 1000:7.1f} ms/step  {args.batch * args.steps / wall:6.2f} images/s  "
            f"speed vs plain {plain_wall / wall:.2f} (wall), {plain_cpu / cpu:.2f} (CPU time)  [rounds: {per_round} ms]"
        )


def bench_gpu(args) -> None:
    if not torch.cuda.is_available():
        print("GPU path: skipped (torch sees no CUDA device)")
        return
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    print(
        f"GPU {torch.cuda.get_device_name()}: CycleGAN {args.gpu_size}x{args.gpu_size}, width {args.gpu_width}, "
        f"{args.gpu_blocks} blocks, batch {args.gpu_batch}, {args.gpu_steps} steps x {args.rounds} rounds (median):"
    )
    for label, channels_last, amp in (("fp32", False, None), ("channels_last + bf16 autocast", True, torch.bfloat16)):
        batches = make_batches(args.gpu_size, args.gpu_batch, 4, device, channels_last)

        def nets(channels_last=channels_last):
            return make_nets(args.gpu_width, args.gpu_blocks, device, channels_last)

        for warm in (plain_loop, kit_loop):
            warm(nets(), batches, 3, amp)
        torch.cuda.synchronize()
        results = {"plain": [], "kit": []}
        for r in range(args.rounds):
            order = [("plain", plain_loop), ("kit", kit_loop)]
            if r % 2:
                order.reverse()
            for name, loop in order:
                results[name].append(timed(loop, nets(), batches, args.gpu_steps, amp, sync=True))
        plain = statistics.median(results["plain"])
        for name, values in results.items():
            median = statistics.median(values)
            print(
                f"  [{label}] {name:<6} {median / args.gpu_steps * 1000:8.2f} ms/step  "
                f"{args.gpu_batch * args.gpu_steps / median:8.1f} images/s  speed vs plain {plain / median:.2f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=64, help="image side in pixels (a multiple of 4)")
    parser.add_argument("--width", type=int, default=32, help="generator and discriminator width (the paper: 64)")
    parser.add_argument("--blocks", type=int, default=6, help="residual blocks (the paper: 6 at 128 px, 9 at 256 px)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: steadiest on a shared machine)")
    parser.add_argument("--gpu-size", type=int, default=256)
    parser.add_argument("--gpu-width", type=int, default=64)
    parser.add_argument("--gpu-blocks", type=int, default=9)
    parser.add_argument("--gpu-batch", type=int, default=1)
    parser.add_argument("--gpu-steps", type=int, default=50)
    parser.add_argument("--gpu-only", action="store_true")
    args = parser.parse_args()
    if args.size % 4:
        parser.error(f"--size must be a multiple of 4, got {args.size}")
    if not args.gpu_only:
        bench_cpu(args)
    bench_gpu(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
