"""A live style lab in a real browser (JupyterLab 4 and Notebook 7, headless Debian Chromium).

Reuses the image lab's browser harness (tests/test_browser.py, tests/browser_util.py): a
throwaway Jupyter server runs a small generated notebook that builds the one ImageLab on a
tiny real CycleGANRun (photos -> ink wash at 32 px); we press Play and check what a person
would see: the step counter advances and the pixels of the "fake_B" grid (CSS class
``ganlab-grid-fake_B``) change. Skipped (by the harness) without Chromium or Playwright.
"""

from __future__ import annotations

import nbformat
import pytest
from browser_util import REPO_ROOT, jupyter_running
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from test_browser import (  # noqa: F401  (browser, page: pytest fixtures)
    _STEP_JS,
    _save_failure_screenshot,
    browser,
    open_and_run_all,
    page,
    watch_play,
    widget_button,
)

STYLE_LAB_NOTEBOOK = "tests/artifacts/.browser/style_lab.ipynb"  # dot-folder: never collected by nbval

SOURCE = """
import sys
sys.path[:0] = [{repo!r}]  # this checkout's kit
from ganlab_kit.data import PatchConfig, style_data
from ganlab_kit.nets import PatchDiscriminatorConfig, ResnetGeneratorConfig
from ganlab_kit.styles import ink_wash
from ganlab_kit.train.cyclegan import CycleGANRun, CycleGANRunConfig
from ganlab_kit.widgets.image_lab import ImageLab, ImageLabConfig

# a real (tiny) CycleGAN: photos <-> ink wash at 32 px, held-out photos shown A -> B -> A
ink = style_data(ink_wash(), 8, config=PatchConfig(size=32), held_out=2, seed=0, cache=False)
config = CycleGANRunConfig(image_size=32, generator=ResnetGeneratorConfig(width=8, blocks=2),
                           discriminator=PatchDiscriminatorConfig(3, 8, 2), domains=("photo", "ink_wash"),
                           batch_size=2, num_visuals=4, pool_size=6)
make_run = lambda: CycleGANRun(config, ink.unpaired_train, held_out=ink.unpaired_test)
lab = ImageLab(make_run(), ImageLabConfig(grid_images=4, pixels=192, fps=8, torch_threads=1), make_run=make_run)
print("live:", lab.live)
lab.show()
"""


@pytest.fixture(scope="module")
def jupyter_server():
    path = REPO_ROOT / STYLE_LAB_NOTEBOOK
    source = SOURCE.format(repo=str(REPO_ROOT)).strip()
    nb = new_notebook(cells=[new_markdown_cell("Browser test: a live style lab."), new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    try:
        with jupyter_running("ganlab-style-browser-") as server:
            yield server
    finally:
        path.unlink(missing_ok=True)


def play_and_watch(page, shot_name: str) -> tuple[int, int, float]:  # noqa: F811
    play = widget_button(page, "Play").first
    play.wait_for(state="visible", timeout=30_000)
    play.scroll_into_view_if_needed()
    # the held-out photos translated into ink wash, G_AB(real_A)
    grid = page.locator(".ganlab-grid-fake_B").first.element_handle(timeout=30_000)
    grid.wait_for_element_state("visible", timeout=30_000)
    try:
        return watch_play(
            page, play.element_handle(), grid, lambda: page.evaluate(_STEP_JS, None), shot_name, "the fake_B grid"
        )
    except BaseException:
        _save_failure_screenshot(page, shot_name)
        raise


@pytest.mark.browser
@pytest.mark.parametrize("ui", ["lab", "notebook7"])
def test_style_lab_trains_and_redraws_in_the_browser(jupyter_server, page, ui):  # noqa: F811
    open_and_run_all(page, jupyter_server, STYLE_LAB_NOTEBOOK, ui=ui)
    for name in ("real_A", "fake_B", "rec_A", "real_B", "fake_A", "rec_B"):  # every visual is on the page
        assert page.locator(f".ganlab-grid-{name}").count() >= 1, f"no grid for {name}"
    start, end, changed = play_and_watch(page, f"style_lab_{ui}")
    assert end >= start + 5, f"step counter went from {start} to {end} after Play"
    assert changed > 0.001, f"the fake_B grid did not change after Play ({changed:.4%} of pixels differ)"
