"""One discriminator step and one generator step for the 2-D lab, as plain functions.

They take nets, an optimizer and a batch, and return a dict of floats (nothing else:
no widgets, no plots, no prints). :class:`~ganlab_kit.toy2d.trainer.ToyTrainer` calls
``discriminator_step`` k times, then ``generator_step`` once.

Regularisers (all off by default), each added to the discriminator's loss:

* gradient penalty (WGAN-GP):  ``gradient_penalty * E[(||grad D(x_hat)|| - 1)^2]``
* R1 (Mescheder et al.):       ``r1 / 2 * E[||grad D(x_real)||^2]``  (the paper's gamma/2)
* spectral norm is part of the architecture (:class:`~ganlab_kit.toy2d.models.ToyModelConfig`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..losses import LOSS_KINDS, discriminator_loss, generator_loss, gradient_penalty, r1_penalty

OPTIMIZERS: tuple[str, ...] = ("adam", "sgd")


@dataclass
class ToyTrainConfig:
    """Training hyperparameters; all may change while training runs (next step uses them)."""

    loss: str = "non_saturating"
    optimizer: str = "adam"
    lr_discriminator: float = 1e-3
    lr_generator: float = 1e-3
    beta1: float = 0.5  # Adam's momentum; 0.5 is the usual GAN choice (Radford et al.)
    discriminator_steps: int = 1  # k: discriminator updates per generator update
    batch_size: int = 256
    gradient_penalty: float = 0.0  # lambda of WGAN-GP; 0 = off
    r1: float = 0.0  # gamma of R1; 0 = off

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad value."""
        if self.loss not in LOSS_KINDS:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of: {', '.join(LOSS_KINDS)}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")
        for name in ("lr_discriminator", "lr_generator"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 < value <= 10:
                raise ValueError(f"{name} must be a positive number (at most 10), got {value!r}")
        if not 0 <= self.beta1 < 1:
            raise ValueError(f"beta1 must be in [0, 1), got {self.beta1!r}")
        if not isinstance(self.discriminator_steps, int) or not 1 <= self.discriminator_steps <= 100:
            raise ValueError(f"discriminator_steps must be an integer from 1 to 100, got {self.discriminator_steps!r}")
        if not isinstance(self.batch_size, int) or not 1 <= self.batch_size <= 65536:
            raise ValueError(f"batch_size must be an integer from 1 to 65536, got {self.batch_size!r}")
        for name in ("gradient_penalty", "r1"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be >= 0 (0 turns it off), got {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def make_optimizer(kind: str, module: nn.Module, lr: float, beta1: float = 0.5) -> torch.optim.Optimizer:
    """Adam (betas ``(beta1, 0.999)``) or plain SGD over ``module``'s parameters."""
    if kind == "adam":
        return torch.optim.Adam(module.parameters(), lr=lr, betas=(beta1, 0.999))
    if kind == "sgd":
        return torch.optim.SGD(module.parameters(), lr=lr)
    raise ValueError(f"unknown optimizer {kind!r}; choose one of: {', '.join(OPTIMIZERS)}")


def discriminator_step(
    generator: nn.Module,
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    noise: torch.Tensor,
    config: ToyTrainConfig,
) -> dict[str, float]:
    """One update of D on a real batch ``(B, 2)`` and fakes G(noise) ``(B, 2)``.

    Returns ``loss_d`` (with penalties), ``d_real`` = mean D(x) and ``d_fake`` = mean D(G(z)),
    where D(.) = sigmoid(logit) (for a Wasserstein critic this is only a display value).
    """
    with torch.no_grad():
        fake = generator(noise)  # G is not trained here: no graph needed
    if config.r1 > 0:
        real = real.detach().requires_grad_(True)  # R1 differentiates D w.r.t. the real points
    real_logits = discriminator(real)  # (B, 1)
    fake_logits = discriminator(fake)  # (B, 1)
    loss = discriminator_loss(real_logits, fake_logits, config.loss)
    if config.gradient_penalty > 0:
        loss = loss + config.gradient_penalty * gradient_penalty(discriminator, real, fake)
    if config.r1 > 0:
        loss = loss + 0.5 * config.r1 * r1_penalty(real_logits, real)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        values = torch.stack([loss.detach(), torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()])
    loss_d, d_real, d_fake = values.tolist()  # one conversion instead of three .item() calls
    return {"loss_d": loss_d, "d_real": d_real, "d_fake": d_fake}


def generator_step(
    generator: nn.Module,
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    noise: torch.Tensor,
    config: ToyTrainConfig,
) -> tuple[dict[str, float], torch.Tensor]:
    """One update of G through a frozen D. Returns ``({"loss_g": ...}, fakes (B, 2))``.

    D's parameters are frozen for the backward pass (only G's gradients are needed), then
    unfrozen. The fakes are returned detached, for coverage statistics.
    """
    for parameter in discriminator.parameters():
        parameter.requires_grad_(False)
    try:
        fake = generator(noise)  # (B, 2)
        loss = generator_loss(discriminator(fake), config.loss)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    finally:
        for parameter in discriminator.parameters():
            parameter.requires_grad_(True)
    return {"loss_g": float(loss.detach())}, fake.detach()
