"""Regenerate ganlab_kit/fixtures/exercises.json from the reference solutions.

Run after adding an exercise: python scripts/make_fixtures.py
tests/test_checks.py fails if the stored file and the references disagree.
"""

import json
from pathlib import Path

from ganlab_kit.checks import make_fixtures

path = Path(__file__).resolve().parents[1] / "ganlab_kit" / "fixtures" / "exercises.json"
path.write_text(json.dumps(make_fixtures(), indent=1) + "\n", encoding="utf-8")
print(f"wrote {path.name} with {len(json.loads(path.read_text()))} exercises")
