"""Checkpoints of one model side by side, on the same held-out inputs.

    lab = ImageLab(make_run(), ImageLabConfig(checkpoint_dir="checkpoints"), make_run=make_run)
    # ... press "Save checkpoint" at step 200, train on, press it again at step 800 ...
    compare = lab.compare()       # the last two checkpoints the lab saved
    compare = CheckpointCompare(make_run, ["checkpoints/cyclegan_step000200.safetensors",
                                           "checkpoints/cyclegan_step000800.safetensors"])
    compare.show()                # live: widgets; static (no front end): a matplotlib figure

Each checkpoint is loaded (:func:`~ganlab_kit.train.checkpoint.load_run`, leaving the global
random state alone) into a fresh run from ``make_run()``, which must build the model that was
saved (same architecture, size, direction). Every checkpoint's pictures come from the *first*
one's fixed held-out batch, ``first.visuals(other.modules)``: a run's ``visuals`` use only the
modules they are given, so each checkpoint's generators translate the same photos.

Layout: for each row of the run's ``visual_layout``, one row of pictures per checkpoint, each
captioned with the visual's name and the checkpoint's step, so ``fake_B`` at step 200 sits
right above ``fake_B`` at step 800. Given a ``folder``, two drop-downs pick the checkpoints.

A file that does not fit (another model, size or direction: ``CheckpointMismatch``; not a
checkpoint; missing) is named in the message area, never as a traceback; the others are shown.
"""

from __future__ import annotations

import contextlib
import html
import os
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import torch

from ..runtime import frontend_attached
from ..train.checkpoint import CheckpointError, CheckpointMismatch, load_run
from .image_grid import png_bytes, to_grid
from .run_views import caption_label, grid_class, visual_rows
from .snapshot import LabDisplay

SUFFIX = ".safetensors"


@dataclass
class ComparedCheckpoint:
    """One column of the comparison: where it came from, its step, its pictures."""

    label: str  # the file name without ".safetensors" (or "run N" for a run passed in)
    step: int
    pictures: dict[str, np.ndarray]  # visual name -> (H, W, 3) uint8 grid


@contextlib.contextmanager
def _random_state_kept() -> Iterator[None]:
    """Put torch's (CPU and CUDA), NumPy's and Python's global random states back afterwards:
    looking at checkpoints must not change what the notebook's next random draw is."""
    numpy_state, python_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng():
        try:
            yield
        finally:
            np.random.set_state(numpy_state)
            random.setstate(python_state)


def _is_path(item: Any) -> bool:
    return isinstance(item, (str, os.PathLike))


def _label(item: Any, index: int) -> str:
    if _is_path(item):
        name = Path(item).name
        return name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
    return f"run {index + 1}"


class CheckpointCompare:
    """Checkpoints side by side (see the module docstring). Display ``.widget`` or call ``.show()``.

    ``make_run``: zero-argument function building a fresh run of the saved model.
    ``checkpoints``: paths of files written by ``run.save(path)`` (or runs, already built).
    ``folder``: offer the checkpoints of this folder in two drop-downs (live).
    ``layout``: rows of visual names (default: the run's ``visual_layout``).
    ``grid_images``: images of each visual shown; ``pixels``: on-screen width of each grid.
    ``live``: widgets (True) or a static figure (False); None asks the front end.
    """

    def __init__(
        self,
        make_run: Callable[[], Any],
        checkpoints: Sequence[Any] = (),
        *,
        folder: str | Path | None = None,
        layout: Sequence[Sequence[str]] | None = None,
        grid_images: int = 16,
        pixels: int = 200,
        live: bool | None = None,
    ) -> None:
        self.make_run = make_run
        self.folder = Path(folder) if folder is not None else None
        self.layout = layout
        self.grid_images, self.pixels = int(grid_images), int(pixels)
        self.live = frontend_attached() if live is None else bool(live)
        self.entries: list[ComparedCheckpoint] = []
        self.problems: list[str] = []
        self.rows: list[list[str]] = []
        self.grids: dict[tuple[str, str], widgets.Image] = {}  # (label, visual) -> picture

        self.message = widgets.HTML(value="")
        self.grid_box = widgets.VBox()
        self.pickers: list[widgets.Dropdown] = []
        children: list[widgets.Widget] = []
        if self.folder is not None:
            style = {"description_width": "initial"}
            self.pickers = [widgets.Dropdown(description=side, style=style) for side in ("first", "second")]
            self.compare_button = widgets.Button(description="Compare", icon="columns")
            self.refresh_button = widgets.Button(description="Refresh list", icon="refresh")
            self.compare_button.on_click(self._safe(lambda: self.compare(*[p.value for p in self.pickers if p.value])))
            self.refresh_button.on_click(self._safe(self.refresh_list))
            row = widgets.HBox([*self.pickers, self.compare_button, self.refresh_button])
            row.layout.flex_flow = "row wrap"
            children.append(row)
            self.refresh_list()
        self.widget = widgets.VBox([*children, self.message, self.grid_box])
        if checkpoints:
            self.compare(*checkpoints)

    # ------------------------------------------------------------ loading
    def refresh_list(self) -> list[Path]:
        """The checkpoints in ``folder``, oldest first, offered in the drop-downs (the last
        two preselected); returns them."""
        if self.folder is None:
            raise RuntimeError("this comparison was made without a folder to list")
        found = sorted(self.folder.glob(f"*{SUFFIX}"), key=lambda p: (p.stat().st_mtime, p.name))
        options = [(p.name, str(p)) for p in found]
        for index, picker in enumerate(self.pickers):
            picker.options = options
            if options:
                picker.value = options[max(0, len(options) - 2 + index)][1]
        if len(found) < 2:
            self._say(f"{len(found)} checkpoint(s) in {self.folder}: save two (some steps apart) to compare them")
        elif not self.entries:
            self._say("pick two checkpoints above and press Compare")
        return found

    def _load(self, item: Any) -> Any:
        """A run holding ``item``: a fresh run with the checkpoint loaded, or ``item`` itself."""
        if not _is_path(item):
            if not (hasattr(item, "visuals") and hasattr(item, "modules")):
                raise TypeError(f"compare checkpoint paths or runs, got {type(item).__name__}")
            return item
        with _random_state_kept():  # building nets draws from torch's global generator
            run = self.make_run()
            load_run(item, run, global_rng=False)  # nor may the checkpoint's saved state land here
        return run

    def compare(self, *checkpoints: Any) -> list[ComparedCheckpoint]:
        """Load ``checkpoints`` (paths or runs) and show them side by side; returns the entries.
        A checkpoint that cannot be loaded is named in the message area and left out."""
        loaded, problems = [], []
        for index, item in enumerate(checkpoints):
            label = _label(item, index)
            try:
                loaded.append((label, self._load(item)))
            except (CheckpointMismatch, CheckpointError, FileNotFoundError, TypeError) as exc:
                problems.append(f"{label}: {type(exc).__name__}: {exc}")
        entries = []
        if loaded:
            reference = loaded[0][1]  # whose held-out batch every checkpoint translates
            expected = reference.architecture() if hasattr(reference, "architecture") else None
            for label, run in loaded:
                if expected is not None and hasattr(run, "architecture") and run.architecture() != expected:
                    problems.append(f"{label}: a different model from {loaded[0][0]}; compare checkpoints of one model")
                    continue
                modules = {name: run.modules[name] for name in reference.visual_modules}
                visuals = reference.visuals(modules)
                pictures = {name: to_grid(images[: self.grid_images]) for name, images in visuals.items()}
                entries.append(ComparedCheckpoint(label, int(getattr(run, "steps_done", 0)), pictures))
            layout = self.layout if self.layout is not None else getattr(reference, "visual_layout", None)
            self.rows = visual_rows(list(entries[0].pictures) if entries else [], layout)
        self.entries, self.problems = entries, problems
        self._select(checkpoints)
        self._draw()
        return entries

    # ------------------------------------------------------------ views
    def _select(self, checkpoints: Sequence[Any]) -> None:
        """Show the compared files in the drop-downs when they are offered there."""
        paths = [str(item) for item in checkpoints if _is_path(item)]
        for picker, path in zip(self.pickers, paths, strict=False):
            if any(value == path for _, value in picker.options):
                picker.value = path

    def _say(self, text: str, error: bool = False) -> None:
        color = "#b00020" if error else "#333"
        lines = "<br>".join(html.escape(line, quote=False) for line in text.split("\n"))
        self.message.value = f'<span style="color:{color}">{lines}</span>' if text else ""

    def _safe(self, action: Callable[[], Any]) -> Callable[..., None]:
        def handler(*_args) -> None:
            try:
                action()
            except Exception as exc:  # shown to the user, who can act on it
                self._say(f"{type(exc).__name__}: {exc}", error=True)

        return handler

    def _draw(self) -> None:
        if self.problems:
            self._say("\n".join(self.problems), error=True)
        elif len(self.entries) < 2:
            self._say("pick two checkpoints to compare them side by side")
        else:
            self._say("")
        self.grids = {}
        children = []
        for row in self.rows:
            for entry in self.entries:
                header = widgets.HTML(
                    value=f"<b>{html.escape(entry.label)}</b><br>step {entry.step}",
                    layout=widgets.Layout(width="12em", overflow="hidden"),
                )
                cells = []
                for name in row:
                    image = widgets.Image(
                        value=png_bytes(entry.pictures[name], self.pixels), format="png", width=self.pixels
                    )
                    image.add_class("ganlab-compare-grid")
                    image.add_class(grid_class(name))
                    self.grids[(entry.label, name)] = image
                    cells.append(widgets.VBox([caption_label(f"{name}, step {entry.step}"), image]))
                children.append(widgets.HBox([header, *cells], layout=widgets.Layout(align_items="center")))
        self.grid_box.children = children

    def figure(self):
        """A matplotlib figure of the comparison, readable on a projector (110 dpi, 12 pt titles)."""
        import matplotlib.pyplot as plt

        if not self.entries:
            raise ValueError("nothing to compare: " + ("; ".join(self.problems) or "no checkpoint given"))
        lines = [(entry, row) for row in self.rows for entry in self.entries]
        columns = max(len(row) for row in self.rows)
        fig, axes = plt.subplots(
            len(lines), columns, figsize=(3.4 * columns, 3.7 * len(lines)), dpi=110, layout="constrained", squeeze=False
        )
        for r, (entry, row) in enumerate(lines):
            for c in range(columns):
                ax = axes[r][c]
                ax.axis("off")
                if c < len(row):
                    ax.imshow(entry.pictures[row[c]], interpolation="nearest")
                    ax.set_title(f"{entry.label}\n{row[c]}, step {entry.step}", fontsize=12)
        plt.close(fig)
        return fig

    def show(self) -> None:
        """Live: display the widget (with a PNG of it for static readers, see :mod:`.snapshot`).
        Static: the problems as text, then the figure."""
        from IPython.display import display

        if self.live:
            if self.entries:
                LabDisplay(self.widget, self.figure, self.__repr__).show(live=True)
            else:
                display(self.widget)
            return
        for problem in self.problems:
            print(problem)
        if self.entries:
            display(self.figure())

    def __repr__(self) -> str:
        shown = ", ".join(f"{e.label} (step {e.step})" for e in self.entries) or "nothing"
        return f"CheckpointCompare({shown})"
