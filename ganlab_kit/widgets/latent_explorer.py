"""Walk a trained generator's latent space: interpolation and vector arithmetic.

Works on any run with ``sample(z) -> images`` (B, C, H, W) in [-1, 1] and a latent size,
read from (first found): the ``latent_dim`` argument, ``run.latent_dim``, the generator's
``latent_dim``, or its ``config.latent_dim`` (the kit's DCGAN).
"""

from __future__ import annotations

import ipywidgets as widgets
import torch

from ..nets.latent import latent_arithmetic, latent_path
from .image_grid import png_bytes, to_grid


def latent_size(run, latent_dim: int | None = None) -> int:
    """The length of the noise vector ``run.sample`` expects (see the module docstring)."""
    if latent_dim is not None:
        return int(latent_dim)
    if getattr(run, "latent_dim", None) is not None:
        return int(run.latent_dim)
    modules = getattr(run, "modules", None) or {}
    generator = modules.get("generator") if isinstance(modules, dict) else None
    generator = generator if generator is not None else getattr(run, "generator", None)
    for source in (generator, getattr(generator, "config", None)):
        if getattr(source, "latent_dim", None) is not None:
            return int(source.latent_dim)
    raise ValueError(
        "cannot tell the latent size of this run: pass latent_dim=..., or give the run "
        "(or its generator, or the generator's config) a latent_dim attribute"
    )


class LatentExplorer:
    """Interpolate between two noise vectors, or add and subtract them, on a trained generator.

    Noise vectors are named by seeds (``z = N(0, I)`` drawn from ``torch.Generator().manual_seed(seed)``),
    so a student can write down an interesting one. Reads the generator under the
    session's lock when given one, so it is safe while training continues.
    """

    def __init__(self, run, session=None, *, pixels: int = 480, latent_dim: int | None = None) -> None:
        if not callable(getattr(run, "sample", None)):
            raise TypeError(f"LatentExplorer needs a run with sample(z); {type(run).__name__} has none")
        self.run, self.session, self.pixels = run, session, pixels
        self.latent_dim = latent_size(run, latent_dim)
        self.seed_a = widgets.BoundedIntText(value=1, min=0, max=10**6, description="seed A")
        self.seed_b = widgets.BoundedIntText(value=2, min=0, max=10**6, description="seed B")
        self.seed_c = widgets.BoundedIntText(value=3, min=0, max=10**6, description="seed C")
        self.steps = widgets.IntSlider(value=8, min=2, max=16, description="steps")
        self.mode = widgets.ToggleButtons(options=["slerp", "lerp"], value="slerp", description="path")
        self.interpolate_button = widgets.Button(description="Interpolate A → B", icon="arrows-h")
        self.arithmetic_button = widgets.Button(description="A − B + C", icon="calculator")
        self.view = widgets.Image(format="png", width=pixels)
        self.caption = widgets.Label(value="")
        self.interpolate_button.on_click(lambda _: self.interpolate())
        self.arithmetic_button.on_click(lambda _: self.arithmetic())
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.seed_a, self.seed_b, self.seed_c]),
                widgets.HBox([self.steps, self.mode]),
                widgets.HBox([self.interpolate_button, self.arithmetic_button]),
                self.view,
                self.caption,
            ]
        )
        self.last_images: torch.Tensor | None = None

    def noise(self, seed: int) -> torch.Tensor:
        return torch.randn(self.latent_dim, generator=torch.Generator().manual_seed(int(seed)))

    def _generate(self, z: torch.Tensor) -> torch.Tensor:
        if self.session is None:
            return self.run.sample(z)
        with self.session.locked():
            return self.run.sample(z)

    def interpolate(self) -> torch.Tensor:
        """Images along the path from G(z_A) to G(z_B): (steps, C, H, W)."""
        path = latent_path(
            self.noise(self.seed_a.value), self.noise(self.seed_b.value), self.steps.value, self.mode.value
        )
        images = self._generate(path)
        self._display(
            images,
            nrow=images.shape[0],
            text=f"{self.mode.value} from seed {self.seed_a.value} to seed {self.seed_b.value}",
        )
        return images

    def arithmetic(self) -> torch.Tensor:
        """G(z_A), G(z_B), G(z_C) and G(z_A - z_B + z_C): (4, C, H, W)."""
        za, zb, zc = (self.noise(s.value) for s in (self.seed_a, self.seed_b, self.seed_c))
        images = self._generate(torch.stack([za, zb, zc, latent_arithmetic(za, zb, zc)]))
        self._display(images, nrow=4, text="A, B, C, and A − B + C")
        return images

    def _display(self, images: torch.Tensor, nrow: int, text: str) -> None:
        self.last_images = images
        self.view.value = png_bytes(to_grid(images, nrow=nrow), self.pixels)
        self.caption.value = text

    def figure(self, images: torch.Tensor | None = None, title: str | None = None):
        """Static picture of the last result (for notebooks without a front end)."""
        import matplotlib.pyplot as plt

        images = self.last_images if images is None else images
        if images is None:
            raise RuntimeError("nothing to show yet: call interpolate() or arithmetic() first")
        fig, ax = plt.subplots(figsize=(min(12, 1.2 * images.shape[0]), 1.9), dpi=110)
        ax.imshow(to_grid(images, nrow=images.shape[0]), interpolation="nearest")
        ax.set_title(title or self.caption.value, fontsize=12)
        ax.axis("off")
        plt.close(fig)
        return fig
