"""Notebook 04's exercises (DCGAN): transposed-convolution sizes, the generator's layer
stack, KID's unbiased MMD^2, slerp."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .core import Exercise, register


def _transposed_conv_output_size(
    size: torch.Tensor, kernel: torch.Tensor, stride: torch.Tensor, padding: torch.Tensor
) -> torch.Tensor:
    return (size - 1) * stride - 2 * padding + kernel


def _unbiased_mmd2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    from ..metrics import polynomial_mmd2

    return polynomial_mmd2(x, y)


def _slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    from ..nets.latent import slerp

    return slerp(z0, z1, t)


def _conv_sizes(rng: torch.Generator) -> tuple[torch.Tensor, ...]:
    kernel = torch.randint(1, 6, (16,), generator=rng).float()
    return (
        torch.randint(1, 33, (16,), generator=rng).float(),
        kernel,
        torch.randint(1, 4, (16,), generator=rng).float(),
        torch.floor(torch.rand(16, generator=rng) * (kernel // 2 + 1)),
    )


# The generator's layer stack at 32x32, judged by what the layers do: the shape after each
# stage, the output's range, the parameter count. The checker and the reference both
# reduce a stack to one summary tensor (see _layer_stack_summary), so stored and random
# cases go through the ordinary comparison, and _layer_stack_mistake names what differs.
LAYER_STACK_SIZE = 32
_MAX_STAGES = 6  # rows kept for the shapes of the stages (the kit's stack has 4)


def _kit_generator_layers(latent_dim: int, width: int, channels: int) -> list[nn.Module]:
    """The kit's answer with the reader's signature."""
    from ..nets.dcgan import DCGANConfig, generator_layers

    config = DCGANConfig(image_size=LAYER_STACK_SIZE, channels=channels, latent_dim=latent_dim, generator_width=width)
    return generator_layers(config)


def _layer_stack_summary(layers: Any, latent_dim: int, seed: int) -> torch.Tensor:
    """Run a stack on noise (B, latent_dim, 1, 1) and describe what it did, as a (8, 3) tensor:

    rows 0-5: (C, H, W) after each stage (the output of every layer, consecutive equal
              shapes merged: a conv, its batch norm and its ReLU are one stage), zero-padded;
    row 6:    (all values in [-1, 1], some value < -0.5, some value > 0.5) as 0/1, with every
              conv weight redrawn from N(0, 1) so that the last layer's inputs are large;
    row 7:    (number of parameters, number of stages, 0).
    """
    if isinstance(layers, (list, tuple)):
        if not all(isinstance(layer, nn.Module) for layer in layers):
            raise TypeError("return a list of torch.nn layers (or an nn.Sequential)")
        stack = nn.Sequential(*layers)
    elif isinstance(layers, nn.Module):
        stack = layers
    else:
        raise TypeError(f"return a list of torch.nn layers (or an nn.Sequential), not {type(layers).__name__}")
    leaves = [m for m in stack.modules() if not list(m.children())]
    if not leaves:
        raise ValueError("your stack has no layers")
    shapes: list[tuple[int, ...]] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:]))) for m in leaves]
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in stack.modules():  # large weights: without a squashing output, values leave [-1, 1]
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=rng))
        stack.train()
        z = torch.randn((8, latent_dim, 1, 1), generator=rng)
        try:
            out = stack(z)
        finally:
            for hook in hooks:
                hook.remove()
    if not isinstance(out, torch.Tensor) or out.dim() != 4:
        raise ValueError(f"your stack should return images (B, C, H, W); it returned {getattr(out, 'shape', out)}")
    stages: list[tuple[int, ...]] = []
    for shape in shapes:
        if len(shape) == 3 and (not stages or stages[-1] != shape):
            stages.append(shape)
    summary = torch.zeros((_MAX_STAGES + 2, 3), dtype=torch.float64)
    for row, shape in enumerate(stages[:_MAX_STAGES]):
        summary[row] = torch.tensor(shape, dtype=torch.float64)
    summary[_MAX_STAGES] = torch.tensor(
        [float(out.min() >= -1 and out.max() <= 1), float(out.min() < -0.5), float(out.max() > 0.5)]
    )
    summary[_MAX_STAGES + 1, 0] = sum(p.numel() for p in stack.parameters())
    summary[_MAX_STAGES + 1, 1] = len(stages)
    return summary


def _layer_stack_reference(latent_dim, width, channels, seed) -> torch.Tensor:
    layers = _kit_generator_layers(int(latent_dim), int(width), int(channels))
    return _layer_stack_summary(layers, int(latent_dim), int(seed))


def _run_reader_layers(func: Callable[..., Any], args: tuple[torch.Tensor, ...]) -> torch.Tensor:
    latent_dim, width, channels, seed = (int(a) for a in args)
    layers = func(latent_dim, width, channels)
    if layers is None:
        raise ValueError("your function returned None: return the list of layers")
    return _layer_stack_summary(layers, latent_dim, seed)


def _shape(row: torch.Tensor) -> str:
    return "x".join(str(int(v)) for v in row.tolist())


def _layer_stack_mistake(result: torch.Tensor, expected: torch.Tensor, args: tuple[torch.Tensor, ...]) -> str | None:
    latent_dim, width, channels = (int(a) for a in args[:3])
    where = f"(latent_dim={latent_dim}, width={width}, channels={channels})"
    want_stages, got_stages = int(expected[-1, 1]), int(result[-1, 1])
    if got_stages != want_stages:
        got = " -> ".join(_shape(row) for row in result[: min(got_stages, _MAX_STAGES)])
        want = " -> ".join(_shape(row) for row in expected[:want_stages])
        more = " -> ..." if got_stages > _MAX_STAGES else ""
        return (
            f"your stack changes shape {got_stages} times, the kit's {want_stages} {where}: yours goes "
            f"{got}{more}; the kit's {want} (one transposed convolution per stage: 1x1 -> 4x4, then 8, 16, 32)."
        )
    for stage in range(_MAX_STAGES):
        want, got = expected[stage], result[stage]
        if torch.equal(want, got):
            continue
        message = f"stage {stage + 1} gives {_shape(got)}, expected {_shape(want)} {where}: "
        if got[1:].tolist() != want[1:].tolist():
            if stage == 0:
                return message + (
                    "the first layer turns z (a 1x1 map) into 4x4: ConvTranspose2d(latent_dim, 4 * width, "
                    "kernel_size=4, stride=1, padding=0)."
                )
            return message + (
                "each later transposed convolution doubles the side: kernel 4, stride 2, padding 1 "
                "((n - 1) * 2 - 2 * 1 + 4 = 2n)."
            )
        return message + (
            f"the channels go 4 * width, 2 * width, width, then the image's {channels} channel(s) "
            f"({4 * width}, {2 * width}, {width}, {channels} here)."
        )
    range_got, range_want = result[_MAX_STAGES], expected[_MAX_STAGES]
    if not torch.equal(range_got, range_want):
        if range_got[0] == 0:
            return (
                f"your images have values outside [-1, 1] {where}: the data lives in [-1, 1], so end with nn.Tanh() "
                "(and no batch norm or ReLU after it)."
            )
        if range_got[1] == 0:
            return (
                f"your images have no values below -0.5 even with large weights {where}: the data lives in [-1, 1]; "
                "end with nn.Tanh(), not a sigmoid or a ReLU."
            )
        return f"your images stay near 0 even with large weights {where}: end the stack with nn.Tanh()."
    got_params, want_params = int(result[-1, 0]), int(expected[-1, 0])
    if got_params != want_params:
        return (
            f"the shapes are right, but your layers have {got_params:,} parameters and the kit's {want_params:,} "
            f"{where}: transposed convolutions without bias (bias=False; batch norm's shift does that job), "
            "BatchNorm2d after every hidden transposed convolution, none after the output one."
        )
    return None


_LAYER_STACK_SOLUTION = (
    "from torch import nn\n"
    "def dcgan_generator_layers(latent_dim, width, channels):\n"
    "    def block(c_in, c_out, stride, padding):  # transposed conv, batch norm, ReLU\n"
    "        conv = nn.ConvTranspose2d(c_in, c_out, 4, stride, padding, bias=False)\n"
    "        return [conv, nn.BatchNorm2d(c_out), nn.ReLU()]\n"
    "    return [\n"
    "        *block(latent_dim, 4 * width, 1, 0),  # 1x1 -> 4x4\n"
    "        *block(4 * width, 2 * width, 2, 1),  # 4x4 -> 8x8\n"
    "        *block(2 * width, width, 2, 1),  # 8x8 -> 16x16\n"
    "        nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False),  # 16x16 -> 32x32\n"
    "        nn.Tanh(),\n"
    "    ]\n"
)


def _layer_stack_inputs(rng: torch.Generator) -> tuple[torch.Tensor, ...]:
    latent_dim = int(torch.randint(2, 17, (), generator=rng))
    width = int(2 ** torch.randint(1, 4, (), generator=rng))
    channels = int(torch.randint(0, 2, (), generator=rng)) * 2 + 1  # 1 or 3
    seed = int(torch.randint(0, 1000, (), generator=rng))
    return tuple(torch.tensor(float(v)) for v in (latent_dim, width, channels, seed))


def _layer_stack_stored() -> list[tuple[torch.Tensor, ...]]:
    return [tuple(torch.tensor(float(v)) for v in case) for case in ((8, 4, 1, 0), (16, 8, 3, 1))]


for _exercise in [
    Exercise(
        name="transposed_conv_output_size",
        task="Output height of a ConvTranspose2d from input size, kernel, stride and padding (elementwise).",
        reference=_transposed_conv_output_size,
        random_inputs=_conv_sizes,
        hint="A transposed convolution undoes the size arithmetic of a convolution: "
        "out = (in - 1) * stride - 2 * padding + kernel.",
        solution=(
            "def transposed_conv_output_size(size, kernel, stride, padding):\n"
            "    return (size - 1) * stride - 2 * padding + kernel\n"
        ),
    ),
    Exercise(
        name="dcgan_generator_layers",
        task=f"The DCGAN generator's layers for {LAYER_STACK_SIZE}x{LAYER_STACK_SIZE} images: a list of torch.nn "
        "layers taking noise (B, latent_dim, 1, 1) to images (B, channels, 32, 32) in [-1, 1], through "
        "(4 * width, 4, 4), (2 * width, 8, 8), (width, 16, 16).",
        reference=_layer_stack_reference,
        random_inputs=_layer_stack_inputs,
        hint="Four transposed convolutions, kernel 4 each: the first with stride 1, padding 0 (1x1 -> 4x4), the "
        "others with stride 2, padding 1 (doubling the side). After each hidden one: BatchNorm2d, then ReLU; "
        "no bias in the convolutions; after the last: only nn.Tanh().",
        solution=_LAYER_STACK_SOLUTION,
        call=_run_reader_layers,
        explain=_layer_stack_mistake,
        stored_inputs=_layer_stack_stored,
        reader_reference=_kit_generator_layers,
    ),
    Exercise(
        name="unbiased_mmd2",
        task="KID's unbiased squared MMD between feature sets x (n, d) and y (m, d) with kernel (x.y / d + 1)^3.",
        reference=_unbiased_mmd2,
        random_inputs=lambda rng: (torch.randn((20, 4), generator=rng), torch.randn((15, 4), generator=rng) + 0.5),
        hint="Build the three kernel matrices; for x-x and y-y leave out the diagonal (i == j) "
        "and divide by n(n-1) and m(m-1); the cross term is a plain mean, counted twice.",
        solution=(
            "def unbiased_mmd2(x, y):\n"
            "    n, m, d = x.shape[0], y.shape[0], x.shape[1]\n"
            "    k = lambda a, b: (a @ b.T / d + 1) ** 3\n"
            "    kxx, kyy = k(x, x), k(y, y)\n"
            "    return ((kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))\n"
            "            + (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1)) - 2 * k(x, y).mean())\n"
        ),
        rtol=1e-3,
        atol=1e-4,
    ),
    Exercise(
        name="slerp",
        task="Spherical interpolation between latent vectors z0, z1 (D,) at times t (T,): return (T, D).",
        reference=_slerp,
        random_inputs=lambda rng: (
            torch.randn((8,), generator=rng),
            torch.randn((8,), generator=rng),
            torch.rand((5,), generator=rng),
        ),
        hint="omega = arccos(z0.z1 / (|z0| |z1|)); weights sin((1 - t) omega) / sin(omega) and "
        "sin(t omega) / sin(omega); t[:, None] broadcasts.",
        solution=(
            "def slerp(z0, z1, t):\n"
            "    omega = torch.arccos((z0 @ z1 / (z0.norm() * z1.norm())).clamp(-1, 1))\n"
            "    t = t[:, None]\n"
            "    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)\n"
        ),
    ),
]:
    register(_exercise)
