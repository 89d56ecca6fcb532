#!/usr/bin/env python3
"""How fast does the 2-D lab train while its live view refreshes?

    python bench/bench_lab2d.py [--seconds 8] [--fps 15]

Three measurements in one process, same configuration (ring, batch 256, G and D with two
hidden layers of 32, non-saturating loss, Adam):

1. **plain loop** -- ``run.step()`` in a ``for`` loop: the baseline;
2. **lab, live** -- the lab's TrainingSession thread trains while its ViewRefresher runs at
   ``--fps`` doing its real work each frame: copy the weights under the lock, compute the
   D heatmap, the gradient arrows, the manifold and the divergence, update the charts,
   serialise everything to bytes and build the widget messages (``get_state`` + buffer
   split, what ipywidgets does before sending; without a kernel nothing is sent);
3. **frame alone** -- the time of one such frame, with training paused.

It prints steps/s for 1 and 2, their ratio, the frames per second actually achieved, and
the frame time. On a machine shared with other work the numbers are *lower bounds*: other
processes take CPU from both loops. GAN Lab trains one step per screen frame (<= 60 steps/s).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ipywidgets.widgets.widget import _remove_buffers  # noqa: E402

from ganlab_kit.toy2d import Toy2DHyper, Toy2DRun, ToyModelConfig, make_distribution  # noqa: E402
from ganlab_kit.train.run import metrics_to_floats  # noqa: E402
from ganlab_kit.widgets.lab2d import GanLab2D, LabConfig  # noqa: E402

MODEL = ToyModelConfig(generator_layers=2, generator_neurons=32, discriminator_layers=2, discriminator_neurons=32)
HYPER = Toy2DHyper(batch_size=256)
FIELD_KEYS = [
    "heatmap",
    "heatmap_resolution",
    "real",
    "fake",
    "arrows",
    "manifold",
    "manifold_density",
    "manifold_resolution",
    "manifold_dim",
    "frame",
]


def plain_loop(seconds: float) -> float:
    run = Toy2DRun(make_distribution("ring"), MODEL, HYPER, seed=0)
    for _ in range(20):  # warm-up (lazy initialisation inside torch)
        run.step()
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        metrics_to_floats(run.step())  # read to the host, as the session does
        steps += 1
    return steps / (time.perf_counter() - started)


def make_lab(fps: float) -> GanLab2D:
    lab = GanLab2D(LabConfig(distribution="ring", model=MODEL, hyper=HYPER, fps=fps, live=True))
    draw = lab._draw

    def draw_and_pack(snapshot):
        draw(snapshot)
        # What ipywidgets does before sending a message: state -> JSON part + binary buffers.
        # Only changed traits are sent: the field's arrays and the charts' data.
        _remove_buffers(lab.field.widget.get_state(key=FIELD_KEYS))
        for chart in lab.charts.values():
            _remove_buffers(chart.widget.get_state(key=["data", "length"]))

    lab.refresher.draw = draw_and_pack
    return lab


def lab_live(seconds: float, fps: float) -> tuple[float, float, float]:
    lab = make_lab(fps)
    lab.train(20, block=True)  # warm-up
    lab.refresher.start()
    frames_before = lab.refresher.frames
    steps_before = lab.session.step_count
    started = time.perf_counter()
    lab.session.play()
    time.sleep(seconds)
    lab.session.pause()
    elapsed = time.perf_counter() - started
    steps = lab.session.step_count - steps_before
    frames = lab.refresher.frames - frames_before
    frame_ms = 1000 * lab.refresher.frame_seconds()
    lab.close()
    return steps / elapsed, frames / elapsed, frame_ms


def frame_alone(repeats: int) -> float:
    lab = make_lab(15)
    lab.train(20, block=True)
    times = []
    for _ in range(repeats):
        lab.session.step()  # a new step, so the frame does its full work
        started = time.perf_counter()
        lab.refresher.draw_now()
        times.append(time.perf_counter() - started)
    lab.close()
    times.sort()
    return 1000 * times[len(times) // 2]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--fps", type=float, default=15.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs visible, load average {os.getloadavg()[0]:.1f}")
    print("config: ring, batch 256, G and D 2x32, non-saturating, Adam\n")
    plain = plain_loop(args.seconds)
    live, fps, frame_ms_live = lab_live(args.seconds, args.fps)
    frame_ms = frame_alone(60)
    print(f"plain loop            : {plain:7.1f} steps/s")
    print(f"lab + live refresh    : {live:7.1f} steps/s   ({fps:.1f} frames/s achieved, target {args.fps:g})")
    print(f"ratio lab / plain     : {live / plain:7.2f}")
    print(f"frame alone (median)  : {frame_ms:7.2f} ms   (mean while training: {frame_ms_live:.2f} ms)")
    print(f"refresh cost at {args.fps:g} fps : {frame_ms * args.fps / 10:.1f} % of one core")
    print(f"vs GAN Lab's one step per frame at 60 fps: {live / 60:.1f}x")
    print("(on a machine shared with other work these are lower bounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
