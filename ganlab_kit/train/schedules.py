"""Learning-rate schedules, as multipliers of the learning rate in the hyperparameters.

pix2pix and CycleGAN (Zhu et al. 2017, section 4) keep the learning rate constant for the
first half of training, then decay it linearly to zero over the second half (100 + 100
epochs in the paper). :func:`linear_decay` is that rule, per step:

    factor(step) = 1                                    for step <= total - decay
                 = (total - step) / decay               for total - decay < step <= total
                 = 0                                    after total

A run multiplies its hyperparameter ``generator_lr`` / ``discriminator_lr`` by the factor
at each step, so a learning rate changed from a lab control is decayed the same way.
"""

from __future__ import annotations


def linear_decay(step: int, total_steps: int | None, decay_steps: int | None = None) -> float:
    """The learning-rate factor at ``step`` (0-based: the step about to be taken).

    ``total_steps`` None: no schedule (always 1). ``decay_steps`` defaults to half of
    ``total_steps`` (the paper's second half). The factor reaches 0 at ``total_steps``.
    """
    if total_steps is None:
        return 1.0
    decay = total_steps // 2 if decay_steps is None else decay_steps
    check_schedule(total_steps, decay)
    if decay == 0:
        return 1.0 if step < total_steps else 0.0
    return min(1.0, max(0.0, (total_steps - step) / decay))


def check_schedule(total_steps: int | None, decay_steps: int | None) -> None:
    """Raise ``ValueError`` naming the problem in a (total, decay) pair."""
    if total_steps is None:
        if decay_steps is not None:
            raise ValueError("decay_steps needs total_steps (the step where the learning rate reaches 0)")
        return
    if not isinstance(total_steps, int) or isinstance(total_steps, bool) or total_steps < 1:
        raise ValueError(f"total_steps must be a positive int or None, got {total_steps!r}")
    if decay_steps is not None and (not isinstance(decay_steps, int) or not 0 <= decay_steps <= total_steps):
        raise ValueError(f"decay_steps must be an int in 0..total_steps={total_steps}, got {decay_steps!r}")
