"""Notebook 04's exercises (DCGAN): transposed-convolution sizes, KID's unbiased MMD^2, slerp."""

from __future__ import annotations

import torch

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
