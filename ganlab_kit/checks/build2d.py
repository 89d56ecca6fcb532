"""Notebook 01's last part, "Build your first GAN": the reader writes the 2-D GAN itself.

Five exercises on the ring of :func:`ganlab_kit.toy2d.data.make_distribution`, each judged by
what the reader's code *does*, never by its text:

* ``make_toy_discriminator()`` -- a net taking points ``(B, 2)`` to one raw logit each ``(B, 1)``:
  shape, at most :data:`PARAMETER_BUDGET` parameters, not affine, output not squashed;
* ``make_toy_generator()`` -- a net taking noise ``(B, NOISE_DIM)`` to points ``(B, 2)``: the same,
  and its points can reach past +-1.5 in each coordinate (the ring has radius 1.2);
* ``toy_discriminator_step(generator, discriminator, optimizer, real, noise)`` and
* ``toy_generator_step(generator, discriminator, optimizer, noise)`` -- run for
  :data:`STEP_CHECK_STEPS` steps on copies of the same seeded nets and batches as the kit's
  :func:`ganlab_kit.toy2d.steps.discriminator_step` / ``generator_step``, with plain SGD (whose
  update is the gradient itself, so the comparison is of gradients); the updated weights must
  agree to :data:`STEP_RTOL` / :data:`STEP_ATOL`, the other net must be untouched, the returned
  loss must be the kit's; the usual mistakes are named by replaying them;
* ``train_toy_gan(generator, discriminator, sample_real, sample_noise, steps)`` -- trains the kit's
  seeded nets for :data:`LOOP_STEPS` steps; the generator must then be within JS
  :data:`LOOP_JS` of the ring (the lab's 30 x 30 grid estimate, from 4000 samples).

These exercises have no stored cases: :class:`~ganlab_kit.checks.core.Exercise` ``behaviour``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..toy2d.coverage import mode_coverage
from ..toy2d.data import Distribution2D, make_distribution
from ..toy2d.divergence import divergences
from .core import Exercise, register

NOISE_DIM = 4  # the generator's input: z ~ N(0, I) in 4 dimensions
PARAMETER_BUDGET = 10_000  # trainable parameters per net, at most
BATCH_SIZE = 256
LEARNING_RATE = 2e-3  # Adam, both nets
BETAS = (0.5, 0.999)
LOOP_STEPS = 1500
LOOP_JS = 0.3  # the trained generator's JS to the ring must be at most this
EVAL_SAMPLES = 4000
EVAL_SEED = 1234
STEP_CHECK_STEPS = 3  # steps replayed by the step checks (a missing zero_grad shows from the 2nd)
STEP_CHECK_LR = 0.1  # plain SGD in the step checks
STEP_RTOL, STEP_ATOL = 1e-4, 1e-6
STEP_SEEDS = (0, 1)
HIDDEN_STEP_SEEDS = (5, 6)  # graded labs' hidden probes: other nets, batches and batch size
HIDDEN_BATCH_SIZE = 64
HIDDEN_LOOP_STEPS = 6
REACH = 1.5  # how far the generator's points must be able to go in each coordinate


# ------------------------------------------------------------------ references
def make_toy_discriminator() -> nn.Module:
    """points (B, 2) -> logits (B, 1): two hidden layers of 64, LeakyReLU(0.2); 4,417 parameters."""
    return nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))


def make_toy_generator() -> nn.Module:
    """noise (B, NOISE_DIM) -> points (B, 2): two hidden layers of 64, ReLU, linear output."""
    return nn.Sequential(nn.Linear(NOISE_DIM, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))


def toy_discriminator_step(
    generator: nn.Module,
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    noise: torch.Tensor,
) -> float:
    """The kit's D step (non-saturating GAN, no penalty); returns D's loss."""
    from ..toy2d.run import Toy2DHyper
    from ..toy2d.steps import discriminator_step

    hyper = Toy2DHyper(loss="non_saturating", gradient_penalty=0.0, r1=0.0)
    return float(discriminator_step(generator, discriminator, optimizer, real, noise, hyper)["d_loss"])


def toy_generator_step(
    generator: nn.Module, discriminator: nn.Module, optimizer: torch.optim.Optimizer, noise: torch.Tensor
) -> float:
    """The kit's G step (non-saturating); returns G's loss."""
    from ..toy2d.run import Toy2DHyper
    from ..toy2d.steps import generator_step

    hyper = Toy2DHyper(loss="non_saturating", gradient_penalty=0.0, r1=0.0)
    metrics, _ = generator_step(generator, discriminator, optimizer, noise, hyper)
    return float(metrics["g_loss"])


def train_toy_gan(
    generator: nn.Module,
    discriminator: nn.Module,
    sample_real: Callable[[int], torch.Tensor],
    sample_noise: Callable[[int], torch.Tensor],
    steps: int,
) -> list[dict[str, float]]:
    """The reference loop: Adam for both, then ``steps`` times one D step and one G step."""
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=LEARNING_RATE, betas=BETAS)
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=LEARNING_RATE, betas=BETAS)
    history = []
    for _ in range(steps):
        d_loss = toy_discriminator_step(
            generator, discriminator, d_optimizer, sample_real(BATCH_SIZE), sample_noise(BATCH_SIZE)
        )
        g_loss = toy_generator_step(generator, discriminator, g_optimizer, sample_noise(BATCH_SIZE))
        history.append({"d_loss": d_loss, "g_loss": g_loss})
    return history


# ------------------------------------------------------------------ helpers
def ring() -> Distribution2D:
    return make_distribution("ring")


def evaluate_generator(generator: nn.Module, distribution: Distribution2D | None = None) -> dict[str, float]:
    """JS (the lab's 30 x 30 grid estimate) and modes hit, from EVAL_SAMPLES fresh samples
    drawn with their own seed, as :meth:`ganlab_kit.toy2d.run.Toy2DRun.evaluate` does."""
    distribution = distribution or ring()
    rng = torch.Generator().manual_seed(EVAL_SEED)
    real = distribution.sample(EVAL_SAMPLES, rng)
    with torch.no_grad():
        fake = generator(torch.randn(EVAL_SAMPLES, NOISE_DIM, generator=rng))
    result = divergences(real, fake)
    coverage = mode_coverage(fake, distribution.modes, distribution.mode_std)
    return {"js": result["js"], "modes_hit": float(coverage.modes_hit), "high_quality": coverage.high_quality}


def seeded_nets(seed: int) -> tuple[nn.Module, nn.Module]:
    """The kit's generator and discriminator, initialised from ``seed``."""
    torch.manual_seed(seed)
    generator = make_toy_generator()
    discriminator = make_toy_discriminator()
    return generator, discriminator


def _call_maker(maker: Callable[[], Any], what: str) -> nn.Module:
    torch.manual_seed(0)
    net = maker()
    if not isinstance(net, nn.Module):
        raise _Problem(f"make_toy_{what}() returned a {type(net).__name__}; return an nn.Module (e.g. nn.Sequential).")
    return net


class _Problem(Exception):
    """A finding about the reader's code (not a crash of the reader's code)."""


def _shape_and_budget(net: nn.Module, in_dim: int, out_dim: int, what: str) -> None:
    for batch in (1, 5, BATCH_SIZE):
        try:
            with torch.no_grad():
                out = net(torch.randn(batch, in_dim))
        except RuntimeError as error:
            raise _Problem(
                f"your {what} failed on an input of shape ({batch}, {in_dim}): {error}. Its first layer must take "
                f"{in_dim} numbers per row (nn.Linear({in_dim}, ...))."
            ) from None
        if not isinstance(out, torch.Tensor):
            raise _Problem(f"your {what} returned a {type(out).__name__}; return a tensor.")
        if tuple(out.shape) != (batch, out_dim):
            raise _Problem(
                f"shape: for input ({batch}, {in_dim}) your {what} gives {tuple(out.shape)}; expected "
                f"({batch}, {out_dim})"
                + (": one logit per point, keep the last dim (no squeeze)." if out_dim == 1 else ".")
            )
        if not torch.isfinite(out).all():
            raise _Problem(f"your {what} gives NaN or inf on ordinary inputs.")
    count = sum(p.numel() for p in net.parameters() if p.requires_grad)
    if count == 0:
        raise _Problem(f"your {what} has no trainable parameters.")
    if count > PARAMETER_BUDGET:
        raise _Problem(
            f"your {what} has {count:,} trainable parameters; the budget is {PARAMETER_BUDGET:,} "
            "(two hidden layers of 64 are plenty for the ring)."
        )


def _not_affine_or_constant(net: nn.Module, in_dim: int, what: str) -> None:
    torch.manual_seed(1)
    x = 1.5 * torch.randn(64, in_dim)
    with torch.no_grad():
        plus, minus, zero = net(x), net(-x), net(torch.zeros(1, in_dim))
    if (plus - plus.mean(dim=0)).abs().max() < 1e-6:
        raise _Problem(f"your {what} gives the same output for every input: it must depend on its input.")
    # an affine f has f(x) + f(-x) = 2 f(0) everywhere
    if (plus + minus - 2 * zero).abs().max() < 1e-4 * (1 + plus.abs().max()):
        raise _Problem(
            f"your {what} is affine (a straight linear map): no hidden layer with a nonlinearity between "
            "Linear layers, so it cannot bend a plane into a ring. Add e.g. nn.ReLU() between them."
        )


def _reach(net: nn.Module, inputs: torch.Tensor, column: int, sign: float) -> float:
    """How far ``sign * mean(output[:, column])`` can be pushed by 150 Adam steps on a copy."""
    trial = copy.deepcopy(net)
    optimizer = torch.optim.Adam(trial.parameters(), lr=2e-2)
    for _ in range(150):
        value = sign * trial(inputs)[:, column].mean()
        optimizer.zero_grad()
        (-value).backward()
        optimizer.step()
    with torch.no_grad():
        return float(sign * trial(inputs)[:, column].mean())


# ------------------------------------------------------------------ behaviour checks
def _check_discriminator(maker: Callable[[], Any]) -> tuple[bool, str]:
    try:
        net = _call_maker(maker, "discriminator")
        _shape_and_budget(net, 2, 1, "discriminator")
        _not_affine_or_constant(net, 2, "discriminator")
        points = ring().sample(BATCH_SIZE, torch.Generator().manual_seed(0))
        up, down = _reach(net, points, 0, 1.0), _reach(net, points, 0, -1.0)
    except _Problem as problem:
        return False, str(problem)
    if up < REACH or down < REACH:
        return False, (
            f"output range: trained to push its output up, your discriminator reached {up:.3g}, and down "
            f"{-down:.3g}. It must return a raw logit (any real number): no sigmoid, tanh or ReLU after the "
            "last Linear; the losses apply the sigmoid themselves (softplus)."
        )
    count = sum(p.numel() for p in net.parameters() if p.requires_grad)
    return True, f"(B, 2) -> (B, 1) logits, {count:,} parameters (budget {PARAMETER_BUDGET:,}), nonlinear, unbounded."


def _check_generator(maker: Callable[[], Any]) -> tuple[bool, str]:
    try:
        net = _call_maker(maker, "generator")
        _shape_and_budget(net, NOISE_DIM, 2, "generator")
        _not_affine_or_constant(net, NOISE_DIM, "generator")
        noise = torch.randn(BATCH_SIZE, NOISE_DIM, generator=torch.Generator().manual_seed(0))
        reached = [_reach(net, noise, column, sign) for column in (0, 1) for sign in (1.0, -1.0)]
    except _Problem as problem:
        return False, str(problem)
    if min(reached) < REACH:
        return False, (
            f"output range: trained to move its points, your generator's coordinates reached only "
            f"{min(reached):.3g} in some direction; the ring has radius 1.2, so points must reach past "
            f"+-{REACH}. Leave the last Linear without tanh or sigmoid (a plain linear output)."
        )
    count = sum(p.numel() for p in net.parameters() if p.requires_grad)
    return True, (
        f"(B, {NOISE_DIM}) noise -> (B, 2) points, {count:,} parameters (budget {PARAMETER_BUDGET:,}), "
        f"nonlinear, reaches past +-{REACH}."
    )


def _flat(net: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in net.parameters()]).double()


def _grads_left(net: nn.Module) -> float:
    return max((float(p.grad.abs().max()) for p in net.parameters() if p.grad is not None), default=0.0)


def _replay(step: Callable[..., Any], seed: int, which: str, batch: int = BATCH_SIZE) -> dict[str, Any]:
    """Run ``step`` STEP_CHECK_STEPS times on the kit's nets of ``seed``, with SGD over the net it
    trains and batches from a seeded stream; return the weights after, the other net's change,
    the gradients left on the other net, and the first returned loss."""
    generator, discriminator = seeded_nets(seed)
    trained, other = (discriminator, generator) if which == "discriminator" else (generator, discriminator)
    other_before = _flat(other)
    optimizer = torch.optim.SGD(trained.parameters(), lr=STEP_CHECK_LR)
    rng = torch.Generator().manual_seed(1000 + seed)
    distribution = ring()
    losses = []
    for _ in range(STEP_CHECK_STEPS):
        noise = torch.randn(batch, NOISE_DIM, generator=rng)
        if which == "discriminator":
            real = distribution.sample(batch, rng)
            losses.append(step(generator, discriminator, optimizer, real, noise))
        else:
            losses.append(step(generator, discriminator, optimizer, noise))
    return {
        "weights": _flat(trained),
        "start": _flat(seeded_nets(seed)[0 if which == "generator" else 1]),
        "other_change": float((_flat(other) - other_before).abs().max()),
        "other_grad": _grads_left(other),
        "trainable": all(p.requires_grad for p in (*generator.parameters(), *discriminator.parameters())),
        "loss": losses[0],
    }


def _d_variant(mistake: str) -> Callable[..., Any]:
    """A D step with one of the usual mistakes (to name the reader's)."""

    def step(generator, discriminator, optimizer, real, noise):
        fake = generator(noise) if mistake == "no_detach" else generator(noise).detach()
        real_logits, fake_logits = discriminator(real), discriminator(fake)
        reduce = torch.sum if mistake == "sum" else torch.mean
        if mistake == "swapped":
            loss = reduce(F.softplus(real_logits)) + reduce(F.softplus(-fake_logits))
        elif mistake == "real_only":
            loss = reduce(F.softplus(-real_logits))
        elif mistake == "fake_only":
            loss = reduce(F.softplus(fake_logits))
        else:
            loss = reduce(F.softplus(-real_logits)) + reduce(F.softplus(fake_logits))
        if mistake == "negated":
            loss = -loss
        if mistake != "no_zero_grad":
            optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def _g_variant(mistake: str) -> Callable[..., Any]:
    """A G step with one of the usual mistakes (to name the reader's)."""

    def step(generator, discriminator, optimizer, noise):
        fake_logits = discriminator(generator(noise))
        reduce = torch.sum if mistake == "sum" else torch.mean
        if mistake == "d_loss":  # D's term for fakes: makes fakes look *more* fake
            loss = reduce(F.softplus(fake_logits))
        elif mistake == "saturating":  # log(1 - D(G(z)))
            loss = reduce(-F.softplus(fake_logits))
        else:
            loss = reduce(F.softplus(-fake_logits))
        if mistake == "negated":
            loss = -loss
        if mistake != "no_zero_grad":
            optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


D_MISTAKES = {
    "swapped": "labels swapped: real points must get target 1 (softplus(-t_real)) and fakes target 0 "
    "(softplus(t_fake))",
    "negated": "wrong sign: your step climbs D's loss instead of descending it",
    "no_zero_grad": "no optimizer.zero_grad(): gradients pile up from one step to the next (the first step is right)",
    "real_only": "the fake term is missing: D's loss is mean softplus(-D(real)) + mean softplus(D(fake))",
    "fake_only": "the real term is missing: D's loss is mean softplus(-D(real)) + mean softplus(D(fake))",
    "sum": "a sum where a mean was meant: your update is {batch} times the kit's (the batch size)",
}
G_MISTAKES = {
    "d_loss": "G trained on the discriminator's loss: that makes fakes look *more* fake. G wants D to say "
    "'real' on its fakes: mean softplus(-D(G(z)))",
    "saturating": "the saturating loss log(1 - D(G(z))) (section 4): use the non-saturating -log D(G(z)) = "
    "softplus(-logit)",
    "negated": "wrong sign: your step climbs G's loss instead of descending it",
    "no_zero_grad": "no optimizer.zero_grad(): gradients pile up from one step to the next (the first step is right)",
    "sum": "a sum where a mean was meant: your update is {batch} times the kit's (the batch size)",
}


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.allclose(a, b, rtol=STEP_RTOL, atol=STEP_ATOL)


def _check_step(
    func: Callable[..., Any], which: str, seeds: tuple[int, ...] = STEP_SEEDS, batch: int = BATCH_SIZE
) -> tuple[bool, str]:
    reference = toy_discriminator_step if which == "discriminator" else toy_generator_step
    other = "generator" if which == "discriminator" else "discriminator"
    variant = _d_variant if which == "discriminator" else _g_variant
    mistakes = D_MISTAKES if which == "discriminator" else G_MISTAKES
    for seed in seeds:
        where = f"(kit's nets of seed {seed}, {STEP_CHECK_STEPS} steps of SGD lr {STEP_CHECK_LR}, batch {batch})"
        mine, kit = _replay(func, seed, which, batch), _replay(reference, seed, which, batch)
        if mine["other_change"] > 0:
            return (
                False,
                f"the {other}'s weights changed in your {which} step: it must update the {which} only {where}.",
            )
        if which == "discriminator" and mine["other_grad"] > 0:
            return False, (
                "the generator got gradients in your discriminator step: compute the fakes under torch.no_grad() "
                "(or .detach() them). D's loss is not G's, and gradients left on G would leak into G's next "
                f"update if its optimizer did not zero them first {where}."
            )
        if not mine["trainable"]:
            return False, f"a net is left frozen (requires_grad False) after your step: unfreeze it {where}."
        if _same(mine["weights"], mine["start"]):
            because = (
                "are the fakes detached or made under torch.no_grad()? G's gradient must flow through D into G; "
                if which == "generator"
                else ""
            )
            return (
                False,
                f"your step did not change the {which}'s weights: {because}call loss.backward() and "
                f"optimizer.step() {where}.",
            )
        if not _same(mine["weights"], kit["weights"]):
            for mistake, reason in mistakes.items():
                if _same(mine["weights"], _replay(variant(mistake), seed, which, batch)["weights"]):
                    return False, f"{reason.format(batch=batch)} {where}."
            change = (mine["weights"] - kit["weights"]).abs().max().item()
            return False, (
                f"your updated {which} weights differ from the kit's by up to {change:.3g} {where}. "
                "Check the loss (non-saturating, from logits), zero_grad, backward, step."
            )
        try:
            loss = float(mine["loss"])
        except (TypeError, ValueError):
            return (
                False,
                f"your weights are right, but return the loss as a number (loss.item()), not {mine['loss']!r}.",
            )
        if abs(loss - kit["loss"]) > 1e-4 * (1 + abs(kit["loss"])):
            return False, (
                f"your weights are right, but the returned loss {loss:.5g} is not the step's loss {kit['loss']:.5g} "
                f"(return loss.item() of the loss you minimised) {where}."
            )
    return True, (
        f"weights equal to the kit's {which} step after {STEP_CHECK_STEPS} steps on {len(seeds)} seeds "
        f"(rtol {STEP_RTOL:g}, atol {STEP_ATOL:g}); the {other} untouched; the loss returned."
    )


def run_training_loop(
    func: Callable[..., Any], seed: int = 0, steps: int = LOOP_STEPS
) -> tuple[nn.Module, dict[str, float]]:
    """Train the kit's nets of ``seed`` with ``func`` on the ring; return the generator and its evaluation."""
    generator, discriminator = seeded_nets(seed)
    rng = torch.Generator().manual_seed(seed)
    distribution = ring()

    def sample_real(n: int) -> torch.Tensor:
        return distribution.sample(n, rng)

    def sample_noise(n: int) -> torch.Tensor:
        return torch.randn(n, NOISE_DIM, generator=rng)

    func(generator, discriminator, sample_real, sample_noise, steps)
    return generator, evaluate_generator(generator, distribution)


def _check_loop(func: Callable[..., Any]) -> tuple[bool, str]:
    _, result = run_training_loop(func)
    summary = (
        f"after {LOOP_STEPS} steps on the kit's nets (seed 0), JS to the ring = {result['js']:.3f} "
        f"(needed: at most {LOOP_JS}), {int(result['modes_hit'])} of 8 modes hit"
    )
    if result["js"] <= LOOP_JS:
        return True, summary + "."
    return False, summary + (
        ". Check the loop: one D step (fakes detached, zero_grad, backward, step) then one G step "
        f"(fakes not detached, G's own loss), Adam lr {LEARNING_RATE:g} betas {BETAS}, batch {BATCH_SIZE}."
    )


# ------------------------------------------------------------------ hidden probes (graded labs)
def _fresh_each_call(maker: Callable[[], Any], what: str) -> None:
    first, second = _call_maker(maker, what), _call_maker(maker, what)
    shared = {id(p) for p in first.parameters()} & {id(p) for p in second.parameters()}
    if first is second or shared:
        raise _Problem(
            f"make_toy_{what}() gave the same net (or shared weights) on two calls: build a fresh one inside the "
            "function each time (a net made once outside it would be trained by every run that asks for a new one)."
        )


def _far_inputs(net: nn.Module, in_dim: int, out_dim: int, scale: float, what: str) -> None:
    x = scale * torch.randn(7, in_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        out = net(x)
    if tuple(out.shape) != (7, out_dim) or not torch.isfinite(out).all():
        raise _Problem(f"your {what} gives a wrong shape or NaN/inf for inputs of size ~{scale:g}.")


def _hidden_net(maker: Callable[[], Any], what: str, in_dim: int, out_dim: int, scale: float) -> tuple[bool, str]:
    try:
        _fresh_each_call(maker, what)
        _far_inputs(_call_maker(maker, what), in_dim, out_dim, scale, what)
    except _Problem as problem:
        return False, str(problem)
    return True, f"a fresh {what} each call; finite ({out_dim}-wide) outputs for inputs of size ~{scale:g}."


def _hidden_loop(func: Callable[..., Any]) -> tuple[bool, str]:
    """The loop honours ``steps`` (one real batch of BATCH_SIZE per D step) and trains both nets."""
    generator, discriminator = seeded_nets(HIDDEN_STEP_SEEDS[0])
    g_before, d_before = _flat(generator), _flat(discriminator)
    distribution, rng = ring(), torch.Generator().manual_seed(HIDDEN_STEP_SEEDS[0])
    sizes: list[int] = []

    def sample_real(n: int) -> torch.Tensor:
        sizes.append(int(n))
        return distribution.sample(n, rng)

    def sample_noise(n: int) -> torch.Tensor:
        return torch.randn(n, NOISE_DIM, generator=rng)

    func(generator, discriminator, sample_real, sample_noise, HIDDEN_LOOP_STEPS)
    if len(sizes) != HIDDEN_LOOP_STEPS:
        return False, (
            f"asked for {HIDDEN_LOOP_STEPS} steps, your loop drew {len(sizes)} batches of real points: run exactly "
            "`steps` iterations (for _ in range(steps)), one D step on one real batch each, not a fixed number."
        )
    if any(size != BATCH_SIZE for size in sizes):
        return False, f"your loop drew real batches of {sorted(set(sizes))} points; use {BATCH_SIZE}."
    if _same(_flat(generator), g_before) or _same(_flat(discriminator), d_before):
        which = "generator" if _same(_flat(generator), g_before) else "discriminator"
        return False, f"after {HIDDEN_LOOP_STEPS} steps your loop left the {which}'s weights unchanged."
    return (
        True,
        f"{HIDDEN_LOOP_STEPS} steps asked, {HIDDEN_LOOP_STEPS} real batches of {BATCH_SIZE}; both nets trained.",
    )


def _no_inputs(rng: torch.Generator) -> tuple[torch.Tensor, ...]:
    raise TypeError("this exercise is checked by behaviour, not on inputs")


for _exercise in [
    Exercise(
        name="make_toy_discriminator",
        task=f"make_toy_discriminator() returns a fresh nn.Module taking points (B, 2) to one raw logit each "
        f"(B, 1): nonlinear, at most {PARAMETER_BUDGET:,} parameters, no sigmoid at the end.",
        reference=make_toy_discriminator,
        random_inputs=_no_inputs,
        hint="nn.Sequential of Linear(2, 64), a nonlinearity (LeakyReLU(0.2)), Linear(64, 64), the nonlinearity, "
        "Linear(64, 1). No sigmoid: the losses work on logits.",
        solution=(
            "from torch import nn\n"
            "def make_toy_discriminator():\n"
            "    return nn.Sequential(\n"
            "        nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1)\n"
            "    )\n"
        ),
        behaviour=_check_discriminator,
        hidden=lambda maker: _hidden_net(maker, "discriminator", 2, 1, 10.0),
    ),
    Exercise(
        name="make_toy_generator",
        task=f"make_toy_generator() returns a fresh nn.Module taking noise (B, {NOISE_DIM}) to points (B, 2): "
        f"nonlinear, at most {PARAMETER_BUDGET:,} parameters, a plain linear output that can reach the whole ring.",
        reference=make_toy_generator,
        random_inputs=_no_inputs,
        hint=f"nn.Sequential of Linear({NOISE_DIM}, 64), ReLU, Linear(64, 64), ReLU, Linear(64, 2); "
        "no tanh at the end: the ring reaches past 1 in each coordinate.",
        solution=(
            "from torch import nn\n"
            "def make_toy_generator():\n"
            f"    return nn.Sequential(nn.Linear({NOISE_DIM}, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), "
            "nn.Linear(64, 2))\n"
        ),
        behaviour=_check_generator,
        hidden=lambda maker: _hidden_net(maker, "generator", NOISE_DIM, 2, 4.0),
    ),
    Exercise(
        name="toy_discriminator_step",
        task="toy_discriminator_step(generator, discriminator, optimizer, real, noise): one update of D with the "
        "GAN loss mean softplus(-D(real)) + mean softplus(D(G(noise))), fakes detached; return the loss (a float).",
        reference=toy_discriminator_step,
        random_inputs=_no_inputs,
        hint="with torch.no_grad(): fake = generator(noise). loss = F.softplus(-discriminator(real)).mean() + "
        "F.softplus(discriminator(fake)).mean(); optimizer.zero_grad(); loss.backward(); optimizer.step(); "
        "return loss.item().",
        solution=(
            "import torch\n"
            "import torch.nn.functional as F\n"
            "def toy_discriminator_step(generator, discriminator, optimizer, real, noise):\n"
            "    with torch.no_grad():\n"
            "        fake = generator(noise)  # (B, 2); G is not trained here\n"
            "    loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake)).mean()\n"
            "    optimizer.zero_grad()\n"
            "    loss.backward()\n"
            "    optimizer.step()\n"
            "    return loss.item()\n"
        ),
        behaviour=lambda func: _check_step(func, "discriminator"),
        hidden=lambda func: _check_step(func, "discriminator", HIDDEN_STEP_SEEDS, HIDDEN_BATCH_SIZE),
    ),
    Exercise(
        name="toy_generator_step",
        task="toy_generator_step(generator, discriminator, optimizer, noise): one update of G with the "
        "non-saturating loss mean softplus(-D(G(noise))), gradients through D into G; return the loss (a float).",
        reference=toy_generator_step,
        random_inputs=_no_inputs,
        hint="fake = generator(noise) (not detached: G learns through D); loss = "
        "F.softplus(-discriminator(fake)).mean(); zero_grad, backward, step (the optimizer holds G's "
        "parameters only, so D does not move); return loss.item().",
        solution=(
            "import torch.nn.functional as F\n"
            "def toy_generator_step(generator, discriminator, optimizer, noise):\n"
            "    fake = generator(noise)  # (B, 2), with its graph: G's gradient comes through D\n"
            "    loss = F.softplus(-discriminator(fake)).mean()  # -log D(G(z)), non-saturating\n"
            "    optimizer.zero_grad()\n"
            "    loss.backward()\n"
            "    optimizer.step()\n"
            "    return loss.item()\n"
        ),
        behaviour=lambda func: _check_step(func, "generator"),
        hidden=lambda func: _check_step(func, "generator", HIDDEN_STEP_SEEDS, HIDDEN_BATCH_SIZE),
    ),
    Exercise(
        name="train_toy_gan",
        task=f"train_toy_gan(generator, discriminator, sample_real, sample_noise, steps): make two Adam optimizers "
        f"(lr {LEARNING_RATE:g}, betas {BETAS}) and run `steps` times one D step and one G step on batches of "
        f"{BATCH_SIZE}. Checked: after {LOOP_STEPS} steps the generator's JS to the ring is at most {LOOP_JS}.",
        reference=train_toy_gan,
        random_inputs=_no_inputs,
        hint="Two optimizers, one per net. Each step: real = sample_real(256), noise = sample_noise(256); "
        "the D step; then fresh noise and the G step. Your two step functions above do exactly this.",
        solution=(
            "import torch\n"
            "import torch.nn.functional as F\n"
            "def train_toy_gan(generator, discriminator, sample_real, sample_noise, steps):\n"
            f"    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr={LEARNING_RATE:g}, betas={BETAS})\n"
            f"    g_optimizer = torch.optim.Adam(generator.parameters(), lr={LEARNING_RATE:g}, betas={BETAS})\n"
            "    for _ in range(steps):\n"
            "        real, noise = sample_real(256), sample_noise(256)\n"
            "        with torch.no_grad():\n"
            "            fake = generator(noise)\n"
            "        d_loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake)).mean()\n"
            "        d_optimizer.zero_grad()\n"
            "        d_loss.backward()\n"
            "        d_optimizer.step()\n"
            "        g_loss = F.softplus(-discriminator(generator(sample_noise(256)))).mean()\n"
            "        g_optimizer.zero_grad()\n"
            "        g_loss.backward()\n"
            "        g_optimizer.step()\n"
        ),
        behaviour=_check_loop,
        hidden=_hidden_loop,
    ),
]:
    register(_exercise)
