"""One discriminator step and one generator step for the 2-D lab, as plain functions.

They take nets, an optimizer, a batch and the hyperparameters
(:class:`~ganlab_kit.toy2d.run.Toy2DHyper`), and return metrics as detached 0-d tensors
(nothing else: no widgets, no plots, no prints, no device sync; the session reads them
to the host). :class:`~ganlab_kit.toy2d.run.Toy2DRun` calls ``discriminator_step`` k
times, then ``generator_step`` once.

Regularisers, each added to the discriminator's loss (only R1 is on by default, at gamma 0.03:
see :class:`~ganlab_kit.toy2d.run.Toy2DHyper`):

* gradient penalty (WGAN-GP):  ``gradient_penalty * E[(||grad D(x_hat)|| - 1)^2]``
* R1 (Mescheder et al.):       ``r1 / 2 * E[||grad D(x_real)||^2]``  (the paper's gamma/2)
* spectral norm is part of the architecture (:class:`~ganlab_kit.toy2d.models.ToyModelConfig`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from ..losses import discriminator_loss, generator_loss, gradient_penalty, r1_penalty
from ..train.run import D_FAKE, D_LOSS, D_REAL, G_LOSS

if TYPE_CHECKING:
    from .run import Toy2DHyper

OPTIMIZERS: tuple[str, ...] = ("adam", "sgd")


def make_optimizer(
    kind: str, module: nn.Module, lr: float, betas: tuple[float, float] = (0.5, 0.999)
) -> torch.optim.Optimizer:
    """Adam (with ``betas``) or plain SGD over ``module``'s parameters."""
    if kind == "adam":
        return torch.optim.Adam(module.parameters(), lr=lr, betas=tuple(betas))
    if kind == "sgd":
        return torch.optim.SGD(module.parameters(), lr=lr)
    raise ValueError(f"unknown optimizer {kind!r}; choose one of: {', '.join(OPTIMIZERS)}")


def discriminator_step(
    generator: nn.Module,
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    noise: torch.Tensor,
    hyper: Toy2DHyper,
    rng: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """One update of D on a real batch ``(B, 2)`` and fakes G(noise) ``(B, 2)``.

    ``rng`` draws the gradient penalty's interpolation weights (WGAN-GP), so a seeded run
    repeats exactly; without it they come from torch's global generator. Returns ``d_loss``
    (with penalties), ``d_real`` = mean D(x) and ``d_fake`` = mean D(G(z)), where
    D(.) = sigmoid(logit) (for a Wasserstein critic this is only a display value).
    """
    with torch.no_grad():
        fake = generator(noise)  # G is not trained here: no graph needed
    if hyper.r1 > 0:
        real = real.detach().requires_grad_(True)  # R1 differentiates D w.r.t. the real points
    real_logits = discriminator(real)  # (B, 1)
    fake_logits = discriminator(fake)  # (B, 1)
    loss = discriminator_loss(real_logits, fake_logits, hyper.loss)
    if hyper.gradient_penalty > 0:
        loss = loss + hyper.gradient_penalty * gradient_penalty(discriminator, real, fake, generator=rng)
    if hyper.r1 > 0:
        loss = loss + 0.5 * hyper.r1 * r1_penalty(real_logits, real)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    with torch.no_grad():  # 0-d tensors: no device sync here
        return {
            D_LOSS: loss.detach(),
            D_REAL: torch.sigmoid(real_logits).mean(),
            D_FAKE: torch.sigmoid(fake_logits).mean(),
        }


def generator_step(
    generator: nn.Module,
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    noise: torch.Tensor,
    hyper: Toy2DHyper,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """One update of G through a frozen D. Returns ``({"g_loss": ...}, fakes (B, 2))``.

    D's parameters are frozen for the backward pass (only G's gradients are needed), then
    unfrozen. The fakes are returned detached, for coverage statistics.
    """
    for parameter in discriminator.parameters():
        parameter.requires_grad_(False)
    try:
        fake = generator(noise)  # (B, 2)
        loss = generator_loss(discriminator(fake), hyper.loss)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    finally:
        for parameter in discriminator.parameters():
            parameter.requires_grad_(True)
    return {G_LOSS: loss.detach()}, fake.detach()
