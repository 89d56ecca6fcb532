"""Show a lab so that a static reader sees a picture where the live widget stands.

A committed notebook carries no widget state (``scripts/run_notebooks.py`` strips it), so
GitHub, nbviewer and a PDF export cannot draw a widget: all they have is its text,
``VBox(children=...)``. Every lab therefore shows itself through :class:`LabDisplay`:

* **live** (a front end renders widgets): one display bundle holding both the widget view and
  a PNG snapshot of the lab (``image/png``). Jupyter renders the widget (its mime type ranks
  first); a viewer that cannot (GitHub, nbviewer and nbconvert without widget state) shows
  the PNG. The bundle has a display id: :meth:`LabDisplay.refresh` redraws the PNG in place
  (the labs call it from ``wait()``), and ``close()`` leaves the final picture alone, so a
  notebook saved after its labs were closed shows where each one ended.
* **static** (no front end: nbval, nbclient, papermill, plain Python): the PNG alone, and
  no widget view at all, so nothing in the stored notebook needs widget state.

The pictures are the labs' own ``figure()``: matplotlib, saved at :data:`SNAPSHOT_DPI`.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

from IPython.display import display

SNAPSHOT_DPI = 110  # readable on a projector (STYLE.md)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def figure_png(figure, dpi: int = SNAPSHOT_DPI) -> bytes:
    """PNG bytes of a matplotlib ``figure`` at ``dpi``; the figure is closed afterwards."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=dpi, facecolor="white", bbox_inches="tight")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def snapshot_bundle(png: bytes, text: str, widget=None) -> dict[str, Any]:
    """A display bundle: ``image/png`` + ``text/plain``, plus the widget's view when given."""
    bundle: dict[str, Any] = {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": text}
    if widget is not None:
        view = widget._repr_mimebundle_().get(WIDGET_VIEW)  # {"model_id": ..., "version_major": 2, ...}
        if view is not None:
            bundle[WIDGET_VIEW] = view
    return bundle


class LabDisplay:
    """Where one lab is shown in a notebook (see the module docstring).

    ``widget``: the lab's top widget; ``render``: returns a matplotlib figure of the lab's
    state now; ``describe``: one line of text (the bundle's ``text/plain``).
    """

    def __init__(self, widget, render: Callable[[], Any], describe: Callable[[], str]) -> None:
        self.widget = widget
        self.render = render
        self.describe = describe
        self.handle = None  # the live display's handle, once shown live

    def bundle(self, with_widget: bool) -> dict[str, Any]:
        png = figure_png(self.render())
        text = self.describe()
        if not with_widget:
            return snapshot_bundle(png, text)
        return snapshot_bundle(png, f"{text} (a live lab; this picture is its state when last drawn)", self.widget)

    def show(self, live: bool) -> None:
        """Display the lab: widget + PNG with a display id when ``live``, else the PNG only."""
        if live:
            self.handle = display(self.bundle(with_widget=True), raw=True, display_id=True)
        else:
            display(self.bundle(with_widget=False), raw=True)

    def refresh(self, *, closing: bool = False) -> None:
        """Redraw the PNG of the live display in place (nothing to do when never shown live).

        ``closing``: the widget is about to close; keep only the picture, so the output
        does not turn into an empty, dead widget.
        """
        if self.handle is not None:
            self.handle.update(self.bundle(with_widget=not closing), raw=True)
            if closing:
                self.handle = None


def show_widget(widget, fallback_html: str, live: bool | None = None) -> None:
    """Display a plain widget (no lab figure to draw) so that static readers see ``fallback_html``.

    live (default: :func:`~ganlab_kit.runtime.frontend_attached`): the widget's view with the HTML
    beside it in one bundle (Jupyter draws the widget; GitHub, nbviewer and nbconvert the HTML).
    Not live: the HTML alone, so the stored notebook holds no widget view that needs state.
    """
    from ..runtime import frontend_attached

    live = frontend_attached() if live is None else bool(live)
    bundle: dict[str, Any] = {"text/html": fallback_html, "text/plain": "(a widget: it works in a live Jupyter)"}
    if live:
        view = widget._repr_mimebundle_().get(WIDGET_VIEW)
        if view is not None:
            bundle[WIDGET_VIEW] = view
    display(bundle, raw=True)
