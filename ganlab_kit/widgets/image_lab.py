"""The image GAN lab: a DCGAN training live, with its samples, curves and latent space.

Built from the 2-D lab's machinery (nothing new underneath):

* :class:`~ganlab_kit.train.session.TrainingSession` runs :class:`~ganlab_kit.train.dcgan_steps.DCGANRun`
  steps in a background thread;
* :class:`~ganlab_kit.widgets.controls.TransportBar` gives play / pause / step / reset, and
  :func:`~ganlab_kit.widgets.controls.bind_value` guards the learning-rate and loss-kind
  controls (a change applies from the next step);
* :class:`~ganlab_kit.widgets.refresh.ViewRefresher` redraws at a fixed rate, reading the
  generator under ``session.locked()``; :class:`~ganlab_kit.widgets.charts.LineChart` draws
  the losses and D(x) / D(G(z)).

What is new here is image-shaped: a grid of G(fixed noise) made with
``torchvision.utils.make_grid``, snapshots of that grid every ``snapshot_every`` steps with
a slider to scrub back through them, and :class:`LatentExplorer` (interpolation and
vector arithmetic on the generator).

Without a front end (``frontend_attached()`` is False: nbval, nbclient, scripts),
:meth:`ImageLab.train` runs blocking and :meth:`ImageLab.show` draws a matplotlib snapshot.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid

from ..losses import LOSS_KINDS
from ..nets.latent import latent_arithmetic, latent_path
from ..runtime import frontend_attached
from ..train.dcgan_steps import DCGANRun
from ..train.session import TrainingSession
from .charts import LineChart
from .controls import TransportBar, bind_value
from .refresh import ViewRefresher


@dataclass
class ImageLabConfig:
    """How the lab looks and how often it looks.

    grid_images:    how many fixed-noise samples the grid shows (a square number reads best)
    snapshot_every: steps between stored grid snapshots (the history slider's resolution)
    max_snapshots:  oldest snapshots are thinned out (every other one dropped) beyond this
    fps:            redraws per second while training (each redraw runs G on the grid noise)
    pixels:         on-screen width of the grid in pixels (images are scaled, not smoothed)
    """

    grid_images: int = 36
    snapshot_every: int = 25
    max_snapshots: int = 120
    fps: float = 8.0
    pixels: int = 320


def to_grid(images: torch.Tensor, nrow: int | None = None) -> np.ndarray:
    """Images (B, C, H, W) in [-1, 1] -> one uint8 picture (H', W', 3) via make_grid."""
    nrow = nrow or max(1, int(round(images.shape[0] ** 0.5)))
    grid = make_grid(images.float().clamp(-1, 1), nrow=nrow, padding=1, normalize=True, value_range=(-1, 1), pad_value=1.0)
    return (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def png_bytes(picture: np.ndarray, width: int) -> bytes:
    """Encode a uint8 picture as PNG, enlarged with nearest-neighbour pixels to ``width``."""
    image = Image.fromarray(picture)
    scale = max(1, width // image.width)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # speed over size: this runs 8x a second
    return buffer.getvalue()


@dataclass
class Snapshot:
    step: int
    picture: np.ndarray  # (H, W, 3) uint8 grid


class ImageLab:
    """A live DCGAN lab around a :class:`DCGANRun`. Display ``lab.widget`` (or call ``lab.show()``).

    ``make_run``: optional zero-argument function building a fresh run, used by Reset.
    ``live``: force live widgets (True) or static snapshots (False); default asks
    :func:`~ganlab_kit.runtime.frontend_attached`.
    """

    def __init__(self, run: DCGANRun, config: ImageLabConfig | None = None, *, make_run=None, live: bool | None = None) -> None:
        self.run = run
        self.config = config or ImageLabConfig()
        self.make_run = make_run
        self.live = frontend_attached() if live is None else live
        self.snapshots: list[Snapshot] = []
        self.session = TrainingSession(self._step)
        self._grid_noise = run.fixed_noise[: self.config.grid_images]

        # ---- controls
        self.bar = TransportBar(self.session, on_reset=self.reset if make_run else None)
        g_lr, d_lr = run.learning_rates
        self.generator_lr = widgets.FloatLogSlider(value=g_lr, base=10, min=-5, max=-2, step=0.05, description="G lr", readout_format=".1e")
        self.discriminator_lr = widgets.FloatLogSlider(value=d_lr, base=10, min=-5, max=-2, step=0.05, description="D lr", readout_format=".1e")
        self.loss_kind = widgets.Dropdown(options=list(LOSS_KINDS), value=run.loss_kind, description="loss")
        positive = lambda v: None if v > 0 else "must be > 0"
        bind_value(self.generator_lr, lambda v: self._locked(lambda: self.run.set_learning_rates(generator=v)), positive, self.bar)
        bind_value(self.discriminator_lr, lambda v: self._locked(lambda: self.run.set_learning_rates(discriminator=v)), positive, self.bar)
        bind_value(self.loss_kind, lambda v: self._locked(lambda: setattr(self.run, "loss_kind", v)), None, self.bar)

        # ---- views
        self.grid_view = widgets.Image(format="png", width=self.config.pixels)
        self.grid_view.add_class("ganlab-image-grid")  # a stable handle for browser tests
        self.grid_caption = widgets.Label(value="step 0 (live)")
        self.history_slider = widgets.IntSlider(value=0, min=0, max=0, description="history", continuous_update=True, readout=False)
        self.follow_live = widgets.Checkbox(value=True, description="follow live", indent=False)
        self.history_slider.observe(self._on_scrub, names="value")
        self.follow_live.observe(lambda _: self.refresher.draw_now(), names="value")
        self.loss_chart = LineChart(["d_loss", "g_loss"], title="losses", width=380, height=150)
        self.prob_chart = LineChart(["D(x)", "D(G(z))"], title="discriminator outputs", width=380, height=150)
        self.refresher = ViewRefresher(self._read, self._draw, session=self.session, fps=self.config.fps)
        self._programmatic = False
        self.widget = widgets.VBox([
            self.bar.widget,
            widgets.HBox([self.generator_lr, self.discriminator_lr, self.loss_kind]),
            widgets.HBox([
                widgets.VBox([self.grid_view, self.grid_caption, widgets.HBox([self.history_slider, self.follow_live])]),
                widgets.VBox([self.loss_chart.widget, self.prob_chart.widget]),
            ]),
        ])
        self._take_snapshot()  # step 0: what the untrained generator makes
        self.refresher.draw_now()

    # ---------------------------------------------------------------- training
    def _locked(self, action) -> None:
        with self.session.locked():  # waits for the step in flight: the change applies to the next one
            action()

    def _step(self) -> dict[str, float]:
        metrics = self.run.step()  # the session holds its lock around this call
        if self.run.steps_done % self.config.snapshot_every == 0:
            self._take_snapshot()
        return metrics

    def _take_snapshot(self) -> None:
        picture = to_grid(self.run.sample(self._grid_noise))
        self.snapshots.append(Snapshot(self.run.steps_done, picture))
        if len(self.snapshots) > self.config.max_snapshots:  # keep the first, thin the rest
            self.snapshots = self.snapshots[:1] + self.snapshots[2::2] + ([self.snapshots[-1]] if len(self.snapshots) % 2 == 0 else [])

    def train(self, steps: int) -> None:
        """Train ``steps`` more steps: in the background when live (returns at once),
        else blocking in this cell, followed by a static snapshot."""
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if self.live:
            self.session.max_steps = self.session.step_count + steps
            self.start_views()
            self.session.play()
        else:
            self.session.run(steps)
            self.refresher.draw_now()

    def wait(self, timeout: float | None = None) -> None:
        """Block until background training pauses (its ``steps`` are done, or Pause)."""
        import time

        start = time.perf_counter()
        while self.session.running and (timeout is None or time.perf_counter() - start < timeout):
            time.sleep(0.05)
        self.refresher.draw_now()

    def reset(self) -> None:
        """A fresh run from ``make_run()``: new networks, step 0, snapshots cleared."""
        if self.make_run is None:
            raise RuntimeError("this lab was made without make_run, so it cannot reset")
        self.session.pause()
        with self.session.locked():
            self.run = self.make_run()
            self._grid_noise = self.run.fixed_noise[: self.config.grid_images]
            self.snapshots = []
            self.run.set_learning_rates(self.generator_lr.value, self.discriminator_lr.value)
            self.run.loss_kind = self.loss_kind.value
        self.session.replace_step(self._step)
        self._take_snapshot()
        self.loss_chart.clear()
        self.prob_chart.clear()
        self.refresher.draw_now()

    # ------------------------------------------------------------------- views
    def _read(self) -> dict:
        """Under the session lock: the latest grid (if following live) and history length."""
        live_picture = to_grid(self.run.sample(self._grid_noise)) if self.follow_live.value else None
        return {"picture": live_picture, "step": self.run.steps_done, "history": self.session.history}

    def _draw(self, frame: dict) -> None:
        count = len(self.snapshots)
        self._programmatic = True
        try:
            if self.history_slider.max != count - 1:
                self.history_slider.max = max(0, count - 1)
            if self.follow_live.value and self.history_slider.value != count - 1:
                self.history_slider.value = count - 1
        finally:
            self._programmatic = False
        if frame["picture"] is not None:
            self.grid_view.value = png_bytes(frame["picture"], self.config.pixels)
            self.grid_caption.value = f"step {frame['step']} (live, fixed noise)"
        else:
            self._show_snapshot(self.history_slider.value)
        self.loss_chart.update(frame["history"])
        self.prob_chart.update(frame["history"])
        self.bar.update()

    def _show_snapshot(self, index: int) -> None:
        if not self.snapshots:
            return
        snap = self.snapshots[min(index, len(self.snapshots) - 1)]
        self.grid_view.value = png_bytes(snap.picture, self.config.pixels)
        self.grid_caption.value = f"step {snap.step} (snapshot {min(index, len(self.snapshots) - 1) + 1}/{len(self.snapshots)})"

    def _on_scrub(self, change: dict) -> None:
        if self._programmatic:
            return
        if change["new"] < len(self.snapshots) - 1:
            self.follow_live.value = False  # the user went back in time: stop following
        self._show_snapshot(change["new"])

    def start_views(self) -> None:
        if self.live:
            self.refresher.start()

    def show(self):
        """Live: display the widget and start redrawing. Static: a matplotlib figure of
        the sample grid and both charts (returned, so a notebook cell shows it)."""
        if self.live:
            from IPython.display import display

            display(self.widget)
            self.start_views()
            return None
        return self.figure()

    def figure(self):
        import matplotlib.pyplot as plt

        self.refresher.draw_now()
        fig = plt.figure(figsize=(10, 3.6))
        grid_ax = fig.add_axes([0.0, 0.05, 0.36, 0.85])
        snap = self.snapshots[-1] if not self.follow_live.value else None
        picture = to_grid(self.run.sample(self._grid_noise)) if snap is None else snap.picture
        grid_ax.imshow(picture, interpolation="nearest")
        grid_ax.set_title(f"G(fixed noise), step {self.run.steps_done if snap is None else snap.step}", fontsize=9)
        grid_ax.axis("off")
        self.loss_chart.figure(fig.add_axes([0.44, 0.62, 0.54, 0.30]))
        self.prob_chart.figure(fig.add_axes([0.44, 0.12, 0.54, 0.30]))
        plt.close(fig)
        return fig

    def close(self) -> None:
        """Stop training and redrawing; nothing keeps running after this."""
        self.refresher.stop()
        self.session.close()


class LatentExplorer:
    """Interpolate between two noise vectors, or add and subtract them, on a trained generator.

    Noise vectors are named by seeds (``z = N(0, I)`` drawn from ``torch.Generator().manual_seed(seed)``),
    so a student can write down an interesting one. Reads the generator under the
    session's lock when given one, so it is safe while training continues.
    """

    def __init__(self, run: DCGANRun, session: TrainingSession | None = None, *, pixels: int = 480) -> None:
        self.run, self.session, self.pixels = run, session, pixels
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
        self.widget = widgets.VBox([
            widgets.HBox([self.seed_a, self.seed_b, self.seed_c]),
            widgets.HBox([self.steps, self.mode]),
            widgets.HBox([self.interpolate_button, self.arithmetic_button]),
            self.view, self.caption,
        ])
        self.last_images: torch.Tensor | None = None

    def noise(self, seed: int) -> torch.Tensor:
        return torch.randn(self.run.config.model.latent_dim, generator=torch.Generator().manual_seed(int(seed)))

    def _generate(self, z: torch.Tensor) -> torch.Tensor:
        if self.session is None:
            return self.run.sample(z)
        with self.session.locked():
            return self.run.sample(z)

    def interpolate(self) -> torch.Tensor:
        """Images along the path from G(z_A) to G(z_B): (steps, C, H, W)."""
        path = latent_path(self.noise(self.seed_a.value), self.noise(self.seed_b.value), self.steps.value, self.mode.value)
        images = self._generate(path)
        self._display(images, nrow=images.shape[0], text=f"{self.mode.value} from seed {self.seed_a.value} to seed {self.seed_b.value}")
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
        fig, ax = plt.subplots(figsize=(min(12, 1.2 * images.shape[0]), 1.6))
        ax.imshow(to_grid(images, nrow=images.shape[0]), interpolation="nearest")
        ax.set_title(title or self.caption.value, fontsize=9)
        ax.axis("off")
        plt.close(fig)
        return fig
