"""Run by tests/test_train_cli.py under torchrun: train a tiny model with ``ganlab_kit.train.launch``
(what ``ganlab-kit train`` calls), then let every rank write its own weights so the test can compare
ranks (the CLI itself writes from rank 0 only).

    python tests/ddp_train_worker.py OUT STEPS [SEED] [MODEL]      # MODEL: dcgan (default) or pix2pix
"""

import os
import sys
from pathlib import Path

from safetensors.torch import save_file

from ganlab_kit.train.launch import TrainOptions, train

out = Path(sys.argv[1])
steps = int(sys.argv[2])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
model = sys.argv[4] if len(sys.argv) > 4 else "dcgan"
sizes = {
    "dcgan": dict(data="digits", image_size=16, width=8),
    "pix2pix": dict(data="oil", image_size=32, width=4),
    "cyclegan": dict(data="oil", image_size=32, width=4, blocks=1, pool_size=0),
}
options = TrainOptions(
    model=model,
    out=out,
    batch_size=8,
    steps=steps,
    sample_every=steps,
    checkpoint_every=steps,
    progress=False,
    device="cpu",
    seed=seed,
    patches=16,
    **sizes[model],
)
result = train(options)
rank = int(os.environ.get("RANK", "0"))
weights = {
    f"{name}.{key}": value.detach().clone().contiguous()
    for name, module in result["run"].modules.items()
    for key, value in module.state_dict().items()
}
save_file(weights, str(out / f"rank{rank}_of_{os.environ.get('WORLD_SIZE', '1')}.safetensors"))
print("rank", rank, "done", result["steps"])
