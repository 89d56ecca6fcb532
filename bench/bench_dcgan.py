#!/usr/bin/env python3
"""How fast is the kit's DCGAN step, compared with a plain PyTorch loop, in the same run?

    .venv/bin/python bench/bench_dcgan.py                 # CPU: size 16, width 32, batch 64
    .venv/bin/python bench/bench_dcgan.py --size 32 --rounds 5
    .venv/bin/python bench/bench_dcgan.py --gpu-only      # the CUDA path only (skips without CUDA)

Three contestants train the *same* networks (same seed, same initial weights) on the same
pre-made batches of digits, taking turns round by round so that background load hits all
of them alike; each reports the median over rounds:

* plain:  the loop of the PyTorch DCGAN tutorial (BCE on logits, D's weight gradients
          computed during the generator's backward pass, four ``.item()`` calls per step);
* kit:    :func:`ganlab_kit.train.dcgan.dcgan_step` (freezes D during G's update,
          one host transfer for all metrics);
* kit + live views: the same step inside :class:`~ganlab_kit.widgets.image_lab.ImageLab`'s
          session with its refresher thread drawing the sample grid and both charts at the
          lab's frame rate (no browser attached: widget messages are not serialised).

Expected: kit / plain >= 1.0 and (kit + views) / plain >= 0.8. With CUDA, the same pair
runs again with channels_last memory and bfloat16 autocast.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganlab_kit.data import ImageSet, digits  # noqa: E402
from ganlab_kit.nets.dcgan import DCGANConfig, build_dcgan  # noqa: E402
from ganlab_kit.train.accel import Accelerator  # noqa: E402
from ganlab_kit.train.dcgan import DCGANHyper, DCGANRun, DCGANRunConfig, dcgan_step  # noqa: E402
from ganlab_kit.train.run import metrics_to_floats  # noqa: E402


def make_batches(size: int, batch: int, count: int, device: torch.device, channels_last: bool) -> list[torch.Tensor]:
    data = digits(size).images
    rng = torch.Generator().manual_seed(0)
    batches = [data[torch.randperm(len(data), generator=rng)[:batch]].to(device) for _ in range(count)]
    if channels_last:
        batches = [b.contiguous(memory_format=torch.channels_last) for b in batches]
    return batches


def adam_pair(generator, discriminator):
    return (
        torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.999)),
        torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.999)),
    )


def plain_loop(generator, discriminator, batches, steps, amp_dtype=None):
    """The tutorial's loop, written out by hand."""
    g_opt, d_opt = adam_pair(generator, discriminator)
    latent = generator.config.latent_dim
    device = batches[0].device
    amp = lambda: torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None)
    for i in range(steps):
        real = batches[i % len(batches)]
        z = torch.randn(real.shape[0], latent, device=device)
        d_opt.zero_grad()
        with amp():
            real_logits = discriminator(real).float()
            fake = generator(z)
            fake_logits = discriminator(fake.detach()).float()
        d_loss = F.binary_cross_entropy_with_logits(
            real_logits, torch.ones_like(real_logits)
        ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        d_loss.backward()
        d_opt.step()
        g_opt.zero_grad()
        with amp():
            g_logits = discriminator(fake).float()
        g_loss = F.binary_cross_entropy_with_logits(g_logits, torch.ones_like(g_logits))
        g_loss.backward()
        g_opt.step()
        _ = (
            d_loss.item(),
            g_loss.item(),
            torch.sigmoid(real_logits).mean().item(),
            torch.sigmoid(fake_logits).mean().item(),
        )


def kit_loop(generator, discriminator, batches, steps, amp_dtype=None):
    g_opt, d_opt = adam_pair(generator, discriminator)
    precision = {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[amp_dtype]
    accel = Accelerator(batches[0].device, precision=precision)
    hyper = DCGANHyper(loss="non_saturating")
    for i in range(steps):
        metrics = dcgan_step(generator, discriminator, g_opt, d_opt, batches[i % len(batches)], hyper, accel=accel)
        metrics_to_floats(metrics)  # read to the host every step, as the plain loop does


class _Cycle:
    def __init__(self, batches):
        self.batches, self.i = batches, 0

    def __next__(self):  # a batch as BatchStream hands it out
        self.i += 1
        return {"image": self.batches[(self.i - 1) % len(self.batches)]}


def lab_loop(config, batches, steps, fps):
    """The kit's step inside the live image lab, views redrawing from their own thread."""
    from ganlab_kit.widgets.image_lab import ImageLab, ImageLabConfig

    data = ImageSet("bench", torch.cat(batches[:2]).cpu())
    run = DCGANRun(DCGANRunConfig(model=config, batch_size=batches[0].shape[0]), data, device=batches[0].device)
    run.stream = _Cycle(batches)  # same pre-made batches as the others
    lab = ImageLab(run, ImageLabConfig(fps=fps), live=True)
    lab.start_views()
    start = time.perf_counter()
    lab.session.run(steps)
    seconds = time.perf_counter() - start
    frames = lab.refresher.frames
    lab.close()
    return seconds, frames


def timed(fn, *args, sync=False):
    start = time.perf_counter()
    fn(*args)
    if sync:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def bench_cpu(args) -> None:
    torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    config = DCGANConfig(
        image_size=args.size, latent_dim=64, generator_width=args.width, discriminator_width=args.width
    )
    batches = make_batches(args.size, args.batch, 8, device, channels_last=False)
    for warm in (plain_loop, kit_loop):  # first calls allocate and pick kernels
        warm(*build_dcgan(config, seed=0), batches, 3)
    times = {"plain": [], "kit": [], "kit + live views": []}
    frames = 0
    for r in range(args.rounds):
        order = [("plain", plain_loop), ("kit", kit_loop)]
        if r % 2:
            order.reverse()
        for name, loop in order:
            times[name].append(timed(loop, *build_dcgan(config, seed=0), batches, args.steps))
        seconds, frames = lab_loop(config, batches, args.steps, args.fps)
        times["kit + live views"].append(seconds)
    print(
        f"CPU ({torch.get_num_threads()} thread(s)), DCGAN {args.size}x{args.size}, width {args.width}, "
        f"batch {args.batch}, "
        f"{args.steps} steps x {args.rounds} rounds (median):"
    )
    plain = statistics.median(times["plain"])
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"  {name:<17} {median / args.steps * 1000:8.1f} ms/step  "
            f"{args.batch * args.steps / median:8.0f} images/s  "
            f"speed vs plain {plain / median:.2f}"
        )
    print(f"  (live views drew {frames} frames in the last round at {args.fps:g} fps)")


def bench_gpu(args) -> None:
    if not torch.cuda.is_available():
        print("GPU path: skipped (torch sees no CUDA device)")
        return
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    config = DCGANConfig(
        image_size=args.gpu_size,
        channels=1,
        latent_dim=100,
        generator_width=args.gpu_width,
        discriminator_width=args.gpu_width,
    )
    print(
        f"GPU {torch.cuda.get_device_name()}: DCGAN {args.gpu_size}x{args.gpu_size}, width {args.gpu_width}, "
        f"batch {args.gpu_batch}, "
        f"{args.gpu_steps} steps x {args.rounds} rounds (median):"
    )
    for label, channels_last, amp in (("fp32", False, None), ("channels_last + bf16 autocast", True, torch.bfloat16)):
        batches = make_batches(args.gpu_size, args.gpu_batch, 8, device, channels_last)

        def nets(channels_last=channels_last):  # bound now: the loop variable moves on
            generator, discriminator = build_dcgan(config, device, seed=0)
            if channels_last:
                generator.to(memory_format=torch.channels_last)
                discriminator.to(memory_format=torch.channels_last)
            return generator, discriminator

        for warm in (plain_loop, kit_loop):
            warm(*nets(), batches, 10, amp)
        torch.cuda.synchronize()
        results = {"plain": [], "kit": []}
        for r in range(args.rounds):
            order = [("plain", plain_loop), ("kit", kit_loop)]
            if r % 2:
                order.reverse()
            for name, loop in order:
                results[name].append(timed(loop, *nets(), batches, args.gpu_steps, amp, sync=True))
        plain = statistics.median(results["plain"])
        for name, values in results.items():
            median = statistics.median(values)
            print(
                f"  [{label}] {name:<6} {median / args.gpu_steps * 1000:7.2f} ms/step  "
                f"{args.gpu_batch * args.gpu_steps / median:9.0f} images/s  speed vs plain {plain / median:.2f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=16, choices=(16, 32, 64))
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: steadiest on a shared machine)")
    parser.add_argument("--fps", type=float, default=8.0, help="the live views' frame rate")
    parser.add_argument("--gpu-size", type=int, default=64, choices=(16, 32, 64))
    parser.add_argument("--gpu-width", type=int, default=64)
    parser.add_argument("--gpu-batch", type=int, default=256)
    parser.add_argument("--gpu-steps", type=int, default=100)
    parser.add_argument("--gpu-only", action="store_true")
    args = parser.parse_args()
    if not args.gpu_only:
        bench_cpu(args)
    bench_gpu(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
