"""Each loss against an independent computation: probabilities in float64, written the
way the papers write them, on moderate logits where that naive form is exact enough."""

import math

import pytest
import torch

from ganlab_kit import losses
from ganlab_kit.losses import LOSS_KINDS, discriminator_loss, generator_loss, gradient_penalty, r1_penalty


def naive_d(real, fake, kind):
    r, f = real.double(), fake.double()
    if kind in ("minimax", "non_saturating"):
        dr, df = torch.sigmoid(r), torch.sigmoid(f)
        return (-torch.log(dr)).mean() + (-torch.log(1 - df)).mean()
    if kind == "lsgan":
        return 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f**2).mean()
    if kind == "wasserstein":
        return f.mean() - r.mean()
    if kind == "hinge":
        return torch.clamp(1 - r, min=0).mean() + torch.clamp(1 + f, min=0).mean()
    raise AssertionError(kind)


def naive_g(fake, kind):
    f = fake.double()
    if kind == "minimax":
        return torch.log(1 - torch.sigmoid(f)).mean()
    if kind == "non_saturating":
        return (-torch.log(torch.sigmoid(f))).mean()
    if kind == "lsgan":
        return 0.5 * ((f - 1) ** 2).mean()
    return -f.mean()


@pytest.fixture
def logits():
    g = torch.Generator().manual_seed(0)
    return 3 * torch.randn(64, 1, generator=g), 3 * torch.randn(48, 1, generator=g)


@pytest.mark.parametrize("kind", LOSS_KINDS)
def test_discriminator_loss_matches_naive_formula(kind, logits):
    real, fake = logits
    got = discriminator_loss(real, fake, kind)
    assert got.shape == ()
    assert torch.allclose(got.double(), naive_d(real, fake, kind), atol=1e-5)


@pytest.mark.parametrize("kind", LOSS_KINDS)
def test_generator_loss_matches_naive_formula(kind, logits):
    _, fake = logits
    assert torch.allclose(generator_loss(fake, kind).double(), naive_g(fake, kind), atol=1e-5)


def test_bce_convention_equals_torch_bce(logits):
    real, fake = logits
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    expected = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
    assert torch.allclose(discriminator_loss(real, fake, "minimax"), expected, atol=1e-6)


@pytest.mark.parametrize("kind", LOSS_KINDS)
def test_extreme_logits_give_finite_values_and_gradients(kind):
    real = torch.tensor([[100.0], [-100.0]], requires_grad=True)
    fake = torch.tensor([[-100.0], [100.0]], requires_grad=True)
    d = discriminator_loss(real, fake, kind)
    g = generator_loss(fake, kind)
    (d + g).backward()
    assert torch.isfinite(d) and torch.isfinite(g)
    assert torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all()


def test_extreme_logit_values_are_the_limits():
    # D rejects a fake with logit -100: -log(1 - sigmoid(-100)) ~ 0, -log sigmoid(-100) ~ 100
    big = torch.tensor([[-100.0]])
    assert generator_loss(big, "non_saturating").item() == pytest.approx(100.0, rel=1e-6)
    assert generator_loss(big, "minimax").item() == pytest.approx(-math.log1p(math.exp(-100)), abs=1e-12)
    assert discriminator_loss(torch.tensor([[100.0]]), big, "minimax").item() == pytest.approx(0.0, abs=1e-30)


def test_saturation_gradients():
    """The saturating loss's gradient vanishes as D(G(z)) -> 0; the non-saturating one does not."""
    fake = torch.tensor([-8.0], requires_grad=True)
    (g_sat,) = torch.autograd.grad(generator_loss(fake, "minimax"), fake)
    (g_ns,) = torch.autograd.grad(generator_loss(fake, "non_saturating"), fake)
    d = torch.sigmoid(torch.tensor(-8.0))
    assert torch.allclose(g_sat, -d)  # d/dt log(1 - sigmoid(t)) = -sigmoid(t)
    assert torch.allclose(g_ns, -(1 - d))
    assert g_ns.abs() > 1000 * g_sat.abs()


def test_unknown_kind_lists_kinds():
    with pytest.raises(ValueError) as err:
        discriminator_loss(torch.zeros(2, 1), torch.zeros(2, 1), "wgan")
    for kind in LOSS_KINDS:
        assert kind in str(err.value)
    with pytest.raises(ValueError, match="non_saturating"):
        generator_loss(torch.zeros(2, 1), "bogus")


def test_shape_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4, 1, 8, 8\)"):
        discriminator_loss(torch.zeros(4, 1), torch.zeros(4, 1, 8, 8))
    # different batch sizes are fine
    discriminator_loss(torch.zeros(4, 1), torch.zeros(7, 1))


def test_bad_inputs():
    with pytest.raises(TypeError, match="floating-point"):
        generator_loss(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="empty"):
        generator_loss(torch.zeros(0, 1))


def test_gradient_penalty_linear_critic_known_norm():
    """critic(x) = w.x has gradient w everywhere: GP = (||w|| - 1)^2 exactly."""
    w = torch.tensor([3.0, 4.0])  # ||w|| = 5
    critic = lambda x: x @ w
    g = torch.Generator().manual_seed(1)
    real, fake = torch.randn(16, 2, generator=g), torch.randn(16, 2, generator=g)
    gp = gradient_penalty(critic, real, fake)
    assert gp.item() == pytest.approx(16.0, rel=1e-6)
    unit = lambda x: x @ (w / 5)
    assert gradient_penalty(unit, real, fake).item() == pytest.approx(0.0, abs=1e-10)


def test_gradient_penalty_image_shaped_and_differentiable():
    conv = torch.nn.Conv2d(3, 1, 4)
    real, fake = torch.randn(5, 3, 8, 8), torch.randn(5, 3, 8, 8)
    gp = gradient_penalty(lambda x: conv(x).mean(dim=(1, 2, 3)), real, fake, generator=torch.Generator().manual_seed(0))
    gp.backward()
    assert conv.weight.grad is not None and torch.isfinite(conv.weight.grad).all()
    # same eps generator seed, same value
    gp2 = gradient_penalty(
        lambda x: conv(x).mean(dim=(1, 2, 3)), real, fake, generator=torch.Generator().manual_seed(0)
    )
    assert torch.allclose(gp, gp2)


def test_gradient_penalty_matches_manual_interpolation():
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    gp = gradient_penalty(net, real, fake, generator=torch.Generator().manual_seed(3))
    eps = torch.rand((6, 1), generator=torch.Generator().manual_seed(3))
    x = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(net(x).sum(), x)
    expected = ((grad.norm(dim=1) - 1) ** 2).mean()
    assert torch.allclose(gp, expected, atol=1e-6)


def test_gradient_penalty_shape_error():
    with pytest.raises(ValueError, match=r"\(2, 2\).*\(3, 2\)"):
        gradient_penalty(lambda x: x.sum(1), torch.zeros(2, 2), torch.zeros(3, 2))


def test_r1_penalty_quadratic_critic():
    """t(x) = ||x||^2 / 2 has gradient x: R1 = E||x||^2."""
    real = torch.randn(10, 3).requires_grad_(True)
    logits = 0.5 * (real**2).sum(dim=1)
    expected = (real.detach() ** 2).sum(dim=1).mean()
    assert torch.allclose(r1_penalty(logits, real), expected, atol=1e-6)


def test_r1_needs_requires_grad():
    real = torch.randn(4, 2)
    with pytest.raises(ValueError, match="requires_grad_"):
        r1_penalty(real.sum(1), real)


def test_loss_kinds_exported():
    assert set(losses.LOSS_KINDS) == {"minimax", "non_saturating", "lsgan", "wasserstein", "hinge"}
