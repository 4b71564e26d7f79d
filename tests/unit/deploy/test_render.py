"""The committed deploy/ folder is the render of the defaults; settings flow into the files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from algowatch.cli import cli, main
from algowatch.deploy import render
from algowatch.deploy._common import duration
from algowatch.deploy._yaml import dump_yaml
from algowatch.settings import AlertSettings

REPO = Path(__file__).resolve().parents[3]


def test_committed_deploy_folder_matches_a_fresh_render() -> None:
    """Regenerate-and-diff: run `algowatch config render --out deploy` after changing the code."""
    expected = render(AlertSettings())
    committed = {
        str(p.relative_to(REPO / "deploy")): p.read_text(encoding="utf-8")
        for p in sorted((REPO / "deploy").rglob("*"))
        if p.is_file()
    }
    assert sorted(committed) == sorted(expected)
    for rel, text in expected.items():
        assert committed[rel] == text, f"deploy/{rel} drifted from the render"


def test_render_command_writes_the_users_thresholds(tmp_path: Path) -> None:
    """`config render --config` puts the [alerts] values into rules, scrape config and receivers."""
    config = tmp_path / "algowatch.toml"
    config.write_text(
        "[risk]\n"
        "enabled = false\n"
        "max_drawdown = 0.08\n"
        "daily_loss_limit = 2500.0\n"
        "[alerts]\n"
        'job = "bot-1"\n'
        "scrape_interval_seconds = 10.0\n"
        'slack_channel = "#desk"\n'
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["config", "render", "--out", str(out), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    rules = yaml.safe_load((out / "prometheus/rules/algowatch-alerts.yml").read_text())
    exprs = {r["alert"]: r["expr"] for g in rules["groups"] for r in g["rules"]}
    assert exprs["MaxDrawdownExceeded"] == 'trading_drawdown_ratio{job="bot-1"} >= 0.08'
    assert exprs["DailyLossLimitExceeded"] == 'trading_daily_pnl_usd{job="bot-1"} <= -2500'
    assert exprs["DailyLossLimitApproaching"] == 'trading_daily_pnl_usd{job="bot-1"} <= -1875'
    prom = yaml.safe_load((out / "prometheus/prometheus.yml").read_text())
    job = prom["scrape_configs"][0]
    assert (job["job_name"], job["scrape_interval"], job["scrape_timeout"]) == (
        "bot-1",
        "10s",
        "8s",
    )
    am = yaml.safe_load((out / "alertmanager/alertmanager.yml").read_text())
    assert am["receivers"][0]["slack_configs"][0]["channel"] == "#desk"
    assert result.output.splitlines()[0].endswith("alertmanager.yml")


def test_render_command_reports_a_missing_config_file(tmp_path: Path) -> None:
    """A missing file is a runtime error naming the file."""
    assert main(["config", "render", "--out", str(tmp_path), "--config", "nope.toml"]) == 1


def test_defaults_avoid_the_prometheus_port_family() -> None:
    """B1/C1: the trading target is on 8000, scraped every second (timeout within it)."""
    prom = yaml.safe_load(render()["prometheus/prometheus.yml"])
    trading = prom["scrape_configs"][0]
    assert trading["static_configs"][0]["targets"] == ["trading:8000"]
    assert (trading["scrape_interval"], trading["scrape_timeout"]) == ("1s", "1s")
    assert (prom["global"]["scrape_interval"], prom["global"]["scrape_timeout"]) == ("15s", "12s")
    assert {c["job_name"] for c in prom["scrape_configs"]} >= {"prometheus", "alertmanager"}


def test_alertmanager_holds_no_secret_inline() -> None:
    """C4/C5: every secret is a *_file path; PagerDuty uses Events API v2 (routing_key_file)."""
    am: dict[str, Any] = yaml.safe_load(render()["alertmanager/alertmanager.yml"])

    def keys(node: Any) -> set[str]:
        if isinstance(node, dict):
            return set(node) | {k for v in node.values() for k in keys(v)}
        if isinstance(node, list):
            return {k for v in node for k in keys(v)}
        return set()

    inline = {"service_key", "api_url", "slack_api_url", "routing_key", "smtp_auth_password"}
    assert not keys(am) & inline
    critical = next(r for r in am["receivers"] if r["name"] == "trading-critical")
    assert critical["pagerduty_configs"][0]["routing_key_file"].endswith("pagerduty_routing_key")
    assert am["global"]["slack_api_url_file"].endswith("slack_api_url")
    assert am["global"]["smtp_auth_password_file"].endswith("smtp_password")


def test_alertmanager_routes_follow_the_corrections() -> None:
    """C3 matchers, C6 group_wait 0 s and group_interval 2 s on critical, C7 group_by job,
    C8 inhibit rules."""
    am = yaml.safe_load(render()["alertmanager/alertmanager.yml"])
    route = am["route"]
    assert "job" in route["group_by"]
    routes = {tuple(r["matchers"]): r for r in route["routes"]}
    critical = routes[('severity="critical"',)]
    assert (critical["group_wait"], critical["group_interval"]) == ("0s", "2s")
    assert routes[('alertname="Watchdog"',)]["receiver"] == "deadmans-switch"
    assert "match" not in json.dumps(route).replace("matchers", "")
    inhibit = am["inhibit_rules"]
    assert {"source_matchers": ['alertname="TradingEngineDown"']}.items() <= inhibit[0].items()
    assert inhibit[1]["equal"] == ["alertname", "job"]


def test_dashboard_file_is_the_bare_model() -> None:
    """D1: the file root is the dashboard (uid, title, schemaVersion), not an API envelope."""
    model = json.loads(render()["grafana/dashboards/algowatch-trading.json"])
    assert "dashboard" not in model
    assert (model["uid"], model["schemaVersion"]) == ("algowatch-trading", 39)
    assert model["title"]


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(min_size=1), children, max_size=4)
        ),
        max_leaves=20,
    )
)
# Unicode line breaks (NEL, LS, PS) that PyYAML writes raw unless double-quoted
@example("\x85")
@example("a\nb\u2028c")
def test_dump_yaml_round_trips_through_a_yaml_parser(value: Any) -> None:
    """Whatever the artefacts hold, PyYAML reads back exactly what was written."""
    document = {"root": value}
    assert yaml.safe_load(dump_yaml(document)) == document


@pytest.mark.parametrize(("seconds", "text"), [(5, "5s"), (90, "1m30s"), (0.25, "250ms")])
def test_duration_formats_prometheus_durations(seconds: float, text: str) -> None:
    """Durations use Prometheus units."""
    assert duration(seconds) == text


def test_duration_rejects_a_non_positive_value() -> None:
    """The message names the value and the expectation."""
    with pytest.raises(ValueError, match=r"positive whole number of milliseconds, received 0"):
        duration(0)
