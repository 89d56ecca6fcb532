"""Notebook 06's exercise (pix2pix): a PatchGAN's receptive field, checked against real convolutions."""

from __future__ import annotations

import torch

from .core import Exercise, register


def _stack(layers: torch.Tensor) -> list[tuple[int, int]]:
    """(L, 2) tensor of (kernel, stride) rows -> a list of int pairs, first layer first."""
    return [(int(k), int(s)) for k, s in layers.round().long().tolist()]


def _receptive_field_of_stack(layers: torch.Tensor) -> torch.Tensor:
    """The kit's answer: a real stack of convolutions measured by ``patchgan.receptive_field``."""
    from torch import nn

    from ..nets.patchgan import receptive_field

    convs = nn.Sequential(*[nn.Conv2d(1, 1, k, s) for k, s in _stack(layers)])
    return torch.tensor(float(receptive_field(convs)))  # it walks any module's Conv2d layers


def _walk_backwards(stack: list[tuple[int, int]], *, minus_one: bool = True) -> int:
    size = 1
    for k, s in reversed(stack):
        size = (size - 1) * s + k if minus_one else size * s + k
    return size


def _receptive_field_mistake(result: torch.Tensor, expected: torch.Tensor, args: tuple[torch.Tensor, ...]) -> str:
    """Name the usual mistakes; otherwise say plainly which stack gave which number."""
    stack = _stack(args[0])
    got, want = result.item(), int(expected.item())
    where = f"for the stack {stack} (first layer first) the receptive field is {want}, you gave {got:g}"
    strides = [s for _, s in stack]
    forwards = 1
    for k, s in stack:
        forwards = (forwards - 1) * s + k
    candidates = [
        (
            1 + sum(k - 1 for k, _ in stack),
            "the strides are missing: a layer's k - 1 extra pixels count "
            "once per input pixel only if every layer before it has stride 1; multiply by the product of "
            "the strides *below* it (walking back: r -> (r - 1) * s + k)",
        ),
        (
            forwards,
            "you walked forwards (from the input layer up); the recursion r -> (r - 1) * s + k "
            "starts at the output logit (r = 1) and goes back through the layers, last layer first",
        ),
        (
            _walk_backwards(stack, minus_one=False),
            "off by more than one: use (r - 1) * s + k, not r * s + k "
            "(r pixels span r - 1 steps of the stride, plus one kernel)",
        ),
        (
            sum(k for k, _ in stack),
            "you added the kernel sizes: neighbouring windows overlap by k - 1 "
            "pixels, and strides spread them apart (r -> (r - 1) * s + k, from the last layer back)",
        ),
    ]
    for value, reason in candidates:
        if value != want and abs(got - value) < 1e-6:
            return f"{reason}. ({where}.)"
    if abs(abs(got - want) - 1) < 1e-6:
        return f"off by one: start from r = 1 (one output pixel) and use (r - 1) * s + k. ({where}.)"
    product = 1
    for s in strides:
        product *= s
    if product > 1 and abs(abs(got - want) - product) < 1e-6:
        return f"off by one step of the strides' product ({product}): start from r = 1, not 0 or 2. ({where}.)"
    return f"values differ: {where}."


def _random_stack(rng: torch.Generator) -> tuple[torch.Tensor]:
    length = int(torch.randint(1, 8, (1,), generator=rng))
    kernels = torch.randint(1, 8, (length, 1), generator=rng)
    strides = torch.randint(1, 4, (length, 1), generator=rng)
    return (torch.cat([kernels, strides], 1).float(),)


def _patchgan_stack(layers: int) -> list[tuple[int, int]]:
    """PatchDiscriminator(layers=n): n stride-2 4x4 convs, then two of stride 1."""
    return [(4, 2)] * layers + [(4, 1), (4, 1)]


def _named_stacks() -> list[tuple[torch.Tensor]]:
    stacks = [
        _patchgan_stack(3),
        _patchgan_stack(1),
        _patchgan_stack(5),
        [(3, 1), (3, 1), (3, 1)],
        [(7, 2), (3, 2), (3, 1), (1, 1)],
        [(5, 1)],
    ]
    return [(torch.tensor(stack, dtype=torch.float32),) for stack in stacks]


register(
    Exercise(
        name="patchgan_receptive_field",
        task="Receptive field (pixels) of one output of a stack of convolutions, given as a list of "
        "(kernel, stride) pairs, first layer first.",
        reference=_receptive_field_of_stack,
        random_inputs=_random_stack,
        hint="Walk back from one output pixel (r = 1) through the layers, last layer first: a k x k "
        "convolution of stride s turns a window of r pixels into (r - 1) * s + k.",
        solution=(
            "def patchgan_receptive_field(layers):\n"
            "    size = 1\n"
            "    for kernel, stride in reversed(layers):\n"
            "        size = (size - 1) * stride + kernel\n"
            "    return size\n"
        ),
        rtol=0.0,
        atol=1e-6,
        call=lambda func, args: func(_stack(args[0])),
        explain=_receptive_field_mistake,
        stored_inputs=_named_stacks,
        reader_reference=lambda layers: int(_receptive_field_of_stack(torch.tensor(layers, dtype=torch.float32))),
    )
)
