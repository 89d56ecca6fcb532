"""Static readers see a picture where a lab stands: executed notebooks store a PNG, never widget state.

A tiny notebook runs under nbclient (as scripts/run_notebooks.py runs ours) once with a
front end assumed (``GANLAB_LIVE=1``) and once without; its stored outputs are then read
the way GitHub or nbviewer read them.
"""

import base64
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from ganlab_kit.widgets.snapshot import WIDGET_VIEW

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import clean  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

CELLS = [
    """import sys
sys.path.insert(0, {tests!r})
import torch
torch.set_num_threads(1)
from fake_run import FakeRun
from ganlab_kit.toy2d import Toy2DHyper, ToyModelConfig
from ganlab_kit.widgets.image_lab import ImageLab, ImageLabConfig
from ganlab_kit.widgets.lab2d import GanLab2D, LabConfig
tiny = dict(model=ToyModelConfig(generator_neurons=8, discriminator_neurons=8), hyper=Toy2DHyper(batch_size=32),
            heatmap_resolution=12, manifold_resolution=6, divergence_samples=128, points_shown=32)""",
    "kept = GanLab2D(LabConfig(**tiny))\nkept.show()",  # 1: a 2-D lab left open
    "closed = GanLab2D(LabConfig(**tiny))\nclosed.show()",  # 2: a 2-D lab closed after training
    "closed.train(30, block=True)\nclosed.wait()\nclosed.close()",
    "image = ImageLab(FakeRun(), ImageLabConfig(grid_images=4))\nimage.show()",  # 4: the image lab
    "image.train(5, block=True)\nimage.wait()\nprint(image.session.step_count)",
    "kept.close() if not kept.live else None",
]


def execute(live: bool) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source.format(tests=str(ROOT / "tests"))) for source in CELLS]
    env = {"GANLAB_LIVE": "1" if live else "0", "GANLAB_FAST": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    clean(nb)  # what scripts/run_notebooks.py stores
    return nb


def displays(cell) -> list[dict]:
    return [out["data"] for out in cell.outputs if out.output_type in ("display_data", "execute_result")]


def assert_picture(data: dict) -> None:
    assert "image/png" in data, f"no picture for a static reader, only {sorted(data)}"
    assert base64.b64decode(data["image/png"]).startswith(PNG_MAGIC)
    assert "children=" not in data.get("text/plain", ""), data.get("text/plain")


@pytest.mark.slow
@pytest.mark.parametrize("live", [True, False], ids=["live", "static"])
def test_every_lab_output_holds_a_png_and_no_widget_state_is_stored(live):
    nb = execute(live)
    assert "widgets" not in nb.metadata  # no widget state in the stored notebook
    kept, closed, image = (displays(nb.cells[i]) for i in (1, 2, 4))
    for outputs in (kept, closed, image):
        assert len(outputs) == 1
        assert_picture(outputs[0])
    # Live: the open lab's output is the widget view and the picture in one bundle (Jupyter
    # draws the widget, a static viewer the picture); a closed lab keeps only its last picture.
    assert (WIDGET_VIEW in kept[0]) is live
    assert WIDGET_VIEW not in closed[0]
    assert (WIDGET_VIEW in image[0]) is live
    assert "step 30" in closed[0]["text/plain"] or not live  # updated in place when it closed
    assert "5" in nb.cells[5].outputs[0]["text"]


def test_show_widget_gives_static_readers_html_and_live_readers_the_widget(monkeypatch):
    import ipywidgets as widgets

    from ganlab_kit.widgets import snapshot

    shown = []
    monkeypatch.setattr(snapshot, "display", lambda bundle, **kwargs: shown.append(bundle))
    button = widgets.Button(description="Click me")
    snapshot.show_widget(button, "<button>Click me</button>", live=True)
    snapshot.show_widget(button, "<button>Click me</button>", live=False)
    assert snapshot.WIDGET_VIEW in shown[0] and shown[0]["text/html"] == "<button>Click me</button>"
    assert snapshot.WIDGET_VIEW not in shown[1] and "children=" not in shown[1]["text/plain"]
