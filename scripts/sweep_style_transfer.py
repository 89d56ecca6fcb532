"""Sweep notebook 08's style-transfer settings on this CPU: one seeded run per line.

Each run trains pix2pix or CycleGAN (optionally with the culture constraints) on one style's
64 px split, exactly as notebook 08 does, and prints the held-out scores against the photo
baseline: SSIM, PSNR and the 64 px judge's target-style rate.

    OMP_NUM_THREADS=1 python scripts/sweep_style_transfer.py cyclegan ink_wash --steps 1200 \
        --hyper '{"identity_weight": 10}' --every 400

Measured on the 2-core CPU, 2026-12-01 (seed 0, 64 held-out patches of china and chelsea; the
photo baseline's SSIM: ink wash 0.477, oil 0.329, ukiyo-e 0.397; "rate" is the 64 px judge's
target-style rate; a score at step k of n is taken mid-run, before the decay has ended; where a
row gives a range, the mid-run scoring of the first version of this script drew from the global
random generator and so changed the rest of the run; scoring now runs on a forked generator):

    pix2pix oil, width 16, 600 steps (notebook 08)     SSIM 0.341-0.343  rate 0.70-0.72
    pix2pix oil, width 16, 1800 steps                  SSIM 0.306        rate 1.00
    pix2pix oil, width 32, 600 steps                   SSIM 0.307        rate 0.98
    pix2pix ukiyo-e, width 16, 600 steps (notebook 08) SSIM 0.454        rate 0.61-0.69
    pix2pix ukiyo-e, width 32, 600 steps               SSIM 0.357        rate 0.89
    pix2pix ukiyo-e, width 16, 2400 steps              SSIM 0.262        rate 0.61
      the same, on 64 of its training pairs            SSIM 0.51         rate 0.94   (over-fitting: 5 photos)
    pix2pix ukiyo-e, photos cut at 256 px, 1200 steps  SSIM 0.305 (photo 0.440) rate 0.75
    pix2pix ink wash, width 32, 600 steps              SSIM 0.494        rate 1.00
    pix2pix, scored in train mode (batch statistics, dropout), 600 steps: oil SSIM 0.339 rate 0.75,
      ukiyo-e 0.420 / 0.78: no better than eval mode. With batch statistics and dropout off (the kit's
      translate): oil 0.339 / 0.69, ukiyo-e 0.418 / 0.78.
    CycleGAN ink wash, 400 steps (notebook 08)         SSIM 0.397        rate 1.00
    CycleGAN ink wash, 1200 steps                      SSIM 0.412        rate 1.00   (0.418 at step 800)
    CycleGAN ink wash, resize upsampling, 400 steps    SSIM 0.419        rate 0.94
    CycleGAN ink wash, resize, 4 blocks, 400 steps     SSIM 0.416        rate 0.98
    CycleGAN oil, resize upsampling, 400 steps         SSIM 0.278        rate 0.00   (transpose: 0.278 / 0.97)
    CycleGAN + constraints, oil, 400 steps: brush edges 5 + softness 10 (first notebook 08 run)
                                                       SSIM 0.244        rate 0.02
      softness 10 only                                 SSIM 0.229        rate 1.00
      brush edges 1 + softness 10 (notebook 08 now)    SSIM 0.233        rate 0.89
    CycleGAN ink wash, identity weight 20, 400 steps   SSIM 0.419        rate 1.00
    CycleGAN ink wash, blank space 300 (+ edges 5, softness 10)  SSIM 0.371  rate 1.00; alone 0.366 / 1.00
    pix2pix and CycleGAN with 1024 patches per style instead of 256 (the held-out photos' baseline
      moves to ink wash 0.483, oil 0.322, ukiyo-e 0.403; pix2pix scored with batch statistics):
      pix2pix ink wash SSIM 0.467 rate 1.00 (now below the photo), oil 0.340 / 0.83, ukiyo-e 0.410 / 0.95;
      CycleGAN ink wash 0.418 / 1.00, oil 0.278 / 0.05 (was 0.97), ukiyo-e 0.407 / 0.84.
      With 2048: pix2pix oil 0.330 (photo 0.326) / 0.99, ukiyo-e 0.424 / 0.88.
    pix2pix with the paper's 70x70 PatchGAN (3 layers): oil 0.305 / 0.52, ukiyo-e 0.408 / 0.78.
    pix2pix with batch 1 (the paper's): oil 0.346 / 0.77, ukiyo-e 0.408 / 0.47.

Seeds 1-4 of notebook 08's pix2pix (each seed draws its own split, so its own photo baseline;
scored with the kit's translate, batch statistics as notebook 08 does now; seed 0 first):

    oil      SSIM vs photo  0.339/0.329  0.418/0.382  0.439/0.405  0.312/0.327  0.355/0.380
             rate           0.69         0.73         0.73         0.69         1.00
    ukiyo-e  SSIM vs photo  0.418/0.397  0.416/0.418  0.372/0.330  0.464/0.505  0.492/0.359
             rate           0.78         0.83         0.72         0.58         0.88

So the 90% bar is met on one seed of ten, and a target met or missed on seed 0 is often the
other way on the next seed: one seeded table is one draw.

So no setting tried meets every target: 1024 patches meets both pix2pix targets on ukiyo-e, but
pix2pix's ink wash falls below the photo and CycleGAN's oil is no longer called oil. For oil's
SSIM no setting can:
the renderer itself, painting the same photos with other random strokes, scores SSIM 0.304
against the ground truth, below the photo's 0.329 (notebook 08's "renderer, new strokes"
row); SSIM against one painting rewards the strokes it happened to draw, and an output
without strokes (blurred) is not called oil. More training or width makes pix2pix paint more
(higher rate) at the cost of SSIM on photos it has not seen.
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import torch

from ganlab_kit import data as datasets
from ganlab_kit import metrics
from ganlab_kit.nets.patchgan import PatchDiscriminatorConfig
from ganlab_kit.nets.resnet import ResnetGeneratorConfig
from ganlab_kit.nets.unet import UnetGeneratorConfig
from ganlab_kit.runtime import seed_everything
from ganlab_kit.styles import renderers
from ganlab_kit.train.cyclegan import CycleGANHyper, CycleGANRun, CycleGANRunConfig
from ganlab_kit.train.pix2pix import Pix2PixHyper, Pix2PixRun, Pix2PixRunConfig, translate

RENDERERS = {"ink_wash": renderers.ink_wash, "oil": renderers.oil, "ukiyoe": renderers.ukiyoe}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=("pix2pix", "cyclegan"))
    parser.add_argument("style", choices=tuple(RENDERERS))
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--downs", type=int, default=6)
    parser.add_argument("--upsample", default="transpose", help="ResNet generator upsampling: transpose or resize")
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--d-layers", type=int, default=2)
    parser.add_argument("--patches", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", default=None, help="write the held-out outputs (0-1 tensors) to this .pt file")
    parser.add_argument("--load-size", type=int, default=None, help="photos' shorter side before cutting (128)")
    parser.add_argument("--train-score", action="store_true", help="also score 64 training pairs (overfitting?)")
    parser.add_argument("--hyper", default="{}", help="JSON of hyper-parameters (CycleGANHyper / Pix2PixHyper)")
    parser.add_argument("--every", type=int, default=0, help="also score every N steps (0: at the end only)")
    parser.add_argument(
        "--train-mode", action="store_true", help="also score a copy in train mode (batch statistics, dropout on)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    seed_everything(args.seed)
    split = datasets.style_data(
        RENDERERS[args.style](),
        count=args.patches,
        config=datasets.PatchConfig(size=64, load_size=args.load_size),
        held_out=2,
        seed=args.seed,
    )
    test = split.paired_test
    photos = torch.stack([test[i]["A"] for i in range(len(test))])
    targets = torch.stack([test[i]["B"] for i in range(len(test))])
    seen = range(min(64, len(split.paired_train)))  # training pairs scored with --train-score
    train_photos = torch.stack([split.paired_train[i]["A"] for i in seen])
    train_targets = torch.stack([split.paired_train[i]["B"] for i in seen])
    unit = lambda images: datasets.to_unit(images).clamp(0, 1)  # noqa: E731
    hyper = json.loads(args.hyper)
    seed_everything(args.seed)
    if args.model == "pix2pix":
        config = Pix2PixRunConfig(
            image_size=64,
            generator=UnetGeneratorConfig(width=args.width, downs=args.downs),
            discriminator=PatchDiscriminatorConfig(in_channels=6, width=args.width, layers=args.d_layers, norm="batch"),
            batch_size=args.batch or 4,
            seed=args.seed,
            total_steps=args.steps,
        )
        run = Pix2PixRun(config, split.paired_train, hyper=Pix2PixHyper(**hyper), held_out=test)
        generator = run.generator
    else:
        config = CycleGANRunConfig(
            image_size=64,
            generator=ResnetGeneratorConfig(width=args.width, blocks=args.blocks, upsample=args.upsample),
            discriminator=PatchDiscriminatorConfig(width=args.width, layers=args.d_layers, norm="instance"),
            domains=("photo", args.style),
            batch_size=args.batch or 2,
            seed=args.seed,
            total_steps=args.steps,
        )
        run = CycleGANRun(config, split.unpaired_train, hyper=CycleGANHyper(**hyper), held_out=split.unpaired_test)
        generator = run.modules["generator_AB"]

    def forward(net: torch.nn.Module, images: torch.Tensor, mode: str) -> torch.Tensor:
        if mode == "batch statistics":  # the kit's pix2pix translate: the paper's test-time norm
            return translate(net, images)
        return torch.cat([net(chunk) for chunk in images.split(16)])

    baselines: dict[int, dict[str, float]] = {}  # the photo-as-output scores, once per image set

    def report(step: int, took: float, mode: str, out: torch.Tensor, photos, targets) -> None:
        if id(photos) not in baselines:
            baselines[id(photos)] = metrics.style_transfer_scores(
                unit(photos), unit(photos), unit(targets), args.style, judge_size=64
            )
        baseline = baselines[id(photos)]
        s = metrics.style_transfer_scores(unit(photos), unit(out), unit(targets), args.style, judge_size=64)
        print(
            f"{args.model} {args.style} {args.hyper} w{args.width} {args.upsample} {mode} "
            f"steps {step}/{args.steps}: "
            f"ssim {s['ssim']:.3f} (photo {baseline['ssim']:.3f}) psnr {s['psnr']:.2f} "
            f"rate {s['target_rate']:.2f} kid {s['style_kid']:.3f}  [{took / 60:.1f} min]",
            flush=True,
        )

    @torch.no_grad()
    def score(step: int, took: float) -> None:
        modes = ("eval", "train") if args.train_mode else ("eval",)
        if args.model == "pix2pix":
            modes += ("batch statistics",)
        # Scoring draws random numbers (the train-mode copy's dropout, the KID's subsets): on a forked
        # generator, so that scoring with --every leaves the training run exactly as without it.
        with torch.random.fork_rng():
            for mode in modes:
                net = copy.deepcopy(generator).train(mode == "train")
                out = forward(net, photos, mode)
                report(step, took, mode, out, photos, targets)
                if args.save and step == args.steps and mode == "eval":
                    torch.save({"photos": unit(photos), "outputs": unit(out), "targets": unit(targets)}, args.save)
                if args.train_score:
                    out = forward(net, train_photos, mode)
                    report(step, took, mode + " TRAIN", out, train_photos, train_targets)

    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        run.step()
        if (args.every and step % args.every == 0) or step == args.steps:
            score(step, time.perf_counter() - start)


if __name__ == "__main__":
    main()
