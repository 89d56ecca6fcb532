#!/usr/bin/env python3
"""Render two photos in the three styles and measure how much structure each style keeps.

    python notebooks/figures/measure_renderers.py old   # run once, before issue 9's rework
    python notebooks/figures/measure_renderers.py new

Writes ``renderers_<tag>.jpg`` (china and astronaut in the three styles) and
``content_ssim_<tag>.json`` (``statistics.content_ssim`` of every built-in photo at
256x256, per style and averaged), which notebook 05 reads to compare old and new.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganlab_kit.styles import photos, renderers, statistics

HERE = Path(__file__).resolve().parent
SHOWN = ("china", "astronaut")


def main(tag: str) -> None:
    torch.set_num_threads(1)
    loaded = photos.load_photos(photos.builtin_photos())
    names = [s.name for s in loaded.sources]
    batch = torch.stack([photos.resize_uint8(image, (256, 256)) for image in loaded.images]).float() / 255
    rendered = {style.name: style(batch, seed=0) for style in renderers.all_styles()}
    scores = {name: statistics.content_ssim(batch, images) for name, images in rendered.items()}
    record = {
        "tag": tag,
        "size": 256,
        "blur_sigma": 4.0,
        "photos": names,
        "per_photo": {name: [round(float(v), 4) for v in s] for name, s in scores.items()},
        "mean": {name: round(float(s.mean()), 4) for name, s in scores.items()},
    }
    (HERE / f"content_ssim_{tag}.json").write_text(json.dumps(record, indent=1) + "\n")
    rows = []
    for photo in SHOWN:
        i = names.index(photo)
        rows.append(torch.cat([batch[i]] + [images[i] for images in rendered.values()], dim=2))
    grid = torch.cat(rows, dim=1).permute(1, 2, 0).mul(255).round().byte().numpy()
    Image.fromarray(np.ascontiguousarray(grid)).save(HERE / f"renderers_{tag}.jpg", quality=90)
    print(json.dumps(record["mean"]))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "new")
