"""The 2-D GAN lab: GAN Lab's views and controls, live in Jupyter, on real PyTorch.

    lab = GanLab2D(LabConfig(distribution="ring"))
    lab.show()         # live widgets with a front end; a static figure without one
    lab.train(2000)    # live: in the background; without a front end: blocking, then lab.show() again
    lab.close()        # stops the training and the refresher; nothing keeps running

Wiring (data flows one way): :class:`~ganlab_kit.toy2d.run.Toy2DRun` (data, nets,
optimizers) is stepped by a :class:`~ganlab_kit.train.session.TrainingSession` in its own
thread; a :class:`~ganlab_kit.widgets.refresh.ViewRefresher` wakes ``fps`` times a second,
copies the networks' weights into shadow copies under ``session.locked()`` (microseconds),
then computes the fields and charts from the shadows *outside* the lock and sends them to
the canvas. Training never waits for drawing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import torch

from ..runtime import frontend_attached, limit_torch_threads
from ..toy2d.data import make_distribution, points_distribution, sample_noise
from ..toy2d.divergence import divergences
from ..toy2d.fields import FieldFrame, compute_field_frame
from ..toy2d.io import load_pretrained, save_toy_model
from ..toy2d.models import ToyModelConfig
from ..toy2d.run import Toy2DHyper, Toy2DRun
from ..train.guards import default_guards, non_finite_guard
from ..train.session import TrainingSession
from .charts import LineChart
from .controls import TransportBar
from .field_view import FieldView
from .lab2d_panels import DRAWN, LabPanels
from .refresh import ViewRefresher
from .shadow import ShadowModules
from .snapshot import LabDisplay

DIVERGENCE_EVERY_FRAMES = 4  # KL / JS need 1024 generated points: measure every 4th frame


@dataclass
class LabConfig:
    """What the lab starts with; everything can be changed from its controls later."""

    distribution: str = "ring"
    model: ToyModelConfig = field(default_factory=ToyModelConfig)
    hyper: Toy2DHyper = field(default_factory=Toy2DHyper)
    seed: int = 0
    fps: float = 15.0
    points_shown: int = 256  # real and fake points drawn (fixed samples: they move smoothly)
    heatmap_resolution: int = 48
    manifold_resolution: int = 20
    divergence_samples: int = 1024
    live: bool | None = None  # None: live exactly when a front end is attached
    # Tiny nets gain nothing from torch's intra-op threads, and on a 2-core machine the
    # training and drawing threads would fight over them: use 1 while the lab is open
    # (restored by close()). None leaves torch's setting alone.
    torch_threads: int | None = 1


class GanLab2D:
    """A live 2-D GAN lab (see the module docstring)."""

    def __init__(self, config: LabConfig | None = None, run: Toy2DRun | None = None) -> None:
        self.config = config or LabConfig()
        self.live = frontend_attached() if self.config.live is None else self.config.live
        self._threads = limit_torch_threads(self.config.torch_threads or None)  # released by close()
        self.run = run or Toy2DRun(
            make_distribution(self.config.distribution), self.config.model, self.config.hyper, self.config.seed
        )
        self._next_kind = "both"
        self.session = TrainingSession(self._train_step)
        self._install_guards()
        self.divergence_history: list[dict[str, float]] = []
        self.field = FieldView()
        self.bar = TransportBar(self.session, on_reset=self.reset)
        self.bar.add_button("Step D", lambda: self.step("discriminator"), tooltip="one discriminator update only")
        self.bar.add_button("Step G", lambda: self.step("generator"), tooltip="one generator update only")
        self.charts = {
            "losses": LineChart(["d_loss", "g_loss"], title="losses", width=380, height=120),
            "probabilities": LineChart(["d_real", "d_fake"], title="D(x) and D(G(z))", width=380, height=120),
            "divergence": LineChart(["kl", "js"], title="KL / JS (30x30 grid)", width=380, height=120),
            "coverage": LineChart(
                ["mode_share", "high_quality"], title="modes hit (share), high-quality share", width=380, height=120
            ),
        }
        self.panels = LabPanels(self)
        self._shadows = ShadowModules()
        self._cache: dict[str, Any] = {}
        self._last_frame_step = -1
        self._frames_computed = 0
        self.frame: FieldFrame | None = None
        self.refresher = ViewRefresher(
            self._read, self._draw, session=self.session, fps=self.config.fps, only_on_change=False
        )
        charts = widgets.VBox([chart.widget for chart in self.charts.values()])
        self.widget = widgets.VBox(
            [self.bar.widget, widgets.HBox([self.field.widget, charts]), self.panels.layer_row, self.panels.widget]
        )
        self.widget.add_class("ganlab-lab2d")
        self.view = LabDisplay(self.widget, self.figure, self.__repr__)

    # ------------------------------------------------------------ training
    def _train_step(self) -> dict:
        kind, self._next_kind = self._next_kind, "both"
        return self.run.step(kind)

    def _install_guards(self) -> None:
        self.session.guards = [non_finite_guard, *default_guards(self.run)]

    def step(self, which: str = "both") -> None:
        """One step of both networks, or of the ``"discriminator"`` / ``"generator"`` only."""
        self.session.pause()
        self._next_kind = which
        self.session.step()

    def train(self, steps: int, *, block: bool | None = None, record_every: int = 50) -> dict[str, float] | None:
        """Train ``steps`` more steps. Live (and ``block`` not True): in the background,
        returning at once (the views show it; :meth:`wait` waits for it). Otherwise in this
        thread, recording the divergence every ``record_every`` steps; returns the last metrics."""
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if self.live and not block:
            self.refresher.start()
            self.session.play(steps)
            return None
        metrics = self.session.run(
            steps, every=record_every, callback=lambda _m: self._record_divergence(self.run.generator)
        )
        self._record_divergence(self.run.generator)
        return metrics

    def wait(self, timeout: float | None = None) -> None:
        """Block until background training pauses (its steps are done, an alarm, or Pause)."""
        start = time.perf_counter()
        while self.session.running and (timeout is None or time.perf_counter() - start < timeout):
            time.sleep(0.05)
        self.refresher.draw_now()
        self.view.refresh()  # the live output's picture follows the training

    def set_hyper(self, **changes) -> None:
        """Change training hyperparameters; validated now, used from the next step on."""
        self.run.set_hyper(**changes)
        if "loss" in changes:
            self._install_guards()
        self.bar.say(", ".join(f"{k} = {v}" for k, v in changes.items()) + " (from the next step)")

    def _num_modes(self) -> int | None:
        modes = self.run.distribution.modes
        return len(modes) if modes is not None else None

    def change_architecture(self, model_config: ToyModelConfig) -> None:
        model_config.validate()  # a ValueError here is refused at the control
        self.reset(model_config=model_config)
        self.bar.say("architecture changed: new networks, training restarts at step 0", level="warning")

    def reset(self, model_config: ToyModelConfig | None = None, seed: int | None = None) -> None:
        """New networks (same or new architecture / seed); history and charts start over."""
        self.session.pause()
        with self.session.locked():
            self.run.reset(model_config=model_config, seed=seed)
            self._shadows.clear()
            self._cache = {}
        self.session.replace_step(self._train_step)
        self.divergence_history.clear()
        self._last_frame_step = -1
        self.bar.update()

    def set_distribution(self, kind: str) -> None:
        """Train on a built-in distribution or on the drawn points (``"drawn"``)."""
        distribution = points_distribution(self.field.drawn) if kind == DRAWN else make_distribution(kind)
        with self.session.locked():
            self.run.set_distribution(distribution)
            self.run.apply_pending()
            self._cache = {}
        self._install_guards()
        self.divergence_history.clear()
        self._last_frame_step = -1

    def load_pretrained(self, kind: str | None = None) -> None:
        """Start from the shipped model for ``kind`` (default: the current distribution)."""
        kind = kind or self.run.distribution.name
        trained = load_pretrained(kind, self.run.next_hyper)
        self.session.pause()
        with self.session.locked():
            self.run = trained
            self._shadows.clear()
            self._cache = {}
        self.session.replace_step(self._train_step)
        self._install_guards()
        self.divergence_history.clear()
        self._last_frame_step = -1
        self.bar.say(f"loaded the pretrained {kind} model ({trained.steps_done} steps of training)")

    def save(self, path) -> None:
        with self.session.locked():
            save_toy_model(path, self.run, extra={"lab_step": self.session.step_count})

    def set_layer(self, name: str, visible: bool) -> None:
        self.field.set_layer(name, visible)

    # ------------------------------------------------------------- frames
    def _read(self) -> dict[str, Any]:
        """Under the session lock: copy weights into shadow nets, note what a frame needs."""
        run = self.run
        # The snapshot carries the shadow nets: a reset may replace the run meanwhile.
        shadows = self._shadows.copy_from({"generator": run.generator, "discriminator": run.discriminator})
        generator, discriminator = shadows["generator"], shadows["discriminator"]
        return {
            "step": self.session.step_count,
            "loss": run.hyper.loss,
            "noise": run.model_config.noise,
            "distribution": run.distribution,
            "generator": generator,
            "discriminator": discriminator,
        }

    def _fixed_samples(self, snapshot: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        key = (id(snapshot["distribution"]), snapshot["noise"].kind, snapshot["noise"].dim)
        if self._cache.get("key") != key:
            generator = torch.Generator().manual_seed(self.config.seed + 7)
            n = max(self.config.points_shown, self.config.divergence_samples)
            self._cache = {
                "key": key,
                "real": snapshot["distribution"].sample(n, generator),
                "noise": sample_noise(snapshot["noise"], n, generator),
            }
        return self._cache["real"], self._cache["noise"]

    def compute_frame(self, snapshot: dict[str, Any] | None = None) -> FieldFrame:
        """The field frame for the current state (reads the nets under the lock)."""
        snapshot = snapshot or self.refresher._snapshot()
        generator, discriminator = snapshot["generator"], snapshot["discriminator"]
        real, noise = self._fixed_samples(snapshot)
        shown = self.config.points_shown
        return compute_field_frame(
            generator,
            discriminator,
            snapshot["loss"],
            real[:shown],
            noise[:shown],
            snapshot["noise"],
            heatmap_resolution=self.config.heatmap_resolution,
            manifold_resolution=self.config.manifold_resolution,
            step=snapshot["step"],
        )

    def _record_divergence(self, generator: torch.nn.Module, step: int | None = None) -> None:
        step = self.session.step_count if step is None else step
        if self.divergence_history and self.divergence_history[-1]["step"] >= step:
            return
        snapshot = {"distribution": self.run.distribution, "noise": self.run.model_config.noise}
        real, noise = self._fixed_samples(snapshot)
        with torch.no_grad():
            fake = generator(noise[: self.config.divergence_samples])
        self.divergence_history.append(
            {"step": float(step), **divergences(real[: self.config.divergence_samples], fake)}
        )

    def _draw(self, snapshot: dict[str, Any]) -> None:
        """Outside the lock: fields, divergence and charts from the shadow nets, then send."""
        if snapshot["step"] != self._last_frame_step or self.frame is None:
            self.frame = self.compute_frame(snapshot)
            self.field.show(self.frame)
            self._frames_computed += 1
            if self._frames_computed % DIVERGENCE_EVERY_FRAMES == 1:  # a few times a second is plenty
                self._record_divergence(snapshot["generator"], snapshot["step"])
            self._update_charts()
            self._last_frame_step = snapshot["step"]
        self.bar.update()

    def _update_charts(self) -> None:
        history = self.session.history
        for name in ("losses", "probabilities", "coverage"):
            self.charts[name].update(history)
        self.charts["divergence"].update(self.divergence_history)

    # ------------------------------------------------------------ display
    def figure(self):
        """A matplotlib figure of the field and the charts (what a static reader sees).

        Before the first step the charts have nothing to draw: the field alone is shown.
        """
        import matplotlib.pyplot as plt

        self.refresher.draw_now()
        title = f"{self.run.distribution.name}, step {self.session.step_count}"
        names = [name for name in self.charts if name != "coverage" or self._num_modes()]
        names = [name for name in names if not self.charts[name].empty]
        if not names:
            figure, ax = plt.subplots(figsize=(5.2, 5.2), dpi=110)
            self.field.figure(self.frame, ax=ax, title=f"{title} (untrained)")
            figure.tight_layout()
            return figure
        figure = plt.figure(figsize=(13, 6.2), dpi=110)
        grid = figure.add_gridspec(2, 3, width_ratios=[1.25, 1, 1])
        self.field.figure(self.frame, ax=figure.add_subplot(grid[:, 0]), title=title)
        for index, name in enumerate(names):
            self.charts[name].figure(ax=figure.add_subplot(grid[index % 2, 1 + index // 2]))
        figure.tight_layout()
        return figure

    def show(self) -> None:
        """Live: the widgets (and start the refresher), with a PNG of the lab in the same
        output for static readers. Without a front end: the PNG alone (see :mod:`.snapshot`)."""
        self.view.show(self.live)
        if self.live:
            self.refresher.start()

    def close(self) -> None:
        """Stop the refresher and the training, close the widgets. Nothing keeps running."""
        self.refresher.stop()
        self.session.close()
        self.view.refresh(closing=True)  # a live output keeps the last picture, not a dead widget
        self.widget.close()
        self._threads.release()

    def __repr__(self) -> str:
        return f"GanLab2D({self.run.distribution.name}, step {self.session.step_count}, {self.session.state})"
