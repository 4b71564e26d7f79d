"""The collectors expose the engine's state with the agreed names, units and labels."""

from __future__ import annotations

import math
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from algowatch.exporters import (
    AuditCollector,
    HealthCollector,
    ProviderErrors,
    TradingCollector,
    encode_text,
    register_collectors,
)
from algowatch.health import CheckResult, HealthReport
from algowatch.monitor import Monitor, MonitorFigures
from algowatch.settings import MonitorSettings
from algowatch.testing import EventFactory, FakeClock

HEALTH_REPORT = HealthReport(
    status="degraded",
    ts=0,
    configured_checks=3,
    checks={
        "alpaca": CheckResult("alpaca", "broker_http", True, "degraded", 0.012, 0),
        "ib": CheckResult("ib", "broker_http", True, "disconnected", 1.0, 0),
        "marks": CheckResult("marks", "market_data", True, "connected", 0.0001, 0, age_seconds=2.5),
    },
)


def _scrape(registry: CollectorRegistry) -> dict[str, Any]:
    text = encode_text(registry).decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def _value(families: dict[str, Any], sample_name: str, **labels: str) -> float:
    family_name = sample_name
    for suffix in ("_total", "_bucket", "_sum", "_count"):
        if sample_name.endswith(suffix) and sample_name.removesuffix(suffix) in families:
            family_name = sample_name.removesuffix(suffix)
    matches = [
        s.value
        for s in families[family_name].samples
        if s.name == sample_name and s.labels == labels
    ]
    assert len(matches) == 1, (sample_name, labels, families[family_name].samples)
    return float(matches[0])


@pytest.fixture
def monitor(clock: FakeClock, factory: EventFactory) -> Monitor:
    """A monitor after one filled buy (bought 10 at 100.10, marked down to 90) and one rejection."""
    m = Monitor(clock=clock)
    f = factory
    m.apply_many(
        [
            f.mark("AAPL", 100.0),
            f.submitted("o1", "AAPL", "buy", 10, arrival_price=100.0),
            f.acknowledged("o1"),
            f.filled("o1", 10, 100.1),
            f.mark("AAPL", 90.0),
            f.submitted("o2", "AAPL", "sell", 5, order_type="limit", limit_price=95.0),
            f.rejected("o2", "insufficient margin"),
            f.signal("s1", "AAPL", "long", generation_seconds=0.003),
            f.error("timeout", "broker"),
            f.heartbeat("engine"),
        ]
    )
    return m


def test_drawdown_ratio_is_the_hand_worked_positive_fraction(monitor: Monitor) -> None:
    """Bought 10 @ 100.10 then marked at 90: equity 99,899 vs HWM 100,000 -> 0.00101 (A1)."""
    registry = CollectorRegistry()
    register_collectors(registry, monitor, process=False)
    families = _scrape(registry)
    assert _value(families, "trading_drawdown_ratio") == pytest.approx(101 / 100_000)
    assert _value(families, "trading_unrealized_pnl_usd") == pytest.approx(-101.0)
    assert _value(families, "trading_portfolio_value_usd") == pytest.approx(99_899.0)
    assert _value(families, "trading_daily_pnl_usd") == pytest.approx(-101.0)
    assert _value(families, "trading_open_positions") == 1.0
    assert _value(families, "trading_strategy_drawdown_ratio", strategy="default") == pytest.approx(
        101 / 100_000
    )
    assert _value(families, "trading_account_open_positions", account="default") == 1.0
    assert _value(families, "trading_position_quantity", account="default", symbol="AAPL") == 10.0


def test_undefined_ratios_are_nan_not_zero(monitor: Monitor) -> None:
    """Sharpe of fewer than two returns is undefined: NaN, never a misleading 0."""
    registry = CollectorRegistry()
    register_collectors(registry, monitor, process=False)
    assert math.isnan(_value(_scrape(registry), "trading_sharpe_ratio"))


def test_latencies_are_exported_in_seconds(monitor: Monitor) -> None:
    """The factory's 1 ms step: ack 1 ms after submit -> 0.001 s (B9)."""
    registry = CollectorRegistry()
    register_collectors(registry, monitor, process=False)
    families = _scrape(registry)
    assert _value(families, "trading_mean_order_ack_seconds") == pytest.approx(0.001)
    assert _value(families, "trading_mean_order_fill_seconds") == pytest.approx(0.002)


def test_every_order_status_is_precreated_at_zero(monitor: Monitor) -> None:
    """B7: the first rejection of a (symbol, side, type) must show up in rate()."""
    registry = CollectorRegistry()
    register_collectors(registry, monitor, process=False)
    families = _scrape(registry)
    for side, order_type in (("buy", "market"), ("sell", "limit")):
        for status in ("filled", "rejected", "canceled", "partially_filled"):
            labels = {"symbol": "AAPL", "side": side, "type": order_type, "status": status}
            expected = 1.0 if (side, status) in {("buy", "filled"), ("sell", "rejected")} else 0.0
            assert _value(families, "trading_orders_total", **labels) == expected
    for direction, expected in (("long", 1.0), ("short", 0.0), ("flat", 0.0)):
        value = _value(families, "trading_signals_total", strategy="default", direction=direction)
        assert value == expected


def test_histograms_have_the_threshold_bucket_and_cumulative_counts(monitor: Monitor) -> None:
    """A3: a 2.0 s bucket at the latency threshold; buckets are cumulative, +Inf = count."""
    registry = CollectorRegistry()
    register_collectors(registry, monitor, process=False)
    families = _scrape(registry)
    les = [
        s.labels["le"]
        for s in families["trading_order_latency_seconds"].samples
        if "le" in s.labels
    ]
    assert "2.0" in les
    assert _value(families, "trading_order_latency_seconds_bucket", le="0.01") == 1.0
    assert _value(families, "trading_order_latency_seconds_bucket", le="+Inf") == 1.0
    assert _value(families, "trading_order_latency_seconds_count") == 1.0
    assert _value(families, "trading_order_latency_seconds_sum") == pytest.approx(0.002)


def test_slippage_histogram_counts_fills_only_and_has_no_sum(monitor: Monitor) -> None:
    """B6: one fill at 100.10 vs arrival 100 = +10 bps; the rejection is not observed; no _sum."""
    registry = CollectorRegistry()
    register_collectors(registry, monitor, process=False)
    families = _scrape(registry)
    samples = families["trading_slippage_basis_points"].samples
    assert {s.name for s in samples} == {"trading_slippage_basis_points_bucket"}
    assert _value(families, "trading_slippage_basis_points_bucket", le="5.0") == 0.0
    assert _value(families, "trading_slippage_basis_points_bucket", le="10.0") == 1.0
    assert _value(families, "trading_slippage_basis_points_bucket", le="+Inf") == 1.0
    assert _value(families, "trading_mean_slippage_basis_points") == pytest.approx(10.0)


def test_counters_and_freshness_series(monitor: Monitor, clock: FakeClock) -> None:
    """Errors, events and the last-mark timestamp come straight from the engine."""
    registry = CollectorRegistry()
    register_collectors(registry, monitor, process=False)
    families = _scrape(registry)
    assert _value(families, "trading_errors_total", error_type="timeout", component="broker") == 1.0
    assert _value(families, "algowatch_events_applied_total", type="mark") == 2.0
    assert _value(families, "algowatch_folded_labels_total") == 0.0
    mark_ts = monitor.last_seen().marks["AAPL"] / 1e9
    assert _value(families, "trading_last_mark_timestamp_seconds", symbol="AAPL") == pytest.approx(
        mark_ts
    )
    assert "trading_orders" in families  # parser strips _total from the family name
    assert not [s for f in families.values() for s in f.samples if s.name.endswith("_created")]


def test_health_provider_gives_check_and_broker_up(monitor: Monitor) -> None:
    """trading_broker_up follows pg_up: 1 connected or degraded, 0 otherwise (A6)."""
    registry = CollectorRegistry()
    register_collectors(registry, monitor, health=lambda: HEALTH_REPORT, process=False)
    families = _scrape(registry)
    assert _value(families, "trading_broker_up", broker="alpaca") == 1.0
    assert _value(families, "trading_broker_up", broker="ib") == 0.0
    assert _value(families, "algowatch_health_check_up", check="marks", kind="market_data") == 1.0
    assert _value(
        families, "algowatch_health_check_duration_seconds", check="ib", kind="broker_http"
    ) == pytest.approx(1.0)
    assert _value(
        families,
        "algowatch_health_check_observation_age_seconds",
        check="marks",
        kind="market_data",
    ) == pytest.approx(2.5)
    assert _value(families, "algowatch_health_status", status="degraded") == 1.0
    assert _value(families, "algowatch_health_status", status="healthy") == 0.0


def test_audit_provider_gives_writer_up_and_verify_status(monitor: Monitor) -> None:
    """A failed writer reads 0; the last verification status is a 1-valued label."""
    state = {"writer": "ok"}
    registry = CollectorRegistry()
    register_collectors(
        registry,
        monitor,
        audit=lambda: state["writer"],
        audit_verify=lambda: "ok",
        process=False,
    )
    assert _value(_scrape(registry), "algowatch_audit_writer_up") == 1.0
    state["writer"] = "failed"
    families = _scrape(registry)
    assert _value(families, "algowatch_audit_writer_up") == 0.0
    assert _value(families, "algowatch_audit_verify_status", status="ok") == 1.0


def test_failing_provider_is_counted_and_does_not_hide_trading_metrics(monitor: Monitor) -> None:
    """A broken health provider drops its own families only, and is counted."""

    def broken() -> dict[str, Any]:
        raise ConnectionError("health runner gone")

    registry = CollectorRegistry()
    register_collectors(registry, monitor, health=broken, process=False)
    families = _scrape(registry)
    _scrape(registry)
    families = _scrape(registry)
    assert "trading_broker_up" not in families
    assert _value(families, "algowatch_exporter_provider_errors_total", provider="health") == 3.0
    assert _value(families, "trading_drawdown_ratio") == pytest.approx(0.00101)


def test_engine_failure_fails_the_scrape() -> None:
    """If the engine cannot produce its state the scrape fails, so up == 0 fires."""

    class Broken(Monitor):
        def figures(self) -> MonitorFigures:
            raise RuntimeError("state unavailable")

    registry = CollectorRegistry()
    register_collectors(registry, Broken(), process=False)  # describe(): registering is fine
    with pytest.raises(RuntimeError, match="state unavailable"):
        encode_text(registry)


@pytest.mark.parametrize(
    "collector",
    [
        TradingCollector,
        lambda m: HealthCollector(lambda: HEALTH_REPORT),
        lambda m: AuditCollector(lambda: "ok", lambda: "ok"),
        lambda m: ProviderErrors(),
    ],
    ids=["trading", "health", "audit", "errors"],
)
def test_describe_names_every_family_collect_yields(collector: Any, monitor: Monitor) -> None:
    """describe() lists exactly the families collect() yields, so register() never collects."""
    c = collector(monitor)
    described = [(f.name, f.type) for f in c.describe()]
    collected = [(f.name, f.type) for f in c.collect()]
    assert described == collected
    assert all(not f.samples for f in c.describe())


def test_register_does_not_collect() -> None:
    """register() relies on describe(): a monitor that cannot snapshot is not called."""
    calls: list[str] = []

    class Counting(Monitor):
        def figures(self) -> MonitorFigures:
            calls.append("figures")
            return super().figures()

    registry = CollectorRegistry()
    register_collectors(registry, Counting(), process=False)
    assert calls == []
    encode_text(registry)
    assert calls == ["figures"]


def test_symbols_past_the_cap_fold_into_other(clock: FakeClock) -> None:
    """With max_symbols=3, a fourth and fifth symbol fold into 'other' and are counted."""
    settings = MonitorSettings(max_symbols=3)
    m = Monitor(settings, clock=clock)
    f = EventFactory(clock)
    for i, symbol in enumerate(["AAA", "BBB", "CCC", "DDD", "EEE"]):
        m.apply_many(
            [
                f.mark(symbol, 10.0),
                f.submitted(f"o{i}", symbol, "buy", 1, arrival_price=10.0),
                f.filled(f"o{i}", 1, 10.0),
            ]
        )
    registry = CollectorRegistry()
    register_collectors(registry, m, process=False)
    families = _scrape(registry)
    symbols = {s.labels["symbol"] for s in families["trading_orders"].samples}
    assert len(symbols) <= 4
    assert "other" in symbols
    assert _value(families, "algowatch_folded_labels_total") > 0
    position_symbols = {s.labels["symbol"] for s in families["trading_position_quantity"].samples}
    assert len(position_symbols) <= 4
    quantities = [s.value for s in families["trading_position_quantity"].samples]
    assert sum(quantities) == 5.0  # nothing lost in folding


def test_every_metric_folds_the_symbols_the_engine_folds(clock: FakeClock) -> None:
    """The engine keeps the first max_symbols symbols it sees; no metric names a later one.

    Seen in the order ZZZ, YYY, XXX, WWW, VVV with max_symbols=3: ZZZ, YYY and XXX
    keep their names everywhere (an alphabetical cap would have kept VVV, WWW, XXX).
    """
    m = Monitor(MonitorSettings(max_symbols=3), clock=clock)
    f = EventFactory(clock)
    order = ["ZZZ", "YYY", "XXX", "WWW", "VVV"]
    for i, symbol in enumerate(order):
        m.apply_many(
            [
                f.mark(symbol, 10.0),
                f.submitted(f"o{i}", symbol, "buy", 1, arrival_price=10.0),
                f.filled(f"o{i}", 1, 10.0),
            ]
        )
    registry = CollectorRegistry()
    register_collectors(registry, m, process=False)
    families = _scrape(registry)
    expected = {"ZZZ", "YYY", "XXX", "other"}
    for family in ("trading_orders", "trading_position_quantity"):
        assert {s.labels["symbol"] for s in families[family].samples} == expected, family
    marks = families["trading_last_mark_timestamp_seconds"].samples
    assert {s.labels["symbol"] for s in marks} == expected
    assert [p.label for p in m.figures().positions] == ["other", "other", "XXX", "YYY", "ZZZ"]
    assert _value(families, "trading_position_quantity", account="default", symbol="other") == 2.0
    assert _value(families, "algowatch_exporter_folded_series") == 2.0


def test_encode_text_matches_generate_latest(monitor: Monitor) -> None:
    """The cached encoder yields the same families and values as prometheus_client's."""
    registry = CollectorRegistry()
    register_collectors(registry, monitor, health=lambda: HEALTH_REPORT, process=False)

    def parsed(text: str) -> list[tuple[str, str, tuple[tuple[str, str], ...], str]]:
        return sorted(
            (f.name, s.name, tuple(sorted(s.labels.items())), repr(s.value))
            for f in text_string_to_metric_families(text)
            for s in f.samples
        )

    ours = encode_text(registry).decode()
    assert parsed(ours) == parsed(generate_latest(registry).decode())
    assert encode_text(registry).decode() == ours  # the prefix cache does not change output
