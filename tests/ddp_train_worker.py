"""Run by tests/test_train_cli.py under torchrun: train a tiny model with ``ganlab_kit.train.launch``
(what ``ganlab-kit train`` calls), then let every rank write its own weights so the test can compare
ranks (the CLI itself writes from rank 0 only).

    python tests/ddp_train_worker.py OUT STEPS [SEED] [MODEL]      # MODEL: dcgan (default), pix2pix, cyclegan
"""

import os
import sys
from pathlib import Path

from safetensors.torch import save_file
from test_train_cli import worker_options  # this file's folder is on sys.path when run as a script

from ganlab_kit.train.launch import train

out = Path(sys.argv[1])
steps = int(sys.argv[2])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
model = sys.argv[4] if len(sys.argv) > 4 else "dcgan"
result = train(worker_options(out, model, steps, seed))
rank = int(os.environ.get("RANK", "0"))
weights = {
    f"{name}.{key}": value.detach().clone().contiguous()
    for name, module in result["run"].modules.items()
    for key, value in module.state_dict().items()
}
save_file(weights, str(out / f"rank{rank}_of_{os.environ.get('WORLD_SIZE', '1')}.safetensors"))
print("rank", rank, "done", result["steps"])
