"""The image lab in a real browser (JupyterLab 4 and Notebook 7, headless Debian Chromium).

Reuses the 2-D lab's browser harness (tests/test_browser.py, tests/browser_util.py): a
throwaway Jupyter server runs a small generated notebook that builds an ImageLab on a
tiny real DCGANRun (through the Run protocol, as notebook 04 does); we press Play and check
what a person would see: the step counter advances and the "samples" grid's pixels change. Skipped (by the harness) without Chromium or Playwright.
"""

from __future__ import annotations


import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from browser_util import REPO_ROOT, jupyter_running
from test_browser import _STEP_JS, _save_failure_screenshot, open_and_run_all, watch_play, widget_button
from test_browser import browser, page  # noqa: F401  (pytest fixtures)

IMAGE_LAB_NOTEBOOK = "tests/artifacts/.browser/image_lab.ipynb"  # dot-folder: never collected by nbval

SOURCE = """
import sys
sys.path[:0] = [{repo!r}]  # this checkout's kit
from ganlab_kit.data import digits
from ganlab_kit.nets.dcgan import DCGANConfig
from ganlab_kit.train.dcgan import DCGANRun, DCGANRunConfig
from ganlab_kit.widgets.image_lab import ImageLab, ImageLabConfig

# a real (tiny) DCGAN: what notebook 04 shows, end to end through the Run protocol
config = DCGANRunConfig(model=DCGANConfig(image_size=16, latent_dim=8, generator_width=8, discriminator_width=8), batch_size=16)
make_run = lambda: DCGANRun(config, digits(16))
lab = ImageLab(make_run(), ImageLabConfig(grid_images=16, fps=8, torch_threads=1), make_run=make_run)
print("live:", lab.live)
lab.show()
"""


@pytest.fixture(scope="module")
def jupyter_server():
    path = REPO_ROOT / IMAGE_LAB_NOTEBOOK
    nb = new_notebook(cells=[new_markdown_cell("Browser test: the image lab."), new_code_cell(SOURCE.format(repo=str(REPO_ROOT)).strip())])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    try:
        with jupyter_running("ganlab-image-browser-") as server:
            yield server
    finally:
        path.unlink(missing_ok=True)


def play_and_watch(page, shot_name: str) -> tuple[int, int, float]:
    play = widget_button(page, "Play").first
    play.wait_for(state="visible", timeout=30_000)
    play.scroll_into_view_if_needed()
    # the generated images, G(fixed noise)
    grid = page.locator(".ganlab-grid-samples").first.element_handle(timeout=30_000)
    grid.wait_for_element_state("visible", timeout=30_000)
    try:
        return watch_play(page, play.element_handle(), grid, lambda: page.evaluate(_STEP_JS, None), shot_name, "the sample grid")
    except BaseException:
        _save_failure_screenshot(page, shot_name)
        raise


@pytest.mark.browser
@pytest.mark.parametrize("ui", ["lab", "notebook7"])
def test_image_lab_trains_and_redraws_in_the_browser(jupyter_server, page, ui):  # noqa: F811
    open_and_run_all(page, jupyter_server, IMAGE_LAB_NOTEBOOK, ui=ui)
    start, end, changed = play_and_watch(page, f"image_lab_{ui}")
    assert end >= start + 5, f"step counter went from {start} to {end} after Play"
    assert changed > 0.001, f"the sample grid did not change after Play ({changed:.4%} of pixels differ)"
