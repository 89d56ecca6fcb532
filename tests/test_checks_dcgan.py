"""Notebook 04's layer-stack exercise: the kit's stack passes, the usual mistakes are named."""

import pytest
import torch
from torch import nn

from ganlab_kit import checks


def block(c_in, c_out, stride, padding, bias=False):
    return [nn.ConvTranspose2d(c_in, c_out, 4, stride, padding, bias=bias), nn.BatchNorm2d(c_out), nn.ReLU()]


def stack(latent, width, channels, *, padding=1, first_stride=1, bias=False, end=nn.Tanh, blocks=2):
    layers = block(latent, 4 * width, first_stride, 0 if first_stride == 1 else 1, bias)
    channels_now = 4 * width
    for _ in range(blocks):
        layers += block(channels_now, channels_now // 2, 2, padding, bias)
        channels_now //= 2
    layers.append(nn.ConvTranspose2d(channels_now, channels, 4, 2, 1, bias=bias))
    if end is not None:
        layers.append(end())
    return layers


def test_kit_stack_and_nested_sequential_pass():
    assert checks.check("dcgan_generator_layers", checks.reference_for("dcgan_generator_layers"))
    nested = lambda z, w, c: nn.Sequential(*(nn.Sequential(*stack(z, w, c)[i : i + 3]) for i in range(0, 11, 3)))
    assert checks.check("dcgan_generator_layers", nested)
    layers = checks.reference_for("dcgan_generator_layers")(8, 4, 3)
    assert nn.Sequential(*layers)(torch.randn(2, 8, 1, 1)).shape == (2, 3, 32, 32)


@pytest.mark.parametrize(
    "options, named",
    [
        ({"end": None}, "outside [-1, 1]"),
        ({"end": nn.Sigmoid}, "no values below -0.5"),
        ({"padding": 0}, "stage 2 gives 8x10x10, expected 8x8x8"),
        ({"first_stride": 2}, "the first layer turns z"),
        ({"bias": True}, "without bias"),
        ({"blocks": 1}, "changes shape 3 times, the kit's 4"),
        ({"blocks": 3}, "changes shape 5 times"),
    ],
)
def test_layer_stack_mistakes_are_named(options, named):
    result = checks.check("dcgan_generator_layers", lambda z, w, c: stack(z, w, c, **options))
    assert not result.passed
    assert named in result.message, result.message


def test_layer_stack_wrong_channels_and_wrong_return_are_caught():
    doubled = lambda z, w, c: stack(z, 2 * w, c)
    result = checks.check("dcgan_generator_layers", doubled)
    assert not result.passed and "the channels go 4 * width" in result.message
    result = checks.check("dcgan_generator_layers", lambda z, w, c: None)
    assert not result.passed and "returned None" in result.message
