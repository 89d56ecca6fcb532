import subprocess
import sys

from ganlab_kit import cli


def test_doctor_reports_versions_device_and_mode(monkeypatch):
    monkeypatch.setenv("GANLAB_FAST", "1")
    monkeypatch.delenv("GANLAB_DEVICE", raising=False)
    lines = []
    code = cli.doctor(out=lines.append)
    text = "\n".join(lines)
    for name in ("python", "torch", "torchvision", "ipywidgets", "jupyterlab", "device", "fast mode"):
        assert name in text
    assert "fast mode    on" in text
    assert "live labs    no, static pictures (decided by: no IPython kernel" in text  # pytest has no kernel
    assert code == 0, text  # this environment is healthy


def test_doctor_says_what_to_do_about_a_broken_pair(monkeypatch):
    monkeypatch.setattr(
        cli, "_torchvision_ops_work", lambda: (False, "RuntimeError: operator torchvision::nms does not exist")
    )
    monkeypatch.setattr(cli, "_version", lambda d: "2.13.0+cpu" if d == "torch" else "1.0")
    versions, findings = cli.diagnose()
    bad = [f for f in findings if not f.ok]
    assert any("do not work together" in f.what and "CPU-only" in f.what for f in bad)
    assert any("pip install --upgrade torch torchvision" in f.fix for f in bad)


def test_doctor_flags_missing_packages_and_bad_device(monkeypatch):
    monkeypatch.setattr(cli, "_version", lambda d: None if d == "torchvision" else "9.9")
    monkeypatch.setattr(cli, "_torchvision_ops_work", lambda: (True, ""))
    _, findings = cli.diagnose()
    assert any(f.what == "torchvision is not installed" and "kit.py setup" in f.fix and not f.ok for f in findings)
    monkeypatch.setenv("GANLAB_DEVICE", "cuda:7")
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    lines = []
    assert cli.doctor(out=lines.append) == 1
    assert any("unset GANLAB_DEVICE" in line for line in lines)


def test_lean_core_install_is_reported_not_a_problem(monkeypatch):
    # `pip install ganlab_kit` without [lab]: training works, so doctor says what the extra adds
    lab = ("ipywidgets", "jupyterlab", "notebook", "matplotlib")
    monkeypatch.setattr(cli, "_version", lambda d: None if d in lab else "8.1")
    monkeypatch.setattr(cli, "_torchvision_ops_work", lambda: (True, ""))
    monkeypatch.setenv("GANLAB_DEVICE", "cpu")
    lines = []
    assert cli.doctor(out=lines.append) == 0
    report = "\n".join(lines)
    assert "core install: ipywidgets, jupyterlab, notebook, matplotlib not installed" in report
    assert "ganlab_kit[lab]" in report


def test_console_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "ganlab_kit.cli", "doctor"], capture_output=True, text=True)
    assert "ganlab-kit doctor" in out.stdout
