"""The rendered artefacts pass promtool and amtool, and a real scrape passes `check metrics`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from algowatch.deploy import dashboard, dashboard_queries, write_rendered
from algowatch.exporters import metrics_endpoint, register_collectors
from algowatch.health import CheckResult, HealthReport
from algowatch.monitor import Monitor
from algowatch.settings import AlertSettings, ReceiverSettings, ReplicaSettings, RiskSettings
from algowatch.testing import EventFactory, FakeClock

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("promtool") is None or shutil.which("amtool") is None,
        reason="promtool and amtool come with the Debian prometheus packages "
        "(scripts/bootstrap --system)",
    ),
]

# every receiver kind, secrets from files, and a guard-off [risk] with its own limits
CUSTOM = AlertSettings(
    job="bot-1",
    scrape_interval_seconds=10.0,
    receivers=(
        ReceiverSettings(kind="webhook", url="http://127.0.0.1:9999/hook", route="critical"),
        ReceiverSettings(
            kind="slack", api_url_file="/run/secrets/slack", channel="#desk", route="team"
        ),
        ReceiverSettings(kind="pagerduty", routing_key_file="/run/secrets/pd", route="critical"),
        ReceiverSettings(kind="email", to="desk@example.com", route="team"),
        ReceiverSettings(kind="opsgenie", api_key_file="/run/secrets/opsgenie"),
    ),
)
CUSTOM_RISK = RiskSettings(enabled=False, max_drawdown=0.08)
# a fleet: two replicas of one shard and one of another, the NATS lag rules
FLEET = AlertSettings(
    replicas=(
        ReplicaSettings(target="monitor-a:8000", shard="acct-1"),
        ReplicaSettings(target="monitor-b:8000", shard="acct-1"),
        ReplicaSettings(target="monitor-c:8000", name="c", shard="acct-2"),
    ),
    nats_lag_for_seconds=0,
)


def _run(*args: str, cwd: Path | None = None, stdin: str | None = None) -> str:
    result = subprocess.run(
        list(args), cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture(
    params=[(AlertSettings(), None), (CUSTOM, CUSTOM_RISK), (FLEET, None)],
    ids=["defaults", "custom", "fleet"],
)
def rendered(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A folder holding the render of the parametrized settings."""
    write_rendered(tmp_path, *request.param)
    return tmp_path


def test_promtool_check_config_and_rules(rendered: Path) -> None:
    """prometheus.yml (with its rule file) and the rules are valid."""
    out = _run("promtool", "check", "config", "prometheus/prometheus.yml", cwd=rendered)
    assert "1 rule files found" in out
    out = _run("promtool", "check", "rules", "prometheus/rules/algowatch-alerts.yml", cwd=rendered)
    assert re.search(r"SUCCESS: \d+ rules found", out)


def test_amtool_check_config(rendered: Path) -> None:
    """alertmanager.yml is valid, secrets by *_file included."""
    out = _run("amtool", "check-config", "alertmanager/alertmanager.yml", cwd=rendered)
    assert "3 inhibit rules" in out


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=Watchdog", "severity=none"], "deadmans-switch"),
        (
            ["alertname=MaxDrawdownExceeded", "severity=critical", "job=trading-engine"],
            "trading-critical",
        ),
        (
            ["alertname=TradingEngineDown", "severity=critical", "job=trading-engine"],
            "trading-critical",
        ),
        (["alertname=HighSlippage", "severity=warning", "job=trading-engine"], "trading-team"),
        (["alertname=Unknown"], "trading-team"),
    ],
)
def test_amtool_routes(labels: list[str], receiver: str, tmp_path: Path) -> None:
    """Each route sends its alerts to the intended receiver (--verify.receivers fails otherwise)."""
    write_rendered(tmp_path)
    _run(
        "amtool",
        "config",
        "routes",
        "test",
        "--config.file=alertmanager/alertmanager.yml",
        f"--verify.receivers={receiver}",
        *labels,
        cwd=tmp_path,
    )


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    """Each panel query, with Grafana's variables substituted, is valid PromQL for promtool."""
    queries = dashboard_queries(dashboard(AlertSettings()))
    substituted = [
        q.replace("$__rate_interval", "1m").replace("$job", ".+").replace("$instance", ".+")
        for q in queries
    ]
    rules = {
        "groups": [
            {
                "name": "dashboard-queries",
                "rules": [
                    {"record": f"algowatch:dashboard_query_{i}", "expr": q}
                    for i, q in enumerate(substituted)
                ],
            }
        ]
    }
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    out = _run("promtool", "check", "rules", "queries.yml", cwd=tmp_path)
    assert f"SUCCESS: {len(queries)} rules found" in out


def test_promtool_check_metrics_on_a_real_scrape() -> None:
    """promtool's linter accepts the exposition of a monitor that saw real traffic."""
    clock = FakeClock()
    f = EventFactory(clock)
    m = Monitor(clock=clock)
    m.apply_many(
        [
            f.mark("AAPL", 100.0),
            f.submitted("o1", "AAPL", "buy", 10, arrival_price=100.0),
            f.filled("o1", 10, 100.2),
            f.submitted("o2", "MSFT", "sell", 3),
            f.rejected("o2"),
            f.signal("s1", "AAPL", "long", generation_seconds=0.01),
        ]
    )
    registry = CollectorRegistry()
    register_collectors(
        registry,
        m,
        health=lambda: HealthReport(
            status="healthy",
            ts=0,
            configured_checks=1,
            checks={"b": CheckResult("b", "broker_http", True, "connected", 0.1, 0)},
        ),
        audit=lambda: "ok",
        audit_verify=lambda: "ok",
    )
    app = Starlette(routes=[Route("/metrics", metrics_endpoint(registry))])
    with TestClient(app) as client:
        text = client.get("/metrics").text
    out = _run("promtool", "check", "metrics", stdin=text)
    assert out.strip() == ""  # promtool prints nothing when every family passes
