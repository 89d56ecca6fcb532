"""``ganlab-kit demo NAME``: serve a classroom demo as a Voilà app and open it in the browser.

    ganlab-kit demo --list              the demos, one line each
    ganlab-kit demo lab2d               serve the 2-D lab's demo and open the browser
    ganlab-kit demo image --port 8870 --no-browser

The demo notebook (one code cell calling :func:`~ganlab_kit.demo.apps.show_demo`) is written to a
fresh temporary folder, served by Voilà from this Python (so its kernel is this environment's),
and removed when the server stops (Ctrl-C). Voilà shows outputs only, never code. Voilà is the
``[demo]`` extra; without it the command says how to install it.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

INSTALL_HINT = "pip install 'ganlab_kit[demo]'"
DEFAULT_PORT = 8866  # Voilà's own default


def demo_names() -> dict[str, str]:
    """name -> one-line summary, without importing the widgets (``--list`` stays fast)."""
    return {
        "lab2d": "the 2-D GAN lab: presets 'ring that converges', 'mode collapse', 'the fix that cures it'",
        "image": "a DCGAN learning digits live (image lab): presets 'DCGAN recipe', 'slow discriminator'",
        "stylise": "stylise your photo in ink wash, oil and ukiyo-e, and mix the cultures (a button per culture)",
    }


def add_demo_parser(sub) -> None:
    demo = sub.add_parser(
        "demo",
        help="serve a classroom demo (a lab as a Voila app, no code) and open it in the browser",
        description="Serve a live lab as a Voila app for the classroom: big text, no code cells, named presets. "
        f"Needs Voila: {INSTALL_HINT}",
    )
    demo.add_argument("name", nargs="?", help="the demo: " + ", ".join(demo_names()))
    demo.add_argument("--list", action="store_true", help="list the demos and exit")
    demo.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})")
    demo.add_argument("--no-browser", dest="browser", action="store_false", help="serve without opening a browser")


def list_text() -> str:
    names = demo_names()
    width = max(len(name) for name in names)
    return "\n".join(f"  {name:<{width}}  {summary}" for name, summary in names.items())


def voila_available() -> bool:
    try:
        import voila  # noqa: F401
    except ImportError:
        return False
    return True


def write_demo_notebook(name: str, folder: Path) -> Path:
    """The notebook Voilà serves: one code cell, no printed output (Voilà hides the code)."""
    import nbformat  # with Jupyter (the lab extra), not the core install
    from nbformat.v4 import new_code_cell, new_notebook

    source = f"from ganlab_kit.demo.apps import show_demo\n\n_app = show_demo({name!r})"
    notebook = new_notebook(cells=[new_code_cell(source)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = Path(folder) / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def voila_command(notebook: Path, port: int, browser: bool) -> list[str]:
    # port_retries=0: the address printed (and opened) is the one served, never a neighbour
    command = [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--port={port}",
        "--Voila.port_retries=0",
        "--Voila.ip=127.0.0.1",
    ]
    if not browser:
        command.append("--no-browser")
    return command


def run_demo(args: argparse.Namespace, *, out=print, err=None) -> int:
    """Handle ``ganlab-kit demo``; returns the exit code (2: bad input or Voilà missing)."""
    err = err or (lambda text: print(text, file=sys.stderr))
    names = demo_names()
    if args.list:
        out("demos (ganlab-kit demo NAME):\n" + list_text())
        return 0
    if not args.name:
        err("ganlab-kit demo: name a demo; demos:\n" + list_text())
        return 2
    if args.name not in names:
        err(f"ganlab-kit demo: no demo named {args.name!r}; demos: {', '.join(names)}\n" + list_text())
        return 2
    if not 0 < args.port < 65536:
        err(f"ganlab-kit demo: --port must be between 1 and 65535, got {args.port}")
        return 2
    if not port_free(args.port):
        err(f"ganlab-kit demo: port {args.port} is in use (another demo or server?); choose one with --port")
        return 2
    if not voila_available():
        err(
            "ganlab-kit demo: the demos are served by Voila, which is not installed. Install it with:\n"
            f"  {INSTALL_HINT}"
        )
        return 2
    folder = Path(tempfile.mkdtemp(prefix="ganlab-demo-"))
    try:
        notebook = write_demo_notebook(args.name, folder)
        out(f"serving the {args.name!r} demo at http://127.0.0.1:{args.port}/ (Ctrl-C stops it)")
        process = subprocess.Popen(voila_command(notebook, args.port, args.browser), cwd=folder)
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
            return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)
