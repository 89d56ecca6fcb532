"""Guards read the shared metric names, so they watch every model the same way."""

import math

import pytest
import torch

from ganlab_kit import data as image_sets
from ganlab_kit.nets.dcgan import DCGANConfig
from ganlab_kit.toy2d import Toy2DHyper, Toy2DRun, ToyModelConfig, make_distribution
from ganlab_kit.train.dcgan import DCGANHyper, DCGANRun, DCGANRunConfig
from ganlab_kit.train.guards import (
    default_guards,
    discriminator_collapse_guard,
    guards_for,
    mode_collapse_guard,
    non_finite_guard,
)
from ganlab_kit.train.session import TrainingSession


def dcgan_history(d_loss, n):
    """What a DCGAN session's history looks like (dcgan_step's keys, read to floats)."""
    return [
        {"d_loss": d_loss, "g_loss": 6.0, "d_real": 0.99, "d_fake": 0.01, "gradient_penalty": 0.0, "step": float(i + 1)}
        for i in range(n)
    ]


def test_collapse_guard_fires_on_a_dcgan_history():
    guard = discriminator_collapse_guard("non_saturating", window=50)
    assert guard(dcgan_history(0.001, 49)) is None
    assert "vanishing" in guard(dcgan_history(0.001, 50))
    assert guard(dcgan_history(0.001, 49) + dcgan_history(0.6, 1)) is None
    assert discriminator_collapse_guard("wasserstein", window=5)(dcgan_history(-100.0, 5)) is None  # no floor
    assert discriminator_collapse_guard("minimax", window=3)([{"loss_d": 0.0}] * 3) is None  # old names mean nothing


def test_mode_guard_and_guards_for():
    modes = mode_collapse_guard(8, window=3)
    assert "2 of 8 modes" in modes([{"modes_hit": 2.0, "high_quality": 0.9}] * 3)
    assert modes([{"modes_hit": 7.0, "high_quality": 0.9}] * 3) is None
    assert modes([{"modes_hit": 1.0, "high_quality": 0.1}] * 3) is None  # not collapse: just bad
    assert len(guards_for("hinge")) == 1 and len(guards_for("hinge", 25)) == 2


def test_non_finite_guard_reads_floats_and_tensors():
    assert non_finite_guard([{"d_loss": 0.5, "g_loss": torch.tensor(0.7)}]) is None
    assert "g_loss" in non_finite_guard([{"d_loss": 0.5, "g_loss": torch.tensor(float("nan"))}])
    assert "d_loss" in non_finite_guard([{"d_loss": math.inf, "step": 3.0}])


def test_default_guards_fit_the_run():
    digits = image_sets.digits(16)
    model = DCGANConfig(image_size=16, latent_dim=8, generator_width=4, discriminator_width=4)
    dcgan = DCGANRun(DCGANRunConfig(model=model, batch_size=8), digits, hyper=DCGANHyper(loss="minimax"))
    assert len(default_guards(dcgan)) == 1  # images: no known modes
    mixture = Toy2DRun(
        make_distribution("gaussian_mixture"),
        ToyModelConfig(generator_neurons=8, discriminator_neurons=8),
        Toy2DHyper(batch_size=16),
    )
    assert len(default_guards(mixture)) == 2
    # a session on a DCGAN whose discriminator has won pauses with the collapse message
    session = TrainingSession(
        lambda: {"d_loss": torch.tensor(1e-4), "g_loss": torch.tensor(9.0)}, guards=default_guards(dcgan)
    )
    try:
        session.run(250)
        assert session.step_count == 200 and "vanishing" in session.alarm
    finally:
        session.close()
    with pytest.raises(ValueError, match="loss"):
        dcgan.set_hyper(loss="nope")
