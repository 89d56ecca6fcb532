#!/usr/bin/env python3
# ruff: noqa: E501  (the notebook's prose lives here; its code cells are formatted in the notebook)
"""Write notebooks/09_full_gpu_training.ipynb from the cells below (code and prose kept here,
so a change is one reviewable diff); then run it with scripts/run_notebooks.py."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "notebooks" / "09_full_gpu_training.ipynb"
CELLS: list[tuple[str, str]] = []


def md(text: str) -> None:
    CELLS.append(("markdown", text.strip("\n")))


def code(text: str, tags: list[str] | None = None) -> None:
    CELLS.append(("code", text.strip("\n"), tags or []))  # type: ignore[arg-type]


md("""
# 09 · Full-scale training: the paper's CycleGAN, the GPU path, and one generator for three cultures

**After this notebook you will be able to:**

- count what one iteration of the paper's 256 px CycleGAN costs (parameters, FLOPs) and turn a measured speed
  into the time a full training takes;
- say what changes on a GPU (precision, channels_last, `torch.compile`, data loading) and switch each on
  for any run of the kit;
- train from the command line (`ganlab-kit train`), resume after a crash, and run on several processes with
  `torchrun`;
- read throughput (images/s) and utilisation (model-FLOPs utilisation, MFU) and check that data loading is not
  the bottleneck;
- use the kit's shipped **multi-style generator**: one network that paints a photo as ink wash, oil or ukiyo-e,
  and a **culture-mixing slider** between them; and say what it does and does not learn of each tradition.
""")

code(
    """
# parameters: GANLAB_FAST=1 picks tiny sizes (CI); the default is the full run you read below.
from ganlab_kit.runtime import fast_mode, pick, runtime_info, seed_everything

FAST = fast_mode()
SEED = 0
PAPER_SIZE = pick(256, 64)  # the paper's image side
PAPER_WIDTH = pick(64, 8)  # the paper's generator / PatchGAN width
PAPER_BLOCKS = pick(9, 2)  # the paper's residual blocks at 256 px
TIMED_STEPS = pick(3, 2)  # steps timed at the paper's size on this machine
SWITCH_SIZE = pick(64, 32)  # image side of the precision / layout comparison
SWITCH_STEPS = pick(6, 2)  # steps timed per setting
CLI_STEPS = pick(30, 4)  # steps of the command-line run
print(runtime_info())
""",
    tags=["parameters"],
)

code("""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from torch.utils.flop_counter import FlopCounterMode

from ganlab_kit import data as datasets
from ganlab_kit import metrics
from ganlab_kit.nets import PatchDiscriminatorConfig, ResnetGeneratorConfig, parameter_count
from ganlab_kit.nets.conditional import mix_along
from ganlab_kit.styles import renderers, stylise
from ganlab_kit.train.cyclegan import CycleGANRun, CycleGANRunConfig
from ganlab_kit.widgets.stylise_lab import FIGURE_LABELS, StyliseLab

plt.rcParams.update({"figure.dpi": 110, "font.size": 12, "axes.titlesize": 13, "legend.fontsize": 11})
""")

md("""
## 1 · The paper's CycleGAN, counted

Zhu et al. (2017) train CycleGAN on 256×256 images with batch size 1: two ResNet generators with 9 residual
blocks (width 64) and two 70×70 PatchGAN discriminators, Adam at 2·10⁻⁴ for 100 epochs, then 100 more epochs
with the learning rate decaying linearly to zero. The kit's `CycleGANRunConfig()` defaults are exactly that
configuration. Below we build it on the built-in ink-wash renderings and count, with PyTorch's own
`FlopCounterMode`, the floating-point operations of one training iteration (four generator passes forward and
backward for the adversarial, cycle and identity terms; the discriminators on real, fake and pooled images).
""")

code("""
ink_wash = renderers.ink_wash()
paper_data = datasets.style_data(
    ink_wash, count=pick(16, 8), config=datasets.PatchConfig(size=PAPER_SIZE), held_out=2, seed=SEED
)
paper_config = CycleGANRunConfig(
    image_size=PAPER_SIZE,
    generator=ResnetGeneratorConfig(width=PAPER_WIDTH, blocks=PAPER_BLOCKS),
    discriminator=PatchDiscriminatorConfig(width=PAPER_WIDTH),
    domains=("photo", "ink_wash"),
    seed=SEED,
)
seed_everything(SEED)
paper_run = CycleGANRun(paper_config, paper_data.unpaired_train)
for name, module in paper_run.modules.items():
    print(f"{name:<16} {parameter_count(module) / 1e6:6.3f} M parameters")
with FlopCounterMode(display=False) as counter:
    paper_run.step()
FLOPS = counter.get_total_flops()
print(f"one training iteration at {PAPER_SIZE} px, batch 1: {FLOPS / 1e9:,.1f} GFLOP ({FLOPS / 1e12:.2f} TFLOP)")
""")

md("""
## 2 · How long would the paper's training take here?

One epoch of the paper's horse↔zebra set is 1,334 iterations at batch 1 (its larger domain), so 200 epochs are
266,800 iterations. We time a few iterations on this machine and scale.
""")

code("""
paper_run.step()  # warm-up: the first steps allocate memory and pick kernels
times = []
for _ in range(TIMED_STEPS):
    start = time.perf_counter()
    paper_run.step()
    times.append(time.perf_counter() - start)
seconds_per_iteration = statistics.median(times)
ITERATIONS = 200 * 1334
print(f"{runtime_info().device}, {torch.get_num_threads()} threads: {seconds_per_iteration:.2f} s per iteration, "
      f"{1 / seconds_per_iteration:.3f} it/s, {FLOPS / seconds_per_iteration / 1e9:.1f} GFLOP/s achieved")
print(f"the paper's 200 epochs ({ITERATIONS:,} iterations) would take {ITERATIONS * seconds_per_iteration / 86400:.1f} "
      "days here")
for label, its in (("50 it/s (the kit's target for eager bf16 on an H100)", 50),
                   ("100 it/s (its target with torch.compile)", 100)):
    print(f"at {label}: {ITERATIONS / its / 3600:.1f} hours")
""")

md("""
## 3 · What changes on a GPU, and the switches that change it

Four things decide how fast the same iteration runs on a GPU, and each is one field of a run's config in the
kit (`precision=`, `channels_last=`, `compile=`, and the data stream's workers); the run hands them to its
`Accelerator` (`ganlab_kit/train/accel.py`), so the training step itself never changes:

| switch | what it does | why it helps on a GPU |
|---|---|---|
| `precision="bf16"` | runs convolutions in bfloat16 under autocast; losses stay float32 | tensor cores: several times the float32 rate, half the memory traffic |
| `precision="fp16"` | the same in float16, with a `GradScaler` that scales the loss so small gradients survive | for GPUs without bfloat16 |
| `channels_last=True` | stores images and weights as N·H·W·C | the layout cuDNN's tensor-core convolutions want: no transposes |
| `compile=True` | `torch.compile` traces each net and fuses element-wise work (instance norm, ReLU, residual adds) | fewer, larger kernels; less time launching and re-reading memory |
| `--workers N` (CLI) | reads and augments batches in N background processes | keeps a fast GPU from waiting for the CPU |

On a CPU they are worth less (there are no tensor cores), and some cost time. The cell below measures it on this machine for a
smaller CycleGAN, so the numbers are real rather than promised.
""")

code("""
switch_data = datasets.style_data(
    ink_wash, count=pick(32, 8), config=datasets.PatchConfig(size=SWITCH_SIZE), held_out=2, seed=SEED
)


def seconds_per_step(**switches):
    config = CycleGANRunConfig(
        image_size=SWITCH_SIZE,
        generator=ResnetGeneratorConfig(width=pick(32, 4), blocks=pick(6, 1)),
        discriminator=PatchDiscriminatorConfig(width=pick(32, 4)),
        seed=SEED,
        **switches,
    )
    run = CycleGANRun(config, switch_data.unpaired_train)
    run.step()
    start = time.perf_counter()
    for _ in range(SWITCH_STEPS):
        run.step()
    return (time.perf_counter() - start) / SWITCH_STEPS


settings = {"fp32": {}, "fp32 + channels_last": {"channels_last": True}, "bf16 autocast": {"precision": "bf16"}}
switch_times = {label: seconds_per_step(**switches) for label, switches in settings.items()}
base = switch_times["fp32"]
for label, seconds in switch_times.items():
    print(f"{label:<22} {seconds * 1000:8.1f} ms per step   speed vs fp32 {base / seconds:4.2f}")
""")

md("""
On this CPU (2 threads, the table above) bfloat16 autocast made the step 1.23× as fast as fp32 and channels_last
made it slower (0.94×): a CPU has no tensor cores, and its convolutions are tuned for the default layout. Measured
the same way, the paper's 256 px iteration is where a GPU earns its price: 9.31 s here (section 2).

**No GPU was available when these outputs were stored**, so this notebook shows no GPU numbers, only how to get
them: `python bench/bench_train.py` times the paper's 256 px CycleGAN iteration at batch 1 as a plain fp32 eager loop
(the reference code's way), then the kit's run in fp32 eager, bf16 + channels_last eager, and bf16 + channels_last
compiled, and prints iterations/s, the ratio to the plain loop and the model-FLOPs utilisation (section 5). The kit's
targets on an H100 are at least 50 it/s eager bf16 and 100 it/s compiled. On this CPU the same benchmark gave the
kit's run 0.98× the plain loop's speed in fp32 (10.3 s against 10.1 s per iteration, one step per round: the
difference is within the noise).
""")

md("""
## 4 · Training from the command line

A course trains the real thing outside Jupyter, for hours, on a machine that may crash. `ganlab-kit train` builds
the **same run objects** this notebook builds and calls their `step()`; around it, it adds a progress bar with
images/s, sample grids and checkpoints every N steps (written atomically: a crash leaves the old file or the new
one, never half of one), every step's losses in `metrics.jsonl`, and `--resume`, which continues from the newest
checkpoint exactly: weights, optimizer moments, data order and random states. (A test in the kit kills a real
training process with SIGKILL and checks that resuming gives, bit for bit, the weights of a run never
interrupted.)
""")

code("""
cli_out = Path("runs/09_cli")  # relative to the notebooks folder (git ignores runs/)
common = ["--data", "ink_wash", "--image-size", "32", "--batch-size", "2", "--width", "8", "--blocks", "2",
          "--patches", "32", "--sample-every", str(CLI_STEPS // 2), "--checkpoint-every", str(CLI_STEPS // 2),
          "--no-progress", "--device", "cpu", "--out", str(cli_out)]


def ganlab_kit(*args):
    result = subprocess.run([sys.executable, "-m", "ganlab_kit.cli", *args], capture_output=True, text=True)
    print((result.stdout + result.stderr).strip().replace(str(Path.cwd()), "."))
    return result.returncode


shutil.rmtree(cli_out, ignore_errors=True)
ganlab_kit("train", "cyclegan", "--steps", str(CLI_STEPS), *common)
ganlab_kit("train", "cyclegan", "--steps", str(CLI_STEPS + CLI_STEPS // 2), "--resume", *common)
print(sorted(str(p.relative_to(cli_out)) for p in cli_out.rglob("*") if p.is_file()))
print("lines in metrics.jsonl:", len((cli_out / "metrics.jsonl").read_text().splitlines()))
""")

md("""
Asking for a size that does not fit the checkpoint is refused with a message, and nothing is overwritten:
""")

code("""
code = ganlab_kit("train", "cyclegan", "--steps", str(2 * CLI_STEPS), "--resume",
                  *[("64" if a == "32" else a) for a in common])
print("exit code", code)
""")

md("""
### More than one GPU, more than one machine

`torchrun` starts one process per GPU; each joins a process group (NCCL between GPUs, gloo on CPUs), wraps its
networks in `DistributedDataParallel` (gradients averaged across processes after every backward pass), and draws
its own share of every global batch (`--batch-size` is the global batch). Only rank 0 writes files.

```bash
# one machine, 4 GPUs
torchrun --nproc-per-node 4 -m ganlab_kit.cli train dcgan --data faces --image-size 64 --batch-size 256 --steps 5000
# two machines: run this on each, with --node-rank 0 and 1
torchrun --nnodes 2 --node-rank 0 --nproc-per-node 4 --master-addr HOST0 --master-port 29500 \\\\
    -m ganlab_kit.cli train dcgan --data faces --image-size 64 --batch-size 512 --steps 5000
```

Here it runs for real with two CPU processes and the gloo backend:
""")

code("""
ddp_out = Path("runs/09_torchrun")
shutil.rmtree(ddp_out, ignore_errors=True)
command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29561",
           "-m", "ganlab_kit.cli", "train", "dcgan", "--data", "digits", "--image-size", "16", "--width", "8",
           "--batch-size", "16", "--steps", str(CLI_STEPS), "--checkpoint-every", str(CLI_STEPS), "--no-progress",
           "--device", "cpu", "--out", str(ddp_out)]
result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
print("exit code", result.returncode)
print("\\n".join(line for line in result.stdout.splitlines() if line.startswith("trained")))
print(sorted(str(p.relative_to(ddp_out)) for p in ddp_out.rglob("*") if p.is_file()))
""")

md("""
## 5 · Reading throughput and utilisation

*Throughput* is images per second (iterations/s × batch). *Model-FLOPs utilisation* (MFU) says how much of the
hardware's peak the model's own arithmetic uses:

$$\\text{MFU} = \\frac{\\text{FLOPs per iteration} \\times \\text{iterations per second}}{\\text{peak FLOP/s of the device}}$$

With the count above (about 1.9 TFLOP per iteration at 256 px) and an H100's dense bfloat16 peak of about 989
TFLOP/s, 50 it/s is an MFU of about 10% and 157 it/s would be 30%. Convolutions on 256 px images at batch 1 are
small for a GPU, so the first limits are kernel launches and memory traffic: that is what `channels_last`,
`bf16` and `torch.compile` attack. Utilisation as `nvidia-smi` reports it (the fraction of time *some* kernel
runs) is not MFU: a GPU can be "100% utilised" while doing a tenth of the arithmetic it could.

The same arithmetic, for the targets the kit's issue tracker sets (checked by nbval):
""")

code("""
# NBVAL_CHECK_OUTPUT
def mfu(flops_per_iteration, iterations_per_second, peak_flops):
    return flops_per_iteration * iterations_per_second / peak_flops


H100_BF16_PEAK = 989e12  # dense bfloat16, from the vendor's data sheet
for its in (50, 100, 157):
    print(f"{its:>4} it/s at 1.9 TFLOP per iteration: MFU {mfu(1.9e12, its, H100_BF16_PEAK):.1%}")
""")

md("""
Data loading must never be what the GPU waits for. The check: time how long the run's own batch stream takes to
hand out one batch, next to how long a step takes:
""")

code("""
stream = datasets.BatchStream(paper_data.unpaired_train, 1, seed=SEED)
next(stream)
fetch = []
for _ in range(20):
    start = time.perf_counter()
    next(stream)
    fetch.append(time.perf_counter() - start)
fetch_seconds = statistics.median(fetch)
print(f"one {PAPER_SIZE} px batch from the stream: {fetch_seconds * 1000:.2f} ms; "
      f"one iteration here: {seconds_per_iteration * 1000:.0f} ms ({fetch_seconds / seconds_per_iteration:.2%})")
print(f"a GPU at 100 it/s has {1000 / 100:.0f} ms per iteration: the stream needs "
      f"{fetch_seconds / 0.01:.0%} of that on one CPU process (more workers divide it)")
""")

md("""
## 6 · One generator for three cultures

Notebooks 06-08 trained one model per style. A classroom demo wants one small model that answers at once, for
every style. The kit ships one: `ConditionalStyleGenerator`, a ResNet-style encoder-decoder whose every
normalisation layer is a **conditional instance norm** (Dumoulin, Shlens and Kudlur, 2017): normalise each
channel of each image, then scale and shift it with a γ and β *chosen by the style*. All convolutions are shared;
a style is only its rows of γ and β. It was trained by one committed command,
`python scripts/make_style_generator.py`, on the three renderers' paired data (L1 plus an edge term, no
discriminator: the target is known exactly, and notebook 06 measured that plain regression scores best against
it). What it was trained on, for how long, and how it scores on photos it never saw are stored beside the
weights:
""")

code("""
generator = stylise.load_style_generator()
info = json.loads((stylise.PRETRAINED_DIR / "style_generator.json").read_text())
size_mb = (stylise.PRETRAINED_DIR / stylise.GENERATOR_FILE).stat().st_size / 1e6
print(f"{info['parameters']:,} parameters, {size_mb:.1f} MB; trained {info['training']['steps']} steps "
      f"(batch {info['training']['batch_size']}, seed {info['training']['seed']}) on "
      f"{info['data']['pairs_per_style']} pairs per style at {info['data']['patch_size']} px")
print("training photos:", ", ".join(info["data"]["train_photos"]), "| held out:",
      ", ".join(info["data"]["held_out_photos"]))
for scale, per_style in info["scores_held_out"].items():
    print(f"\\nheld-out photos at {scale}:")
    rows = {name: {k: v for k, v in s.items()} for name, s in per_style.items()}
    print(metrics.scores_table(rows, columns=["ssim_identity", "ssim", "psnr_identity", "psnr", "fsim",
                                              "target_rate"]))
""")

code("""
test_photos = datasets.style_data(
    ink_wash, count=8, config=datasets.PatchConfig(size=256), held_out=2, seed=SEED
).paired_test
photos = torch.stack([test_photos[i]["A"] for i in range(0, len(test_photos), max(1, len(test_photos) // 3))][:3])
painters = {"ink_wash": renderers.ink_wash(), "oil": renderers.oil(), "ukiyoe": renderers.ukiyoe()}
columns = [("photo", photos)]
for name, painter in painters.items():
    columns.append((f"{FIGURE_LABELS[name]}\\ngenerator", stylise.stylise(generator, photos, name)))
    truth = painter((photos + 1) / 2, seed=SEED) * 2 - 1  # renderers paint [0, 1] images
    columns.append((f"{FIGURE_LABELS[name]}\\nrenderer (truth)", truth))
figure, axes = plt.subplots(len(photos), len(columns), figsize=(2.2 * len(columns), 2.4 * len(photos)))
for row in range(len(photos)):
    for col, (title, images) in enumerate(columns):
        axes[row, col].imshow(((images[row].permute(1, 2, 0) + 1) / 2).clamp(0, 1).numpy())
        axes[row, col].axis("off")
        if row == 0:
            axes[row, col].set_title(title, fontsize=11)
figure.suptitle("held-out 256 px photos: the one generator beside each renderer", fontsize=13)
figure.tight_layout()
plt.show()
""")

code("""
one = photos[:1]
stylise.stylise(generator, one, "oil")  # warm-up
per_style = {}
for name in generator.styles:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        stylise.stylise(generator, one, name)
        times.append(time.perf_counter() - start)
    per_style[name] = statistics.median(times)
print(f"one 256 px photo, {torch.get_num_threads()} CPU threads: "
      + ", ".join(f"{FIGURE_LABELS[n]} {s:.3f} s" for n, s in per_style.items()))
print("every style under 0.2 s:", all(s < 0.2 for s in per_style.values()))
""")

md("""
## 7 · The culture-mixing slider

A style code is a vector of weights over the styles. One-hot picks a style; `{"ink_wash": 0.5, "oil": 0.5}`
gives every conditional-norm layer the average of the two styles' γ and β. The slider below walks
ink wash → oil → ukiyo-e.
""")

code("""
positions = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0]
photo = photos[:1]
figure, axes = plt.subplots(1, len(positions), figsize=(2.3 * len(positions), 3.0))
for axis, position in zip(axes, positions):
    weights = mix_along(generator.styles, position)
    image = stylise.stylise(generator, photo, weights)[0]
    axis.imshow(((image.permute(1, 2, 0) + 1) / 2).clamp(0, 1).numpy())
    axis.axis("off")
    axis.set_title("\\n".join(f"{w:.0%} {FIGURE_LABELS[n]}" for n, w in weights.items() if w > 0), fontsize=11)
figure.suptitle("the mixing slider's path: ink wash -> oil -> ukiyo-e", fontsize=13)
figure.tight_layout()
plt.show()
""")

md("""
Mixing is linear *inside each normalisation layer*, not in the picture: the half-and-half image is not the
average of the two paintings, because every layer after the first mixed one works on already-mixed features.
The check below shows the layer-level rule on one conditional-norm layer of the shipped generator (nbval
compares it):
""")

code("""
# NBVAL_CHECK_OUTPUT
from ganlab_kit.nets.conditional import ConditionalInstanceNorm2d, style_code

layer = next(m for m in generator.modules() if isinstance(m, ConditionalInstanceNorm2d))
features = torch.randn(1, layer.gamma.shape[1], 8, 8, generator=torch.Generator().manual_seed(0))
half = layer(features, style_code(generator.styles, {"ink_wash": 1, "oil": 1}))
ink, oil = (layer(features, style_code(generator.styles, name)) for name in ("ink_wash", "oil"))
average = (ink + oil) / 2
print("one layer: mixed code == average of the two styles' outputs:", torch.allclose(half, average, atol=1e-5))
""")

md("""
Along the stored strip, the grey of the ink wash gives way gradually: at 25% oil the building's red is faint, at
50% it is clear but muted, and at 100% oil it is saturated with dark contrast; from oil to ukiyo-e the reds stay
and the shadows turn blue-grey. The in-between pictures are new: no renderer makes them, and none of the three
traditions does either. They are a property of this network's normalisation layers, not a blend of two cultures;
read them as "how the network's internal description of one style turns into another's".
""")

md("""
## 8 · Stylise your own photo

Upload a photo (JPEG, PNG, WebP...): it is painted in the three styles and on the mixing slider. A file that is
not an image, is over 20 MB or 40 megapixels, or is smaller than 32 px is refused with a message; greyscale,
16-bit, palette and transparent images are converted, and the lab says what it converted. Read without a live
front end (as here, when the stored outputs were made), it draws the same views as one picture.
""")

code("""
lab = StyliseLab(generator)
lab.show()
""")

md("""
## 9 · What the one generator learns, and what it misses

Read the held-out table (section 6) and the side-by-side figure together:

- **Ink wash (水墨): learned best.** It drains colour to ink greys and turns the pale sky into blank paper (留白),
  keeping the building's structure: SSIM to the renderer 0.679 against the photo's 0.580 at 256 px, and the style
  classifier calls every output ink wash (1.000). It misses the ink itself: the renderer's foliage is deep, crisp
  black ink with brush marks; the generator's is a speckled blue-grey texture with a colour tint. There is no wet-edge
  diffusion.
- **Oil: the palette, not the paint.** It shifts colour warmer and more saturated (and invents an orange sunset in
  the second photo), and it beats the photo on SSIM (0.411 against 0.351) but not on PSNR (16.3 against 18.1 dB).
  It misses what makes the renderer's picture an oil painting: thick, oriented strokes and the pale, textured sky.
  The classifier calls none of its outputs oil (0.000).
- **Ukiyo-e: outlines, not woodblock colour.** It darkens edges toward key lines and beats the photo on SSIM (0.611
  against 0.555), but it keeps the photo's gradients where the renderer prints a few flat colours (brown, green,
  beige, blue) inside black key lines. The classifier calls none of its outputs ukiyo-e (0.000).

Why: the generator was trained by regression (L1 plus an edge term) to the renderers' pictures, so it learns the
*average* painting for each photo. Averages keep tones and layout (what SSIM rewards) and wash out texture: brush
strokes, flat fills and ink grain differ from patch to patch and cancel out. That is notebook 06's lesson about L1
(blurry medians) turned up: the fix it showed is an adversarial term (a conditional PatchGAN) that punishes outputs
no painting would have. The shipped model is small (0.5 M parameters, 2.0 MB), fast (0.046 s per style for a 256 px
photo on this CPU, section 6) and honest about its limits; a GAN-trained version of it is the natural next step.
""")


def patch_prose() -> None:
    """Replace only the markdown cells of the executed notebook (its outputs stay as they are)."""
    nb = nbformat.read(OUT, as_version=4)
    prose = [cell[1] for cell in CELLS if cell[0] == "markdown"]
    cells = [cell for cell in nb.cells if cell.cell_type == "markdown"]
    if len(cells) != len(prose):
        raise SystemExit(f"the notebook has {len(cells)} markdown cells, the builder {len(prose)}: rebuild and rerun")
    for cell, text in zip(cells, prose):
        cell.source = text
    nbformat.write(nb, OUT)
    print("prose patched in", OUT)


def build() -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "pygments_lexer": "ipython3"},
    }
    for cell in CELLS:
        if cell[0] == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(cell[1]))
        else:
            new = nbformat.v4.new_code_cell(cell[1])
            if cell[2]:
                new.metadata["tags"] = cell[2]
            nb.cells.append(new)
    nbformat.write(nb, OUT)
    print("wrote", OUT, len(nb.cells), "cells")


if __name__ == "__main__":
    patch_prose() if "--prose" in sys.argv else build()
    sys.exit(0)
