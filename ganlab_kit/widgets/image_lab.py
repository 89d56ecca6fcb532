"""The image lab: any :class:`~ganlab_kit.train.run.Run` training live, with its pictures and curves.

    lab = ImageLab(run, ImageLabConfig(snapshot_every=25), make_run=make_run)
    lab.show()          # live: widgets + redraws; static (no front end): a matplotlib figure
    lab.train(1000)     # live: 1000 more steps in the background; static: blocking, then redraw
    lab.wait()          # live: until those steps are done (or Pause)
    lab.reset()         # a fresh run from make_run(), step 0
    lab.close()         # nothing keeps running

Built from the shared machinery: a :class:`~ganlab_kit.train.session.TrainingSession` steps
``run.step`` in a background thread; a :class:`~ganlab_kit.widgets.controls.TransportBar`
plays, pauses, steps and resets; :class:`~ganlab_kit.widgets.hyper_controls.HyperControls`
builds one control per field of the run's hyperparameter dataclass; a
:class:`~ganlab_kit.widgets.refresh.ViewRefresher` redraws at ``fps``.

What the lab knows of the model is only the Run protocol: one picture grid per entry of
``run.visuals()`` (captioned with its name), laid out in the rows of the run's optional
``visual_layout`` (CycleGAN: ``real_A -> fake_B -> rec_A`` over ``real_B -> fake_A -> rec_B``),
and charts of its metrics grouped by :func:`chart_keys` (few lines per chart, each of one
scale). With ``ImageLabConfig(checkpoint_dir=...)`` a "Save checkpoint" button writes
``run.save(...)`` there; :meth:`ImageLab.compare` shows two saved checkpoints side by side
(:class:`~ganlab_kit.widgets.checkpoint_compare.CheckpointCompare`).

Drawing never holds up training: under ``session.locked()`` a frame only copies the
weights of ``run.visual_modules`` into shadow copies (:class:`~ganlab_kit.widgets.shadow.ShadowModules`);
``run.visuals(shadows)`` and the PNG encoding run outside the lock. Snapshots for the
history slider are taken by the same frames (at least ``snapshot_every`` steps apart), not
inside the training step.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..runtime import frontend_attached, limit_torch_threads
from ..train.guards import default_guards
from ..train.session import TrainingSession
from .charts import LineChart
from .controls import TransportBar
from .hyper_controls import HyperControls
from .image_grid import png_bytes, to_grid
from .latent_explorer import LatentExplorer  # kept importable from here (in __all__)
from .refresh import ViewRefresher
from .run_views import CHART_TITLES, caption_label, chart_keys, grid_class, visual_rows
from .shadow import ShadowModules
from .snapshot import LabDisplay

__all__ = [
    "ImageLab",
    "ImageLabConfig",
    "LatentExplorer",
    "Snapshot",
    "chart_keys",
    "png_bytes",
    "to_grid",
    "visual_rows",
]


@dataclass
class ImageLabConfig:
    """How the lab looks and how often it looks.

    grid_images:    at most this many images of each visual are shown (a square number reads best)
    snapshot_every: steps between stored snapshots of the grids (the history slider's resolution)
    max_snapshots:  oldest snapshots are thinned out (every other one dropped) beyond this
    fps:            redraws per second while training (each runs ``run.visuals`` on shadow copies)
    pixels:         on-screen width of each grid in pixels (images are scaled, not smoothed)
    sync_every:     read the step metrics to the host once per this many steps (each read
                    is a GPU sync); None: 1 on the CPU, 10 when the run's networks are on a GPU
    torch_threads:  torch intra-op threads while the lab is open (None: leave torch alone);
                    restored when the last lab that set it closes
    checkpoint_dir: folder for the "Save checkpoint" button (created when first used);
                    None: no button
    """

    grid_images: int = 36
    snapshot_every: int = 25
    max_snapshots: int = 120
    fps: float = 8.0
    pixels: int = 320
    sync_every: int | None = None
    torch_threads: int | None = None
    checkpoint_dir: str | Path | None = None


@dataclass
class Snapshot:
    step: int
    pictures: dict[str, np.ndarray]  # visual name -> (H, W, 3) uint8 grid

    @property
    def picture(self) -> np.ndarray:
        """The first visual's grid (the generator's samples, for a DCGAN)."""
        return next(iter(self.pictures.values()))


def default_sync_every(run) -> int:
    """1 when the run's networks are on the CPU (reading a float costs nothing), else 10."""
    for module in run.modules.values():
        for parameter in module.parameters():
            return 1 if parameter.device.type == "cpu" else 10
    return 1


class ImageLab:
    """A live lab around any run (see the module docstring). Display ``lab.widget`` or call ``lab.show()``.

    ``make_run``: optional zero-argument function building a fresh run, used by Reset
    (and by :meth:`compare`, to build runs to load checkpoints into).
    ``live``: force live widgets (True) or static figures (False); ``None`` asks
    :func:`~ganlab_kit.runtime.frontend_attached`.
    """

    def __init__(self, run, config: ImageLabConfig | None = None, *, make_run=None, live: bool | None = None) -> None:
        self.run = run
        self.config = config or ImageLabConfig()
        self.make_run = make_run
        self.live = frontend_attached() if live is None else bool(live)
        self._threads = limit_torch_threads(self.config.torch_threads)
        self.snapshots: list[Snapshot] = []
        self.latest: Snapshot | None = None  # the last frame drawn from the live run
        self.session = TrainingSession(
            lambda: self.run.step(),
            guards=[self._run_guards],
            sync_every=self.config.sync_every or default_sync_every(run),
        )
        self._shadows = ShadowModules()
        self._generation = 0  # bumped by reset: frames of an older run are dropped

        self.bar = TransportBar(self.session, on_reset=self.reset if make_run else None)
        self.hyper_controls = HyperControls(lambda: self.run, self.session.locked, self.bar)
        self.grids: dict[str, widgets.Image] = {}
        self.grid_titles: dict[str, widgets.Label] = {}
        self.grid_box = widgets.VBox()  # one HBox per row of visual_rows()
        self.saved_checkpoints: list[Path] = []
        self.save_button: widgets.Button | None = None
        if self.config.checkpoint_dir is not None:
            self.save_button = self.bar.add_button(
                "Save checkpoint",
                self.save_checkpoint,
                icon="save",
                tooltip=f"write the run as it is now to {self.config.checkpoint_dir}",
            )
            self.save_button.add_class("ganlab-save-checkpoint")
        self.grid_caption = widgets.Label(value="step 0 (live)")
        self.history_slider = widgets.IntSlider(
            value=0, min=0, max=0, description="history", continuous_update=True, readout=False
        )
        self.follow_live = widgets.Checkbox(value=True, description="follow live", indent=False)
        self.history_slider.observe(self._on_scrub, names="value")
        self.follow_live.observe(lambda _: self.refresher.draw_now(), names="value")
        self.charts: dict[str, LineChart] = {}
        self.chart_box = widgets.VBox()
        self.refresher = ViewRefresher(self._read, self._draw, session=self.session, fps=self.config.fps)
        self._programmatic = False
        self.widget = widgets.VBox(
            [
                self.bar.widget,
                self.hyper_controls.widget,
                widgets.HBox(
                    [  # wraps: on a narrow screen the charts go below the pictures
                        widgets.VBox(
                            [self.grid_box, self.grid_caption, widgets.HBox([self.history_slider, self.follow_live])]
                        ),
                        self.chart_box,
                    ],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ),
            ]
        )
        self.refresher.draw_now()  # step 0: what the untrained networks make (the first snapshot)
        self.view = LabDisplay(self.widget, self.figure, self.__repr__)

    # ---------------------------------------------------------------- training
    def _run_guards(self, history: list[dict]) -> str | None:
        """The model's own alarms (a collapsing discriminator, mode collapse), chosen for the
        run and loss in force now: a loss changed from the controls, or a reset, is followed."""
        for guard in default_guards(self.run):
            message = guard(history)
            if message:
                return message
        return None

    def train(self, steps: int, *, block: bool | None = None) -> None:
        """Train ``steps`` more steps: in the background when live and ``block`` is not
        True (returns at once), else blocking in this cell (a snapshot every
        ``snapshot_every`` steps)."""
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if self.live and not block:
            self.start_views()
            self.session.play(steps)
        else:
            self.session.run(steps, every=self.config.snapshot_every, callback=lambda _: self.refresher.draw_now())
            self.refresher.draw_now()

    def wait(self, timeout: float | None = None) -> None:
        """Block until background training pauses (its ``steps`` are done, or Pause)."""
        start = time.perf_counter()
        while self.session.running and (timeout is None or time.perf_counter() - start < timeout):
            time.sleep(0.05)
        self.refresher.draw_now()
        self.view.refresh()  # the live output's picture follows the training

    def reset(self) -> None:
        """A fresh run from ``make_run()``: new networks, step 0, snapshots and charts
        cleared; the controls' values carry over to the new run."""
        if self.make_run is None:
            raise RuntimeError("this lab was made without make_run, so it cannot reset")
        self.session.pause()
        with self.refresher.frame_lock, self.session.locked():  # no frame of the old run in flight
            self.run = self.make_run()
            self._generation += 1
            self._shadows.clear()
            self.snapshots, self.latest = [], None
            self.hyper_controls.reapply()
            for chart in self.charts.values():
                chart.clear()
        self.session.replace_step(lambda: self.run.step())
        self.refresher.draw_now()

    # ------------------------------------------------------------- checkpoints
    def save_checkpoint(self, name: str | None = None) -> Path:
        """Write the run as it is now (weights, optimizers, data position, the metrics so
        far) to ``checkpoint_dir``; returns the path. Default name: ``<model>_step<N>``;
        an existing file is never overwritten (``_2``, ``_3``, ... is added). The write
        holds the session lock (no step runs meanwhile) and is atomic."""
        if self.config.checkpoint_dir is None:
            raise RuntimeError("this lab has no checkpoint_dir: make it with ImageLabConfig(checkpoint_dir=...)")
        folder = Path(self.config.checkpoint_dir)
        folder.mkdir(parents=True, exist_ok=True)
        with self.session.locked():  # a whole step's state, never half of one
            run, step = self.run, int(getattr(self.run, "steps_done", self.session.step_count))
            stem = name or f"{_model_name(run)}_step{step:06d}"
            path = _free_path(folder, stem)
            history = list(self.session.history)
            saver = getattr(run, "save", None)
            if callable(saver):
                saver(path, history=history)
            else:
                from ..train.checkpoint import save_run

                save_run(path, run, history=history)
        self.saved_checkpoints.append(path)
        self.bar.say(f"saved step {step} to {path}")
        return path

    def compare(self, *checkpoints, **options):
        """Checkpoints side by side on the same held-out inputs (default: the last two this
        lab saved); a :class:`~ganlab_kit.widgets.checkpoint_compare.CheckpointCompare`
        built with this lab's ``make_run`` (``options`` go to it). Call ``.show()`` on it."""
        from .checkpoint_compare import CheckpointCompare

        if self.make_run is None:
            raise RuntimeError("this lab was made without make_run, so it cannot build runs to load checkpoints into")
        chosen = list(checkpoints) or self.saved_checkpoints[-2:]
        if not chosen:
            raise ValueError("nothing to compare yet: press Save checkpoint (twice, some steps apart), or pass paths")
        options.setdefault("live", self.live)
        options.setdefault("layout", getattr(self.run, "visual_layout", None))
        options.setdefault("folder", self.config.checkpoint_dir)
        return CheckpointCompare(self.make_run, chosen, **options)

    # ------------------------------------------------------------------- views
    def _read(self) -> dict[str, Any]:
        """Under the session lock: copy the visual modules' weights into the shadows
        (only when a picture is wanted). Nothing slow happens here."""
        step = int(getattr(self.run, "steps_done", self.session.step_count))
        wanted = self.follow_live.value or self._snapshot_due(step)
        shadows = None
        if wanted:
            shadows = self._shadows.copy_from({name: self.run.modules[name] for name in self.run.visual_modules})
        return {"step": step, "run": self.run, "shadows": shadows, "generation": self._generation}

    def _snapshot_due(self, step: int) -> bool:
        every = max(1, self.config.snapshot_every)
        return not self.snapshots or step // every > self.snapshots[-1].step // every

    def _draw(self, frame: dict[str, Any]) -> None:
        """Outside the lock: visuals from the shadows, grids, snapshot, charts, bar."""
        if frame["shadows"] is not None and frame["generation"] == self._generation:
            visuals = frame["run"].visuals(frame["shadows"])
            pictures = {name: to_grid(images[: self.config.grid_images]) for name, images in visuals.items()}
            self.latest = Snapshot(frame["step"], pictures)
            if self._snapshot_due(frame["step"]):
                self._add_snapshot(self.latest)
            if list(pictures) != list(self.grids):
                self._build_grids(list(pictures))
        self._sync_slider()
        if self.follow_live.value and self.latest is not None:
            self._show(self.latest, f"step {self.latest.step} (live)")
        else:
            self._show_snapshot(self.history_slider.value)
        self._update_charts(self.session.history)
        self.bar.update()

    def _add_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot)
        if len(self.snapshots) > self.config.max_snapshots:  # keep the first, thin the rest
            self.snapshots = (
                self.snapshots[:1]
                + self.snapshots[2::2]
                + ([self.snapshots[-1]] if len(self.snapshots) % 2 == 0 else [])
            )

    def _build_grids(self, names: list[str]) -> None:
        self.grids = {name: widgets.Image(format="png", width=self.config.pixels) for name in names}
        self.grid_titles = {name: caption_label(name) for name in names}
        for name, image in self.grids.items():
            image.add_class("ganlab-image-grid")  # stable handles for browser tests
            image.add_class(grid_class(name))
        wrap = widgets.Layout(flex_flow="row wrap")
        self.grid_box.children = [
            widgets.HBox([widgets.VBox([self.grid_titles[n], self.grids[n]]) for n in row], layout=wrap)
            for row in self.rows(names)
        ]

    def rows(self, names: Sequence[str] | None = None) -> list[list[str]]:
        """The visuals' names in rows, as the grids are laid out (:func:`visual_rows` of the
        run's optional ``visual_layout``)."""
        names = list(self.grids) if names is None else list(names)
        return visual_rows(names, getattr(self.run, "visual_layout", None))

    def _sync_slider(self) -> None:
        count = len(self.snapshots)
        self._programmatic = True
        try:
            if self.history_slider.max != max(0, count - 1):
                self.history_slider.max = max(0, count - 1)
            if self.follow_live.value and self.history_slider.value != count - 1:
                self.history_slider.value = max(0, count - 1)
        finally:
            self._programmatic = False

    def _show(self, snapshot: Snapshot, caption: str) -> None:
        for name, picture in snapshot.pictures.items():
            if name in self.grids:
                self.grids[name].value = png_bytes(picture, self.config.pixels)
        self.grid_caption.value = caption

    def _show_snapshot(self, index: int) -> None:
        if not self.snapshots:
            return
        index = min(index, len(self.snapshots) - 1)
        snap = self.snapshots[index]
        self._show(snap, f"step {snap.step} (snapshot {index + 1}/{len(self.snapshots)})")

    def _on_scrub(self, change: dict) -> None:
        if self._programmatic:
            return
        if change["new"] < len(self.snapshots) - 1:
            self.follow_live.value = False  # the user went back in time: stop following
        self._show_snapshot(change["new"])

    def _update_charts(self, history: list[dict]) -> None:
        if not history:
            return
        for name, keys in chart_keys(history[-1]).items():
            chart = self.charts.get(name)
            if chart is None or not set(keys) <= set(chart.keys):  # a new metric: a new chart
                self.charts[name] = LineChart(keys, title=CHART_TITLES[name], width=380, height=150)
                self.chart_box.children = [c.widget for c in self.charts.values()]
            self.charts[name].update(history)

    @property
    def grid_view(self) -> widgets.Image | None:
        """The first grid (the generator's samples for a DCGAN)."""
        return next(iter(self.grids.values()), None)

    def start_views(self) -> None:
        if self.live:
            self.refresher.start()

    def show(self) -> None:
        """Live: display the widget and start redrawing, with a PNG of the lab in the same
        output for static readers. Static: the PNG alone, a figure of every grid and chart
        (as the 2-D lab does; see :mod:`.snapshot`)."""
        self.view.show(self.live)
        if self.live:
            self.start_views()

    def figure(self):
        """A matplotlib figure of the grids shown now and the charts, readable on a projector."""
        import matplotlib.pyplot as plt

        self.refresher.draw_now()
        shown = (
            self.latest
            if self.follow_live.value or not self.snapshots
            else self.snapshots[min(self.history_slider.value, len(self.snapshots) - 1)]
        )
        rows = self.rows(list(shown.pictures)) if shown is not None else []
        columns = max([len(row) for row in rows] + [1])
        charts = list(self.charts.values())
        width = 3.6 * columns + (6.0 if charts else 0.0)
        height = max(4.4, 3.8 * len(rows), 2.3 * len(charts))  # charts at least ~2 inches tall each
        # constrained layout: nested grids (pictures | charts) with room for every title and label
        fig = plt.figure(figsize=(width, height), dpi=110, layout="constrained")
        outer = fig.add_gridspec(1, 2 if charts else 1, width_ratios=[3.6 * columns, 6.0] if charts else None)
        pictures = outer[0, 0].subgridspec(max(1, len(rows)), columns)
        for r, row in enumerate(rows):
            for c, name in enumerate(row):
                ax = fig.add_subplot(pictures[r, c])
                ax.imshow(shown.pictures[name], interpolation="nearest")
                ax.set_title(f"{name}, step {shown.step}", fontsize=12)
                ax.axis("off")
        if charts:
            column = outer[0, 1].subgridspec(len(charts), 1)
            for j, chart in enumerate(charts):
                chart.figure(fig.add_subplot(column[j, 0]))
        plt.close(fig)
        return fig

    def close(self) -> None:
        """Stop training and redrawing, give back the torch thread setting; nothing keeps running."""
        self.refresher.stop()
        self.session.close()
        self.view.refresh(closing=True)  # a live output keeps the last picture
        self._threads.release()

    def __repr__(self) -> str:
        return f"ImageLab({type(self.run).__name__}, step {self.session.step_count}, {self.session.state})"


def _model_name(run) -> str:
    """``cyclegan`` / ``pix2pix`` / ... from the run's architecture, for file names."""
    try:
        name = str(run.architecture().get("architecture", ""))
    except Exception:  # a run without architecture() still saves under its class name
        name = ""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name or type(run).__name__).lower()


def _free_path(folder: Path, stem: str, suffix: str = ".safetensors") -> Path:
    """``folder/stem.safetensors``, or ``stem_2``, ``stem_3``, ... when taken: nothing saved is overwritten."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", stem.removesuffix(suffix))
    path, number = folder / f"{stem}{suffix}", 2
    while path.exists():
        path, number = folder / f"{stem}_{number}{suffix}", number + 1
    return path
