"""Helpers for the real-browser test: a throwaway Jupyter server and a headless Chromium.

Nothing here is downloaded: the browser is Debian's ``chromium`` (``/usr/bin/chromium``),
driven by Playwright for Python. The server is the venv's own ``jupyter lab`` (which also
serves Notebook 7 under ``/tree`` and ``/notebooks``), started on 127.0.0.1, on a free
port, with a random token and fresh config/runtime/data/settings directories, so the
test neither sees nor changes the user's Jupyter profile.

Names the lab notebooks promise (``ganlab_kit.widgets.controls``): the play button's
description is ``"Play"`` (``"Pause"`` while training), a label's text contains
``"step N"``, and the field view carries the CSS class ``ganlab-field``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
REPO_ROOT = Path(__file__).resolve().parents[1]
STEP_PATTERN = re.compile(r"step\s+(\d+)")


class GiveUp(Exception):
    """Raised inside a polled condition when waiting longer cannot help."""


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.25):
    """Poll ``condition()`` until it returns something truthy; fail naming ``what``.

    Exceptions from ``condition`` count as "not yet" (a page mid-render may throw), except
    :class:`GiveUp` and ``AssertionError``, which end the wait at once.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except (GiveUp, AssertionError):
            raise
        except Exception as exc:
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {timeout:.0f} s waiting for {what}" + (f" (last error: {last_error})" if last_error else "")
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------- server
@dataclass
class JupyterServer:
    process: subprocess.Popen
    port: int
    token: str
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str, *flags: str) -> str:
        query = "&".join([*flags, f"token={self.token}"])
        return f"{self.base_url}/{path.lstrip('/')}?{query}"

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(f"{self.base_url}/api/{path.lstrip('/')}", method=method)
        request.add_header("Authorization", f"token {self.token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Shut the kernels down through the API, then the server; kill only what we started."""
        if self.process.poll() is None:
            try:
                for kernel in self.api("kernels") or []:
                    self.api(f"kernels/{kernel['id']}", method="DELETE")
            except Exception:
                pass  # the server may already be going down; the signals below still apply
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # our own process group (start_new_session)
            self.process.wait(timeout=10)
        else:
            # Kernels are children in our group: make sure none outlives the server.
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def write_lab_settings(settings_dir: Path) -> None:
    """Pre-seed a fresh profile so no news prompt or update check covers the page."""
    notification = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Render every cell (no virtual scrolling), so a widget further down is in the DOM.
    tracker = settings_dir / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    # Never write back: the notebook under test is a committed file, and a save would store
    # this run's outputs and widget state in it.
    docmanager = settings_dir / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
    docmanager.parent.mkdir(parents=True, exist_ok=True)
    docmanager.write_text(json.dumps({"autosave": False}))


@contextlib.contextmanager
def jupyter_running(prefix: str) -> Iterator[JupyterServer]:
    """A Jupyter server on a fresh temporary profile for the duration of the block;
    stopped and its profile removed afterwards, whatever happened inside."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    server: JupyterServer | None = None
    try:
        server = start_jupyter(home)
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


def start_jupyter(
    home: Path, root_dir: Path = REPO_ROOT, timeout: float = 90.0, extra_env: dict[str, str] | None = None
) -> JupyterServer:
    """Start ``jupyter lab`` from this Python (so the kernel is this venv's python)."""
    port, token = free_port(), secrets.token_hex(16)
    dirs = {name: home / name for name in ("config", "runtime", "data", "settings", "workspaces")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    write_lab_settings(dirs["settings"])
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
        JUPYTER_PLATFORM_DIRS="1",
        GANLAB_FAST="1",  # small configs: the lab must start quickly
        GANLAB_LIVE="1",  # a browser is attached: labs show live widgets
        PYTHONUNBUFFERED="1",
    )
    env.update(extra_env or {})
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--ContentsManager.allow_hidden=True",  # the smoke notebook lives in a dot-folder
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run commands without menus
        "--JupyterNotebookApp.expose_app_in_browser=True",
        "--ServerApp.open_browser=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    log_path = home / "server.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        command, cwd=root_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = JupyterServer(process, port, token, log_path)

    def ready() -> bool:
        if process.poll() is not None:
            raise GiveUp(f"jupyter lab exited with code {process.returncode}:\n{server.log()}")
        try:
            return bool(server.api("status"))
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    try:
        wait_for(ready, timeout, "the Jupyter server to answer")
    except BaseException:
        server.stop()
        raise
    return server


# ------------------------------------------------------------ smoke notebook
SMOKE_SOURCE = r"""
import io
import math
import time

import ipywidgets as widgets
import numpy as np
from IPython.display import display
from PIL import Image, ImageDraw

from ganlab_kit.train.session import TrainingSession
from ganlab_kit.widgets.controls import TransportBar
from ganlab_kit.widgets.refresh import ViewRefresher

# A stand-in "lab": the training step rotates a cloud of points, the field view draws them.
state = {"angle": 0.0}
rng = np.random.default_rng(0)
points = rng.normal(size=(200, 2)) * [1.0, 0.3]

def step():
    time.sleep(0.002)  # a few hundred steps per second, like a real lab; spare the CPU
    state["angle"] += 0.02
    return {"angle": state["angle"]}

session = TrainingSession(step)
bar = TransportBar(session)
field = widgets.Image(format="png", width=240, height=240)
field.add_class("ganlab-field")

def read():
    return state["angle"]

def draw(angle):
    c, s = math.cos(angle), math.sin(angle)
    xy = points @ np.array([[c, -s], [s, c]])
    image = Image.new("RGB", (240, 240), "white")
    pen = ImageDraw.Draw(image)
    for x, y in xy:
        u, v = 120 + 45 * x, 120 - 45 * y
        pen.ellipse([u - 2, v - 2, u + 2, v + 2], fill=(123, 50, 148))
    buffer = io.BytesIO()
    image.save(buffer, format="png")
    field.value = buffer.getvalue()
    bar.update()

refresher = ViewRefresher(read, draw, session=session, fps=15)
refresher.draw_now()
refresher.start()
display(widgets.VBox([bar.widget, field]))
"""


def write_smoke_notebook(path: Path) -> Path:
    """A small notebook with a TrainingSession-driven widget that keeps the lab's names."""
    nb = new_notebook(
        cells=[new_markdown_cell("Browser smoke test: a session-driven widget."), new_code_cell(SMOKE_SOURCE.strip())]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
