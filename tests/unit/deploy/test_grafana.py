"""grafana/dashboard-linter's rules, implemented in Python (the Go binary cannot be built here)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from algowatch.deploy import dashboard
from algowatch.settings import AlertSettings

# units Grafana knows that the dashboard may use (subset of grafana's valueFormats ids)
VALID_UNITS = {
    "currencyUSD",
    "percentunit",
    "percent",
    "s",
    "ms",
    "ops",
    "reqps",
    "bytes",
    "none",
    "short",
}
UNIT_PANELS = {"stat", "timeseries", "gauge", "table"}
FUNCTIONS = {
    "sum",
    "max",
    "min",
    "avg",
    "count",
    "rate",
    "irate",
    "increase",
    "histogram_quantile",
    "time",
    "vector",
    "abs",
    "absent",
    "by",
    "without",
    "on",
    "ignoring",
    "and",
    "or",
    "unless",
}


def _model() -> dict[str, Any]:
    return dashboard(AlertSettings())


def _panels() -> list[dict[str, Any]]:
    return [p for p in _model()["panels"] if p["type"] != "row"]


def _targets() -> list[dict[str, Any]]:
    return [t for p in _panels() for t in p["targets"]]


def _variables() -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in _model()["templating"]["list"]}


def test_template_datasource_rule() -> None:
    """A datasource variable labelled 'Data source' of type prometheus."""
    ds = _variables()["datasource"]
    assert (ds["type"], ds["label"], ds["query"]) == ("datasource", "Data source", "prometheus")


@pytest.mark.parametrize("name", ["job", "instance"])
def test_template_job_and_instance_rules(name: str) -> None:
    """Query variables on $datasource, multi-select, allValue '.+', reload on time change."""
    var = _variables()[name]
    assert var["type"] == "query"
    assert var["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert var["multi"] is True
    assert var["includeAll"] is True
    assert var["allValue"] == ".+"
    assert var["refresh"] == 2  # template-on-time-change-reload-rule


def test_panel_datasource_rule() -> None:
    """Every panel and target uses the $datasource variable."""
    for panel in _panels():
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"


def test_panel_title_description_rule() -> None:
    """Every panel has a title and a description."""
    for panel in _panels():
        assert panel["title"].strip()
        assert panel["description"].strip()


def test_panel_units_rule() -> None:
    """stat, timeseries, gauge and table panels have a valid unit."""
    for panel in _panels():
        if panel["type"] in UNIT_PANELS:
            assert panel["fieldConfig"]["defaults"]["unit"] in VALID_UNITS, panel["title"]


def test_panel_no_targets_rule_and_ref_ids() -> None:
    """Every panel has targets, each with a unique refId (D2)."""
    for panel in _panels():
        assert panel["targets"], panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids)


def test_target_rate_interval_rule() -> None:
    """rate, irate and increase use [$__rate_interval] (D5)."""
    for target in _targets():
        for window in re.findall(r"\b(?:rate|irate|increase)\([^\[]*\[([^\]]+)\]", target["expr"]):
            assert window == "$__rate_interval", target["expr"]


def _selectors(expr: str) -> list[tuple[str, str]]:
    # metric names, with the matcher text after them ('' when bare)
    found = []
    for match in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\{[^}]*\})?(\s*\()?", expr):
        name, matchers, call = match.group(1), match.group(2) or "", match.group(3)
        if (
            call
            or name in FUNCTIONS
            or name
            in {
                "le",
                "status",
                "strategy",
                "direction",
                "broker",
                "check",
                "error_type",
                "instance",
                "job",
            }
        ):
            continue
        if re.fullmatch(r"[0-9.e]+", name):
            continue
        found.append((name, matchers))
    return found


def test_target_job_and_instance_rules() -> None:
    """Every selector carries job=~"$job" and instance=~"$instance" (D8)."""
    checked = 0
    for target in _targets():
        expr = re.sub(r"\[[^\]]*\]", "", target["expr"])
        expr = re.sub(
            r'"[^"]*"',
            '""',
            expr.replace('=~"$job"', "=~JOB").replace('=~"$instance"', "=~INSTANCE"),
        )
        for name, matchers in _selectors(expr):
            assert "job=~JOB" in matchers, (name, target["expr"])
            assert "instance=~INSTANCE" in matchers, (
                name,
                target["expr"],
            )
            checked += 1
    assert checked >= len(_targets())


def test_target_counter_agg_rule() -> None:
    """A *_total counter is used only directly inside rate, irate or increase (D6)."""
    for target in _targets():
        for match in re.finditer(r"([a-zA-Z_:][a-zA-Z0-9_:]*_total)\{", target["expr"]):
            before = target["expr"][: match.start()]
            assert re.search(r"\b(rate|irate|increase)\($", before), target["expr"]


def test_original_six_panels_are_corrected() -> None:
    """D4-D7: drawdown as a ratio gauge, p95 by le, orders summed by status, slippage heatmap."""
    panels = {p["title"]: p for p in _panels()}
    drawdown = panels["Current Drawdown"]
    assert drawdown["type"] == "gauge"
    assert drawdown["fieldConfig"]["defaults"]["unit"] == "percentunit"
    assert drawdown["fieldConfig"]["defaults"]["max"] == 0.2
    steps = [s["value"] for s in drawdown["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert steps == [None, 0.05, 0.10, 0.15]
    assert "* 100" not in drawdown["targets"][0]["expr"]
    assert "sum by (le)" in panels["Order Latency (p95)"]["targets"][0]["expr"]
    assert panels["Orders by Status"]["targets"][0]["expr"].startswith("sum by (status) (rate(")
    slippage = panels["Slippage Distribution"]
    assert slippage["type"] == "heatmap"
    assert slippage["targets"][0]["format"] == "heatmap"
    for title in ("Portfolio Value", "Daily P&L"):
        assert panels[title]["fieldConfig"]["defaults"]["unit"] == "currencyUSD"


def test_rows_cover_each_area_and_panels_do_not_overlap() -> None:
    """Rows for P&L and risk, execution, signals, health, system; gridPos never overlaps."""
    model = _model()
    rows = [p["title"] for p in model["panels"] if p["type"] == "row"]
    assert rows == ["Overview", "P&L and risk", "Execution", "Signals", "Health", "System"]
    cells: set[tuple[int, int]] = set()
    for panel in model["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, panel["title"]
                cells.add((x, y))
    ids = [p["id"] for p in model["panels"]]
    assert len(set(ids)) == len(ids)
