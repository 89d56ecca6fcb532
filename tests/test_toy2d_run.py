"""Toy2DRun on the Run protocol: metrics as tensors, hyperparameters between steps,
state round trips, exact resume through save_run / load_run, the converted pretrained files."""

import copy
import hashlib

import pytest
import torch

from ganlab_kit.toy2d import Toy2DHyper, Toy2DRun, ToyModelConfig, make_distribution
from ganlab_kit.toy2d.io import PRETRAINED_DIR, load_pretrained, load_toy_model
from ganlab_kit.train import checkpoint
from ganlab_kit.train.run import Run, metrics_to_floats
from ganlab_kit.train.session import TrainingSession

TINY = ToyModelConfig(generator_neurons=8, discriminator_neurons=8)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_run(kind="gaussian_mixture", model=TINY, seed=0, **hyper):
    return Toy2DRun(make_distribution(kind), model, Toy2DHyper(batch_size=32, **hyper), seed=seed)


def test_run_follows_the_protocol_and_steps_return_detached_tensors():
    run = tiny_run()
    assert isinstance(run, Run)
    assert set(run.modules) == set(run.optimizers) == {"generator", "discriminator"}
    assert run.visual_modules == ("generator", "discriminator")
    metrics = run.step()
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        value = metrics[key]
        assert isinstance(value, torch.Tensor) and value.dim() == 0 and not value.requires_grad
    assert isinstance(metrics["modes_hit"], float)  # coverage: measured every 10 steps, a float
    floats = metrics_to_floats(metrics)
    assert list(floats) == list(metrics) and all(isinstance(v, float) for v in floats.values())
    assert 0 < floats["d_real"] < 1 and 0 < floats["d_fake"] < 1


def test_set_hyper_is_validated_now_and_applied_at_the_next_step():
    run = tiny_run()
    lr = lambda name: run.optimizers[name].param_groups[0]["lr"]
    returned = run.set_hyper(generator_lr=0.05, discriminator_lr=0.02, betas=(0.0, 0.9))
    assert returned.generator_lr == 0.05 and run.next_hyper is returned
    assert run.hyper.generator_lr == 1e-3 and lr("generator") == 1e-3  # not yet
    for bad, field in [
        ({"generator_lr": -1.0}, "generator_lr"),
        ({"loss": "magic"}, "loss"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"betas": (0.5, 1.5)}, "betas"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"r1": -1.0}, "r1"),
    ]:
        with pytest.raises(ValueError, match=field):
            run.set_hyper(**bad)
    assert run.next_hyper.generator_lr == 0.05  # a refused change leaves the pending one alone
    run.step()
    assert run.hyper.generator_lr == 0.05 and lr("generator") == 0.05 and lr("discriminator") == 0.02
    assert run.optimizers["generator"].param_groups[0]["betas"] == (0.0, 0.9)  # new betas: fresh Adam
    run.set_hyper(optimizer="sgd")
    run.step()
    assert isinstance(run.optimizers["generator"], torch.optim.SGD)


def test_visuals_use_the_given_generator_on_fixed_noise():
    run = tiny_run()
    shadows = {name: copy.deepcopy(run.modules[name]) for name in run.visual_modules}
    before = run.visuals(shadows)["samples"]
    assert before.shape == (512, 2)
    rng_state = run.rng.get_state()
    for _ in range(3):
        run.step()
    assert torch.equal(run.visuals(shadows)["samples"], before)  # shadows did not move
    assert not torch.equal(run.visuals()["samples"], before)  # the run's generator did
    rng_state = run.rng.get_state()
    run.visuals()
    assert torch.equal(run.rng.get_state(), rng_state)  # looking never moves training's RNG


def test_state_dict_round_trip_continues_identically():
    source = tiny_run(seed=1)
    for _ in range(7):
        source.step()
    source.set_hyper(generator_lr=2e-3)  # pending: must survive the round trip, still pending
    target = tiny_run(seed=5)
    target.load_state_dict(source.state_dict())
    assert target.steps_done == 7 and target.seed == 1 and target.next_hyper.generator_lr == 2e-3
    for _ in range(5):
        assert metrics_to_floats(target.step()) == metrics_to_floats(source.step())


def test_exact_resume_through_save_run_and_load_run(tmp_path):
    uninterrupted = tiny_run()
    expected = [metrics_to_floats(uninterrupted.step()) for _ in range(16)]

    first = tiny_run()
    for _ in range(5):  # 5: the coverage cache (measured every 10 steps) must resume too
        first.step()
    path = checkpoint.save_run(tmp_path / "toy.safetensors", first, history=[{"d_loss": 1.0}], extra={"note": "hi"})
    torch.manual_seed(123)
    resumed = tiny_run(seed=9)
    state = checkpoint.load_run(path, resumed)
    assert state["history"] == [{"d_loss": 1.0}] and state["extra"] == {"note": "hi"} and resumed.steps_done == 5
    assert [metrics_to_floats(resumed.step()) for _ in range(11)] == expected[5:]  # bit for bit


def test_mismatch_names_both_sides_and_touches_nothing(tmp_path):
    path = checkpoint.save_run(tmp_path / "small.safetensors", tiny_run())
    wider = tiny_run(model=ToyModelConfig(generator_neurons=16, discriminator_neurons=8))
    before = {k: v.clone() for k, v in wider.generator.state_dict().items()}
    with pytest.raises(checkpoint.CheckpointMismatch, match="generator_neurons: checkpoint 8 vs run 16") as info:
        checkpoint.load_run(path, wider)
    assert "TOY2D_MLP" in str(info.value)
    assert all(torch.equal(before[k], v) for k, v in wider.generator.state_dict().items())
    assert wider.steps_done == 0


def test_session_steps_a_run_and_keeps_floats():
    run = tiny_run()
    session = TrainingSession(run.step)
    try:
        session.run(3)
        assert all(isinstance(v, float) for m in session.history for v in m.values())
        assert {"d_loss", "g_loss", "d_real", "d_fake", "modes_hit", "step"} <= set(session.history[-1])
    finally:
        session.close()


# The shipped models' weights before their conversion to the run checkpoint format: sha256
# (first 16 hex digits) over the sorted ``generator.*`` / ``discriminator.*`` keys and the
# tensors' bytes, computed from the old ``ganlab_kit.toy2d/1`` files, and their step counts.
OLD_WEIGHTS = {
    "gaussian_mixture": ("1e4669a96bd2feb3", 2500),
    "grid": ("2512a7c49eb69f69", 6000),
    "line": ("85ec2777e1bcf79b", 2500),
    "ring": ("1cabfd54269574f2", 4000),
    "spiral": ("c38f790d60329fad", 5000),
    "two_moons": ("621842719217c47e", 4000),
}


def weights_digest(generator, discriminator) -> str:
    tensors = {f"generator.{k}": v for k, v in generator.state_dict().items()}
    tensors.update({f"discriminator.{k}": v for k, v in discriminator.state_dict().items()})
    digest = hashlib.sha256()
    for key in sorted(tensors):
        digest.update(key.encode())
        digest.update(tensors[key].contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


@pytest.mark.parametrize("kind", sorted(OLD_WEIGHTS))
def test_converted_pretrained_files_hold_the_old_weights_exactly(kind):
    loaded = load_toy_model(PRETRAINED_DIR / f"{kind}.safetensors")
    digest, steps = OLD_WEIGHTS[kind]
    assert weights_digest(loaded.generator, loaded.discriminator) == digest
    assert loaded.steps == steps and loaded.distribution == kind
    run = load_pretrained(kind, Toy2DHyper(generator_lr=5e-4))
    assert weights_digest(run.generator, run.discriminator) == digest
    assert run.steps_done == steps and run.hyper.generator_lr == 5e-4
    assert run.optimizers["generator"].param_groups[0]["lr"] == 5e-4
