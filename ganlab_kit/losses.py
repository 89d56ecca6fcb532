r"""Adversarial losses and penalties, one small function each, all on *logits*.

A discriminator (or critic) here returns raw scores ``t = D_logit(x)``; where a paper
uses a probability, ``D(x) = sigmoid(t)``. Working on logits lets every loss be written
with ``softplus`` so that logits of +-100 give finite values and finite gradients:

    -log sigmoid(t)     = softplus(-t)
    -log(1 - sigmoid(t)) = softplus(t)

Each loss is a mean over every element of the logits tensor, so the same functions
serve a 2-D toy discriminator (shape ``(B, 1)``) and a PatchGAN (``(B, 1, H, W)``).

Kinds (:data:`LOSS_KINDS`):

=================  =====================================================  ==========================================
kind               discriminator loss (minimised)                          generator loss (minimised)
=================  =====================================================  ==========================================
``minimax``        E[-log D(x)] + E[-log(1 - D(G(z)))]                    E[log(1 - D(G(z)))]   (saturates)
``non_saturating`` same as minimax                                         E[-log D(G(z))]
``lsgan``          1/2 E[(t_real - 1)^2] + 1/2 E[t_fake^2]                1/2 E[(t_fake - 1)^2]
``wasserstein``    E[t_fake] - E[t_real]                                  -E[t_fake]
``hinge``          E[relu(1 - t_real)] + E[relu(1 + t_fake)]              -E[t_fake]
=================  =====================================================  ==========================================

Image translation (pix2pix, CycleGAN) adds reconstruction terms on images, not logits:
:func:`l1_loss`, :func:`cycle_loss`, :func:`identity_loss`, and
:func:`translation_generator_loss` (the adversarial term as those papers weight it).

References: Goodfellow et al. 2014 (minimax and the non-saturating trick); Mao et al.
2017 (LSGAN, a-b-c = 0-1-1 coding); Arjovsky et al. 2017 (Wasserstein critic);
Gulrajani et al. 2017 (gradient penalty); Lim & Ye 2017 and Miyato et al. 2018 (hinge);
Mescheder et al. 2018 (R1); Isola et al. 2017 (pix2pix); Zhu et al. 2017 (CycleGAN).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

LOSS_KINDS: tuple[str, ...] = ("minimax", "non_saturating", "lsgan", "wasserstein", "hinge")


def _check_kind(kind: str) -> str:
    if kind not in LOSS_KINDS:
        raise ValueError(f"unknown loss kind {kind!r}; choose one of: {', '.join(LOSS_KINDS)}")
    return kind


def _check_logits(name: str, logits: torch.Tensor) -> None:
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(logits).__name__}")
    if not logits.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor of logits, got dtype {logits.dtype}")
    if logits.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(logits.shape)}): no samples to score")


def _check_pair(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> None:
    _check_logits("real_logits", real_logits)
    _check_logits("fake_logits", fake_logits)
    # Batch sizes may differ; what each sample is scored as (a number, a patch map) may not.
    if real_logits.dim() != fake_logits.dim() or real_logits.shape[1:] != fake_logits.shape[1:]:
        raise ValueError(
            "real_logits and fake_logits must have the same shape apart from the batch size: "
            f"got real {tuple(real_logits.shape)} and fake {tuple(fake_logits.shape)}"
        )


def discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, kind: str = "non_saturating"
) -> torch.Tensor:
    r"""The discriminator's (critic's) loss for ``kind``, to be *minimised*.

    minimax / non_saturating (the two differ only for the generator):
        L_D = mean BCE(t_real, 1) + mean BCE(t_fake, 0)
            = E[softplus(-t_real)] + E[softplus(t_fake)]
        i.e. -V(D, G) of Goodfellow et al., whose optimum is D*(x) = p_data / (p_data + p_g).
    lsgan:        L_D = 1/2 E[(t_real - 1)^2] + 1/2 E[t_fake^2]
    wasserstein:  L_D = E[t_fake] - E[t_real]   (needs a Lipschitz critic: clip, GP or SN)
    hinge:        L_D = E[relu(1 - t_real)] + E[relu(1 + t_fake)]
    """
    _check_kind(kind)
    _check_pair(real_logits, fake_logits)
    if kind in ("minimax", "non_saturating"):
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    if kind == "lsgan":
        return 0.5 * (real_logits - 1).pow(2).mean() + 0.5 * fake_logits.pow(2).mean()
    if kind == "wasserstein":
        return fake_logits.mean() - real_logits.mean()
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()  # hinge


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    r"""The generator's loss for ``kind``, to be *minimised*.

    minimax:         L_G = E[log(1 - D(G(z)))] = -E[softplus(t_fake)]
        The original saturating objective. Its gradient w.r.t. the logit is
        -sigmoid(t_fake) = -D(G(z)), which vanishes when D confidently rejects fakes
        (D(G(z)) -> 0), exactly when the generator most needs a signal.
    non_saturating:  L_G = E[-log D(G(z))] = E[softplus(-t_fake)]
        Same fixed point, gradient -(1 - D(G(z))): strong when fakes are rejected.
    lsgan:           L_G = 1/2 E[(t_fake - 1)^2]
    wasserstein:     L_G = -E[t_fake]
    hinge:           L_G = -E[t_fake]   (Lim & Ye's generator loss is the Wasserstein one)
    """
    _check_kind(kind)
    _check_logits("fake_logits", fake_logits)
    if kind == "minimax":
        return -F.softplus(fake_logits).mean()
    if kind == "non_saturating":
        return F.softplus(-fake_logits).mean()
    if kind == "lsgan":
        return 0.5 * (fake_logits - 1).pow(2).mean()
    return -fake_logits.mean()  # wasserstein and hinge


def _per_sample_grad_norm(grad: torch.Tensor) -> torch.Tensor:
    return grad.reshape(grad.shape[0], -1).norm(2, dim=1)  # (B,)


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""WGAN-GP penalty of Gulrajani et al. (2017), without its weight lambda:

        x_hat = eps * x_real + (1 - eps) * x_fake,   eps ~ U[0, 1] per sample
        GP    = E[(||grad_x critic(x_hat)||_2 - 1)^2]

    ``real`` and ``fake`` are detached first: the penalty trains the critic only.
    The result keeps its graph (``create_graph=True``) so ``(loss + lam * GP).backward()``
    differentiates through the gradient norm. Pass ``generator`` for repeatable eps.
    """
    if real.shape != fake.shape:
        raise ValueError(
            f"gradient_penalty needs real and fake of one shape: got {tuple(real.shape)} and {tuple(fake.shape)}"
        )
    batch = real.shape[0]
    eps_shape = (batch,) + (1,) * (real.dim() - 1)  # (B, 1, ..., 1) broadcasts per sample
    eps = torch.rand(
        eps_shape, generator=generator, dtype=real.dtype, device="cpu" if generator is not None else real.device
    )
    eps = eps.to(real.device)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return (_per_sample_grad_norm(grad) - 1).pow(2).mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    r"""R1 penalty of Mescheder et al. (2018), without its weight:

        R1 = E[ ||grad_x t(x)||_2^2 ]   over real samples x

    The paper's regulariser is (gamma / 2) * R1; multiplying by gamma / 2 is the caller's.
    ``real`` must have ``requires_grad=True`` *before* ``real_logits = D(real)`` is computed.
    """
    if not real.requires_grad:
        raise ValueError(
            "r1_penalty needs the gradient with respect to the real samples: call "
            "real.requires_grad_(True) before computing real_logits = discriminator(real)"
        )
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return _per_sample_grad_norm(grad).pow(2).mean()


# ------------------------------------------------------------- image translation
def _check_same_shape(name: str, a: torch.Tensor, b: torch.Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name} needs two tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def l1_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""pix2pix's reconstruction term (Isola et al. 2017, eq. 3), without its weight lambda:

        L_L1(G) = E_{x, y, z} [ ||y - G(x, z)||_1 ]

    the mean absolute difference per pixel and channel between the generator's ``output``
    and the paired ``target``. L1 rather than L2 because it blurs less: the L2 optimum
    is the mean of all plausible outputs, the L1 optimum their median.
    """
    _check_same_shape("l1_loss", output, target)
    return (output - target).abs().mean()


def cycle_loss(
    real_a: torch.Tensor, reconstructed_a: torch.Tensor, real_b: torch.Tensor, reconstructed_b: torch.Tensor
) -> torch.Tensor:
    r"""CycleGAN's cycle-consistency loss (Zhu et al. 2017, eq. 2), without its weight lambda:

        L_cyc(G, F) = E_x [ ||F(G(x)) - x||_1 ] + E_y [ ||G(F(y)) - y||_1 ]

    with G: A -> B and F: B -> A; ``reconstructed_a`` = F(G(real_a)),
    ``reconstructed_b`` = G(F(real_b)). Each expectation is a mean over pixels and channels.
    Translating there and back must return the original: the constraint that lets
    unpaired data pin down *which* image of domain B an image of A should become.
    """
    _check_same_shape("cycle_loss (domain A)", real_a, reconstructed_a)
    _check_same_shape("cycle_loss (domain B)", real_b, reconstructed_b)
    return (reconstructed_a - real_a).abs().mean() + (reconstructed_b - real_b).abs().mean()


def identity_loss(
    real_a: torch.Tensor, identity_a: torch.Tensor, real_b: torch.Tensor, identity_b: torch.Tensor
) -> torch.Tensor:
    r"""CycleGAN's identity loss (Zhu et al. 2017, section 5.2, after Taigman et al.), without its weight:

        L_identity(G, F) = E_y [ ||G(y) - y||_1 ] + E_x [ ||F(x) - x||_1 ]

    ``identity_b`` = G(real_b) (the A -> B generator given an image already in B),
    ``identity_a`` = F(real_a). A generator fed its own target domain should change
    nothing; in practice this keeps colours from drifting (the paper's painting -> photo).
    Both generators must map 3 channels to 3 channels for it to make sense.
    """
    _check_same_shape("identity_loss (domain A)", real_a, identity_a)
    _check_same_shape("identity_loss (domain B)", real_b, identity_b)
    return (identity_a - real_a).abs().mean() + (identity_b - real_b).abs().mean()


def translation_generator_loss(fake_logits: torch.Tensor, kind: str = "lsgan") -> torch.Tensor:
    r"""The generator's adversarial term as pix2pix and CycleGAN write it, ``criterion(D(G(x)), real)``:

        non_saturating:  E[-log D(G(x))] = E[softplus(-t_fake)]   = generator_loss(t, kind)
        lsgan:           E[(t_fake - 1)^2]                        = 2 * generator_loss(t, "lsgan")
        other kinds:     generator_loss(t, kind)

    Deviation from :func:`generator_loss` said out loud: the CycleGAN paper's least-squares
    generator loss (eq. 1's LSGAN form) has no factor 1/2, while Mao et al.'s, used by
    :func:`generator_loss`, has one. The factor matters here because this term is *added*
    to the cycle (or L1) loss: with it, ``cycle_weight=10`` balances the terms as the paper's
    lambda = 10 does. (The papers also halve the discriminator's objective; a constant factor
    on a loss that Adam alone minimises changes nothing, so :func:`discriminator_loss` is used as is.)
    """
    loss = generator_loss(fake_logits, kind)
    return 2.0 * loss if kind == "lsgan" else loss
