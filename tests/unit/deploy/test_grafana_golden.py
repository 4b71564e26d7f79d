"""The SDK-built dashboard renders what the hand-built one did (golden copy from before the SDK).

``golden/algowatch-trading.json`` is the render of the hand-built ``deploy/grafana.py`` (commit
586716b, default settings). Every value in it must come back unchanged, except the few named
below; every key the SDK adds must be one of its named defaults.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from algowatch.deploy import dashboard, dashboard_queries
from algowatch.settings import AlertSettings

GOLDEN = json.loads((Path(__file__).parent / "golden" / "algowatch-trading.json").read_text())

# values of the golden copy the SDK leaves out (paths with list indices folded to [])
DROPPED = {
    ".panels[].options": "empty {} on timeseries panels: the SDK writes no unset options",
    ".templating.list[].current": "empty {}: Grafana fills it on load",
    ".templating.list[].options": "empty []: Grafana fills it on load",
    ".templating.list[].regex": 'empty "": no regex',
    ".templating.list[].refresh": "datasource variable only: its builder has no refresh, and "
    "Grafana lists data sources on every load whatever the value",
}

# keys the SDK adds with its schema defaults
ADDED = {
    ".fiscalYearStartMonth",  # 0, January
    ".panels[].transparent",  # false
    ".panels[].repeatDirection",  # "h", no repeat set
    ".panels[].targets[].instant",  # false; "range": true as before
    # stat panel options (Grafana's own defaults for the stat panel)
    ".panels[].options.graphMode",
    ".panels[].options.justifyMode",
    ".panels[].options.orientation",
    ".panels[].options.percentChangeColorMode",
    ".panels[].options.showPercentChange",
    ".panels[].options.textMode",
    ".panels[].options.wideLayout",
    # heatmap panel options (Grafana's own defaults for the heatmap panel)
    ".panels[].options.color",
    ".panels[].options.exemplars",
    ".panels[].options.filterValues",
    ".panels[].options.legend",
    ".panels[].options.selectionMode",
    ".panels[].options.showValue",
    ".panels[].options.tooltip",
    # variable defaults
    ".templating.list[].allowCustomValue",
    ".templating.list[].auto",
    ".templating.list[].auto_count",
    ".templating.list[].auto_min",
    ".templating.list[].includeAll",  # false on the datasource variable
    ".templating.list[].multi",  # false on the datasource variable
    ".templating.list[].skipUrlSync",
}


def _fold(path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", path)


def _compare(old: Any, new: Any, path: str, lost: list[str], added: set[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in old.items():
            if key in new:
                _compare(value, new[key], f"{path}.{key}", lost, added)
            elif _fold(f"{path}.{key}") not in DROPPED:
                lost.append(f"{path}.{key}")
        added.update(_fold(f"{path}.{key}") for key in new.keys() - old.keys())
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _compare(a, b, f"{path}[{i}]", lost, added)
    elif old != new or type(old) is not type(new):
        lost.append(f"{path}: {old!r} != {new!r}")


def _diff() -> tuple[list[str], set[str]]:
    lost: list[str] = []
    added: set[str] = set()
    _compare(GOLDEN, dashboard(AlertSettings()), "", lost, added)
    return lost, added


def test_every_golden_value_is_rendered_unchanged() -> None:
    """Panels, ids, gridPos, units, thresholds, targets, variables, uid: as the golden copy."""
    lost, _ = _diff()
    assert lost == []


def test_the_sdk_adds_only_its_named_defaults() -> None:
    """Nothing the SDK adds is outside the named list (and every named one is still added)."""
    _, added = _diff()
    assert added == ADDED


def test_the_dropped_values_are_only_the_named_empty_ones() -> None:
    """What the SDK leaves out really was empty, or the datasource variable's refresh."""
    dropped = [p for p in GOLDEN["panels"] if "options" in p and p["type"] == "timeseries"]
    assert all(p["options"] == {} for p in dropped)
    for var in GOLDEN["templating"]["list"]:
        assert (var["current"], var["options"], var["regex"]) == ({}, [], "")
    new_vars = {v["name"]: v for v in dashboard(AlertSettings())["templating"]["list"]}
    assert "refresh" not in new_vars["datasource"]
    assert new_vars["job"]["refresh"] == new_vars["instance"]["refresh"] == 2


def test_queries_are_the_golden_ones_in_order() -> None:
    """Every PromQL expression, in panel order (what promtool parses in the integration test)."""
    golden = [t["expr"] for p in GOLDEN["panels"] for t in p.get("targets", [])]
    assert dashboard_queries(dashboard(AlertSettings())) == golden
    assert len(golden) == 40
