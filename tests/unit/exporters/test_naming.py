"""One helper builds every metric name; a walk over a real registry rejects rule breakers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from algowatch.exporters import metric_name, naming_problems, register_collectors
from algowatch.exporters._scope_metrics import SCOPE_METRICS
from algowatch.health import HealthReport
from algowatch.monitor import (
    ExecutionFigures,
    Monitor,
    ScopeFigures,
    SignalFigures,
    TradingFigures,
)
from algowatch.testing import EventFactory, FakeClock


@pytest.mark.parametrize(
    ("name", "kind", "problem"),
    [
        ("trading_position_count", "gauge", "ends in '_count'"),
        ("trading_drawdown_percent", "gauge", "non-base unit suffix '_percent'"),
        ("trading_avg_fill_time_ms", "gauge", "non-base unit suffix '_ms'"),
        ("trading_memory_used_gb", "gauge", "non-base unit suffix '_gb'"),
        ("trading_orders", "counter", "does not end in '_total'"),
        ("trading_open_orders_total", "gauge", "ends in '_total' but is a gauge"),
        ("TradingValue", "gauge", "is not snake case"),
        ("trading__value", "gauge", "is not snake case"),
        ("portfolio_value_usd", "gauge", "does not start with one of the namespaces"),
        ("trading_spread_bps", "gauge", "non-base unit suffix '_bps'"),
    ],
)
def test_naming_problems_reject_rule_breakers(name: str, kind: str, problem: str) -> None:
    """Each broken name of the original design (B3, B4, B9) is rejected with its reason."""
    assert any(problem in p for p in naming_problems(name, kind))


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("trading_drawdown_ratio", "gauge"),
        ("trading_open_positions", "gauge"),
        ("trading_orders_total", "counter"),
        ("trading_order_latency_seconds", "histogram"),
        ("trading_slippage_basis_points", "histogram"),
        ("trading_portfolio_value_usd", "gauge"),
    ],
)
def test_naming_problems_accept_the_agreed_names(name: str, kind: str) -> None:
    """The PROMETHEUS.md names pass."""
    assert naming_problems(name, kind) == []


def test_metric_name_rejects_unknown_namespace_with_message() -> None:
    """The message names the namespace received and the expected ones."""
    with pytest.raises(ValueError, match=r"namespace must be one of .* received 'ordinis'"):
        metric_name("ordinis", "orders", total=True)


def test_every_family_of_a_real_registry_follows_the_rules(
    clock: FakeClock, factory: EventFactory
) -> None:
    """Walk the registry after real traffic; every exposed family passes promtool-style rules."""
    m = Monitor(clock=clock)
    m.apply_many(
        [
            factory.mark("AAPL", 100.0),
            factory.submitted("o1", "AAPL", "buy", 1, arrival_price=100.0),
            factory.filled("o1", 1, 100.0),
            factory.signal("s1", "AAPL", "long"),
        ]
    )
    registry = CollectorRegistry()
    register_collectors(
        registry,
        m,
        health=lambda: HealthReport(status="healthy", ts=0, configured_checks=0),
        audit=lambda: "ok",
    )
    checked = 0
    for family in registry.collect():
        if family.name.startswith("process_"):
            continue  # prometheus_client's own collector
        exposed = family.name + "_total" if family.type == "counter" else family.name
        assert naming_problems(exposed, family.type) == [], exposed
        checked += 1
    assert checked > 150


# Figures with no per-scope family of their own, and the metric that carries them.
NOT_EXPORTED = {
    "trading.equity": "trading_portfolio_value_usd (the reported equity when there is one)",
    "trading.sessions": "trading_sharpe_ratio (undefined below two sessions)",
    "execution.orders_filled": 'trading_orders_total{status="filled"}',
    "execution.orders_partially_filled": 'trading_orders_total{status="partially_filled"}',
    "execution.orders_rejected": 'trading_orders_total{status="rejected"}',
    "execution.orders_canceled": 'trading_orders_total{status="canceled"}',
    "signals.signals": "trading_signals_total",
}


def _numbered(cls: type, start: int) -> object:
    # an instance whose every field holds a distinct number: a metric's value names its field
    return cls(**{f.name: start + i for i, f in enumerate(dataclasses.fields(cls))})


def test_scope_metrics_cover_every_figure_once() -> None:
    """Each per-scope family reads a distinct figure; every figure is exported or listed."""
    sections = {
        "trading": (TradingFigures, 1_000),
        "execution": (ExecutionFigures, 2_000),
        "signals": (SignalFigures, 3_000),
    }
    scope = ScopeFigures(**{k: _numbered(cls, start) for k, (cls, start) in sections.items()})
    by_value = {
        start + i: f"{section}.{f.name}"
        for section, (cls, start) in sections.items()
        for i, f in enumerate(dataclasses.fields(cls))
    }
    read = [by_value[metric.figure(scope)] for metric in SCOPE_METRICS]
    assert len(read) == len(set(read))
    assert sorted(set(by_value.values()) - set(read)) == sorted(NOT_EXPORTED)


def test_every_exported_metric_is_documented() -> None:
    """docs/prometheus.md names every family a fully wired registry exposes."""
    docs = (Path(__file__).resolve().parents[3] / "docs" / "prometheus.md").read_text()
    registry = CollectorRegistry()
    register_collectors(
        registry,
        Monitor(),
        health=lambda: HealthReport(status="healthy", ts=0, configured_checks=0),
        audit=lambda: "ok",
        process=False,
    )
    missing = []
    for family in registry.collect():
        name = family.name + "_total" if family.type == "counter" else family.name
        for prefix in ("trading_strategy_", "trading_account_"):
            if name.startswith(prefix):
                name = "trading_" + name.removeprefix(prefix)
        if f"`{name}`" not in docs:
            missing.append(name)
    assert missing == []
