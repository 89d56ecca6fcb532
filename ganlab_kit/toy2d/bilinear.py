r"""The smallest game that shows why GAN training can circle forever: min_x max_y  x * y.

Player x minimises f(x, y) = x*y, player y maximises it. The only equilibrium is (0, 0).
Gradient descent-ascent with step size ``lr``:

* **simultaneous** updates (both players use the old point)::

      x' = x - lr * y
      y' = y + lr * x

  Each step multiplies the distance to (0, 0) by exactly sqrt(1 + lr^2) > 1: the
  iterates spiral *outwards*.
* **alternating** updates (y answers the new x)::

      x' = x - lr * y
      y' = y + lr * x'

  This map has determinant 1: it preserves area, and for lr < 2 the iterates stay on a
  closed orbit around (0, 0) -- bounded, but never converging.

Real GANs update D and G alternately (as :class:`~ganlab_kit.toy2d.run.Toy2DRun`
does), which is one reason they oscillate rather than explode. Here the game is run
with real autograd gradients, as the networks are, and the closed forms above are
what the tests and notebook 03 compare against.
"""

from __future__ import annotations

import torch

UPDATE_KINDS = ("simultaneous", "alternating")


def bilinear_trajectory(
    x0: float = 1.0, y0: float = 1.0, lr: float = 0.1, steps: int = 100, update: str = "simultaneous"
) -> torch.Tensor:
    """Iterates of gradient descent (x) / ascent (y) on f = x*y: ``(steps + 1, 2)`` float64."""
    if update not in UPDATE_KINDS:
        raise ValueError(f"update must be one of {UPDATE_KINDS}, got {update!r}")
    if lr <= 0:
        raise ValueError(f"lr must be positive, got {lr}")
    x = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
    y = torch.tensor(float(y0), dtype=torch.float64, requires_grad=True)
    path = [(x0, y0)]
    for _ in range(steps):
        (grad_x,) = torch.autograd.grad(x * y, x)  # df/dx = y at the current point
        if update == "simultaneous":
            (grad_y,) = torch.autograd.grad(x * y, y)  # df/dy = x at the *old* x
            with torch.no_grad():
                x -= lr * grad_x
                y += lr * grad_y
        else:
            with torch.no_grad():
                x -= lr * grad_x
            (grad_y,) = torch.autograd.grad(x * y, y)  # df/dy = x at the *new* x
            with torch.no_grad():
                y += lr * grad_y
        path.append((float(x.detach()), float(y.detach())))
    return torch.tensor(path, dtype=torch.float64)


def distance_to_equilibrium(path: torch.Tensor) -> torch.Tensor:
    """Euclidean distance of each iterate to the equilibrium (0, 0): ``(steps + 1,)``."""
    return path.norm(dim=1)
