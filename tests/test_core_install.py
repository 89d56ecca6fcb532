"""The lean core: `pip install ganlab_kit` (no extras) must give data, nets, losses,
training and the CLI without Jupyter. Checked two ways: the core's modules never import
the lab's packages, and they still import and train with those packages made unimportable."""

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import ganlab_kit

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
LAB_ONLY = ("ipywidgets", "IPython", "matplotlib", "anywidget", "jupyterlab", "notebook", "ipykernel")
CORE_PACKAGES = ("train", "nets", "data", "toy2d", "styles", "metrics")
# Modules of those packages that are views by design (a static chart for notebook 05).
VIEW_MODULES = {"ganlab_kit.styles.fingerprint"}


def core_modules() -> list[str]:
    names = ["ganlab_kit", "ganlab_kit.losses", "ganlab_kit.runtime", "ganlab_kit.metrics", "ganlab_kit.cli"]
    for package in CORE_PACKAGES:
        path = Path(ganlab_kit.__file__).parent / package
        if not path.is_dir():
            continue
        names.append(f"ganlab_kit.{package}")
        names += [f"ganlab_kit.{package}.{m.name}" for m in pkgutil.iter_modules([str(path)])]
    return [n for n in names if n not in VIEW_MODULES]


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_core_dependencies_leave_jupyter_to_the_lab_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"]).lower()
    for name in ("ipywidgets", "jupyterlab", "notebook", "matplotlib", "ipykernel", "anywidget"):
        assert name not in core, f"{name} is a core dependency; it belongs in the [lab] extra"
    lab = " ".join(project["optional-dependencies"]["lab"]).lower()
    assert all(name in lab for name in ("ipywidgets", "jupyterlab", "notebook", "matplotlib", "anywidget"))


def test_importing_the_core_loads_no_lab_package():
    modules = core_modules()
    assert any(m.startswith("ganlab_kit.train.") for m in modules)
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {LAB_ONLY!r})))\n"
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_core_trains_with_the_lab_packages_unimportable():
    # A meta-path finder that refuses the lab's packages stands in for an install without extras.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {LAB_ONLY!r}: raise ImportError(f'{{name}} is not installed (blocked)')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import torch\n"
        "torch.set_num_threads(1)\n"
        "from ganlab_kit.toy2d import make_distribution\n"
        "from ganlab_kit.toy2d.models import ToyModelConfig\n"
        "import ganlab_kit.toy2d as toy\n"
        "run_cls = getattr(toy, 'Toy2DRun', None) or getattr(toy, 'ToyTrainer')\n"
        "hyper_cls = getattr(toy, 'Toy2DHyper', None) or getattr(toy, 'ToyTrainConfig')\n"
        "run = run_cls(make_distribution('ring'), ToyModelConfig(), hyper_cls(), seed=0)\n"
        "for _ in range(5): run.step()\n"
        "from ganlab_kit.cli import main\n"
        "print('trained', run.steps_done)\n"
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert "trained 5" in out.stdout
