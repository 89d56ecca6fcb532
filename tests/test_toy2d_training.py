"""Training steps, trainer, alarms, bilinear game and save/load of the 2-D GAN."""

import json
import math
import os

import pytest
import torch

from ganlab_kit.losses import LOSS_KINDS, discriminator_loss, r1_penalty
from ganlab_kit.toy2d import ToyModelConfig, ToyTrainConfig, ToyTrainer, make_distribution
from ganlab_kit.toy2d.alarms import discriminator_collapse_guard, lab_guards, mode_collapse_guard
from ganlab_kit.toy2d.bilinear import bilinear_trajectory, distance_to_equilibrium
from ganlab_kit.toy2d.data import BUILTIN_KINDS, NoiseConfig
from ganlab_kit.toy2d.io import PRETRAINED_DIR, load_pretrained, load_toy_model, pretrained_info, save_toy_model
from ganlab_kit.toy2d.steps import discriminator_step, generator_step, make_optimizer

TINY = ToyModelConfig(generator_neurons=8, discriminator_neurons=8)

pytestmark = pytest.mark.usefixtures("one_torch_thread")



def tiny_trainer(kind="ring", **training):
    return ToyTrainer(make_distribution(kind), TINY, ToyTrainConfig(batch_size=32, **training), seed=0)


def params(module):
    return [p.detach().clone() for p in module.parameters()]


def same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_k_discriminator_steps_per_generator_step():
    trainer = tiny_trainer(discriminator_steps=3)
    trainer.step()
    d_state = trainer.optimizer_discriminator.state[next(trainer.discriminator.parameters())]
    g_state = trainer.optimizer_generator.state[next(trainer.generator.parameters())]
    assert int(d_state["step"]) == 3 and int(g_state["step"]) == 1


def test_one_sided_steps_touch_only_their_network():
    trainer = tiny_trainer()
    g0, d0 = params(trainer.generator), params(trainer.discriminator)
    metrics = trainer.step("discriminator")
    assert same(g0, params(trainer.generator)) and not same(d0, params(trainer.discriminator))
    assert "loss_g" not in metrics and "loss_d" in metrics
    d1 = params(trainer.discriminator)
    metrics = trainer.step("generator")
    assert same(d1, params(trainer.discriminator)) and not same(g0, params(trainer.generator))
    assert "loss_g" in metrics and "modes_hit" in metrics
    with pytest.raises(ValueError, match="step"):
        trainer.step("both-please")


def test_hyperparameters_apply_at_the_next_step_and_bad_ones_are_refused():
    trainer = tiny_trainer()
    trainer.update(lr_generator=0.05, lr_discriminator=0.02)
    assert trainer.optimizer_generator.param_groups[0]["lr"] == 1e-3  # not yet
    trainer.step()
    assert trainer.optimizer_generator.param_groups[0]["lr"] == 0.05
    assert trainer.optimizer_discriminator.param_groups[0]["lr"] == 0.02
    trainer.update(optimizer="sgd")
    trainer.step()
    assert isinstance(trainer.optimizer_generator, torch.optim.SGD)
    for bad, message in [({"lr_generator": -1.0}, "lr_generator"), ({"discriminator_steps": 0}, "discriminator_steps"), ({"loss": "magic"}, "unknown loss"), ({"batch_size": 0}, "batch_size"), ({"r1": -1.0}, "r1")]:
        with pytest.raises(ValueError, match=message):
            trainer.update(**bad)
    with pytest.raises(ValueError, match="generator_neurons"):
        ToyModelConfig(generator_neurons=0).validate()


def test_r1_and_gradient_penalty_are_added_to_the_discriminator_loss():
    torch.manual_seed(0)
    trainer = tiny_trainer()
    real, noise = trainer.real_batch(), trainer.noise_batch()
    state = {k: v.clone() for k, v in trainer.discriminator.state_dict().items()}
    # Expected value of the loss with R1, computed independently before the update.
    x = real.clone().requires_grad_(True)
    real_logits = trainer.discriminator(x)
    with torch.no_grad():
        fake_logits = trainer.discriminator(trainer.generator(noise))
    expected = discriminator_loss(real_logits, fake_logits, "non_saturating") + 0.5 * 10.0 * r1_penalty(real_logits, x)
    optimizer = make_optimizer("sgd", trainer.discriminator, 0.0 + 1e-9)
    metrics = discriminator_step(trainer.generator, trainer.discriminator, optimizer, real, noise, ToyTrainConfig(r1=10.0))
    assert metrics["loss_d"] == pytest.approx(expected.item(), rel=1e-5)
    trainer.discriminator.load_state_dict(state)
    plain = discriminator_step(trainer.generator, trainer.discriminator, optimizer, real, noise, ToyTrainConfig())
    trainer.discriminator.load_state_dict(state)
    with_gp = discriminator_step(trainer.generator, trainer.discriminator, optimizer, real, noise, ToyTrainConfig(gradient_penalty=10.0))
    assert with_gp["loss_d"] > plain["loss_d"]  # a penalty is non-negative, and here not zero


def test_spectral_norm_keeps_each_layer_near_unit_norm():
    trainer = ToyTrainer(make_distribution("ring"), ToyModelConfig(spectral_norm=True, discriminator_neurons=16), ToyTrainConfig(batch_size=32, lr_discriminator=0.05), seed=0)
    for _ in range(30):
        trainer.step()
    for layer in trainer.discriminator:
        if isinstance(layer, torch.nn.Linear):
            sigma = torch.linalg.matrix_norm(layer.weight.detach(), ord=2).item()
            assert sigma == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("loss", LOSS_KINDS)
def test_every_loss_kind_trains_finitely(loss):
    trainer = tiny_trainer(loss=loss, gradient_penalty=1.0 if loss == "wasserstein" else 0.0)
    for _ in range(15):
        metrics = trainer.step()
    assert all(math.isfinite(v) for v in metrics.values())


def test_training_really_brings_fakes_closer():
    trainer = ToyTrainer(make_distribution("gaussian_mixture"), ToyModelConfig(generator_neurons=16, discriminator_neurons=16), ToyTrainConfig(batch_size=128, lr_generator=3e-3, lr_discriminator=3e-3), seed=0)
    before = trainer.evaluate(n=2000)["js"]
    for _ in range(400):
        trainer.step()
    after = trainer.evaluate(n=2000)["js"]
    assert after < 0.6 * before


def test_generator_step_leaves_discriminator_trainable():
    trainer = tiny_trainer()
    generator_step(trainer.generator, trainer.discriminator, trainer.optimizer_generator, trainer.noise_batch(), trainer.train_config)
    assert all(p.requires_grad for p in trainer.discriminator.parameters())


def test_alarm_guards_fire_on_the_patterns_they_name():
    collapse = discriminator_collapse_guard("minimax", window=5)
    assert collapse([{"loss_d": 0.001}] * 4) is None
    assert "vanishing" in collapse([{"loss_d": 0.001}] * 5)
    assert collapse([{"loss_d": 0.001}] * 4 + [{"loss_d": 0.5}]) is None
    assert discriminator_collapse_guard("wasserstein", window=5)([{"loss_d": -100.0}] * 5) is None
    modes = mode_collapse_guard(8, window=3)
    assert "2 of 8 modes" in modes([{"modes_hit": 2.0, "high_quality": 0.9}] * 3)
    assert modes([{"modes_hit": 7.0, "high_quality": 0.9}] * 3) is None
    assert modes([{"modes_hit": 1.0, "high_quality": 0.1}] * 3) is None  # not collapse: just bad
    assert len(lab_guards("hinge", None)) == 1 and len(lab_guards("hinge", 25)) == 2


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
    trainer = ToyTrainer(make_distribution("spiral"), ToyModelConfig(noise=NoiseConfig("uniform", 3), spectral_norm=True, generator_neurons=8), ToyTrainConfig(batch_size=16), seed=2)
    trainer.step()
    path = save_toy_model(tmp_path / "model.safetensors", trainer, extra={"note": "hi"})
    assert os.listdir(tmp_path) == ["model.safetensors"]  # no temporary file left behind
    loaded = load_toy_model(path)
    z = torch.rand(10, 3)
    assert torch.equal(loaded.generator(z), trainer.generator(z))
    x = torch.randn(10, 2)
    trainer.discriminator.eval(), loaded.discriminator.eval()
    assert torch.allclose(loaded.discriminator(x), trainer.discriminator(x))
    assert loaded.model_config == trainer.model_config and loaded.distribution == "spiral" and loaded.extra == {"note": "hi"}
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a readable safetensors"):
        load_toy_model(tmp_path / "bad.safetensors")
    with pytest.raises(ValueError, match=".safetensors"):
        save_toy_model(tmp_path / "model.pt", trainer)


@pytest.mark.parametrize("kind", BUILTIN_KINDS)
def test_shipped_pretrained_models_are_what_their_json_says(kind):
    if not (PRETRAINED_DIR / f"{kind}.safetensors").exists():
        pytest.fail(f"pretrained model for {kind} missing: run scripts/make_pretrained.py")
    info = pretrained_info(kind)
    trainer = load_pretrained(kind)
    measured = trainer.evaluate()
    for key, value in info["evaluation"].items():
        assert measured[key] == pytest.approx(value, rel=1e-4, abs=1e-6)
    untrained = ToyTrainer(make_distribution(kind), trainer.model_config, ToyTrainConfig(), seed=0).evaluate()
    assert info["evaluation"]["js"] < 0.75 * untrained["js"]  # trained: clearly closer than at the start
    total = sum(p.stat().st_size for p in PRETRAINED_DIR.iterdir())
    assert total < 1_000_000
    assert json.loads(json.dumps(info))["distribution"] == kind
