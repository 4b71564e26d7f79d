"""``scripts/smoke-demo``: the README's demo command serves /, /metrics, /health and stops."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("scenario", ["normal", "broker-outage"])
def test_smoke_demo_script_passes(scenario: str) -> None:
    """The script starts the demo, probes it, stops it with Ctrl-C, and exits 0."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "smoke-demo"), "--scenario", scenario],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("smoke-demo: OK")
