"""What the lab draws equals what it claims: heatmap = sigmoid(D(grid)), arrows = dL_G/dx."""

import math

import pytest
import torch

from ganlab_kit.losses import LOSS_KINDS
from ganlab_kit.toy2d.data import PLANE, NoiseConfig, noise_grid
from ganlab_kit.toy2d.fields import (
    arrow_vectors,
    compute_field_frame,
    discriminator_heatmap,
    generator_gradients,
    generator_manifold,
    plane_grid,
)
from ganlab_kit.toy2d.models import ToyModelConfig, build_models

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_models(seed=0, noise_dim=2):
    config = ToyModelConfig(noise=NoiseConfig(dim=noise_dim), generator_neurons=8, discriminator_neurons=8)
    return build_models(config, seed=seed)


def test_heatmap_is_sigmoid_of_d_at_each_cell_centre():
    _, discriminator = tiny_models()
    resolution = 6
    heatmap = discriminator_heatmap(discriminator, resolution)
    low, high = PLANE
    width = (high - low) / resolution
    for i in range(resolution):  # row i <-> y_i, increasing
        for j in range(resolution):
            x = low + (j + 0.5) * width
            y = low + (i + 0.5) * width
            expected = 1 / (1 + math.exp(-discriminator(torch.tensor([[x, y]])).item()))
            assert heatmap[i, j].item() == pytest.approx(expected, abs=1e-6)


def test_plane_grid_is_row_major_in_y():
    grid = plane_grid(3, (0.0, 3.0))
    assert grid.tolist()[:4] == [[0.5, 0.5], [1.5, 0.5], [2.5, 0.5], [0.5, 1.5]]


@pytest.mark.parametrize("kind", LOSS_KINDS)
def test_arrows_equal_the_gradient_of_the_generator_loss(kind):
    """Central finite differences of L_G in float64, one coordinate of one point at a time."""
    _, discriminator = tiny_models(seed=3)
    discriminator = discriminator.double()
    from ganlab_kit.losses import generator_loss

    fake = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    gradient = generator_gradients(discriminator, fake, kind)
    h = 1e-6
    with torch.no_grad():
        for i in range(fake.shape[0]):
            for c in range(2):
                plus, minus = fake.clone(), fake.clone()
                plus[i, c] += h
                minus[i, c] -= h
                numeric = (generator_loss(discriminator(plus), kind) - generator_loss(discriminator(minus), kind)) / (
                    2 * h
                )
                assert gradient[i, c].item() == pytest.approx(numeric.item(), rel=1e-5, abs=1e-9)
    # The networks' parameters received no gradient.
    assert all(p.grad is None for p in discriminator.parameters())


def test_arrow_vectors_point_downhill_and_keep_ratios():
    gradient = torch.tensor([[1.0, 0.0], [0.0, -2.0], [0.0, 0.0]])
    arrows = arrow_vectors(gradient, length=0.5)
    assert torch.allclose(arrows, torch.tensor([[-0.25, 0.0], [0.0, 0.5], [0.0, 0.0]]))
    assert torch.equal(arrow_vectors(torch.zeros(3, 2)), torch.zeros(3, 2))


def test_manifold_density_is_mass_over_area_for_a_linear_generator():
    # G(z) = 2 z (uniform noise): every cell's image has area 4x, mass is uniform -> density all 1.
    generator = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        generator.weight.copy_(2 * torch.eye(2))
    noise = NoiseConfig(kind="uniform", dim=2)
    manifold = generator_manifold(generator, noise, resolution=5)
    assert manifold.points.shape == (5, 5, 2)
    assert torch.allclose(manifold.points.reshape(-1, 2), 2 * noise_grid(noise, 5))
    assert torch.allclose(manifold.density, torch.ones(4, 4))
    # Squash one axis: G(z) = (z1, 0.1 z2) is denser than G(z) = (z1, z2) but uniformly so.
    with torch.no_grad():
        generator.weight.copy_(torch.diag(torch.tensor([1.0, 0.1])))
    assert torch.allclose(generator_manifold(generator, noise, 5).density, torch.ones(4, 4))


def test_manifold_one_dimensional_noise_gives_a_curve():
    generator, _ = tiny_models(noise_dim=1)
    manifold = generator_manifold(generator, NoiseConfig(dim=1), resolution=9)
    assert manifold.points.shape == (9, 2) and manifold.density.shape == (8,)
    assert manifold.density.max().item() == pytest.approx(1.0)


def test_field_frame_bundles_consistent_layers():
    generator, discriminator = tiny_models()
    real = torch.randn(7, 2)
    noise = torch.randn(7, 2)
    frame = compute_field_frame(
        generator,
        discriminator,
        "hinge",
        real,
        noise,
        NoiseConfig(),
        heatmap_resolution=5,
        manifold_resolution=4,
        step=12,
    )
    assert frame.heatmap.shape == (5, 5) and frame.fake.shape == (7, 2) and frame.arrows.shape == (7, 2)
    assert torch.allclose(torch.from_numpy(frame.fake), generator(noise).detach())
    expected = arrow_vectors(generator_gradients(discriminator, generator(noise).detach(), "hinge"))
    assert torch.allclose(torch.from_numpy(frame.arrows), expected)
    assert frame.step == 12 and frame.manifold.shape == (4, 4, 2)
