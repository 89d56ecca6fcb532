"""Training steps, run, guards, bilinear game and save/load of the 2-D GAN."""

import json
import math
import os

import pytest
import torch

from ganlab_kit.losses import LOSS_KINDS, discriminator_loss, r1_penalty
from ganlab_kit.toy2d import Toy2DHyper, Toy2DRun, ToyModelConfig, make_distribution
from ganlab_kit.toy2d.bilinear import bilinear_trajectory, distance_to_equilibrium
from ganlab_kit.toy2d.data import BUILTIN_KINDS, NoiseConfig
from ganlab_kit.toy2d.io import PRETRAINED_DIR, load_pretrained, load_toy_model, pretrained_info, save_toy_model
from ganlab_kit.toy2d.steps import discriminator_step, generator_step, make_optimizer
from ganlab_kit.train.guards import discriminator_collapse_guard, guards_for, mode_collapse_guard

TINY = ToyModelConfig(generator_neurons=8, discriminator_neurons=8)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_run(kind="ring", **training):
    return Toy2DRun(make_distribution(kind), TINY, Toy2DHyper(batch_size=32, **training), seed=0)


def params(module):
    return [p.detach().clone() for p in module.parameters()]


def same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_k_discriminator_steps_per_generator_step():
    run = tiny_run(discriminator_steps=3)
    run.step()
    d_state = run.discriminator_optimizer.state[next(run.discriminator.parameters())]
    g_state = run.generator_optimizer.state[next(run.generator.parameters())]
    assert int(d_state["step"]) == 3 and int(g_state["step"]) == 1


def test_one_sided_steps_touch_only_their_network():
    run = tiny_run()
    g0, d0 = params(run.generator), params(run.discriminator)
    metrics = run.step("discriminator")
    assert same(g0, params(run.generator)) and not same(d0, params(run.discriminator))
    assert "g_loss" not in metrics and "d_loss" in metrics
    d1 = params(run.discriminator)
    metrics = run.step("generator")
    assert same(d1, params(run.discriminator)) and not same(g0, params(run.generator))
    assert "g_loss" in metrics and "modes_hit" in metrics
    with pytest.raises(ValueError, match="step"):
        run.step("both-please")


def test_hyperparameters_apply_at_the_next_step_and_bad_ones_are_refused():
    run = tiny_run()
    run.set_hyper(generator_lr=0.05, discriminator_lr=0.02)
    assert run.generator_optimizer.param_groups[0]["lr"] == 1e-3  # not yet
    run.step()
    assert run.generator_optimizer.param_groups[0]["lr"] == 0.05
    assert run.discriminator_optimizer.param_groups[0]["lr"] == 0.02
    run.set_hyper(optimizer="sgd")
    run.step()
    assert isinstance(run.generator_optimizer, torch.optim.SGD)
    for bad, message in [
        ({"generator_lr": -1.0}, "generator_lr"),
        ({"discriminator_steps": 0}, "discriminator_steps"),
        ({"loss": "magic"}, "loss must be one of"),
        ({"batch_size": 0}, "batch_size"),
        ({"r1": -1.0}, "r1"),
    ]:
        with pytest.raises(ValueError, match=message):
            run.set_hyper(**bad)
    with pytest.raises(ValueError, match="generator_neurons"):
        ToyModelConfig(generator_neurons=0).validate()


def test_r1_and_gradient_penalty_are_added_to_the_discriminator_loss():
    torch.manual_seed(0)
    run = tiny_run()
    real, noise = run.real_batch(), run.noise_batch()
    state = {k: v.clone() for k, v in run.discriminator.state_dict().items()}
    # Expected value of the loss with R1, computed independently before the update.
    x = real.clone().requires_grad_(True)
    real_logits = run.discriminator(x)
    with torch.no_grad():
        fake_logits = run.discriminator(run.generator(noise))
    expected = discriminator_loss(real_logits, fake_logits, "non_saturating") + 0.5 * 10.0 * r1_penalty(real_logits, x)
    optimizer = make_optimizer("sgd", run.discriminator, 0.0 + 1e-9)
    metrics = discriminator_step(run.generator, run.discriminator, optimizer, real, noise, Toy2DHyper(r1=10.0))
    assert float(metrics["d_loss"]) == pytest.approx(expected.item(), rel=1e-5)
    run.discriminator.load_state_dict(state)
    plain = discriminator_step(run.generator, run.discriminator, optimizer, real, noise, Toy2DHyper(r1=0.0))
    run.discriminator.load_state_dict(state)
    with_gp = discriminator_step(
        run.generator, run.discriminator, optimizer, real, noise, Toy2DHyper(gradient_penalty=10.0, r1=0.0)
    )
    assert with_gp["d_loss"] > plain["d_loss"]  # a penalty is non-negative, and here not zero


def test_spectral_norm_keeps_each_layer_near_unit_norm():
    run = Toy2DRun(
        make_distribution("ring"),
        ToyModelConfig(spectral_norm=True, discriminator_neurons=16),
        Toy2DHyper(batch_size=32, discriminator_lr=0.05),
        seed=0,
    )
    for _ in range(30):
        run.step()
    for layer in run.discriminator:
        if isinstance(layer, torch.nn.Linear):
            sigma = torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item()
            assert sigma == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("loss", LOSS_KINDS)
def test_every_loss_kind_trains_finitely(loss):
    run = tiny_run(loss=loss, gradient_penalty=1.0 if loss == "wasserstein" else 0.0)
    for _ in range(15):
        metrics = run.step()
    assert all(math.isfinite(v) for v in metrics.values())


def test_training_really_brings_fakes_closer():
    run = Toy2DRun(
        make_distribution("gaussian_mixture"),
        ToyModelConfig(generator_neurons=16, discriminator_neurons=16),
        Toy2DHyper(batch_size=128, generator_lr=3e-3, discriminator_lr=3e-3),
        seed=0,
    )
    before = run.evaluate(n=2000)["js"]
    for _ in range(400):
        run.step()
    after = run.evaluate(n=2000)["js"]
    assert after < 0.6 * before


def test_generator_step_leaves_discriminator_trainable():
    run = tiny_run()
    generator_step(run.generator, run.discriminator, run.generator_optimizer, run.noise_batch(), run.hyper)
    assert all(p.requires_grad for p in run.discriminator.parameters())


def test_alarm_guards_fire_on_the_patterns_they_name():
    collapse = discriminator_collapse_guard("minimax", window=5)
    assert collapse([{"d_loss": 0.001}] * 4) is None
    assert "vanishing" in collapse([{"d_loss": 0.001}] * 5)
    assert collapse([{"d_loss": 0.001}] * 4 + [{"d_loss": 0.5}]) is None
    assert discriminator_collapse_guard("wasserstein", window=5)([{"d_loss": -100.0}] * 5) is None
    modes = mode_collapse_guard(8, window=3)
    assert "2 of 8 modes" in modes([{"modes_hit": 2.0, "high_quality": 0.9}] * 3)
    assert modes([{"modes_hit": 7.0, "high_quality": 0.9}] * 3) is None
    assert modes([{"modes_hit": 1.0, "high_quality": 0.1}] * 3) is None  # not collapse: just bad
    assert len(guards_for("hinge", None)) == 1 and len(guards_for("hinge", 25)) == 2


def test_bilinear_game_simultaneous_spirals_out_alternating_stays_bounded():
    lr = 0.2
    path = bilinear_trajectory(1.0, 0.5, lr=lr, steps=200, update="simultaneous")
    distance = distance_to_equilibrium(path)
    ratios = distance[1:] / distance[:-1]
    assert torch.allclose(ratios, torch.full_like(ratios, math.sqrt(1 + lr**2)))
    alternating = bilinear_trajectory(1.0, 0.5, lr=lr, steps=2000, update="alternating")
    x, y = 1.0, 0.5
    for _ in range(2000):  # the closed form of the alternating map
        x = x - lr * y
        y = y + lr * x
    assert alternating[-1].tolist() == pytest.approx([x, y], rel=1e-9, abs=1e-12)
    d = distance_to_equilibrium(alternating)
    assert d.max() < 1.5 * d[0] and d.min() > 0.5 * d[0]


def test_save_load_round_trip_is_exact_and_atomic(tmp_path):
    run = Toy2DRun(
        make_distribution("spiral"),
        ToyModelConfig(noise=NoiseConfig("uniform", 3), spectral_norm=True, generator_neurons=8),
        Toy2DHyper(batch_size=16),
        seed=2,
    )
    run.step()
    path = save_toy_model(tmp_path / "model.safetensors", run, extra={"note": "hi"})
    assert os.listdir(tmp_path) == ["model.safetensors"]  # no temporary file left behind
    loaded = load_toy_model(path)
    z = torch.rand(10, 3)
    assert torch.equal(loaded.generator(z), run.generator(z))
    x = torch.randn(10, 2)
    run.discriminator.eval(), loaded.discriminator.eval()
    assert torch.allclose(loaded.discriminator(x), run.discriminator(x))
    assert (
        loaded.model_config == run.model_config and loaded.distribution == "spiral" and loaded.extra == {"note": "hi"}
    )
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a readable safetensors"):
        load_toy_model(tmp_path / "bad.safetensors")
    with pytest.raises(ValueError, match=".safetensors"):
        save_toy_model(tmp_path / "model.pt", run)


@pytest.mark.parametrize("kind", BUILTIN_KINDS)
def test_shipped_pretrained_models_are_what_their_json_says(kind):
    if not (PRETRAINED_DIR / f"{kind}.safetensors").exists():
        pytest.fail(f"pretrained model for {kind} missing: run scripts/make_pretrained.py")
    info = pretrained_info(kind)
    run = load_pretrained(kind)
    measured = run.evaluate()
    for key, value in info["evaluation"].items():
        assert measured[key] == pytest.approx(value, rel=1e-4, abs=1e-6)
    untrained = Toy2DRun(make_distribution(kind), run.model_config, Toy2DHyper(), seed=0).evaluate()
    assert info["evaluation"]["js"] < 0.75 * untrained["js"]  # trained: clearly closer than at the start
    two_d = [PRETRAINED_DIR / f"{k}.{ext}" for k in BUILTIN_KINDS for ext in ("safetensors", "json")]
    assert sum(p.stat().st_size for p in two_d) < 1_000_000  # the 2-D models stay tiny
    assert sum(p.stat().st_size for p in PRETRAINED_DIR.iterdir()) < 12_000_000  # all the package ships
    assert json.loads(json.dumps(info))["distribution"] == kind


def test_a_seeded_wgan_gp_run_repeats_exactly():
    """The penalty's interpolation weights come from the run's own generator, not torch's global one."""

    def trained() -> list[torch.Tensor]:
        run = tiny_run("ring", loss="wasserstein", gradient_penalty=1.0, discriminator_steps=2)
        for _ in range(5):
            run.step()
            torch.rand(7)  # other code drawing from the global generator must not change the run
        return [p.detach().clone() for p in run.discriminator.parameters()]

    first, second = trained(), trained()
    assert all(torch.equal(a, b) for a, b in zip(first, second))
