"""Exercise checks for the notebooks.

A reader writes a function; ``check("name", their_function)`` runs it

1. on stored inputs shipped with the package (``fixtures/exercises.json``), comparing
   with the stored expected values, then
2. on fresh random inputs, comparing with the library's own implementation,

and says *pass*, or what is wrong in words a student can act on: an exception, a wrong
shape, a flipped sign, a constant factor (a sum where a mean was meant, a missing 1/2),
a NaN at extreme logits (``log(sigmoid(x))`` instead of ``logsigmoid``), or plain wrong
values with the first failing input. Inputs are float32 CPU tensors; results may be any
dtype or device, or numbers / NumPy arrays.

``hint("name")`` nudges; ``show_solution("name")`` prints a reference solution, which is
never shown unless asked for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import torch

from . import losses

FIXTURE_FILE = "exercises.json"


# --------------------------------------------------------------------- references
def _optimal_discriminator(p_data: torch.Tensor, p_model: torch.Tensor) -> torch.Tensor:
    return p_data / (p_data + p_model)


def _jensen_shannon(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    m = 0.5 * (p + q)

    def kl(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        # 0 * log(0 / b) is 0 by convention
        terms = torch.where(a > 0, a * torch.log(a / b), torch.zeros_like(a))
        return terms.sum(dim=-1)

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def _minimax_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return losses.discriminator_loss(real_logits, fake_logits, "minimax")


def _non_saturating_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return losses.generator_loss(fake_logits, "non_saturating")


def _hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return losses.discriminator_loss(real_logits, fake_logits, "hinge")


def _positive(shape: tuple[int, ...], rng: torch.Generator) -> torch.Tensor:
    return torch.rand(shape, generator=rng) + 0.05


def _logits(shape: tuple[int, ...], rng: torch.Generator) -> torch.Tensor:
    return 4 * torch.randn(shape, generator=rng)


def _distribution(shape: tuple[int, ...], rng: torch.Generator) -> torch.Tensor:
    p = torch.rand(shape, generator=rng) + 0.01
    return p / p.sum(dim=-1, keepdim=True)


@dataclass(frozen=True)
class Exercise:
    """One exercise: what to write, how to make random inputs, the reference answer."""

    name: str
    task: str
    reference: Callable[..., torch.Tensor]
    random_inputs: Callable[[torch.Generator], tuple[torch.Tensor, ...]]
    hint: str
    solution: str
    rtol: float = 1e-4
    atol: float = 1e-5
    extreme_note: str = ""
    # Optional, for exercises whose function does not take tensors or whose usual
    # mistakes can be named: ``call(func, args)`` calls the reader's function (default
    # ``func(*args)``); ``explain(result, expected, args)`` names the mistake behind a
    # wrong value (None: the generic message); ``stored_inputs()`` gives the cases stored
    # in the fixture file (default: two draws of ``random_inputs``).
    call: Callable[[Callable[..., Any], tuple[torch.Tensor, ...]], Any] | None = None
    explain: Callable[[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]], str | None] | None = None
    stored_inputs: Callable[[], list[tuple[torch.Tensor, ...]]] | None = None
    # The reference with the reader's signature, when ``call`` converts (see :func:`reference_for`).
    reader_reference: Callable[..., Any] | None = None


EXERCISES: dict[str, Exercise] = {
    ex.name: ex
    for ex in [
        Exercise(
            name="optimal_discriminator",
            task="D*(x) from the two densities p_data(x) and p_g(x), elementwise.",
            reference=_optimal_discriminator,
            random_inputs=lambda rng: (_positive((64,), rng), _positive((64,), rng)),
            hint="Fix G and maximise p_data(x) log D + p_g(x) log(1 - D) pointwise in D: set the derivative to zero.",
            solution="def optimal_discriminator(p_data, p_g):\n    return p_data / (p_data + p_g)\n",
        ),
        Exercise(
            name="jensen_shannon",
            task="JSD(p || q) of two discrete distributions (last axis sums to 1), in nats.",
            reference=_jensen_shannon,
            random_inputs=lambda rng: (_distribution((5, 30), rng), _distribution((5, 30), rng)),
            hint="JSD = 1/2 KL(p || m) + 1/2 KL(q || m) with m = (p + q) / 2; sum over the last axis; 0 log 0 = 0.",
            solution=(
                "def jensen_shannon(p, q):\n"
                "    m = 0.5 * (p + q)\n"
                "    kl = lambda a, b: torch.where(a > 0, a * torch.log(a / b), torch.zeros_like(a)).sum(-1)\n"
                "    return 0.5 * kl(p, m) + 0.5 * kl(q, m)\n"
            ),
        ),
        Exercise(
            name="minimax_discriminator_loss",
            task="The discriminator's loss mean BCE(real, 1) + mean BCE(fake, 0), from logits.",
            reference=_minimax_d_loss,
            random_inputs=lambda rng: (_logits((32, 1), rng), _logits((32, 1), rng)),
            hint="-log sigmoid(t) = softplus(-t) and -log(1 - sigmoid(t)) = softplus(t): no sigmoid, no log.",
            solution=(
                "import torch.nn.functional as F\n"
                "def minimax_discriminator_loss(real_logits, fake_logits):\n"
                "    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()\n"
            ),
            extreme_note="The stored inputs include logits of +-100, where sigmoid rounds to exactly 0 or 1.",
        ),
        Exercise(
            name="non_saturating_generator_loss",
            task="The generator's non-saturating loss mean(-log D(G(z))), from the fake logits.",
            reference=_non_saturating_g_loss,
            random_inputs=lambda rng: (_logits((32, 1), rng),),
            hint="-log sigmoid(t) is softplus(-t); take the mean over the batch.",
            solution=(
                "import torch.nn.functional as F\n"
                "def non_saturating_generator_loss(fake_logits):\n"
                "    return F.softplus(-fake_logits).mean()\n"
            ),
            extreme_note="The stored inputs include logits of +-100.",
        ),
        Exercise(
            name="hinge_discriminator_loss",
            task="The hinge loss mean relu(1 - real) + mean relu(1 + fake).",
            reference=_hinge_d_loss,
            random_inputs=lambda rng: (_logits((32, 1), rng), _logits((32, 1), rng)),
            hint="Real scores are pushed above +1, fake scores below -1; beyond the margin there is no loss.",
            solution=(
                "import torch.nn.functional as F\n"
                "def hinge_discriminator_loss(real_logits, fake_logits):\n"
                "    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()\n"
            ),
        ),
    ]
}


def register(exercise: Exercise) -> None:
    """Add an exercise (later notebooks contribute their own)."""
    EXERCISES[exercise.name] = exercise


# ------------------------------------------------------------------- fixtures
def load_fixtures() -> dict[str, list[dict[str, Any]]]:
    """The stored cases: ``{name: [{"args": [...], "expected": ...}, ...]}``."""
    text = resources.files("ganlab_kit").joinpath("fixtures", FIXTURE_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def make_fixtures(seed: int = 2014) -> dict[str, list[dict[str, Any]]]:
    """Recompute the stored cases from the references (scripts/make_fixtures.py writes them)."""
    rng = torch.Generator().manual_seed(seed)
    out: dict[str, list[dict[str, Any]]] = {}
    for name, ex in EXERCISES.items():
        if ex.stored_inputs is not None:
            cases = ex.stored_inputs()
        else:
            cases = [ex.random_inputs(rng) for _ in range(2)]
        if ex.stored_inputs is None and ("logits" in ex.task or "loss" in ex.name):
            # extreme but legal logits: where naive log(sigmoid(x)) overflows to -inf
            cases.append(tuple(torch.tensor([[100.0], [-100.0], [0.0], [30.0]]) for _ in cases[0]))
        stored = []
        for args in cases:
            expected = ex.reference(*args)
            stored.append({"args": [a.tolist() for a in args], "expected": expected.tolist()})
        out[name] = stored
    return out


# ---------------------------------------------------------------------- check
@dataclass
class CheckResult:
    name: str
    passed: bool
    message: str
    details: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        mark = "PASS" if self.passed else "NOT YET"
        return f"[{mark}] {self.name}: {self.message}"

    def _repr_markdown_(self) -> str:
        mark = "✅" if self.passed else "❌"
        return f"{mark} **{self.name}**: {self.message}"


def _as_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", torch.float64)
    try:
        return torch.as_tensor(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        return None


def _fmt(args: tuple[torch.Tensor, ...]) -> str:
    parts = []
    for a in args:
        flat = a.flatten()[:4].tolist()
        more = ", ..." if a.numel() > 4 else ""
        parts.append(f"shape {tuple(a.shape)} starting {[round(x, 3) for x in flat]}{more}")
    return "; ".join(parts)


def _systematic_error(result: torch.Tensor, expected: torch.Tensor, ex: Exercise) -> str | None:
    """A flipped sign or a constant factor, judged over at least two values (one number
    against another always has *some* constant ratio, which says nothing)."""
    if expected.numel() < 2:
        return None
    if torch.allclose(-result, expected, rtol=ex.rtol, atol=ex.atol):
        return "sign: your values are the negatives of the answer (maximising instead of minimising?)."
    nonzero = expected.abs() > 1e-6
    if int(nonzero.sum()) >= 2:
        ratio = result[nonzero] / expected[nonzero]
        c = ratio.mean().item()
        if torch.allclose(ratio, torch.full_like(ratio, c), rtol=1e-3, atol=1e-6) and abs(c - 1) > 1e-3:
            return f"scale: your values are {c:.4g} times the answer (a sum instead of a mean, or a missing factor?)."
    return None


def diagnose(got: Any, expected: torch.Tensor, args: tuple[torch.Tensor, ...], ex: Exercise) -> str | None:
    """Return what is wrong with ``got`` for one case (in words), or ``None`` when it matches."""
    result = _as_tensor(got)
    if result is None:
        return f"your function returned a {type(got).__name__}; return a tensor (or a number)."
    expected = expected.to(torch.float64)
    if result.shape != expected.shape:
        if result.numel() == expected.numel():
            return (
                f"shape: expected {tuple(expected.shape)}, got {tuple(result.shape)} (same numbers of values: reshape?)"
            )
        if expected.dim() == 0:
            return f"shape: expected a single number (a mean over the batch), got shape {tuple(result.shape)}."
        return f"shape: expected {tuple(expected.shape)}, got {tuple(result.shape)}."
    finite = torch.isfinite(expected)
    if (~torch.isfinite(result) & finite).any():
        return (
            f"your result has NaN or inf where the answer is finite, for inputs {_fmt(args)}. "
            f"{ex.extreme_note} Rewrite with a numerically stable form (softplus / logsigmoid)."
        )
    if torch.allclose(result, expected, rtol=ex.rtol, atol=ex.atol, equal_nan=True):
        return None
    if ex.explain is not None:
        named = ex.explain(result, expected, args)
        if named:
            return named
    systematic = _systematic_error(result, expected, ex)
    if systematic:
        return systematic
    err = (result - expected).abs()
    worst = int(err.flatten().argmax())
    return (
        f"values differ: largest error {err.flatten()[worst].item():.3g} (you gave "
        f"{result.flatten()[worst].item():.5g}, expected {expected.flatten()[worst].item():.5g}) "
        f"for inputs {_fmt(args)}."
    )


def check(name: str, func: Callable[..., Any], *, random_trials: int = 3, seed: int = 0) -> CheckResult:
    """Run ``func`` on the stored and on random inputs of exercise ``name``."""
    if name not in EXERCISES:
        raise KeyError(f"no exercise named {name!r}; exercises: {', '.join(sorted(EXERCISES))}")
    ex = EXERCISES[name]
    stored = load_fixtures().get(name, [])
    cases: list[tuple[tuple[torch.Tensor, ...], torch.Tensor, str]] = []
    for case in stored:
        args = tuple(torch.tensor(a, dtype=torch.float32) for a in case["args"])
        cases.append((args, torch.tensor(case["expected"], dtype=torch.float64), "stored"))
    rng = torch.Generator().manual_seed(seed)
    for _ in range(random_trials):
        args = ex.random_inputs(rng)
        cases.append((args, ex.reference(*args).detach().to(torch.float64), "random (compared with the library)"))
    answers = []
    for args, _, _ in cases:
        try:
            cloned = tuple(a.clone() for a in args)
            answers.append(ex.call(func, cloned) if ex.call is not None else func(*cloned))
        except Exception as exc:  # the student's code failing is a result, not a crash
            return CheckResult(name, False, f"your function raised {type(exc).__name__}: {exc}")
    for (args, expected, origin), got in zip(cases, answers):
        problem = diagnose(got, expected, args, ex)
        if problem is None:
            continue
        if problem.startswith("values differ") and expected.dim() == 0:
            # One number per case: look for a sign or factor shared by every case.
            results = [_as_tensor(a) for a in answers]
            if all(r is not None and r.dim() == 0 and torch.isfinite(r) for r in results):
                across = _systematic_error(torch.stack(results), torch.stack([c[1] for c in cases]), ex)
                if across:
                    return CheckResult(name, False, f"{across} [every case]")
        return CheckResult(name, False, f"{problem} [{origin} case]")
    return CheckResult(
        name, True, f"passed all {len(cases)} cases ({len(stored)} stored, {random_trials} random against the library)."
    )


def reference_for(name: str) -> Callable[..., Any]:
    """The kit's answer, called as the reader's function is (what a notebook falls back on
    until the reader's own passes)."""
    ex = EXERCISES[name]
    return ex.reader_reference if ex.reader_reference is not None else ex.reference


def hint(name: str) -> str:
    return EXERCISES[name].hint


def show_solution(name: str) -> None:
    """Print a reference solution. Try first: reading it is not the same as writing it."""
    print(EXERCISES[name].solution)


def describe(name: str) -> str:
    return EXERCISES[name].task


# ------------------------------------------------ notebook 04 (DCGAN) exercises
def _transposed_conv_output_size(
    size: torch.Tensor, kernel: torch.Tensor, stride: torch.Tensor, padding: torch.Tensor
) -> torch.Tensor:
    return (size - 1) * stride - 2 * padding + kernel


def _unbiased_mmd2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    from .metrics import polynomial_mmd2

    return polynomial_mmd2(x, y)


def _slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    from .nets.latent import slerp

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


# ------------------------------------------ notebook 06 (pix2pix) exercise
def _stack(layers: torch.Tensor) -> list[tuple[int, int]]:
    """(L, 2) tensor of (kernel, stride) rows -> a list of int pairs, first layer first."""
    return [(int(k), int(s)) for k, s in layers.round().long().tolist()]


def _receptive_field_of_stack(layers: torch.Tensor) -> torch.Tensor:
    """The kit's answer: a real stack of convolutions measured by ``patchgan.receptive_field``."""
    from torch import nn

    from .nets.patchgan import receptive_field

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


# ------------------------------------------------ notebook 07 (CycleGAN) exercises
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
    from .train.image_pool import ImagePool

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
    from .nets.patchgan import PatchDiscriminator
    from .nets.resnet import ResnetGenerator

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
    from .train.cyclegan import CycleGANHyper, cyclegan_step
    from .train.image_pool import ImagePool

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
