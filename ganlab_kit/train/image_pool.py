"""The image pool of CycleGAN: show the discriminator a history of fakes, not only the newest.

Shrivastava et al. (2017) noticed that a discriminator that only ever sees the current
generator's fakes forgets the older ones, and the generator can then cycle back to
mistakes it made before. CycleGAN (Zhu et al. 2017, section 4) keeps the last
``size`` = 50 generated images and updates the discriminator with a mix:

* while the pool is not full, each new fake is stored and shown as is;
* once it is full, each new fake is, with probability 1/2, swapped into a random slot,
  and the image that was there is shown instead; otherwise the new fake is shown and
  the pool is left alone.

The coin flips and slots come from the pool's own ``torch.Generator`` (on the CPU: no
device sync), so a pool is repeatable and resumes exactly from :meth:`state_dict`.
"""

from __future__ import annotations

from typing import Any

import torch


class ImagePool:
    """A pool of up to ``size`` past fakes (``size=0``: every query returns its input)."""

    def __init__(self, size: int = 50, seed: int = 0) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"ImagePool size must be an int >= 0, got {size!r}")
        self.size = size
        self.generator = torch.Generator().manual_seed(seed)
        self.images: torch.Tensor | None = None  # (size, C, H, W), allocated at the first query
        self.count = 0  # slots filled so far

    def __len__(self) -> int:
        return self.count

    @torch.no_grad()
    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        """``fakes`` (B, C, H, W) -> (B, C, H, W) to show the discriminator (detached).

        Image ``i`` of the result is either ``fakes[i]`` or an image from the pool that
        ``fakes[i]`` replaced, decided image by image in batch order (the paper's rule).
        """
        fakes = fakes.detach()
        if self.size == 0:
            return fakes
        if self.images is None:
            self.images = torch.empty((self.size, *fakes.shape[1:]), dtype=fakes.dtype, device=fakes.device)
        elif self.images.shape[1:] != fakes.shape[1:]:
            raise ValueError(
                f"the pool holds images of shape {tuple(self.images.shape[1:])}, "
                f"got a batch of {tuple(fakes.shape[1:])}"
            )
        out = fakes.clone()
        for i in range(fakes.shape[0]):
            if self.count < self.size:  # filling up: store it, show it
                self.images[self.count] = fakes[i]
                self.count += 1
            elif float(torch.rand((), generator=self.generator)) < 0.5:  # swap with a random old one
                slot = int(torch.randint(0, self.size, (), generator=self.generator))
                out[i] = self.images[slot]
                self.images[slot] = fakes[i]
        return out

    def state_dict(self) -> dict[str, Any]:
        """``{"images": (count, C, H, W) or an empty tensor, "generator": uint8 state, "count", "size"}``."""
        stored = self.images[: self.count].clone() if self.images is not None else torch.empty(0)
        return {"images": stored, "generator": self.generator.get_state(), "count": self.count, "size": self.size}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if int(state["size"]) != self.size:
            raise ValueError(f"this pool holds {self.size} images but the saved one held {state['size']}")
        self.generator.set_state(state["generator"])
        self.count = int(state["count"])
        stored = state["images"]
        if self.count == 0:
            self.images = None
            return
        device = self.images.device if self.images is not None else stored.device
        self.images = torch.empty((self.size, *stored.shape[1:]), dtype=stored.dtype, device=device)
        self.images[: self.count] = stored.to(device)
