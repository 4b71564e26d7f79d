"""docs/risk.md: its examples run and every risk metric and limit is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from algowatch.exporters import RiskCollector
from algowatch.risk import LIMITS, RiskGuard
from algowatch.settings import load_settings

DOC = Path(__file__).parents[3] / "docs" / "risk.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_toml_example_is_valid_configuration(tmp_path: Path) -> None:
    """The [risk] example loads into RiskSettings with its values."""
    config = tmp_path / "algowatch.toml"
    config.write_text(_blocks("toml")[0], encoding="utf-8")
    risk = load_settings(config, environ={}).risk
    assert risk.max_drawdown == 0.10
    assert risk.webhooks == ("https://hooks.example.com/algowatch-kill",)


def test_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The library example runs as written and writes its state file."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(_blocks("python")[0], str(DOC), "exec"), namespace)
    assert (tmp_path / "algowatch-data" / "risk-state.json").is_file()
    assert namespace["flattened"] == []


def test_every_metric_and_limit_is_documented() -> None:
    """Each metric family of RiskCollector and each limit name appear in the doc."""
    text = DOC.read_text(encoding="utf-8")
    names = {m.name for m in RiskCollector(RiskGuard(log=lambda a: None)).collect()}
    assert len(names) == 5
    assert sorted(n for n in names if f"`{n}" not in text) == []
    assert sorted(n for n in LIMITS if f"`{n}`" not in text) == []
