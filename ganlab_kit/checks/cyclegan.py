"""Notebook 07's exercises (CycleGAN): the cycle loss, the image pool's rule, one generator step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .. import losses
from .core import Exercise, register


# a. The cycle-consistency loss, weighted: lambda * (mean |F(G(a)) - a| + mean |G(F(b)) - b|).
def _weighted_cycle_loss(
    real_a: torch.Tensor, reconstructed_a: torch.Tensor, real_b: torch.Tensor, reconstructed_b: torch.Tensor, weight
) -> torch.Tensor:
    return float(weight) * losses.cycle_loss(real_a, reconstructed_a, real_b, reconstructed_b)


def _cycle_inputs(rng: torch.Generator) -> tuple[torch.Tensor, ...]:
    images = [torch.rand((2, 3, 4, 4), generator=rng) * 2 - 1 for _ in range(4)]
    weight = torch.tensor(float(torch.randint(2, 13, (), generator=rng)))
    return (*images, weight)


def _cycle_stored() -> list[tuple[torch.Tensor, ...]]:
    # Hand-made: the two directions err by different amounts (0.25 and 0.5 per pixel), so
    # "one direction only" and "L2 instead of L1" each give a number of their own.
    a, b = torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5)
    return [
        (a, a + 0.25, b, b - 0.5, torch.tensor(10.0)),
        (a, a + torch.linspace(-1, 1, 12).view(1, 3, 2, 2), b, b.flip(0) * 0.2, torch.tensor(3.0)),
        _cycle_inputs(torch.Generator().manual_seed(7)),
    ]


def _cycle_loss_mistake(result: torch.Tensor, expected: torch.Tensor, args: tuple[torch.Tensor, ...]) -> str | None:
    real_a, rec_a, real_b, rec_b, weight = args
    w = float(weight)
    l1_a, l1_b = (rec_a - real_a).abs().mean().item(), (rec_b - real_b).abs().mean().item()
    l2_a, l2_b = ((rec_a - real_a) ** 2).mean().item(), ((rec_b - real_b) ** 2).mean().item()
    where = f"(weight {w:g}: the answer is {expected.item():.5g}, you gave {result.item():.5g})"
    candidates = [
        (w * (l2_a + l2_b), "L2 instead of L1: the cycle loss is the mean *absolute* difference, not the squared one"),
        (l2_a + l2_b, "L2 instead of L1, and the weight is missing"),
        (w * l1_a, "one direction only: you have a -> B -> a; add b -> A -> b (both reconstructions)"),
        (w * l1_b, "one direction only: you have b -> A -> b; add a -> B -> a (both reconstructions)"),
        (l1_a + l1_b, "the weight is missing: multiply the sum of the two L1 terms by the weight (lambda)"),
        (w * w * (l1_a + l1_b), "the weight is applied twice: multiply by lambda once"),
        (w * l1_a + l1_b, "the weight is applied to the A direction only: lambda multiplies both terms"),
        (l1_a + w * l1_b, "the weight is applied to the B direction only: lambda multiplies both terms"),
        (w * (l1_a + l1_b) / 2, "half the answer: the two directions are added, not averaged"),
    ]
    for value, reason in candidates:
        if abs(value - expected.item()) > 1e-6 and abs(result.item() - value) <= 1e-5 + 1e-4 * abs(value):
            return f"{reason} {where}."
    return None


register(
    Exercise(
        name="cycle_loss",
        task="The weighted cycle-consistency loss: weight * (mean |reconstructed_a - real_a| + "
        "mean |reconstructed_b - real_b|), one number.",
        reference=_weighted_cycle_loss,
        random_inputs=_cycle_inputs,
        hint="Both round trips count: a -> B -> a and b -> A -> b. Each is an L1 (mean absolute) error; "
        "add the two, then multiply by the weight once.",
        solution=(
            "def cycle_loss(real_a, reconstructed_a, real_b, reconstructed_b, weight):\n"
            "    forward = (reconstructed_a - real_a).abs().mean()   # a -> B -> a\n"
            "    backward = (reconstructed_b - real_b).abs().mean()  # b -> A -> b\n"
            "    return weight * (forward + backward)\n"
        ),
        call=lambda func, args: func(*args[:4], float(args[4])),
        explain=_cycle_loss_mistake,
        stored_inputs=_cycle_stored,
        reader_reference=_weighted_cycle_loss,
    )
)


# b. The image pool's query rule, as a function over a plain list of stored images.
POOL_EMPTY = -5.0  # marks an unfilled slot in the checker's summary (images are in [-1, 1])


def _pool_query_reference(
    stored: list[torch.Tensor], size: int, fakes: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """The rule of :class:`~ganlab_kit.train.image_pool.ImagePool` with the reader's signature."""
    out = fakes.clone()
    for i in range(fakes.shape[0]):
        if len(stored) < size:
            stored.append(fakes[i].clone())
        elif float(torch.rand((), generator=generator)) < 0.5:
            slot = int(torch.randint(0, size, (), generator=generator))
            out[i] = stored[slot]
            stored[slot] = fakes[i].clone()
    return out


def _pool_summary(outputs: list[torch.Tensor], stored: list[torch.Tensor], size: int, shape) -> torch.Tensor:
    """Every query's answer, then the pool's slots at the end (unfilled: POOL_EMPTY): (Q*B + size, C, H, W)."""
    pool = torch.full((size, *shape), POOL_EMPTY)
    for slot, image in enumerate(list(stored)[:size]):
        pool[slot] = torch.as_tensor(image, dtype=torch.float32).reshape(shape)
    answers = [torch.as_tensor(o, dtype=torch.float32).reshape(-1, *shape) for o in outputs]
    return torch.cat([*answers, pool])


def _run_reader_pool(func: Callable[..., Any], args: tuple[torch.Tensor, ...]) -> torch.Tensor:
    batches, size, seed = args[0], int(args[1]), int(args[2])
    stored: list[torch.Tensor] = []
    generator = torch.Generator().manual_seed(seed)
    outputs = []
    for batch in batches:  # (B, C, H, W) each query
        answer = func(stored, size, batch.clone(), generator)
        if answer is None:
            raise ValueError("your function returned None: return the images to show the discriminator")
        outputs.append(answer.detach() if isinstance(answer, torch.Tensor) else answer)
    return _pool_summary(outputs, stored, size, batches.shape[2:])


def _pool_reference(batches: torch.Tensor, size: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
    """The kit's ImagePool on the same queries and seed."""
    from ..train.image_pool import ImagePool

    pool = ImagePool(int(size), seed=int(seed))
    outputs = [pool.query(batch) for batch in batches]
    kept = list(pool.images[: pool.count]) if pool.images is not None else []
    return _pool_summary(outputs, kept, int(size), batches.shape[2:])


def _pool_inputs(rng: torch.Generator) -> tuple[torch.Tensor, ...]:
    queries, batch = int(torch.randint(4, 9, (), generator=rng)), int(torch.randint(1, 4, (), generator=rng))
    size = int(torch.randint(1, 6, (), generator=rng))
    seed = int(torch.randint(0, 1000, (), generator=rng))
    return (torch.rand((queries, batch, 1, 2, 2), generator=rng) * 2 - 1, torch.tensor(size), torch.tensor(seed))


def _pool_stored() -> list[tuple[torch.Tensor, ...]]:
    rng = torch.Generator().manual_seed(50)
    # 8 queries of 3 distinct images into a pool of 4: it fills in the second query, then swaps.
    return [
        (torch.rand((8, 3, 1, 2, 2), generator=rng) * 2 - 1, torch.tensor(4), torch.tensor(0)),
        (torch.rand((6, 1, 3, 2, 2), generator=rng) * 2 - 1, torch.tensor(2), torch.tensor(11)),
    ]


def _pool_variant(batches: torch.Tensor, size: int, seed: int, kind: str) -> torch.Tensor:
    """The usual mistakes, run on the same queries (for naming them)."""
    stored: list[torch.Tensor] = []
    generator = torch.Generator().manual_seed(seed)
    outputs = []
    for batch in batches:
        out = batch.clone()
        for i in range(batch.shape[0]):
            if kind == "never_store":
                continue
            if len(stored) < size:
                stored.append(batch[i].clone())
                continue
            coin = float(torch.rand((), generator=generator)) if kind != "always_swap" else 0.0
            if coin >= 0.5 and kind != "always_swap_drawn":  # the drawn coin ignored: swapped anyway
                continue
            slot = int(torch.randint(0, size, (), generator=generator))
            if kind != "store_show_new":
                out[i] = stored[slot]
            if kind != "no_replace":
                stored[slot] = batch[i].clone()
        outputs.append(out)
    return _pool_summary(outputs, stored, size, batches.shape[2:])


def _pool_mistake(result: torch.Tensor, expected: torch.Tensor, args: tuple[torch.Tensor, ...]) -> str | None:
    batches, size, seed = args[0], int(args[1]), int(args[2])
    answers = batches.shape[0] * batches.shape[1]
    where = f"(a pool of {size}, {batches.shape[0]} queries of {batches.shape[1]} image(s), seed {seed})"
    reasons = {
        "never_store": "never storing: your pool stays empty, so every fake is shown as it is and the "
        "discriminator never sees an old one. While the pool holds fewer than `size` images, append each new "
        "fake (and show it)",
        "always_swap": "always returning a stored image once the pool is full: flip a coin first "
        "(torch.rand((), generator=generator) < 0.5); only then swap, otherwise show the new fake",
        "always_swap_drawn": "always returning a stored image once the pool is full: you draw the coin but "
        "swap either way; swap only when torch.rand((), generator=generator) < 0.5, otherwise show the new fake",
        "no_replace": "on a swap you show the stored image but do not put the new fake in its slot: the pool "
        "never changes after it fills (store the new fake where the old one was)",
        "store_show_new": "on a swap you store the new fake but show it instead of the old image: show the "
        "image that was in the slot",
    }
    for kind, reason in reasons.items():
        variant = _pool_variant(batches, size, seed, kind)
        if not torch.allclose(variant, expected.float()) and torch.allclose(result.float(), variant):
            return f"{reason} {where}."
    got, want = result[answers:], expected[answers:]
    filled = int((got.flatten(1) != POOL_EMPTY).all(1).sum())
    if filled < int((want.flatten(1) != POOL_EMPTY).all(1).sum()):
        return f"your pool holds {filled} image(s) at the end, the kit's {size}: keep storing until it is full {where}."
    if torch.allclose(result[:answers].float(), batches.reshape(answers, *batches.shape[2:])):
        return f"every fake is shown as it is: once the pool is full, half of them must be swapped {where}."
    return (
        "the answers differ from the kit's ImagePool on the same seed. Draw the random numbers as the kit does, "
        "one image at a time: torch.rand((), generator=generator) < 0.5 to decide, then "
        f"torch.randint(0, size, (), generator=generator) for the slot {where}."
    )


register(
    Exercise(
        name="image_pool_query",
        task="The image pool's query rule: image_pool_query(stored, size, fakes, generator) returns the images to "
        "show the discriminator and updates the list `stored` in place.",
        reference=_pool_reference,
        random_inputs=_pool_inputs,
        hint="Image by image: while len(stored) < size, append the fake and show it. Once full, draw "
        "torch.rand((), generator=generator); below 0.5 pick slot = torch.randint(0, size, (), "
        "generator=generator), show stored[slot] and put the fake there; else show the fake.",
        solution=(
            "def image_pool_query(stored, size, fakes, generator):\n"
            "    out = fakes.clone()\n"
            "    for i in range(fakes.shape[0]):\n"
            "        if len(stored) < size:  # filling up: keep it, show it\n"
            "            stored.append(fakes[i].clone())\n"
            "        elif torch.rand((), generator=generator) < 0.5:  # swap with a random old one\n"
            "            slot = int(torch.randint(0, size, (), generator=generator))\n"
            "            out[i] = stored[slot]\n"
            "            stored[slot] = fakes[i].clone()\n"
            "    return out\n"
        ),
        rtol=0.0,
        atol=1e-6,
        call=_run_reader_pool,
        explain=_pool_mistake,
        stored_inputs=_pool_stored,
        reader_reference=_pool_query_reference,
    )
)


# c. One CycleGAN generator step, judged by the weights it leaves behind.
STEP_LR = 0.5  # plain SGD in the check: the weight change is the gradient itself (Adam's first step is ~sign(grad))
STEP_SIZE = 8  # tiny 8 px images, width-2 nets: a case takes milliseconds
STEP_PROJECTIONS = 2  # fixed random projections of each parameter's change


def _step_nets(seed: int) -> dict[str, Any]:
    from ..nets.patchgan import PatchDiscriminator
    from ..nets.resnet import ResnetGenerator

    rng = torch.Generator().manual_seed(seed + 100)
    return {
        "generator_ab": ResnetGenerator(width=2, blocks=1, seed=seed),
        "generator_ba": ResnetGenerator(width=2, blocks=1, seed=seed + 1),
        "discriminator_a": PatchDiscriminator(width=2, layers=1, seed=seed + 2),
        "discriminator_b": PatchDiscriminator(width=2, layers=1, seed=seed + 3),
        "real_a": torch.rand((2, 3, STEP_SIZE, STEP_SIZE), generator=rng) * 2 - 1,
        "real_b": torch.rand((2, 3, STEP_SIZE, STEP_SIZE), generator=rng) * 2 - 1,
    }


def _generator_parameters(nets: dict[str, Any]) -> list[torch.Tensor]:
    return [*nets["generator_ab"].parameters(), *nets["generator_ba"].parameters()]


def _step_summary(nets: dict[str, Any], before: dict[str, list[torch.Tensor]]) -> torch.Tensor:
    """(projections of every generator parameter's change ..., |D change|, |D grad|, D trainable)."""
    rng = torch.Generator().manual_seed(1234)
    values = []
    for old, new in zip(before["g"], _generator_parameters(nets), strict=True):
        change = (new.detach() - old).flatten()
        for _ in range(STEP_PROJECTIONS):
            values.append(float(change @ torch.randn(change.numel(), generator=rng)))
    d_params = [*nets["discriminator_a"].parameters(), *nets["discriminator_b"].parameters()]
    d_change = sum(float((new.detach() - old).abs().sum()) for old, new in zip(before["d"], d_params, strict=True))
    d_grad = sum(float(p.grad.abs().sum()) for p in d_params if p.grad is not None)
    trainable = float(all(p.requires_grad for p in d_params))
    return torch.tensor([*values, d_change, d_grad, trainable])


def _prepared_step(args: tuple[torch.Tensor, ...]) -> tuple[dict[str, Any], dict[str, list[torch.Tensor]], Any]:
    nets = _step_nets(int(args[0]))
    before = {
        "g": [p.detach().clone() for p in _generator_parameters(nets)],
        "d": [
            p.detach().clone() for p in (*nets["discriminator_a"].parameters(), *nets["discriminator_b"].parameters())
        ],
    }
    optimizer = torch.optim.SGD(_generator_parameters(nets), lr=STEP_LR)
    return nets, before, optimizer


def _generator_step_reference(
    generator_ab: torch.nn.Module,
    generator_ba: torch.nn.Module,
    discriminator_a: torch.nn.Module,
    discriminator_b: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    real_a: torch.Tensor,
    real_b: torch.Tensor,
    cycle_weight: float,
    identity_weight: float,
) -> float:
    """The kit's :func:`~ganlab_kit.train.cyclegan.cyclegan_step` with its discriminator
    updates switched off (learning rate 0, no pools, their gradients cleared): its generator
    step alone, with the reader's signature. It updates both generators before touching D."""
    from ..train.cyclegan import CycleGANHyper, cyclegan_step
    from ..train.image_pool import ImagePool

    hyper = CycleGANHyper(cycle_weight=float(cycle_weight), identity_weight=float(identity_weight))
    metrics = cyclegan_step(
        generator_ab,
        generator_ba,
        discriminator_a,
        discriminator_b,
        optimizer,
        torch.optim.SGD(discriminator_a.parameters(), lr=0.0),
        torch.optim.SGD(discriminator_b.parameters(), lr=0.0),
        real_a,
        real_b,
        hyper,
        ImagePool(0),
        ImagePool(0),
    )
    for module in (discriminator_a, discriminator_b):
        module.zero_grad(set_to_none=True)  # what D's (skipped) updates left behind
    return float(metrics["g_loss"])


def _kit_generator_step(seed: torch.Tensor, cycle_weight: torch.Tensor, identity_weight: torch.Tensor) -> torch.Tensor:
    """The kit's generator step on the tiny nets of ``seed``, summarised as the reader's is."""
    return _run_reader_step(_generator_step_reference, (seed, cycle_weight, identity_weight))


def _variant_generator_step(args: tuple[torch.Tensor, ...], **mistake: Any) -> torch.Tensor:
    """A generator step written out by hand with one of the usual mistakes (for naming them)."""
    nets, before, optimizer = _prepared_step(args)
    cycle_weight, identity_weight = float(args[1]), float(args[2])
    g_ab, g_ba = nets["generator_ab"], nets["generator_ba"]
    d_a, d_b, real_a, real_b = nets["discriminator_a"], nets["discriminator_b"], nets["real_a"], nets["real_b"]
    freeze = not mistake.get("no_freeze", False)
    for p in (*d_a.parameters(), *d_b.parameters()):
        p.requires_grad_(not freeze)
    fake_b, fake_a = g_ab(real_a), g_ba(real_b)
    target = mistake.get("target", 1.0)
    scale = mistake.get("adversarial_scale", 1.0)
    adversarial = scale * (((d_b(fake_b) - target) ** 2).mean() + ((d_a(fake_a) - target) ** 2).mean())
    cycle = losses.cycle_loss(real_a, g_ba(fake_b), real_b, g_ab(fake_a))
    if mistake.get("identity_swapped"):
        identity = losses.identity_loss(real_a, g_ab(real_a), real_b, g_ba(real_b))
    else:
        identity = losses.identity_loss(real_a, g_ba(real_a), real_b, g_ab(real_b))
    loss = adversarial
    if not mistake.get("no_cycle"):
        loss = loss + cycle_weight * cycle
    if not mistake.get("no_identity"):
        loss = loss + identity_weight * identity
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if freeze and not mistake.get("left_frozen"):
        for p in (*d_a.parameters(), *d_b.parameters()):
            p.requires_grad_(True)
    return _step_summary(nets, before)


def _run_reader_step(func: Callable[..., Any], args: tuple[torch.Tensor, ...]) -> torch.Tensor:
    nets, before, optimizer = _prepared_step(args)
    func(
        nets["generator_ab"],
        nets["generator_ba"],
        nets["discriminator_a"],
        nets["discriminator_b"],
        optimizer,
        nets["real_a"],
        nets["real_b"],
        float(args[1]),
        float(args[2]),
    )
    return _step_summary(nets, before)


def _step_inputs(rng: torch.Generator) -> tuple[torch.Tensor, ...]:
    return (
        torch.tensor(float(torch.randint(0, 1000, (), generator=rng))),
        torch.tensor(float(torch.randint(1, 12, (), generator=rng))),
        torch.tensor(float(torch.randint(1, 6, (), generator=rng))),
    )


def _step_mistake(result: torch.Tensor, expected: torch.Tensor, args: tuple[torch.Tensor, ...]) -> str | None:
    where = f"(seed {int(args[0])}, cycle_weight {float(args[1]):g}, identity_weight {float(args[2]):g})"
    d_change, d_grad, trainable = (float(v) for v in result[-3:])
    if d_change > 1e-9:
        return (
            f"the discriminators' weights changed during the generator step: the generator step must not "
            f"train D (freeze it, and step only the generators' optimizer) {where}."
        )
    if d_grad > 1e-12:
        same_g = torch.allclose(result[:-3], expected[:-3], rtol=1e-3, atol=1e-5)
        return (
            "D was not frozen: its parameters got gradients from the generator's loss (wasted work, and "
            "gradients left behind that D's own step would add to). Set requires_grad_(False) on both "
            "discriminators' parameters before the forward pass and back to True after the step"
            + (" (your generator update itself is right)" if same_g else "")
            + f" {where}."
        )
    if trainable < 0.5:
        return (
            "the discriminators are left frozen after your step (requires_grad False): set it back to True, "
            f"or D can no longer learn {where}."
        )
    reasons = [
        (
            {"no_identity": True},
            "the identity term is missing: add identity_weight * identity_loss(...), with "
            "G_BA(real_a) close to real_a and G_AB(real_b) close to real_b",
        ),
        (
            {"target": 0.0},
            "wrong adversarial target: the generators want D to call their fakes *real*, "
            "(D(fake) - 1)^2, not (D(fake) - 0)^2 (that is D's target for fakes)",
        ),
        ({"no_cycle": True}, "the cycle term is missing: add cycle_weight * cycle_loss(...) of both round trips"),
        (
            {"identity_swapped": True},
            "identity with the wrong generators: G_AB is fed real_b (already in B) and G_BA is fed real_a",
        ),
        (
            {"adversarial_scale": 0.5},
            "the adversarial terms are halved: CycleGAN's generator term is "
            "mean((D(fake) - 1)^2) with no factor 1/2 (losses.translation_generator_loss)",
        ),
    ]
    for mistake, reason in reasons:
        variant = _variant_generator_step(args, **mistake).to(torch.float64)
        if not torch.allclose(variant, expected, rtol=1e-3, atol=1e-5) and torch.allclose(
            result, variant, rtol=1e-3, atol=1e-5
        ):
            return f"{reason} {where}."
    return (
        "the generators' updated weights differ from the kit's cyclegan_step on the same nets and batch "
        f"{where}. Check each term: LSGAN (D(fake) - 1)^2 for both fakes, cycle_weight * cycle loss, "
        "identity_weight * identity loss; zero_grad, backward, one optimizer step."
    )


register(
    Exercise(
        name="cyclegan_generator_step",
        task="One generator step of CycleGAN: cyclegan_generator_step(generator_ab, generator_ba, discriminator_a, "
        "discriminator_b, optimizer, real_a, real_b, cycle_weight, identity_weight) updates both generators "
        "(one optimizer over both) with D frozen; the return value is not checked.",
        reference=_kit_generator_step,
        random_inputs=_step_inputs,
        hint="Freeze D_A and D_B (requires_grad_(False)); fake_b = G_AB(a), fake_a = G_BA(b); LSGAN terms "
        "mean((D_B(fake_b) - 1)^2) + mean((D_A(fake_a) - 1)^2); + cycle_weight * the cycle loss of "
        "G_BA(fake_b) and G_AB(fake_a); + identity_weight * the identity loss of G_BA(a) and G_AB(b); "
        "zero_grad, backward, step; unfreeze D.",
        solution=(
            "from ganlab_kit import losses\n"
            "def cyclegan_generator_step(generator_ab, generator_ba, discriminator_a, discriminator_b, optimizer,\n"
            "                            real_a, real_b, cycle_weight, identity_weight):\n"
            "    discriminators = [*discriminator_a.parameters(), *discriminator_b.parameters()]\n"
            "    for p in discriminators:\n"
            "        p.requires_grad_(False)  # D is only judged here, not trained\n"
            "    fake_b, fake_a = generator_ab(real_a), generator_ba(real_b)\n"
            "    # LSGAN: the generators want D to say 'real' (1) on their fakes\n"
            "    adversarial = ((discriminator_b(fake_b) - 1) ** 2).mean()\n"
            "    adversarial = adversarial + ((discriminator_a(fake_a) - 1) ** 2).mean()\n"
            "    cycle = losses.cycle_loss(real_a, generator_ba(fake_b), real_b, generator_ab(fake_a))\n"
            "    identity = losses.identity_loss(real_a, generator_ba(real_a), real_b, generator_ab(real_b))\n"
            "    loss = adversarial + cycle_weight * cycle + identity_weight * identity\n"
            "    optimizer.zero_grad()\n"
            "    loss.backward()\n"
            "    optimizer.step()\n"
            "    for p in discriminators:\n"
            "        p.requires_grad_(True)\n"
            "    return loss.item()\n"
        ),
        rtol=1e-3,
        atol=1e-5,
        call=_run_reader_step,
        explain=_step_mistake,
        stored_inputs=lambda: [
            (torch.tensor(0.0), torch.tensor(10.0), torch.tensor(5.0)),
            (torch.tensor(1.0), torch.tensor(10.0), torch.tensor(0.5)),
        ],
        reader_reference=_generator_step_reference,
    )
)
