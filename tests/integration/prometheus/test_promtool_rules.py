"""`promtool test rules`: a firing and a quiet case for every alert, against the real promtool.

Each alert gets independent test groups (its own input series) for the cases PROMETHEUS.md asks
for: firing, no traffic, low volume, wrong job, pending only, favourable slippage. Annotations
are compared exactly for the alerts whose templates format values (A1, A2, A8); for the others
the copy of the rule file given to promtool has its annotations removed, since promtool compares
annotations whenever alerts are listed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from algowatch.deploy import alert_names, alert_rules
from algowatch.settings import AlertSettings, RiskSettings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed"),
]

JOB = 'job="trading-engine", instance="trading:8000"'
PG = 'job="postgres", instance="pg:9187", datname="app"'
PG_ACTIVE = f'pg_stat_activity_count{{{PG}, state="active"}}'
PG_IDLE = f'pg_stat_activity_count{{{PG}, state="idle"}}'
RULE_FAILURES = (
    'prometheus_rule_evaluation_failures_total{job="prometheus", instance="p:9090", rule_group="g"}'
)
NOTIFY_FAILED = (
    "alertmanager_notifications_failed_total"
    '{job="alertmanager", instance="a:9093", integration="slack"}'
)
CHECK_ANNOTATIONS = {"MaxDrawdownExceeded", "HighRejectionRate", "HighMemoryUsage"}
LIMIT = "trading_risk_limit_level"
GUARD_OFF = RiskSettings(enabled=False)
NANS = " ".join(["NaN"] * 11)  # promtool's expanding notation takes no NaN


def _group(
    name: str, series: list[tuple[str, str]], checks: list[tuple[str, str, list[dict[str, Any]]]]
) -> dict[str, Any]:
    return {
        "name": name,
        "interval": "15s",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "alert_rule_test": [
            {"eval_time": at, "alertname": alert, "exp_alerts": expected}
            for at, alert, expected in checks
        ],
    }


def _engine(severity: str, **extra: str) -> dict[str, Any]:
    return {
        "exp_labels": {
            "severity": severity,
            "job": "trading-engine",
            "instance": "trading:8000",
            **extra,
        }
    }


def _by_job(severity: str) -> dict[str, Any]:
    return {"exp_labels": {"severity": severity, "job": "trading-engine"}}


def _annotated(expected: dict[str, Any], alert: str, description: str) -> dict[str, Any]:
    rules = {r["alert"]: r for g in alert_rules(AlertSettings())["groups"] for r in g["rules"]}
    annotations = dict(rules[alert]["annotations"])
    annotations["description"] = description
    return {**expected, "exp_annotations": annotations}


def _latency_buckets(job: str, phases: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (f'trading_order_latency_seconds_bucket{{job="{job}", instance="t:8000", le="{le}"}}', v)
        for le, v in phases.items()
    ]


def _slippage_buckets(phases: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (f'trading_slippage_basis_points_bucket{{{JOB}, le="{le}"}}', v) for le, v in phases.items()
    ]


def _orders(filled: str, rejected: str) -> list[tuple[str, str]]:
    base = 'symbol="AAPL", side="buy", type="market"'
    return [
        (f'trading_orders_total{{{JOB}, {base}, status="filled"}}', filled),
        (f'trading_orders_total{{{JOB}, {base}, status="rejected"}}', rejected),
        (f'trading_orders_total{{{JOB}, {base}, status="canceled"}}', "0x80"),
    ]


def cases() -> list[dict[str, Any]]:
    """Return the promtool test groups."""
    slow = {"0.5": "0+100x40 4000x40 4000+100x40", "2": "0+100x40 4000x40 4000+100x40"}
    slow |= {"2.5": "0+100x40 4000x40 4000+100x40", "5": "0+100x40 4000+10x40 4400+100x40"}
    slow |= {"+Inf": "0+100x40 4000+10x40 4400+100x40"}
    return [
        # --- risk: the hard limits read the guard's state and fire with no `for:`
        _group(
            "drawdown limit at flatten fires at the first evaluation after the breach",
            [
                (f'{LIMIT}{{{JOB}, limit="max_drawdown"}}', "0x3 3x10"),
                # the description shows the target's current drawdown
                (f"trading_drawdown_ratio{{{JOB}}}", "0.05x3 0.172x10"),
            ],
            [
                ("45s", "MaxDrawdownExceeded", []),
                (
                    "1m",
                    "MaxDrawdownExceeded",
                    [
                        _annotated(
                            _engine("critical", limit="max_drawdown"),
                            "MaxDrawdownExceeded",
                            "On trading-engine the risk guard holds its max_drawdown limit at "
                            "flatten: the drawdown reached the [risk] max_drawdown of 15% of the "
                            "high-water mark (now 17.2%).",
                        )
                    ],
                ),
            ],
        ),
        _group(
            "drawdown limit below flatten, NaN, absent, or of another job stays quiet",
            [
                (f'{LIMIT}{{{JOB}, limit="max_drawdown"}}', "2x10"),
                (
                    'trading_risk_limit_level{job="trading-engine", instance="n:8000", '
                    'limit="max_drawdown"}',
                    NANS,
                ),
                (
                    'trading_risk_limit_level{job="trading-engine", instance="g:8000", '
                    'limit="max_drawdown"}',
                    "_x10",
                ),
                (
                    'trading_risk_limit_level{job="other", instance="o:8000", '
                    'limit="max_drawdown"}',
                    "3x10",
                ),
                (f'{LIMIT}{{{JOB}, limit="daily_loss"}}', "3x10"),
            ],
            [("1m", "MaxDrawdownExceeded", [])],
        ),
        _group(
            "daily loss at flatten fires critical; warn and stop_entries fire approaching",
            [
                (f'{LIMIT}{{{JOB}, limit="daily_loss"}}', "0 3x10"),
                (
                    'trading_risk_limit_level{job="trading-engine", instance="b:8000", '
                    'limit="daily_loss"}',
                    "0 1x10",
                ),
                (
                    'trading_risk_limit_level{job="trading-engine", instance="c:8000", '
                    'limit="daily_loss"}',
                    "0 2x10",
                ),
            ],
            [
                ("15s", "DailyLossLimitExceeded", [_engine("critical", limit="daily_loss")]),
                (
                    "15s",
                    "DailyLossLimitApproaching",
                    [
                        {
                            "exp_labels": {
                                "severity": "warning",
                                "job": "trading-engine",
                                "instance": instance,
                                "limit": "daily_loss",
                            }
                        }
                        for instance in ("b:8000", "c:8000")
                    ],
                ),
            ],
        ),
        _group(
            "daily loss ok, NaN or absent stays quiet",
            [
                (f'{LIMIT}{{{JOB}, limit="daily_loss"}}', "0x10"),
                (
                    'trading_risk_limit_level{job="trading-engine", instance="n:8000", '
                    'limit="daily_loss"}',
                    NANS,
                ),
            ],
            [("1m", "DailyLossLimitExceeded", []), ("1m", "DailyLossLimitApproaching", [])],
        ),
        _group(
            "kill switch engaged fires at the first evaluation",
            [(f"trading_risk_kill_switch_engaged{{{JOB}}}", "0 0 1x10")],
            [
                ("15s", "KillSwitchEngaged", []),
                ("30s", "KillSwitchEngaged", [_engine("critical")]),
            ],
        ),
        _group(
            "kill switch released, NaN or absent stays quiet",
            [
                (f"trading_risk_kill_switch_engaged{{{JOB}}}", "1 0x10"),
                (
                    'trading_risk_kill_switch_engaged{job="trading-engine", instance="n:8000"}',
                    NANS,
                ),
                (
                    'trading_risk_kill_switch_engaged{job="trading-engine", instance="g:8000"}',
                    "_x10",
                ),
            ],
            [("1m", "KillSwitchEngaged", [])],
        ),
        _group(
            "risk metrics absent fires (A5)",
            [(f"up{{{JOB}}}", "1x20")],
            [("3m", "TradingRiskMetricsAbsent", [_by_job("warning")])],
        ),
        _group(
            "risk metrics present, or absent for less than 2m, stay quiet",
            [
                (f"trading_risk_level{{{JOB}}}", "0x20"),
                (f"trading_daily_pnl_usd{{{JOB}}}", "0x20"),
            ],
            [("3m", "TradingRiskMetricsAbsent", [])],
        ),
        _group(
            "risk metrics absent only briefly: pending",
            [(f"up{{{JOB}}}", "1x20")],
            [("1m", "TradingRiskMetricsAbsent", [])],
        ),
        # --- connectivity
        _group(
            "engine down fires; node-exporter down does not (A9)",
            [(f"up{{{JOB}}}", "1 1 0x10"), ('up{job="node-exporter", instance="n:9100"}', "0x12")],
            [("2m", "TradingEngineDown", [_engine("critical")])],
        ),
        _group(
            "engine up, or down for less than 30s, stays quiet",
            [(f"up{{{JOB}}}", "1x6 0 0"), ('up{job="trading-engine", instance="b:8000"}', "1x8")],
            [("1m45s", "TradingEngineDown", [])],
        ),
        _group(
            "broker down fires after 30s (A6)",
            [(f'trading_broker_up{{{JOB}, broker="alpaca"}}', "0x10")],
            [("1m", "BrokerConnectionDown", [_engine("critical", broker="alpaca")])],
        ),
        _group(
            "broker up or briefly down stays quiet",
            [
                (f'trading_broker_up{{{JOB}, broker="alpaca"}}', "1x10"),
                (f'trading_broker_up{{{JOB}, broker="ib"}}', "1x4 0 0"),
            ],
            [("1m15s", "BrokerConnectionDown", [])],
        ),
        _group(
            "marks stop: market data stale fires",
            [(f'trading_last_mark_timestamp_seconds{{{JOB}, symbol="AAPL"}}', "0+15x4 60x20")],
            [("3m", "MarketDataStale", [_engine("warning")])],
        ),
        _group(
            "marks flowing stay quiet",
            [(f'trading_last_mark_timestamp_seconds{{{JOB}, symbol="AAPL"}}', "0+15x20")],
            [("3m", "MarketDataStale", [])],
        ),
        _group(
            "a failing health check fires after 2m",
            [(f'algowatch_health_check_up{{{JOB}, check="redis", kind="redis"}}', "0x20")],
            [
                ("3m", "HealthCheckFailing", [_engine("warning", check="redis", kind="redis")]),
                ("1m", "HealthCheckFailing", []),
            ],
        ),
        _group(
            "passing health checks stay quiet",
            [(f'algowatch_health_check_up{{{JOB}, check="redis", kind="redis"}}', "1x20")],
            [("3m", "HealthCheckFailing", [])],
        ),
        _group(
            "failed audit writer fires",
            [(f"algowatch_audit_writer_up{{{JOB}}}", "0x10")],
            [("1m", "AuditTrailWriterFailed", [_engine("critical")])],
        ),
        _group(
            "healthy audit writer stays quiet",
            [(f"algowatch_audit_writer_up{{{JOB}}}", "1x10")],
            [("1m", "AuditTrailWriterFailed", [])],
        ),
        _group(
            "journal store down for 30 s fires; a restart it recovers from stays quiet",
            [
                (f"algowatch_journal_up{{{JOB}}}", "0x10"),
                ('algowatch_journal_up{job="trading-engine", instance="b:8000"}', "1 0 0 1x10"),
                ('algowatch_journal_up{job="other", instance="o:8000"}', "0x10"),
            ],
            [("15s", "JournalDown", []), ("1m", "JournalDown", [_engine("critical")])],
        ),
        _group(
            "journal store up stays quiet",
            [(f"algowatch_journal_up{{{JOB}}}", "1x10")],
            [("1m", "JournalDown", [])],
        ),
        # --- execution
        _group(
            "10 min of slow orders after a long fast history fire; recovery clears it (A3)",
            _latency_buckets("trading-engine", slow) + _latency_buckets("other", slow),
            [
                ("20m", "HighOrderLatency", [_by_job("warning")]),
                ("12m", "HighOrderLatency", []),
                ("30m", "HighOrderLatency", []),
            ],
        ),
        _group(
            "no orders: latency quantile is NaN and quiet",
            _latency_buckets(
                "trading-engine", dict.fromkeys(("0.5", "2", "2.5", "5", "+Inf"), "0x40")
            ),
            [("10m", "HighOrderLatency", [])],
        ),
        _group(
            "25% rejections at volume fire with the right percentage (A2)",
            _orders("0+9x40", "0+3x40"),
            [
                (
                    "10m",
                    "HighRejectionRate",
                    [
                        _annotated(
                            _by_job("warning"),
                            "HighRejectionRate",
                            "25% of the orders of trading-engine completed in the last 5m "
                            "were rejected (limit 10%).",
                        )
                    ],
                )
            ],
        ),
        _group(
            "1% rejections stay quiet (the original rule paged here, claiming 1% meant 100%)",
            _orders("0+99x40", "0+1x40"),
            [("10m", "HighRejectionRate", [])],
        ),
        _group(
            "one rejected order out of one: below the volume guard",
            _orders("0x40", "0x20 1x20"),
            [("8m", "HighRejectionRate", [])],
        ),
        _group(
            "no traffic: 0/0 is NaN and quiet",
            _orders("0x40", "0x40"),
            [("10m", "HighRejectionRate", [])],
        ),
        _group(
            "median slippage of 15 bps fires after 10 min",
            _slippage_buckets(
                {
                    "-5": "0x80",
                    "0": "0x80",
                    "5": "0x80",
                    "10": "0x80",
                    "20": "0+10x80",
                    "+Inf": "0+10x80",
                }
            ),
            [("20m", "HighSlippage", [_by_job("warning")]), ("8m", "HighSlippage", [])],
        ),
        _group(
            "favourable slippage (-7 bps, lowest bucket) stays quiet (A4)",
            _slippage_buckets(dict.fromkeys(("-5", "0", "5", "10", "20", "+Inf"), "0+10x80")),
            [("20m", "HighSlippage", [])],
        ),
        # --- process
        _group(
            "trading process above 3 GiB fires in GiB; Prometheus's own memory does not (A8)",
            [
                (f"process_resident_memory_bytes{{{JOB}}}", "4000000000x40"),
                (
                    'process_resident_memory_bytes{job="prometheus", instance="p:9090"}',
                    "8000000000x40",
                ),
            ],
            [
                (
                    "6m",
                    "HighMemoryUsage",
                    [
                        _annotated(
                            _engine("warning"),
                            "HighMemoryUsage",
                            "The algowatch process on trading:8000 uses 3.725GiB resident "
                            "memory (limit 3.0 GiB).",
                        )
                    ],
                )
            ],
        ),
        _group(
            "small memory stays quiet",
            [(f"process_resident_memory_bytes{{{JOB}}}", "1000000000x40")],
            [("6m", "HighMemoryUsage", [])],
        ),
        _group(
            "a busy core fires; a busy Prometheus does not",
            [
                (f"process_cpu_seconds_total{{{JOB}}}", "0+15x40"),
                ('process_cpu_seconds_total{job="prometheus", instance="p:9090"}', "0+15x40"),
            ],
            [("10m", "HighCPUUsage", [_engine("warning")])],
        ),
        _group(
            "40% of a core stays quiet",
            [(f"process_cpu_seconds_total{{{JOB}}}", "0+6x40")],
            [("10m", "HighCPUUsage", [])],
        ),
        _group(
            "95 of 100 PostgreSQL connections fire (A7: summed over datname and state)",
            [
                (
                    PG_ACTIVE,
                    "60x40",
                ),
                (
                    PG_IDLE,
                    "35x40",
                ),
                ('pg_settings_max_connections{job="postgres", instance="pg:9187"}', "100x40"),
            ],
            [
                (
                    "6m",
                    "PostgresConnectionsNearLimit",
                    [
                        {
                            "exp_labels": {
                                "severity": "warning",
                                "job": "postgres",
                                "instance": "pg:9187",
                            }
                        }
                    ],
                )
            ],
        ),
        _group(
            "50 of 100 PostgreSQL connections stay quiet",
            [
                (
                    PG_ACTIVE,
                    "50x40",
                ),
                ('pg_settings_max_connections{job="postgres", instance="pg:9187"}', "100x40"),
            ],
            [("6m", "PostgresConnectionsNearLimit", [])],
        ),
        # --- meta
        _group(
            "Watchdog always fires",
            [],
            [("1m", "Watchdog", [{"exp_labels": {"severity": "none"}}])],
        ),
        _group(
            "a rule evaluation failure fires",
            [
                (
                    RULE_FAILURES,
                    "0 0 1x10",
                )
            ],
            [
                (
                    "1m",
                    "PrometheusRuleEvaluationFailures",
                    [
                        {
                            "exp_labels": {
                                "severity": "critical",
                                "job": "prometheus",
                                "instance": "p:9090",
                                "rule_group": "g",
                            }
                        }
                    ],
                )
            ],
        ),
        _group(
            "no rule evaluation failure stays quiet",
            [
                (
                    RULE_FAILURES,
                    "0x10",
                )
            ],
            [("2m", "PrometheusRuleEvaluationFailures", [])],
        ),
        _group(
            "failing notifications fire after 5m",
            [
                (
                    NOTIFY_FAILED,
                    "0+1x40",
                )
            ],
            [
                (
                    "8m",
                    "AlertmanagerNotificationsFailing",
                    [
                        {
                            "exp_labels": {
                                "severity": "critical",
                                "job": "alertmanager",
                                "instance": "a:9093",
                                "integration": "slack",
                            }
                        }
                    ],
                ),
                ("3m", "AlertmanagerNotificationsFailing", []),
            ],
        ),
        _group(
            "delivered notifications stay quiet",
            [
                (
                    NOTIFY_FAILED,
                    "0x40",
                )
            ],
            [("8m", "AlertmanagerNotificationsFailing", [])],
        ),
    ]


def guard_off_cases() -> list[dict[str, Any]]:
    """Return the cases of the risk rules rendered with ``[risk] enabled = false``."""
    return [
        _group(
            "guard off: drawdown at the limit fires at the first evaluation (A1)",
            [(f"trading_drawdown_ratio{{{JOB}}}", "0.05 0.15x10")],
            [
                ("0s", "MaxDrawdownExceeded", []),
                ("15s", "MaxDrawdownExceeded", [_engine("critical")]),
            ],
        ),
        _group(
            "guard off: drawdown below the limit, NaN or of another job stays quiet",
            [
                (f"trading_drawdown_ratio{{{JOB}}}", "0.149x10"),
                ('trading_drawdown_ratio{job="trading-engine", instance="n:8000"}', NANS),
                ('trading_drawdown_ratio{job="other", instance="o:8000"}', "0.5x10"),
            ],
            [("1m", "MaxDrawdownExceeded", [])],
        ),
        _group(
            "guard off: daily loss at the limit fires critical, at 75 % approaching",
            [
                (f"trading_daily_pnl_usd{{{JOB}}}", "-5000x10"),
                ('trading_daily_pnl_usd{job="trading-engine", instance="b:8000"}', "-3750x10"),
                ('trading_daily_pnl_usd{job="trading-engine", instance="c:8000"}', "-3749x10"),
            ],
            [
                ("15s", "DailyLossLimitExceeded", [_engine("critical")]),
                (
                    "15s",
                    "DailyLossLimitApproaching",
                    [
                        _engine("warning"),
                        {
                            "exp_labels": {
                                "severity": "warning",
                                "job": "trading-engine",
                                "instance": "b:8000",
                            }
                        },
                    ],
                ),
            ],
        ),
    ]


def _rules_for_promtool(risk: RiskSettings | None = None) -> dict[str, Any]:
    rules = alert_rules(AlertSettings(), risk)
    for group in rules["groups"]:
        for rule in group["rules"]:
            if risk is not None or rule["alert"] not in CHECK_ANNOTATIONS:
                rule.pop("annotations")
    return rules


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    """The case list itself covers every alert both ways."""
    firing: set[str] = set()
    quiet: set[str] = set()
    for group in cases():
        for check in group["alert_rule_test"]:
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    names = set(alert_names())
    assert names - firing == set()
    assert names - quiet == {"Watchdog"}  # always fires, by design


@pytest.mark.parametrize("guard", [True, False], ids=["guard", "guard-off"])
def test_promtool_test_rules_passes(guard: bool, tmp_path: Path) -> None:
    """promtool evaluates every case at a 15 s step (rules with and without a risk guard)."""
    rules = _rules_for_promtool(None if guard else GUARD_OFF)
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    tests = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "15s",
        "tests": cases() if guard else guard_off_cases(),
    }
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = subprocess.run(
        ["promtool", "test", "rules", "tests.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


ORIGINAL_EXPRS = {
    # section 5.1 of the original design, adapted only to the corrected metric names
    "MaxDrawdownExceeded": (
        "-trading_drawdown_ratio > 0.15",  # the negative fraction calculate_max_drawdown returns
        "guard off: drawdown at the limit fires",
    ),
    "HighRejectionRate": (
        'rate(trading_orders_total{status="rejected"}[5m]) / rate(trading_orders_total[5m]) > 0.1',
        "1% rejections stay quiet",
    ),
    "HighOrderLatency": (
        "histogram_quantile(0.95, trading_order_latency_seconds_bucket) > 2",
        "10 min of slow orders after a long fast history fire",
    ),
}


@pytest.mark.parametrize("alert", sorted(ORIGINAL_EXPRS))
def test_the_original_expressions_fail_these_cases(alert: str, tmp_path: Path) -> None:
    """The cases can fail: with the original design's expression promtool reports the defect."""
    expr, failing_group = ORIGINAL_EXPRS[alert]
    guard_off = failing_group.startswith("guard off")
    rules = _rules_for_promtool(GUARD_OFF if guard_off else None)
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule["alert"] == alert:
                rule["expr"] = expr
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    groups = guard_off_cases() if guard_off else cases()
    tests = {"rule_files": ["rules.yml"], "evaluation_interval": "15s", "tests": groups}
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = subprocess.run(
        ["promtool", "test", "rules", "tests.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert failing_group in result.stdout + result.stderr
