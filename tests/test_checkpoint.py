"""Checkpoints: exact resume, atomic writes, safe loading, clear mismatch errors."""

import os
import random

import numpy as np
import pytest
import torch

from ganlab_kit.data import digits
from ganlab_kit.nets.dcgan import DCGANConfig
from ganlab_kit.train import checkpoint
from ganlab_kit.train.dcgan import DCGANHyper, DCGANRun, DCGANRunConfig
from ganlab_kit.train.run import metrics_to_floats


@pytest.fixture(scope="module")
def digits16():
    return digits(16)


def run_config(size=16, **model):
    model = {"latent_dim": 8, "generator_width": 4, "discriminator_width": 4, **model}
    return DCGANRunConfig(model=DCGANConfig(image_size=size, **model), batch_size=8, seed=3)


def make_run(data, kind="non_saturating", config=None):
    return DCGANRun(config or run_config(), data, hyper=DCGANHyper(loss=kind))


@pytest.mark.parametrize("kind", ["non_saturating", "wasserstein"])
def test_resume_reproduces_the_next_losses_exactly(tmp_path, digits16, kind):
    uninterrupted = make_run(digits16, kind)
    expected = [metrics_to_floats(uninterrupted.step()) for _ in range(8)]

    first = make_run(digits16, kind)
    for _ in range(4):
        first.step()
    first.set_hyper(generator_lr=3e-4)  # a pending live edit must survive the checkpoint
    path = first.save(tmp_path / "run.safetensors", history=[{"d_loss": 1.0}])

    torch.manual_seed(12345)  # scramble every global RNG; the checkpoint must restore them
    np.random.seed(1)
    random.seed(2)
    resumed = make_run(digits16, kind)
    state = resumed.load(path)
    assert state["history"] == [{"d_loss": 1.0}] and resumed.steps_done == 4
    assert resumed.next_hyper.generator_lr == 3e-4 and resumed.hyper.generator_lr == 2e-4
    resumed.set_hyper(generator_lr=2e-4)  # back to the uninterrupted run's rate
    got = [metrics_to_floats(resumed.step()) for _ in range(4)]
    assert got == expected[4:]  # bit for bit: == on floats, no tolerance


def test_global_rngs_are_saved_and_restored(tmp_path, digits16):
    run = make_run(digits16)
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    path = run.save(tmp_path / "a.safetensors")
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.rand(10), np.random.rand(10), random.random()
    run.load(path)
    got = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1]) and got[2] == expected[2]


def test_wrong_size_or_architecture_names_both(tmp_path, digits16):
    path = make_run(digits16, config=run_config(size=16)).save(tmp_path / "small.safetensors")
    bigger = make_run(digits(32), config=run_config(size=32))
    weights_before = {k: v.clone() for k, v in bigger.generator.state_dict().items()}
    with pytest.raises(checkpoint.CheckpointMismatch) as info:
        bigger.load(path)
    message = str(info.value)
    assert "DCGAN 16x16x1" in message and "DCGAN 32x32x1" in message and "image_size" in message
    assert all(torch.equal(weights_before[k], v) for k, v in bigger.generator.state_dict().items())  # untouched
    wider = make_run(digits16, config=run_config(generator_width=8))
    with pytest.raises(checkpoint.CheckpointMismatch, match="generator_width: checkpoint 4 vs run 8"):
        wider.load(path)
    with pytest.raises(checkpoint.CheckpointMismatch, match="PIX2PIX"):
        checkpoint.check_architecture(
            {"architecture": "pix2pix", "image_size": 16}, {"architecture": "dcgan", "image_size": 16}
        )


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path, digits16, monkeypatch):
    run = make_run(digits16)
    path = run.save(tmp_path / "ck.safetensors")
    original = path.read_bytes()
    run.step()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        run.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == original  # the old checkpoint survived the failed write
    assert [p.name for p in tmp_path.iterdir()] == ["ck.safetensors"]  # temp file cleaned up


def test_not_a_checkpoint_is_a_clear_error(tmp_path, digits16):
    run = make_run(digits16)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(checkpoint.CheckpointError, match="not a readable"):
        run.load(junk)
    from safetensors.torch import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(checkpoint.CheckpointError, match="not a ganlab_kit checkpoint"):
        run.load(plain)
    with pytest.raises(FileNotFoundError):
        run.load(tmp_path / "missing.safetensors")


def test_state_must_be_json(tmp_path):
    net = torch.nn.Linear(2, 2)
    with pytest.raises(TypeError, match="JSON"):
        checkpoint.save_checkpoint(
            tmp_path / "x.safetensors",
            architecture={"architecture": "mlp"},
            modules={"net": net},
            state={"bad": object()},
        )
    assert not list(tmp_path.iterdir())
