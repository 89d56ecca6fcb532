"""Ink-wash culture constraints: each is zero where it should be, grows where it should,
matches a hand computation, and lets a gradient through to the output."""

import math

import pytest
import torch

from ganlab_kit.data import PatchConfig, photo_patches
from ganlab_kit.styles import all_styles, builtin_photos, load_photos, split_by_source
from ganlab_kit.styles.constraints import (
    blank_space_loss,
    brush_edge_loss,
    edge_softness,
    gaussian_blur,
    ink_diffusion_loss,
    luminance,
    sobel_magnitude,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def ink_wash(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """[-1, 1] in and out: the renderer works in [0, 1]."""
    style = next(s for s in all_styles() if s.name == "ink_wash")
    return style((images + 1) / 2, seed=seed) * 2 - 1


@pytest.fixture(scope="module")
def photo_sets() -> tuple[torch.Tensor, torch.Tensor]:
    """Two sets of 16 patches (64x64, [-1, 1]) from different source photos."""
    train, held_out = split_by_source(builtin_photos(), 2, 0)
    first = photo_patches(load_photos(train, min_size=64), 16, PatchConfig(size=64), seed=1).all()
    second = photo_patches(load_photos(held_out, min_size=64), 16, PatchConfig(size=64), seed=2).all()
    return first, second


@pytest.fixture(scope="module")
def photos(photo_sets) -> torch.Tensor:
    return photo_sets[0]


def darken(images: torch.Tensor, factor: float) -> torch.Tensor:
    return (images + 1) * factor - 1  # luminance times factor


def blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    return torch.cat([gaussian_blur(images[:, c : c + 1], sigma) for c in range(3)], dim=1)


# ------------------------------------------------------------------ blank space
def test_blank_space_is_zero_when_light_regions_stay_light(photos):
    assert blank_space_loss(photos, photos) == 0
    assert blank_space_loss(photos, (photos + 0.3).clamp(max=1)) == 0  # whiter paper is fine
    mild, strong = blank_space_loss(photos, darken(photos, 0.8)), blank_space_loss(photos, darken(photos, 0.5))
    assert 0 < mild < strong
    light = luminance(photos)  # (B, 1, H, W) in [0, 1]; scaling RGB scales it alike
    tinted_paper = (photos + 1) * (0.9 / light).clamp(max=1) - 1  # luminance min(Y, 0.9): tinted paper
    assert blank_space_loss(photos, tinted_paper) > 0
    assert blank_space_loss(photos, tinted_paper, paper=0.9) < 1e-6


def test_blank_space_ignores_ink_on_dark_regions():
    photo = torch.full((1, 3, 8, 8), -0.4)  # luminance 0.3 everywhere: nothing to keep blank
    assert blank_space_loss(photo, torch.full_like(photo, -1.0)) < 1e-4


def test_blank_space_matches_a_hand_computation():
    # two white pixels (Y = 1) and two black ones (Y = 0); the output greys one white pixel to Y = 0.6
    photo = torch.tensor([1.0, 1.0, -1.0, -1.0]).view(1, 1, 2, 2).expand(1, 3, 2, 2)
    output = torch.tensor([0.2, 1.0, -1.0, -1.0]).view(1, 1, 2, 2).expand(1, 3, 2, 2)
    light = 1 / (1 + math.exp(-(1 - 0.75) / 0.05))  # the soft mask on a white pixel
    expected = light * 0.4 / 4  # the other pixels are not darkened
    assert blank_space_loss(photo, output).item() == pytest.approx(expected, rel=1e-5)


# ------------------------------------------------------------------ brush edges
def test_sobel_gives_half_for_a_unit_step():
    step = torch.zeros(1, 1, 5, 6)
    step[..., 3:] = 1.0
    edges = sobel_magnitude(step)
    assert torch.allclose(edges[0, 0, :, 2:4], torch.full((5, 2), 0.5), atol=1e-4)
    assert edges[0, 0, :, [0, 5]].max() < 1e-3


def test_brush_edges_are_zero_for_the_photo_and_grow_with_blur(photos):
    assert brush_edge_loss(photos, photos) == 0
    losses = [brush_edge_loss(photos, blur(photos, sigma)).item() for sigma in (0.7, 1.5, 3.0)]
    assert 0 < losses[0] < losses[1] < losses[2]
    # the same edges at half the contrast: nearly free (only where the strokes are counts)
    faded = brush_edge_loss(photos, photos * 0.5)
    assert faded < 0.25 * losses[0]


# ------------------------------------------------------------------ ink diffusion
def test_softness_statistic_is_higher_for_a_diffused_edge(photo_sets):
    photos, _ = photo_sets
    assert edge_softness(photos).shape == (16, 2)
    # crisp thin ink lines (every 6th column) against the same lines diffused into wet paper.
    # (One straight step would not do: blurring keeps a lone edge's total gradient.)
    crisp = torch.ones(4, 3, 32, 32)
    crisp[..., ::6] = -1.0
    wet = blur(crisp, 1.5)
    assert (edge_softness(wet) > edge_softness(crisp) + 0.05).all()


def test_ink_diffusion_is_small_between_ink_wash_sets_and_large_for_mush(photo_sets):
    # The reworked ink-wash renderer (issue 9) paints crisp brush contours on paper grain, so
    # at 64 px its edge softness sits close to a photo's (about 0.63-0.66 against 0.67-0.70 at
    # sigma 1): this statistic no longer tells photos from ink wash, only wash from mush.
    first, second = photo_sets
    ink_first, ink_second = ink_wash(first, seed=0), ink_wash(second, seed=3)
    assert ink_diffusion_loss(ink_first, ink_first) == 0
    ink_vs_ink = ink_diffusion_loss(ink_second, ink_first)
    mush_vs_ink = ink_diffusion_loss(blur(ink_second, 3.0), ink_first)  # over-diffused: too soft
    assert 3 * ink_vs_ink < mush_vs_ink
    # batch sizes and image sizes may differ
    assert ink_diffusion_loss(ink_second[:3], ink_first[:, :, :48, :40]) >= 0


# ------------------------------------------------------------------ all three
def cases(photos: torch.Tensor):
    reference = ink_wash(photos[8:])
    yield "blank_space_loss", lambda out: blank_space_loss(photos[:4], out), darken(photos[:4], 0.6)
    yield "brush_edge_loss", lambda out: brush_edge_loss(photos[:4], out), blur(photos[:4], 1.5)
    yield "ink_diffusion_loss", lambda out: ink_diffusion_loss(out, reference), photos[:4].clone()


def test_each_loss_lets_a_finite_gradient_reach_the_output(photos):
    for name, loss_fn, start in cases(photos):
        output = start.clone().requires_grad_(True)
        loss = loss_fn(output)
        assert loss.dim() == 0 and loss > 0, name
        loss.backward()
        assert torch.isfinite(output.grad).all() and output.grad.abs().sum() > 0, name
        # a small step against the gradient lowers the loss: the gradient points the right way
        with torch.no_grad():
            stepped = output - 1e-2 * output.grad / output.grad.abs().max()
        assert loss_fn(stepped) < loss, name


def test_bad_input_is_a_clear_error(photos):
    with pytest.raises(ValueError, match="one shape"):
        blank_space_loss(photos[:2], photos[:3])
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        brush_edge_loss(photos[0], photos[0])
    with pytest.raises(ValueError, match="reference_ink_wash"):
        ink_diffusion_loss(photos, photos[:, :1])
    with pytest.raises(TypeError, match="float"):
        ink_diffusion_loss(photos.to(torch.uint8), photos)
