"""Shadow copies of networks, so views draw without holding up training.

A view needs the generator's current weights, but running the generator (a forward pass
over the grid noise, a field over the plane) takes milliseconds to seconds. So, under
``session.locked()``, a view only *copies* the weights into a private copy of each
module (microseconds to a few milliseconds), then runs the copies outside the lock
while training goes on::

    shadows = ShadowModules()
    with session.locked():
        copies = shadows.copy_from({"generator": run.modules["generator"]})
    images = run.visuals(copies)          # outside the lock

The first copy is a ``copy.deepcopy``; later ones copy parameters and buffers in place
(``Tensor.copy_``), which allocates nothing. A module that changed shape (a reset to a
new architecture) or identity is deep-copied again. Shadows never need gradients.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
from torch import nn


def _same_layout(shadow: nn.Module, module: nn.Module) -> bool:
    ours = [(n, t.shape, t.dtype, t.device) for n, t in (*shadow.named_parameters(), *shadow.named_buffers())]
    theirs = [(n, t.shape, t.dtype, t.device) for n, t in (*module.named_parameters(), *module.named_buffers())]
    return ours == theirs


class ShadowModules:
    """Private copies of some modules, refreshed in place (see the module docstring)."""

    def __init__(self) -> None:
        self._shadows: dict[str, nn.Module] = {}
        self._sources: dict[str, int] = {}  # id() of the module each shadow copies

    @torch.no_grad()
    def copy_from(self, modules: Mapping[str, nn.Module]) -> dict[str, nn.Module]:
        """Bring each shadow up to date with ``modules[name]``; call it under the
        session's lock. Returns ``{name: shadow}`` (a new dict; the shadows are reused)."""
        out: dict[str, nn.Module] = {}
        for name, module in modules.items():
            shadow = self._shadows.get(name)
            if shadow is None or self._sources.get(name) != id(module) or not _same_layout(shadow, module):
                shadow = copy.deepcopy(module)
                shadow.requires_grad_(False)
                self._shadows[name], self._sources[name] = shadow, id(module)
            else:
                for target, source in zip(shadow.parameters(), module.parameters()):
                    target.copy_(source)
                for target, source in zip(shadow.buffers(), module.buffers()):
                    target.copy_(source)
                shadow.train(module.training)
            out[name] = shadow
        return out

    def clear(self) -> None:
        """Forget every shadow (the next copy deep-copies again)."""
        self._shadows.clear()
        self._sources.clear()
