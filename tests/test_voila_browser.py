"""Voilà in a real Chromium: a notebook served by Voilà decides *live* without any override
variable, and its 2-D lab plays (the step counter advances, the field redraws).

Voilà's kernels carry none of a Jupyter server session's variables; before ``live_decision``
looked for Voilà's own (``SERVER_SOFTWARE=voila/...``, ``VOILA_BASE_URL``), labs there fell back
to static pictures. Needs Voilà (``pip install 'ganlab_kit[demo]'``; the test extra has it),
Debian's Chromium and Playwright; skipped without them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

import nbformat
import pytest
from browser_util import CHROMIUM_ARGS, free_port, wait_for
from nbformat.v4 import new_code_cell, new_notebook
from test_browser import CHROMIUM, watch_play, widget_button  # noqa: F401 (skips the module without Chromium)

pytest.importorskip("voila", reason="Voila is not installed: pip install 'ganlab_kit[demo]'")
pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

_STEP_JS = r"""
() => {
  for (const node of document.querySelectorAll('.widget-label, .widget-html-content, .widget-html')) {
    const match = /step\s+(\d+)/.exec(node.textContent || '');
    if (match) return parseInt(match[1], 10);
  }
  return null;
}
"""

LAB_CELL = """\
from ganlab_kit.runtime import live_decision
from ganlab_kit.widgets.lab2d import GanLab2D, LabConfig

print("DECISION", live_decision())
lab = GanLab2D(LabConfig())
lab.show()
"""


@pytest.fixture
def voila_page(tmp_path):
    notebook = tmp_path / "lab.ipynb"
    nb = new_notebook(cells=[new_code_cell(LAB_CELL)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, notebook)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("GANLAB_LIVE", "JPY_SESSION_NAME", "VSCODE_PID")}
    env.update(GANLAB_FAST="1", JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"))
    server = subprocess.Popen(
        [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "voila.log", "w"),  # noqa: SIM115 (closed with the process)
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: urllib.request.urlopen(url, timeout=5).status == 200, 90, "Voila to answer")
        with __import__("playwright.sync_api", fromlist=["sync_playwright"]).sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url, timeout=120_000)
                yield page
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_voila_decides_live_and_the_lab_plays(voila_page):
    page = voila_page
    wait_for(lambda: "DECISION" in page.inner_text("body"), 150, "the notebook's output")
    decision = next(line for line in page.inner_text("body").splitlines() if "DECISION" in line)
    assert "(True, 'Voila')" in decision, decision
    play = widget_button(page, "Play").first
    play.wait_for(state="visible", timeout=60_000)
    field = page.locator(".ganlab-field").first.element_handle(timeout=60_000)
    start, end, changed = watch_play(
        page, play.element_handle(), field, lambda: page.evaluate(_STEP_JS), "voila_lab2d", "the field view"
    )
    assert end >= start + 5 and changed > 0.001
