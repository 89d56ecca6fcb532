"""Notebook 01's "Build your first GAN" checks: each passes on the reference and fails, with the
mistake named, on realistic wrong answers."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlab_kit import checks
from ganlab_kit.checks import build2d


def _solution(name):
    namespace = {"torch": torch}
    exec(checks.EXERCISES[name].solution, namespace)
    return namespace[name]


# ------------------------------------------------------------------ the two nets
@pytest.mark.parametrize("name", ["make_toy_discriminator", "make_toy_generator"])
def test_makers_pass_on_reference_and_solution(name):
    assert checks.reference_for(name) is getattr(build2d, name)
    for maker in (checks.reference_for(name), _solution(name)):
        result = checks.check(name, maker)
        assert result.passed, result.message


@pytest.mark.parametrize(
    "maker, named",
    [
        (lambda: nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 1), nn.Sigmoid()), "output range"),
        (lambda: nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 1), nn.Flatten(0)), "shape"),
        (
            lambda: nn.Sequential(nn.Linear(2, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 1)),
            "budget",
        ),
        (lambda: nn.Sequential(nn.Linear(2, 64), nn.Linear(64, 1)), "affine"),
        (lambda: nn.Linear(3, 1), "nn.Linear(2, ...)"),
        (lambda: "a net", "nn.Module"),
    ],
)
def test_discriminator_mistakes_are_named(maker, named):
    result = checks.check("make_toy_discriminator", maker)
    assert not result.passed and named in result.message, result.message


@pytest.mark.parametrize(
    "maker, named",
    [
        (
            lambda: nn.Sequential(nn.Linear(build2d.NOISE_DIM, 64), nn.ReLU(), nn.Linear(64, 2), nn.Tanh()),
            "output range",
        ),
        (lambda: nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 2)), f"nn.Linear({build2d.NOISE_DIM}, ...)"),
        (lambda: nn.Sequential(nn.Linear(build2d.NOISE_DIM, 64), nn.ReLU(), nn.Linear(64, 1)), "shape"),
        (lambda: nn.Linear(build2d.NOISE_DIM, 2), "affine"),
    ],
)
def test_generator_mistakes_are_named(maker, named):
    result = checks.check("make_toy_generator", maker)
    assert not result.passed and named in result.message, result.message


# ------------------------------------------------------------------ the two steps
def _d_step(generator, discriminator, optimizer, real, noise, mistake=None):
    if mistake == "no_detach":
        fake = generator(noise)
    else:
        with torch.no_grad():
            fake = generator(noise)
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    if mistake == "swapped":
        loss = F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()
    elif mistake == "sum":
        loss = F.softplus(-real_logits).sum() + F.softplus(fake_logits).sum()
    else:
        # through probabilities, as many first write it: the same values at ordinary logits
        loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + (
            F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        )
    if mistake == "negated":
        loss = -loss
    if mistake != "no_zero_grad":
        optimizer.zero_grad()
    loss.backward()
    if mistake != "no_step":
        optimizer.step()
    return None if mistake == "no_return" else loss.item()


def test_discriminator_step_passes_on_reference_solution_and_a_bce_version():
    for step in (build2d.toy_discriminator_step, _solution("toy_discriminator_step"), _d_step):
        result = checks.check("toy_discriminator_step", step)
        assert result.passed, result.message


@pytest.mark.parametrize(
    "mistake, named",
    [
        ("swapped", "labels swapped"),
        ("negated", "wrong sign"),
        ("no_zero_grad", "zero_grad"),
        ("no_detach", "torch.no_grad()"),
        ("sum", "a sum where a mean was meant"),
        ("no_step", "did not change"),
        ("no_return", "return the loss"),
    ],
)
def test_discriminator_step_mistakes_are_named(mistake, named):
    result = checks.check("toy_discriminator_step", lambda *args: _d_step(*args, mistake=mistake))
    assert not result.passed and named in result.message, result.message


def _g_step(generator, discriminator, optimizer, noise, mistake=None):
    fake = generator(noise)
    if mistake == "detach":
        fake = fake.detach()
    logits = discriminator(fake)
    if mistake == "d_loss":
        loss = F.softplus(logits).mean()
    elif mistake == "saturating":
        loss = torch.log(1 - torch.sigmoid(logits)).mean()
    else:
        loss = -F.logsigmoid(logits).mean()
    if mistake == "negated":
        loss = -loss
    if mistake != "no_zero_grad":
        optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if mistake == "moves_d":
        with torch.no_grad():
            for p in discriminator.parameters():
                p.add_(0.01)
    return loss.item()


def test_generator_step_passes_on_reference_solution_and_a_logsigmoid_version():
    for step in (build2d.toy_generator_step, _solution("toy_generator_step"), _g_step):
        result = checks.check("toy_generator_step", step)
        assert result.passed, result.message


@pytest.mark.parametrize(
    "mistake, named",
    [
        ("detach", "detached"),
        ("d_loss", "discriminator's loss"),
        ("saturating", "saturating"),
        ("negated", "wrong sign"),
        ("no_zero_grad", "zero_grad"),
        ("moves_d", "discriminator's weights changed"),
    ],
)
def test_generator_step_mistakes_are_named(mistake, named):
    result = checks.check("toy_generator_step", lambda *args: _g_step(*args, mistake=mistake))
    assert not result.passed and named in result.message, result.message


# ------------------------------------------------------------------ the loop (each run: ~10 s on one CPU thread)
def _loop(generator, discriminator, sample_real, sample_noise, steps, mistake=None):
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=build2d.LEARNING_RATE, betas=build2d.BETAS)
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=build2d.LEARNING_RATE, betas=build2d.BETAS)
    for _ in range(steps):
        real, noise = sample_real(256), sample_noise(256)
        fake = generator(noise).detach()
        d_loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake)).mean()
        if mistake != "no_zero_grad":
            d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
        fake = generator(sample_noise(256))
        if mistake == "detached":
            fake = fake.detach()
        logits = discriminator(fake)
        g_loss = F.softplus(logits).mean() if mistake == "d_loss" else F.softplus(-logits).mean()
        if mistake != "no_zero_grad":
            g_optimizer.zero_grad()
        g_loss.backward()
        g_optimizer.step()


def test_training_loop_passes_on_the_reference():
    result = checks.check("train_toy_gan", build2d.train_toy_gan)
    assert result.passed, result.message
    assert f"at most {build2d.LOOP_JS}" in result.message


@pytest.mark.parametrize("mistake", ["no_zero_grad", "d_loss", "detached"])
def test_wrong_training_loops_fail(mistake):
    result = checks.check("train_toy_gan", lambda *args: _loop(*args, mistake=mistake))
    assert not result.passed, result.message
    assert "JS to the ring" in result.message


def test_a_check_leaves_the_readers_random_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    checks.check("make_toy_discriminator", build2d.make_toy_discriminator)
    assert torch.equal(torch.rand(3), expected)


def test_the_reference_loop_clears_the_threshold_on_another_seed():
    # seed 3 was the worst of seeds 0-7 when the threshold was chosen (JS 0.245; seed 0, the check's, 0.139)
    _, result = build2d.run_training_loop(build2d.train_toy_gan, seed=3)
    assert result["js"] <= build2d.LOOP_JS and result["modes_hit"] == 8, result
