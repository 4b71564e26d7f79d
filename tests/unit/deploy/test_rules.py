"""Every alert is complete, scoped by job, documented, and uses metrics the app exports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from algowatch.deploy import alert_rules, dashboard, dashboard_queries, render
from algowatch.deploy.rules import ENGINE_DEPENDENT_ALERTS
from algowatch.exporters import (
    JournalCollector,
    RiskCollector,
    metrics_endpoint,
    register_collectors,
)
from algowatch.health import CheckResult, HealthReport
from algowatch.journal import JournalState
from algowatch.monitor import Monitor
from algowatch.risk import RiskGuard
from algowatch.settings import AlertSettings, RiskSettings
from algowatch.testing import EventFactory, FakeClock

REPO = Path(__file__).resolve().parents[3]
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}")
# series Prometheus makes itself, or that other exporters of the stack expose
EXTERNAL = re.compile(r"^(up|scrape_duration_seconds|prometheus_.*|alertmanager_.*|pg_.*)$")


def _rules() -> list[dict[str, Any]]:
    return [r for g in alert_rules(AlertSettings())["groups"] for r in g["rules"]]


def real_scrape_names() -> set[str]:
    """Return every sample name of a /metrics scrape of a monitor that saw real traffic."""
    clock = FakeClock()
    f = EventFactory(clock)
    m = Monitor(clock=clock)
    m.apply_many(
        [
            f.mark("AAPL", 100.0),
            f.submitted("o1", "AAPL", "buy", 10, arrival_price=100.0),
            f.acknowledged("o1"),
            f.filled("o1", 10, 100.1),
            f.signal("s1", "AAPL", "long", generation_seconds=0.002),
            f.error("timeout", "broker"),
        ]
    )
    broker = CheckResult("broker", "broker_http", True, "connected", 0.1, 0)
    report = HealthReport(status="healthy", ts=0, configured_checks=1, checks={"broker": broker})
    registry = CollectorRegistry()
    register_collectors(registry, m, health=lambda: report, audit=lambda: "ok")
    registry.register(JournalCollector(lambda: JournalState(up=True)))
    registry.register(RiskCollector(RiskGuard(clock=clock, log=lambda alert: None)))
    app = Starlette(routes=[Route("/metrics", metrics_endpoint(registry))])
    with TestClient(app) as client:
        text = client.get("/metrics").text
    return {s.name for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_every_alert_has_severity_summary_description_and_runbook() -> None:
    """kubernetes-mixin rule: no alert without the annotations an on-call person needs."""
    runbooks = (REPO / "docs" / "runbooks.md").read_text(encoding="utf-8")
    anchors = {line[3:].strip().lower() for line in runbooks.splitlines() if line.startswith("## ")}
    for rule in _rules():
        assert rule["labels"]["severity"] in {"critical", "warning", "none"}
        annotations = rule["annotations"]
        assert annotations["summary"]
        assert annotations["description"]
        url = annotations["runbook_url"]
        assert url.endswith("docs/runbooks.md#" + rule["alert"].lower())
        assert rule["alert"].lower() in anchors, f"docs/runbooks.md has no section {rule['alert']}"


def test_every_selector_is_scoped_by_job() -> None:
    """A8: no selector without a job matcher (they would match Prometheus's own process_*)."""
    for rule in _rules():
        selectors = SELECTOR.findall(rule["expr"])
        assert selectors or rule["alert"] == "Watchdog", rule["alert"]
        for name, matchers in selectors:
            assert re.search(r'\bjob="[^"]+"', matchers), (rule["alert"], name)


def test_quantile_alerts_use_rate_and_sum_by_le() -> None:
    """A3/A4: histogram_quantile over rate() of buckets aggregated by (job, le)."""
    exprs = {r["alert"]: r["expr"] for r in _rules()}
    for alert in ("HighOrderLatency", "HighSlippage"):
        assert re.search(r"histogram_quantile\(0\.\d+, sum by \(job, le\) \(rate\(", exprs[alert])


def test_rejection_ratio_aggregates_both_sides_and_has_a_volume_guard() -> None:
    """A2: the ratio of sums by job, and at least 10 orders in the window."""
    expr = next(r["expr"] for r in _rules() if r["alert"] == "HighRejectionRate")
    assert expr.count("sum by (job) (rate(") == 2
    assert re.search(
        r"and sum by \(job\) \(increase\(trading_orders_total\{[^}]*\}\[5m\]\)\) >= 10", expr
    )


def test_risk_group_runs_every_second_like_the_trading_scrape() -> None:
    """Time to alert: the risk group is evaluated every 1 s, the trading job scraped every 1 s."""
    groups = {g["name"]: g for g in alert_rules(AlertSettings())["groups"]}
    assert groups["algowatch-risk"]["interval"] == "1s"
    prom = yaml.safe_load(render()["prometheus/prometheus.yml"])
    assert prom["scrape_configs"][0]["scrape_interval"] == "1s"


def test_hard_risk_limits_fire_without_for_and_read_the_guards_state() -> None:
    """Drawdown, daily loss and the kill switch page at the first evaluation (no `for:`), from
    the guard's own gauges; warnings that are not guard state keep their `for:`."""
    rules = {r["alert"]: r for r in _rules()}
    for alert in ("MaxDrawdownExceeded", "DailyLossLimitExceeded", "KillSwitchEngaged"):
        assert "for" not in rules[alert], alert
        assert rules[alert]["labels"]["severity"] == "critical"
    assert 'limit="max_drawdown"' in rules["MaxDrawdownExceeded"]["expr"]
    assert rules["KillSwitchEngaged"]["expr"].startswith("trading_risk_kill_switch_engaged{")
    for alert in ("HighOrderLatency", "HighRejectionRate", "HighSlippage", "MarketDataStale"):
        assert rules[alert]["for"], alert


def _seconds(text: str) -> float:
    # a Prometheus duration such as "1m30s" in seconds
    units = {"h": 3600, "m": 60, "s": 1}
    return float(sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", text)))


def _limits_in_rules(rules: dict[str, Any]) -> dict[str, float]:
    # the thresholds a rendered rule file applies, read back from its PromQL text
    exprs = {r["alert"]: r["expr"] for g in rules["groups"] for r in g["rules"]}
    found: dict[str, float] = {}
    drawdown = re.fullmatch(
        r'trading_drawdown_ratio\{job="[^"]+"\} >= ([0-9.e-]+)', exprs["MaxDrawdownExceeded"]
    )
    if drawdown:
        found["max_drawdown"] = float(drawdown.group(1))
    loss = re.fullmatch(
        r'trading_daily_pnl_usd\{job="[^"]+"\} <= -([0-9.e]+)', exprs["DailyLossLimitExceeded"]
    )
    if loss:
        found["daily_loss_limit"] = float(loss.group(1))
    rejection = re.search(
        r"\) > ([0-9.e-]+)\nand .*\[([0-9hms]+)\]\)\) >= (\d+)$", exprs["HighRejectionRate"]
    )
    found["max_rejection_rate"] = float(rejection.group(1))
    found["rejection_window_seconds"] = _seconds(rejection.group(2))
    found["min_orders_for_rejection_rate"] = float(rejection.group(3))
    return found


@pytest.mark.parametrize(
    "risk",
    [
        RiskSettings(),
        RiskSettings(
            max_drawdown=0.08,
            daily_loss_limit=2500.0,
            max_rejection_rate=0.2,
            min_orders_for_rejection_rate=25,
            rejection_window_seconds=120.0,
        ),
        RiskSettings(enabled=False, max_drawdown=0.07, daily_loss_limit=1234.5),
    ],
    ids=["defaults", "custom", "guard-off"],
)
def test_rendered_rules_apply_the_limits_of_the_guard(risk: RiskSettings) -> None:
    """One source of truth: render from [risk], parse the YAML back, compare every threshold
    with the guard's settings; with a guard the hard limits read its state instead."""
    rules = yaml.safe_load(render(AlertSettings(), risk)["prometheus/rules/algowatch-alerts.yml"])
    found = _limits_in_rules(rules)
    for key, value in found.items():
        assert value == pytest.approx(getattr(risk, key)), key
    exprs = {r["alert"]: r["expr"] for g in rules["groups"] for r in g["rules"]}
    if risk.enabled:
        assert set(found) == {
            "max_rejection_rate",
            "rejection_window_seconds",
            "min_orders_for_rejection_rate",
        }
        assert exprs["MaxDrawdownExceeded"].endswith('limit="max_drawdown"} >= 3')
        assert exprs["DailyLossLimitExceeded"].endswith('limit="daily_loss"} >= 3')
    else:
        assert {"max_drawdown", "daily_loss_limit"} <= set(found)
        assert "KillSwitchEngaged" not in exprs


def test_engine_down_inhibits_only_alerts_that_exist() -> None:
    """The inhibit list names real alerts (a typo would silently inhibit nothing)."""
    names = {r["alert"] for r in _rules()}
    assert set(ENGINE_DEPENDENT_ALERTS) <= names
    am = yaml.safe_load(render()["alertmanager/alertmanager.yml"])
    target = am["inhibit_rules"][0]["target_matchers"][0]
    assert all(name in target for name in ENGINE_DEPENDENT_ALERTS)


@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_every_metric_named_in_rules_and_dashboard_exists_in_a_real_scrape(source: str) -> None:
    """The check that would have caught A5 and A6: no rule or panel on an undefined metric."""
    exported = real_scrape_names()
    exprs = (
        [r["expr"] for r in _rules()]
        if source == "rules"
        else dashboard_queries(dashboard(AlertSettings()))
    )
    named = {name for expr in exprs for name, _ in SELECTOR.findall(expr)}
    assert named
    missing = sorted(n for n in named if n not in exported and not EXTERNAL.match(n))
    assert missing == []
