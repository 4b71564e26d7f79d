"""One helper builds every metric name; a walk over a real registry rejects rule breakers."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from algowatch.exporters import metric_name, naming_problems, register_collectors
from algowatch.exporters._fields import FIELDS, NOT_EXPORTED
from algowatch.monitor import Monitor
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
        registry, m, health=lambda: {"status": "healthy", "checks": {}}, audit=lambda: "ok"
    )
    checked = 0
    for family in registry.collect():
        if family.name.startswith("process_"):
            continue  # prometheus_client's own collector
        exposed = family.name + "_total" if family.type == "counter" else family.name
        assert naming_problems(exposed, family.type) == [], exposed
        checked += 1
    assert checked > 150


def test_field_table_covers_the_snapshot_contract() -> None:
    """Every snapshot field of the brief is exported or mapped to the metric carrying it."""
    contract = {
        "trading": "realized_pnl unrealized_pnl total_pnl daily_pnl total_return daily_return "
        "sharpe_ratio sortino_ratio calmar_ratio current_drawdown max_drawdown var_95 "
        "expected_shortfall num_trades_today num_trades win_rate profit_factor avg_win avg_loss "
        "largest_win largest_loss expectancy num_positions gross_exposure net_exposure "
        "buying_power_used buying_power portfolio_value high_water_mark starting_capital fees "
        "reconciliation_gap avg_slippage avg_fill_time_ms order_rejection_rate",
        "execution": "order_to_ack_ms order_to_fill_ms market_data_latency_ms avg_slippage_bps "
        "slippage_vs_arrival slippage_vs_vwap fill_rate partial_fill_rate rejection_rate "
        "realized_spread_bps price_impact_bps implementation_shortfall "
        "implementation_shortfall_bps orders_submitted orders_filled orders_partially_filled "
        "orders_rejected orders_canceled orders_open",
        "signals": "signal_accuracy direction_accuracy avg_bars_to_profit avg_bars_held "
        "avg_signal_confidence signal_volatility signal_decay_rate signal_half_life "
        "signal_autocorrelation inter_signal_correlation signals_total outcomes_total",
    }
    exported = {f"{f.section}.{f.key}" for f in FIELDS}
    for section, keys in contract.items():
        for key in keys.split():
            dotted = f"{section}.{key}"
            assert dotted in exported or dotted in NOT_EXPORTED, dotted
    assert not exported & set(NOT_EXPORTED)


def test_every_exported_metric_is_documented() -> None:
    """docs/prometheus.md names every family a fully wired registry exposes."""
    docs = (Path(__file__).resolve().parents[3] / "docs" / "prometheus.md").read_text()
    registry = CollectorRegistry()
    register_collectors(
        registry,
        Monitor(),
        health=lambda: {"status": "healthy", "checks": {}},
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
