"""The one image lab in a real browser (JupyterLab 4 and Notebook 7, headless Debian Chromium).

Reuses the 2-D lab's browser harness (tests/test_browser.py, tests/browser_util.py): a
throwaway Jupyter server runs small generated notebooks that build the ImageLab on real
tiny runs through the Run protocol: a DCGAN (as notebook 04 does) and a CycleGAN style lab
(photos -> ink wash at 32 px, held-out photos shown A -> B -> A). We press Play and check
what a person would see: the step counter advances and the pixels of the generated grid
(CSS class ``ganlab-grid-<visual>``) change. Skipped (by the harness) without Chromium or
Playwright.
"""

from __future__ import annotations

import nbformat
import pytest
from browser_util import REPO_ROOT, jupyter_running
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from test_browser import (
    _STEP_JS,
    _save_failure_screenshot,
    open_and_run_all,
    page,  # noqa: F401  (a pytest fixture)
    watch_play,
    widget_button,
)

FOLDER = "tests/artifacts/.browser"  # dot-folder: never collected by nbval
HEADER = """
import sys
sys.path[:0] = [{repo!r}]  # this checkout's kit
from ganlab_kit.widgets.image_lab import ImageLab, ImageLabConfig
"""
LABS = {
    # name: (title, code building `make_run`, ImageLabConfig arguments, the generated grid, every grid)
    "dcgan": (
        "a tiny DCGAN on digits",
        """
from ganlab_kit.data import digits
from ganlab_kit.nets.dcgan import DCGANConfig
from ganlab_kit.train.dcgan import DCGANRun, DCGANRunConfig
model = DCGANConfig(image_size=16, latent_dim=8, generator_width=8, discriminator_width=8)
config = DCGANRunConfig(model=model, batch_size=16)
make_run = lambda: DCGANRun(config, digits(16))
""",
        "grid_images=16, fps=8, torch_threads=1",
        "samples",
        ("samples",),
    ),
    "cyclegan": (
        "a live style lab: CycleGAN, photos <-> ink wash",
        """
from ganlab_kit.data import PatchConfig, style_data
from ganlab_kit.nets import PatchDiscriminatorConfig, ResnetGeneratorConfig
from ganlab_kit.styles import ink_wash
from ganlab_kit.train.cyclegan import CycleGANRun, CycleGANRunConfig
ink = style_data(ink_wash(), 8, config=PatchConfig(size=32), held_out=2, seed=0, cache=False)
config = CycleGANRunConfig(image_size=32, generator=ResnetGeneratorConfig(width=8, blocks=2),
                           discriminator=PatchDiscriminatorConfig(3, 8, 2), domains=("photo", "ink_wash"),
                           batch_size=2, num_visuals=4, pool_size=6)
make_run = lambda: CycleGANRun(config, ink.unpaired_train, held_out=ink.unpaired_test)
""",
        "grid_images=4, pixels=192, fps=8, torch_threads=1",
        "fake_B",
        ("real_A", "fake_B", "rec_A", "real_B", "fake_A", "rec_B"),
    ),
}


def notebook_path(name: str) -> str:
    return f"{FOLDER}/{name}_lab.ipynb"


@pytest.fixture(scope="module")
def jupyter_server():
    paths = []
    for name, (title, build, options, _, _) in LABS.items():
        source = (
            HEADER.format(repo=str(REPO_ROOT))
            + build
            + f"lab = ImageLab(make_run(), ImageLabConfig({options}), make_run=make_run)\n"
            + 'print("live:", lab.live)\nlab.show()\n'
        )
        nb = new_notebook(cells=[new_markdown_cell(f"Browser test: {title}."), new_code_cell(source.strip())])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
        path = REPO_ROOT / notebook_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        paths.append(path)
    try:
        with jupyter_running("ganlab-image-browser-") as server:
            yield server
    finally:
        for path in paths:
            path.unlink(missing_ok=True)


def play_and_watch(browser_page, grid_name: str, shot_name: str) -> tuple[int, int, float]:
    play = widget_button(browser_page, "Play").first
    play.wait_for(state="visible", timeout=30_000)
    play.scroll_into_view_if_needed()
    grid = browser_page.locator(f".ganlab-grid-{grid_name}").first.element_handle(timeout=30_000)
    grid.wait_for_element_state("visible", timeout=30_000)
    try:
        read_step = lambda: browser_page.evaluate(_STEP_JS, None)
        return watch_play(browser_page, play.element_handle(), grid, read_step, shot_name, f"the {grid_name} grid")
    except BaseException:
        _save_failure_screenshot(browser_page, shot_name)
        raise


@pytest.mark.browser
@pytest.mark.parametrize("lab", list(LABS))
@pytest.mark.parametrize("ui", ["lab", "notebook7"])
def test_image_lab_trains_and_redraws_in_the_browser(jupyter_server, page, ui, lab):  # noqa: F811
    open_and_run_all(page, jupyter_server, notebook_path(lab), ui=ui)
    _, _, _, generated, every_grid = LABS[lab]
    for name in every_grid:  # every visual is on the page
        assert page.locator(f".ganlab-grid-{name}").count() >= 1, f"no grid for {name}"
    start, end, changed = play_and_watch(page, generated, f"{lab}_lab_{ui}")
    assert end >= start + 5, f"step counter went from {start} to {end} after Play"
    assert changed > 0.001, f"the {generated} grid did not change after Play ({changed:.4%} of pixels differ)"
