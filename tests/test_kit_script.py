"""scripts/kit.py: the README's set-up. The real install is exercised by CI from a clean
clone; here its decisions are checked with the subprocess calls replaced."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def kit(monkeypatch):
    spec = importlib.util.spec_from_file_location("kit_script", ROOT / "scripts" / "kit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_broken_pair_is_repaired_with_a_matching_upgrade(kit, monkeypatch):
    states = iter([False, True])  # broken before the repair, working after
    monkeypatch.setattr(kit, "pair_ok", lambda python, quiet=False: next(states))
    calls = []
    monkeypatch.setattr(kit, "run", lambda cmd, **kw: calls.append([str(c) for c in cmd]) or 0)
    kit.repair_pair(Path(sys.executable))
    assert calls == [[sys.executable, "-m", "pip", "install", "--quiet", "--upgrade", "torch", "torchvision"]]


def test_unrepairable_pair_exits_with_instructions(kit, monkeypatch):
    monkeypatch.setattr(kit, "pair_ok", lambda python, quiet=False: False)
    monkeypatch.setattr(kit, "run", lambda cmd, **kw: 0)
    with pytest.raises(SystemExit, match="still do not import together"):
        kit.repair_pair(Path(sys.executable))


def test_working_pair_is_left_alone(kit, monkeypatch):
    monkeypatch.setattr(kit, "pair_ok", lambda python, quiet=False: True)
    monkeypatch.setattr(kit, "run", lambda cmd, **kw: pytest.fail(f"no install expected, ran {cmd}"))
    kit.repair_pair(Path(sys.executable))


def test_pair_check_passes_in_this_environment(kit):
    assert kit.pair_ok(Path(sys.executable), quiet=True)


def test_unknown_verb_prints_usage(kit, capsys):
    assert kit.main(["bogus"]) == 2
    assert "kit.py lab" in capsys.readouterr().out


def test_test_verb_runs_pytest_in_fast_mode(kit, monkeypatch, tmp_path):
    monkeypatch.delenv("GANLAB_FAST", raising=False)
    monkeypatch.setattr(kit, "ensure_python", lambda here: Path(sys.executable))
    monkeypatch.setattr(kit, "install", lambda python, extras, force: seen.setdefault("extras", extras))
    seen = {}
    monkeypatch.setattr(kit, "run", lambda cmd, **kw: seen.update(cmd=[str(c) for c in cmd], env=kw.get("env")) or 0)
    assert kit.main(["test", "-k", "losses"]) == 0
    assert seen["extras"] == "lab,test"
    assert seen["cmd"][1:] == ["-m", "pytest", "-k", "losses"]
    assert seen["env"]["GANLAB_FAST"] == "1"
