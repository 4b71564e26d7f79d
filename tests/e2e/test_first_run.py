"""``scripts/first-run``: a fresh clone's ``scripts/demo`` reaches the page with Debian's python3.

Slow (a clone and a venv install: about 20 s with a warm package cache, minutes with a cold
one), so it is not in the default suite: ``pytest -m slow tests/e2e/test_first_run.py``.
It checks that the page comes up with ``/usr/bin/python3`` first on ``PATH`` and no uv; the
time it prints is a figure for docs/demo.md, not an assertion (the machine is shared).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="needs Debian's python3")
def test_fresh_clone_reaches_the_page_with_the_system_python() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "first-run")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    summary = result.stdout.strip().splitlines()[-1]
    assert re.match(
        r"first-run: OK clone -> http://127\.0\.0\.1:\d+/ answered in [\d.]+ s", summary
    )
    # the stages it went through: its own uv (none on PATH), the demo's dependencies only
    stages = result.stdout
    assert "installing uv into .venv-tools" in stages
    assert "(what the demo needs)" in stages
    print(summary)
