"""Lint and format (ruff, configured in pyproject.toml; notebooks included) as part of the suite,
so CI and `scripts/kit.py test` both enforce them. E501 is selected: no line over the
configured length, including the strings and comments the formatter cannot wrap."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module", autouse=True)
def needs_ruff():
    if subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True).returncode != 0:
        pytest.skip("ruff is not installed (it comes with the [test] extra: python3 scripts/kit.py test)")


def test_ruff_check_passes():
    out = ruff("check", "--no-cache", ".")
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format_is_applied():
    out = ruff("format", "--no-cache", "--check", ".")
    assert out.returncode == 0, "run `python -m ruff format .`:\n" + out.stdout + out.stderr
