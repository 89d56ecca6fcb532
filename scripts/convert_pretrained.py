#!/usr/bin/env python3
"""Re-save the shipped 2-D models (format ``ganlab_kit.toy2d/1``) in the run checkpoint format.

    python scripts/convert_pretrained.py

No retraining: each old file's weights are loaded into a :class:`Toy2DRun` of the same
architecture, with the step count and hyperparameters of its ``<kind>.json``, and saved
with :func:`~ganlab_kit.toy2d.io.save_toy_model` (fresh optimizer state, no global RNG).
Files already in the new format are left alone. The ``.json`` files are not changed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from safetensors import safe_open
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganlab_kit.toy2d import BUILTIN_KINDS, Toy2DHyper, Toy2DRun, ToyModelConfig, make_distribution  # noqa: E402
from ganlab_kit.toy2d.io import PRETRAINED_DIR, save_toy_model  # noqa: E402

OLD_FORMAT = "ganlab_kit.toy2d/1"
# the old hyperparameter names (ToyTrainConfig) -> Toy2DHyper's
RENAMES = {"lr_generator": "generator_lr", "lr_discriminator": "discriminator_lr"}


def hyper_from_old(training: dict) -> Toy2DHyper:
    values = {RENAMES.get(k, k): v for k, v in training.items() if k != "beta1"}
    if "beta1" in training:
        values["betas"] = (training["beta1"], 0.999)
    return Toy2DHyper(**values)


def convert(kind: str) -> bool:
    path = PRETRAINED_DIR / f"{kind}.safetensors"
    with safe_open(str(path), framework="pt") as reader:
        metadata = reader.metadata() or {}
    if metadata.get("format") != OLD_FORMAT:
        print(f"{kind:17s} already converted")
        return False
    tensors = load_file(str(path))
    info = json.loads(path.with_suffix(".json").read_text())
    config = ToyModelConfig.from_dict(json.loads(metadata["model_config"]))
    run = Toy2DRun(
        make_distribution(metadata["distribution"]),
        config,
        hyper_from_old(info["training"]),
        seed=int(info.get("seed", 0)),
    )
    for prefix, module in (("generator.", run.generator), ("discriminator.", run.discriminator)):
        module.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}, strict=True)
    run.steps_done = int(metadata["steps"])
    save_toy_model(path, run, extra=json.loads(metadata.get("extra", "{}")), global_rng=False)
    print(f"{kind:17s} converted ({run.steps_done} steps)")
    return True


def main() -> int:
    for kind in BUILTIN_KINDS:
        convert(kind)
    return 0


if __name__ == "__main__":
    sys.exit(main())
