"""``ganlab-kit train``: checkpoints, samples, exact resume (also after SIGKILL), clear errors,
and two-process DDP under torchrun on the CPU (gloo)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from ganlab_kit import cli
from ganlab_kit.train import launch
from ganlab_kit.train.checkpoint import load_module_state, read_run_state
from ganlab_kit.train.dcgan import DCGANRun
from ganlab_kit.train.launch import DistributedContext, TrainError, TrainOptions, build_run, checkpoints, train

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--image-size", "16", "--batch-size", "8", "--width", "8", "--no-progress", "--device", "cpu"]


def tiny(out: Path, **changes) -> TrainOptions:
    values = dict(
        model="dcgan",
        out=out,
        data="digits",
        image_size=16,
        batch_size=8,
        steps=6,
        width=8,
        sample_every=2,
        checkpoint_every=2,
        progress=False,
        device="cpu",
    )
    return TrainOptions(**{**values, **changes})


def weights(path: Path) -> dict[str, torch.Tensor]:
    """The networks' tensors of a checkpoint (optimizer state aside)."""
    _, state = read_run_state(path)
    return {f"{name}.{key}": value for name, module in state.modules.items() for key, value in module.items()}


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def subprocess_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "GANLAB_DEVICE": "cpu"}


def test_cli_writes_checkpoints_samples_and_log(tmp_path):
    out = tmp_path / "run"
    code = cli.main(
        [
            "train",
            "dcgan",
            "--steps",
            "6",
            "--sample-every",
            "2",
            "--checkpoint-every",
            "2",
            "--keep",
            "2",
            "--out",
            str(out),
            *TINY,
        ]
    )
    assert code == 0
    assert [step for step, _ in checkpoints(out / "checkpoints")] == [4, 6]  # --keep 2: the oldest removed
    assert sorted(p.name for p in (out / "samples").iterdir()) == [f"step000000{s}.png" for s in (2, 4, 6)]
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3, 4, 5, 6]  # every step, written at checkpoints
    # one row of 8 samples of 16 px with 2 px padding
    assert Image.open(out / "samples" / "step0000006.png").size == (2 + 8 * 18, 2 + 18)
    architecture, state = read_run_state(out / "checkpoints" / "step0000006.safetensors")
    assert architecture["image_size"] == 16 and len(state.state["history"]) == 6


def test_resume_continues_exactly(tmp_path):
    straight = train(tiny(tmp_path / "a", steps=6, checkpoint_every=3))
    train(tiny(tmp_path / "b", steps=3, checkpoint_every=3))
    resumed = train(tiny(tmp_path / "b", steps=6, checkpoint_every=3, resume=True))
    assert straight["steps"] == resumed["steps"] == 6
    assert_same(weights(straight["checkpoint"]), weights(resumed["checkpoint"]))
    # and the resumed history continues the first part's
    _, state = read_run_state(resumed["checkpoint"])
    assert len(state.state["history"]) == 6 and state.state["steps_done"] == 6


def test_resume_with_another_size_is_refused_and_touches_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    train(tiny(out, steps=2))
    saved = {p.name: p.read_bytes() for p in (out / "checkpoints").iterdir()}
    code = cli.main(
        ["train", "dcgan", "--steps", "4", "--resume", "--out", str(out), *[a if a != "16" else "32" for a in TINY]]
    )
    assert code == 2
    message = capsys.readouterr().err
    assert "cannot resume" in message and "16" in message and "32" in message
    assert {p.name: p.read_bytes() for p in (out / "checkpoints").iterdir()} == saved


def test_bad_options_and_data_get_messages(tmp_path, capsys):
    assert (
        cli.main(
            ["train", "dcgan", "--steps", "2", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), *TINY]
        )
        == 2
    )
    assert "neither a built-in set" in capsys.readouterr().err
    assert (
        cli.main(["train", "pix2pix", "--steps", "2", "--data", str(tmp_path), "--out", str(tmp_path / "o"), *TINY])
        == 2
    )
    assert "paired data" in capsys.readouterr().err
    with pytest.raises(TrainError, match="exactly one of --steps and --epochs"):
        TrainOptions(model="dcgan", out=tmp_path, steps=3, epochs=1.0)
    with pytest.raises(TrainError, match="unknown model"):
        TrainOptions(model="stylegan", out=tmp_path, steps=3)


def test_epochs_count_items_of_the_training_set(tmp_path):
    result = train(tiny(tmp_path / "e", steps=None, epochs=0.05, sample_every=100, checkpoint_every=100))
    assert result["steps"] == round(0.05 * 1797 / 8)  # scikit-learn's 1,797 digits, batch 8


def test_out_of_memory_names_the_options_that_help(tmp_path, monkeypatch):
    def out_of_memory(self):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(DCGANRun, "step", out_of_memory)
    with pytest.raises(TrainError) as caught:
        train(tiny(tmp_path / "oom"))
    for option in ("--batch-size", "--image-size", "--precision bf16", "--width", "--resume"):
        assert option in str(caught.value)


def test_nan_losses_stop_before_a_checkpoint_keeps_them(tmp_path, monkeypatch):
    real_step = DCGANRun.step

    def step(self):
        metrics = real_step(self)
        if self.steps_done >= 3:
            metrics["d_loss"] = torch.tensor(float("nan"))
        return metrics

    monkeypatch.setattr(DCGANRun, "step", step)
    with pytest.raises(TrainError, match="NaN at step 3"):
        train(tiny(tmp_path / "nan", steps=6, checkpoint_every=2))
    assert [s for s, _ in checkpoints(tmp_path / "nan" / "checkpoints")] == [2]


@pytest.mark.parametrize("model", ["pix2pix", "cyclegan"])
def test_style_models_train_from_the_cli(tmp_path, model):
    out = tmp_path / model
    code = cli.main(
        [
            "train",
            model,
            "--data",
            "oil",
            "--steps",
            "2",
            "--patches",
            "8",
            "--blocks",
            "1",
            "--sample-every",
            "2",
            "--checkpoint-every",
            "2",
            "--out",
            str(out),
            *[a if a != "16" else "32" for a in TINY],
        ]
    )
    assert code == 0
    _, state = read_run_state(out / "checkpoints" / "step0000002.safetensors")
    assert state.state["steps_done"] == 2
    grid = Image.open(out / "samples" / "step0000002.png")
    rows = {"pix2pix": 3, "cyclegan": 6}[model]  # input/output/target; A, A->B, A->B->A and the same for B
    assert grid.size[1] == 2 + rows * (32 + 2)


@pytest.mark.slow
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path):
    """Kill a real training process with SIGKILL; --resume continues from its last finished
    checkpoint, and continuing gives bit for bit the weights of a run never interrupted."""
    killed = tmp_path / "killed"
    command = [
        sys.executable,
        "-m",
        "ganlab_kit.cli",
        "train",
        "dcgan",
        "--steps",
        "100000",
        "--checkpoint-every",
        "3",
        "--sample-every",
        "100000",
        "--out",
        str(killed),
        *TINY,
    ]
    process = subprocess.Popen(command, env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(s >= 6 for s, _ in checkpoints(killed / "checkpoints")):
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    step, _ = checkpoints(killed / "checkpoints")[-1]
    assert step >= 6
    target = step + 4
    for out, resume in ((killed, ["--resume"]), (tmp_path / "straight", [])):
        subprocess.run(
            [
                *command[:6],
                str(target),
                "--checkpoint-every",
                "3",
                "--sample-every",
                "100000",
                "--out",
                str(out),
                *TINY,
                *resume,
            ],
            env=subprocess_env(),
            check=True,
            capture_output=True,
        )
    assert_same(
        weights(killed / "checkpoints" / f"step{target:07d}.safetensors"),
        weights(tmp_path / "straight" / "checkpoints" / f"step{target:07d}.safetensors"),
    )


# How close two gloo processes come to one process with the same global batch after 4 steps: the largest
# difference of the trained nets' pictures (run.visuals(): outputs on the run's fixed inputs), as a fraction
# of how far one process's pictures moved from the initial nets'. Outputs, not weights: a convolution's
# bias just before an instance norm has no effect and a zero gradient up to rounding, which Adam turns
# into full-size steps of random sign, so such weights differ while the nets compute the same thing.
# CycleGAN (instance norm, no pools, equal shares of the batch) is the same computation under DDP: it
# agrees to rounding (measured 8e-6). DCGAN and pix2pix normalise with batch norm, whose statistics each
# process takes over its own share of the batch (DDP without SyncBatchNorm, which needs a GPU), and
# pix2pix's dropout masks come from each process's own random stream: measured 0.07 and 0.22.
DDP_TOLERANCE = {"cyclegan": 1e-4, "dcgan": 0.2, "pix2pix": 0.4}


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(DDP_TOLERANCE))
def test_torchrun_two_gloo_processes_agree_and_match_one_process(tmp_path, model):
    """Two CPU processes under torchrun (gloo): both finish, their weights agree bit for bit, only
    rank 0 writes, and the result lies within the stated tolerance of one process with the same
    global batch (DDP_TOLERANCE says how close, and why)."""
    steps = 4
    worker = ROOT / "tests" / "ddp_train_worker.py"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29533"]
    result = subprocess.run(
        [*torchrun, str(worker), str(tmp_path / "two"), str(steps), "0", model],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    subprocess.run(
        [sys.executable, str(worker), str(tmp_path / "one"), str(steps), "0", model],
        env=subprocess_env(),
        check=True,
        capture_output=True,
        timeout=300,
    )
    rank0, rank1 = (load_file(str(tmp_path / "two" / f"rank{r}_of_2.safetensors")) for r in (0, 1))
    assert_same(*({k: v for k, v in w.items() if "running" not in k} for w in (rank0, rank1)))
    assert sorted(p.name for p in (tmp_path / "two" / "checkpoints").iterdir()) == [f"step{steps:07d}.safetensors"]

    def pictures(weights=None):
        run = build_run(worker_options(tmp_path / "x", model, steps), DistributedContext(0, 1, torch.device("cpu")))
        for name, module in run.modules.items() if weights else ():
            load_module_state(module, {k[len(name) + 1 :]: v for k, v in weights.items() if k.startswith(name + ".")})
        return run.visuals()

    two, one = pictures(rank0), pictures(load_file(str(tmp_path / "one" / "rank0_of_1.safetensors")))
    initial = pictures()
    moved = max(float((one[k] - initial[k]).abs().max()) for k in one)
    apart = max(float((two[k] - one[k]).abs().max()) for k in one)
    assert moved > 1e-3
    assert apart <= DDP_TOLERANCE[model] * moved


def worker_options(out: Path, model: str, steps: int, seed: int = 0) -> TrainOptions:
    """The tiny runs tests/ddp_train_worker.py trains (it imports this)."""
    sizes = {
        "dcgan": dict(data="digits", image_size=16, width=8),
        "pix2pix": dict(data="oil", image_size=32, width=4),
        "cyclegan": dict(data="oil", image_size=32, width=4, blocks=1, pool_size=0),
    }
    return TrainOptions(
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


def test_only_rank_zero_writes(tmp_path, monkeypatch):
    writers = launch._Writers(tiny(tmp_path / "rank1"), enabled=False)
    run = build_run(tiny(tmp_path / "rank1"), DistributedContext(0, 1, torch.device("cpu")))
    writers.samples(run, 1)
    assert writers.checkpoint(run, 1, []) is None
    writers.metrics(1, {"d_loss": 1.0})
    assert not (tmp_path / "rank1").exists()
