"""docs/demo.md: its example runs and it describes every scenario."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from algowatch.sim import SCENARIOS

DOC = Path(__file__).parents[3] / "docs" / "demo.md"


def test_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The library example prints a rejection rate above the normal 1 %."""
    block = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block is not None
    exec(compile(block.group(1), str(DOC), "exec"), {})
    assert float(capsys.readouterr().out) > 0.1


def test_every_scenario_is_documented() -> None:
    """Each scenario has a row in the scenario table."""
    text = DOC.read_text(encoding="utf-8")
    assert sorted(n for n in SCENARIOS if f"| `{n}` |" not in text) == []
