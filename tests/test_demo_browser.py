"""The classroom demos in a real Chromium, served by Voilà.

(a) ``ganlab-kit demo lab2d --no-browser`` (started as a teacher would, with no override variable
and none of a Jupyter session's variables) serves a page with no code on it, no stray printed text,
projector-sized text, and a 2-D lab whose Play advances the step counter; (b) a preset button
changes the lab (the step counter starts again at 0, the learning rate shows the preset's);
(c) notebooks/02_gan_lab.ipynb served by Voilà plays live.

Needs Voilà (``pip install 'ganlab_kit[demo]'``; the test extra has it), Debian's Chromium and
Playwright; skipped without them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from browser_util import REPO_ROOT, free_port, wait_for
from test_browser import watch_play, widget_button  # skips the module without Chromium

pytest.importorskip("voila", reason="Voila is not installed: pip install 'ganlab_kit[demo]'")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is missing")
pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ARTIFACTS = REPO_ROOT / "tests" / "artifacts"  # git-ignored; watch_play writes its screenshots there too
LIVE_SIGNALS = ("GANLAB_LIVE", "JPY_SESSION_NAME", "VSCODE_PID")

# The transport bar's counter only: the demo's own text may mention steps ("by about step 400").
_STEP_JS = r"""
() => {
  for (const node of document.querySelectorAll('.ganlab-step-counter')) {
    const match = /step\s+(\d+)/.exec(node.textContent || '');
    if (match) return parseInt(match[1], 10);
  }
  return null;
}
"""

# Font sizes in CSS pixels of what the class must read: the title, a preset button, a control's label.
_SIZES_JS = r"""
() => {
  const size = (selector) => {
    const node = document.querySelector(selector);
    return node ? parseFloat(getComputedStyle(node).fontSize) : null;
  };
  return {
    title: size('.ganlab-demo-title'),
    preset: size('.ganlab-demo-presets .widget-button'),
    label: size('.ganlab-lab2d .widget-inline-hbox .widget-label'),
    button: size('.ganlab-lab2d .widget-button'),
  };
}
"""

# Anything Voilà would show of a code cell (its input) or of printed text (stream outputs).
_CODE_OR_TEXT_JS = r"""
() => {
  const visible = (node) => !!(node.offsetWidth || node.offsetHeight || node.getClientRects().length);
  const code = [...document.querySelectorAll('.jp-InputArea, .jp-CodeMirrorEditor, .cm-editor, .CodeMirror')];
  const text = [...document.querySelectorAll(
    '[data-mime-type="application/vnd.jupyter.stdout"], [data-mime-type="application/vnd.jupyter.stderr"]')];
  return {code: code.filter(visible).length, text: text.filter(visible).map(n => n.textContent.slice(0, 200))};
}
"""


def _env(tmp: Path) -> dict[str, str]:
    """This checkout's ganlab_kit, fresh Jupyter folders, fast mode, no live-decision signal."""
    env = {k: v for k, v in os.environ.items() if k not in LIVE_SIGNALS}
    env.update(
        GANLAB_FAST="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
    )
    return env


def _stop(process: subprocess.Popen) -> None:
    """Ctrl-C, as a teacher stops the command (it stops Voilà and removes its folder); then make
    sure nothing of our own process group is left."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # our own group (start_new_session): Voilà and its kernel
    except (ProcessLookupError, PermissionError):
        pass
    process.wait(timeout=10)


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(url, timeout=120_000)
    return page


def _serve(argv: list[str], tmp: Path, port: int, cwd: Path) -> subprocess.Popen:
    log = open(tmp / "server.log", "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        argv, env=_env(tmp), cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{(tmp / 'server.log').read_text()}")
        return urllib.request.urlopen(url, timeout=5).status == 200

    try:
        wait_for(answers, 90, "Voila to answer")
    except BaseException:
        _stop(process)
        raise
    return process


@pytest.fixture(scope="module")
def demo_page(browser, tmp_path_factory):
    """The page of ``ganlab-kit demo lab2d --no-browser``, started the way the command is run."""
    tmp = tmp_path_factory.mktemp("demo")
    port = free_port()
    argv = [sys.executable, "-m", "ganlab_kit.cli", "demo", "lab2d", "--no-browser", "--port", str(port)]
    process = _serve(argv, tmp, port, tmp)
    try:
        page = _open(browser, f"http://127.0.0.1:{port}/")
        try:
            yield page
        finally:
            page.close()
    finally:
        _stop(process)


def _play(page, shot: str) -> tuple[int, int, float]:
    play = widget_button(page, "Play").first
    play.wait_for(state="visible", timeout=150_000)
    field = page.locator(".ganlab-field").first.element_handle(timeout=60_000)
    return watch_play(page, play.element_handle(), field, lambda: page.evaluate(_STEP_JS), shot, "the field view")


def test_the_demo_command_serves_a_projector_page_whose_lab_plays(demo_page):
    page = demo_page
    start, end, changed = _play(page, "demo_lab2d")
    assert end >= start + 5 and changed > 0.001
    shown = page.evaluate(_CODE_OR_TEXT_JS)
    assert shown["code"] == 0, "a code cell is visible"
    assert shown["text"] == [], f"printed text on the page: {shown['text']}"
    assert "show_demo" not in page.inner_text("body")
    assert "GAN Lab" in page.locator(".ganlab-demo-title").inner_text()
    sizes = page.evaluate(_SIZES_JS)
    assert sizes["title"] >= 40, sizes
    assert all(sizes[k] >= 18 for k in ("preset", "label", "button")), sizes
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "demo_lab2d_page.png"), full_page=True)


def test_a_preset_button_changes_the_lab(demo_page):
    page = demo_page
    wait_for(lambda: (page.evaluate(_STEP_JS) or 0) > 0, 30, "a lab that has trained (the test above)")
    widget_button(page, "mode collapse").first.click()
    wait_for(lambda: page.evaluate(_STEP_JS) == 0, 30, "the step counter to start again at 0")
    about = page.locator(".ganlab-demo-about")
    wait_for(lambda: "Both learning rates 0.02" in about.inner_text(), 30, "the preset's description")
    rate = page.locator(".widget-inline-hbox", has=page.locator(".widget-label", has_text="G learning rate"))
    wait_for(lambda: float(rate.locator("input").first.input_value()) == 0.02, 30, "G learning rate to show 0.02")
    page.screenshot(path=str(ARTIFACTS / "demo_lab2d_preset.png"))


def test_notebook_02_served_by_voila_plays_live(browser, tmp_path):
    port = free_port()
    notebook = REPO_ROOT / "notebooks" / "02_gan_lab.ipynb"
    argv = [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"]
    process = _serve(argv, tmp_path, port, tmp_path)
    try:
        page = _open(browser, f"http://127.0.0.1:{port}/")
        try:
            start, end, changed = _play(page, "voila_notebook02")
            assert end >= start + 5 and changed > 0.001
        finally:
            page.close()
    finally:
        _stop(process)
