"""Acceleration in one place: compiled, DDP-wrapped and mixed-precision runs save the same
checkpoint keys as a plain run and step finitely; wrapper prefixes never reach a file."""

import pytest
import torch
import torch.distributed as dist
from safetensors import safe_open

from ganlab_kit import data as image_sets
from ganlab_kit.nets.dcgan import DCGANConfig
from ganlab_kit.train import checkpoint
from ganlab_kit.train.accel import Accelerator, unwrap
from ganlab_kit.train.dcgan import DCGANHyper, DCGANRun, DCGANRunConfig
from ganlab_kit.train.run import metrics_to_floats

pytestmark = pytest.mark.usefixtures("one_torch_thread")
MODEL = DCGANConfig(image_size=16, latent_dim=8, generator_width=4, discriminator_width=4)


@pytest.fixture(scope="module")
def digits16():
    return image_sets.digits(16)


def make_run(data, device="cpu", loss="non_saturating", **accel):
    return DCGANRun(
        DCGANRunConfig(model=MODEL, batch_size=8, seed=3, **accel), data, device=device, hyper=DCGANHyper(loss=loss)
    )


def saved_keys(path):
    with safe_open(str(path), framework="pt") as file:
        return sorted(file.keys())


def test_unwrap_and_prefix_stripping():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2))
    compiled = torch.compile(net)  # lazy: nothing is compiled before a forward pass
    assert unwrap(compiled) is net and unwrap(net) is net
    assert list(compiled.state_dict()) == ["_orig_mod.0.weight", "_orig_mod.0.bias"]
    assert list(checkpoint.strip_wrapper_prefixes({"module._orig_mod.0.weight": 1, "0.bias": 2})) == [
        "0.weight",
        "0.bias",
    ]


def test_compiled_run_saves_the_same_keys_and_loads_either_way(tmp_path, digits16):
    plain, compiled = make_run(digits16), make_run(digits16, compile=True)
    assert type(compiled.generator_forward).__name__ == "OptimizedModule" and compiled.generator is unwrap(
        compiled.generator_forward
    )
    plain_keys = saved_keys(plain.save(tmp_path / "plain.safetensors"))
    compiled_keys = saved_keys(compiled.save(tmp_path / "compiled.safetensors"))
    assert plain_keys == compiled_keys and not any("_orig_mod" in key for key in compiled_keys)
    # loose modules saved wrapped are stripped too, and load into a plain or a wrapped module
    net = torch.nn.Linear(3, 2)
    path = checkpoint.save_checkpoint(
        tmp_path / "net.safetensors", architecture={"architecture": "mlp"}, modules={"net": torch.compile(net)}
    )
    assert "module/net/weight" in saved_keys(path)
    other = torch.nn.Linear(3, 2)
    checkpoint.load_checkpoint(
        path, architecture={"architecture": "mlp"}, modules={"net": torch.compile(other)}, global_rng=False
    )
    assert torch.equal(other.weight, net.weight)
    # a run state carrying prefixed keys (e.g. from a wrapped module's state_dict) loads too
    state = plain.state_dict()
    state.modules = {name: {f"module.{k}": v for k, v in weights.items()} for name, weights in state.modules.items()}
    fresh = make_run(digits16)
    path = checkpoint.save_run(
        tmp_path / "prefixed.safetensors",
        type("R", (), {"state_dict": lambda self: state, "architecture": lambda self: plain.architecture()})(),
    )
    assert saved_keys(path) == plain_keys
    checkpoint.load_run(path, fresh)


def test_ddp_wrapped_run_steps_and_saves_the_same_keys(tmp_path, digits16):
    plain = make_run(digits16)
    for _ in range(2):
        plain.step()
    plain_keys = saved_keys(plain.save(tmp_path / "plain.safetensors"))
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        run = make_run(digits16, distributed=True)
        assert isinstance(run.discriminator_forward, torch.nn.parallel.DistributedDataParallel)
        assert not hasattr(run.generator_forward, "config") and run.generator.config == MODEL  # raw keeps the config
        for _ in range(2):
            metrics = metrics_to_floats(run.step())
        assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
        assert all(p.requires_grad for p in run.discriminator.parameters())
        ddp_keys = saved_keys(run.save(tmp_path / "ddp.safetensors"))
        resumed = make_run(digits16, distributed=True)
        resumed.load(tmp_path / "ddp.safetensors")
        assert resumed.steps_done == 2 and torch.equal(resumed.generator.net[0].weight, run.generator.net[0].weight)
        # one process: DDP changes nothing numerically (gloo's all-reduce of one rank is the identity)
        assert torch.allclose(run.generator.net[0].weight, plain.generator.net[0].weight)
    finally:
        dist.destroy_process_group()
    assert ddp_keys == plain_keys and not any(".module." in key or "/module." in key for key in ddp_keys)
    with pytest.raises(RuntimeError, match="process group"):
        make_run(digits16, distributed=True)


def test_cpu_bf16_autocast_step_is_finite(digits16):
    run = make_run(digits16, precision="bf16")
    assert run.accel.autocast_dtype == torch.bfloat16 and run.accel.scaler is None
    before = run.generator.net[0].weight.clone()
    metrics = metrics_to_floats(run.step())
    assert set(metrics) == {"d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty"}
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    assert run.generator.net[0].weight.dtype == torch.float32 and not torch.equal(before, run.generator.net[0].weight)


def test_fp16_builds_a_grad_scaler_and_saves_its_state(tmp_path, digits16):
    accel = Accelerator("cpu", precision="fp16")
    assert isinstance(accel.scaler, torch.amp.GradScaler) and accel.autocast_dtype == torch.float16
    assert Accelerator("cpu", precision="bf16").scaler is None and Accelerator("cpu").scaler is None
    with pytest.raises(ValueError, match="precision"):
        Accelerator("cpu", precision="fp8")
    with pytest.raises(ValueError, match="precision"):
        DCGANRunConfig(precision="half")
    run = make_run(digits16, precision="fp16")
    metrics = metrics_to_floats(run.step())  # CPU autocast supports float16 in this torch
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    path = run.save(tmp_path / "fp16.safetensors")
    assert "grad_scaler" in checkpoint.read_checkpoint(path)[0]["state"]["accel"]
    make_run(digits16, precision="fp16").load(path)


def test_channels_last_moves_weights_and_batches(digits16):
    run = make_run(digits16, channels_last=True)
    assert next(run.discriminator.parameters()).is_contiguous(memory_format=torch.channels_last)
    assert run._next_real().is_contiguous(memory_format=torch.channels_last)
    assert all(torch.isfinite(v) for v in run.step().values())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_gpu_mixed_precision_compiled_run(tmp_path, digits16, precision):
    run = make_run(digits16, device="cuda", precision=precision, channels_last=True, compile=True)
    for _ in range(3):
        metrics = metrics_to_floats(run.step())
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    assert saved_keys(run.save(tmp_path / "gpu.safetensors")) == saved_keys(
        make_run(digits16).save(tmp_path / "cpu.safetensors")
    )
