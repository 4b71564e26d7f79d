"""Hand-worked execution scenarios: lifecycle, rates, latencies, slippage, impact."""

from __future__ import annotations

import pytest

from algowatch.monitor import Monitor
from algowatch.server import render_orders, render_snapshot
from algowatch.settings import MonitorSettings
from algowatch.testing import EventFactory, FakeClock

approx = pytest.approx
T0 = "2025-01-02T15:00:00"


def _at(seconds: float) -> str:
    whole, frac = divmod(round(seconds * 1000), 1000)
    return f"2025-01-02T15:{whole // 60:02d}:{whole % 60:02d}.{frac:03d}Z"


def _scenario() -> Monitor:
    f = EventFactory(FakeClock(T0 + "Z"))
    m = Monitor()
    m.apply_many(
        [
            # o1: buy 100, acknowledged after 10 ms, two partial fills, complete after 250 ms
            f.submitted(
                "o1", "AAPL", "buy", 100, arrival_price=100.0, decision_price=99.9, ts=_at(0)
            ),
            f.acknowledged("o1", ts=_at(0.010)),
            f.filled("o1", 40, 100.10, fee=0.40, ts=_at(0.050)),
            f.filled("o1", 60, 100.20, fee=0.60, ts=_at(0.250)),
            # o2: sell 100, acknowledged after 30 ms, filled after 1.5 s
            f.submitted(
                "o2", "AAPL", "sell", 100, order_type="limit", arrival_price=101.0, ts=_at(1)
            ),
            f.acknowledged("o2", ts=_at(1.030)),
            f.filled("o2", 100, 101.50, fee=1.0, ts=_at(2.5)),
            # o3: rejected
            f.submitted("o3", "MSFT", "buy", 50, ts=_at(3)),
            f.rejected("o3", "insufficient buying power", ts=_at(3.002)),
            # o4: 30 of 100 filled, then canceled; decision price 199 for the shortfall
            f.submitted(
                "o4",
                "MSFT",
                "buy",
                100,
                order_type="limit",
                arrival_price=200.0,
                decision_price=199.0,
                ts=_at(4),
            ),
            f.acknowledged("o4", ts=_at(4.020)),
            f.filled("o4", 30, 200.0, ts=_at(5)),
            f.mark("MSFT", 201.0, ts=_at(6)),
            f.canceled("o4", ts=_at(7)),
        ]
    )
    return m


def test_rates_count_each_order_once_over_orders_submitted():
    """2 filled, 1 partially filled then canceled, 1 rejected, out of 4 submitted."""
    e = render_snapshot(_scenario().figures())["execution"]
    assert e["orders_submitted"] == 4
    assert e["orders_filled"] == 2
    assert e["orders_partially_filled"] == 1
    assert e["orders_rejected"] == 1
    assert e["orders_canceled"] == 1
    assert e["orders_open"] == 0
    assert e["fill_rate"] == approx(2 / 4)
    assert e["partial_fill_rate"] == approx(1 / 4)
    assert e["rejection_rate"] == approx(1 / 4)


def test_latencies_are_submit_to_ack_and_submit_to_completing_fill_in_ms():
    """ack: (10 + 30 + 20) / 3 ms; fill: (250 + 1500) / 2 ms (only completed orders)."""
    m = _scenario()
    snap = render_snapshot(m.figures())
    e = snap["execution"]
    assert e["order_to_ack_ms"] == approx((10 + 30 + 20) / 3)
    assert e["order_to_fill_ms"] == approx((250 + 1500) / 2)
    assert snap["trading"]["avg_fill_time_ms"] == approx(875.0)
    assert snap["trading"]["order_rejection_rate"] == approx(0.25)
    hist = m.counters().order_latency_seconds
    # 0.25 s falls in the le=0.25 bucket, 1.5 s in le=2.0
    assert hist.counts == (0, 0, 0, 1, 0, 0, 1, 0, 0, 0)
    assert hist.sum == approx(1.75)
    assert hist.count == 2
    ack = m.counters().ack_latency_seconds
    assert ack.counts[0] == 1
    assert ack.counts[1] == 2


def test_slippage_vs_arrival_is_per_order_vwap_weighted_by_filled_notional():
    """o1: +16 bps on 10,016; o2: -49.505 bps on 10,150; o4: 0 bps on 6,000."""
    m = _scenario()
    e = render_snapshot(m.figures())["execution"]
    # o1 VWAP = (40 * 100.10 + 60 * 100.20) / 100 = 100.16 -> (100.16 - 100) / 100 * 1e4 = 16
    # o2 sell at 101.50 vs 101: -(101.5 - 101) / 101 * 1e4 = -49.50495...
    # o4 bought 30 at 200 vs 200: 0
    o2 = -0.5 / 101 * 1e4
    expected = (16 * 10_016 + o2 * 10_150 + 0 * 6_000) / (10_016 + 10_150 + 6_000)
    assert e["avg_slippage_bps"] == approx(expected)
    # in currency: 0.16 * 100 - 0.5 * 100 + 0 = -34 (negative = better than arrival)
    assert e["slippage_vs_arrival"] == approx(-34.0)
    slip = m.counters().slippage_bps
    assert slip.count == 3  # the rejected order is not observed
    assert slip.counts[0] == 1  # -49.5 <= -10
    assert slip.counts[4] == 1  # 0 <= 0
    assert slip.counts[9] == 1  # 16 in (10, 20]
    by_order = {o["order_id"]: o for o in render_orders(m.order_figures())}
    assert by_order["o1"]["slippage_bps"] == approx(16.0)
    assert by_order["o4"]["status"] == "canceled"
    assert by_order["o4"]["filled_quantity"] == 30


def test_implementation_shortfall_adds_opportunity_cost_of_the_unfilled_part():
    """Perold: execution cost + unfilled * (mark - decision) + fees, bps of decision notional."""
    e = render_snapshot(_scenario().figures())["execution"]
    # o1: (100.16 - 99.90) * 100 + fees 1.0 = 27
    # o4: (200 - 199) * 30 + (201 - 199) * 70 unfilled at the last mark = 30 + 140 = 170
    assert e["implementation_shortfall"] == approx(27.0 + 170.0)
    # decision notional: 99.9 * 100 + 199 * 100 = 29,890
    assert e["implementation_shortfall_bps"] == approx(197.0 / 29_890 * 1e4)


def test_terminal_order_counters_have_one_increment_per_order_and_precreated_statuses():
    """Counter state keyed by (symbol, side, type, status); a cancel after fills is partial."""
    counts = _scenario().counters().orders
    assert counts[("AAPL", "buy", "market", "filled")] == 1
    assert counts[("AAPL", "sell", "limit", "filled")] == 1
    assert counts[("MSFT", "buy", "market", "rejected")] == 1
    assert counts[("MSFT", "buy", "limit", "partially_filled")] == 1
    assert counts[("MSFT", "buy", "limit", "canceled")] == 0
    assert counts[("AAPL", "buy", "market", "rejected")] == 0
    assert sum(counts.values()) == 4


def test_open_orders_are_counted_in_the_rate_denominators():
    """An order still working is submitted but neither filled nor partial."""
    f = EventFactory()
    m = Monitor()
    m.apply_many(
        [
            f.submitted("o1", "X", "buy", 10),
            f.submitted("o2", "X", "buy", 10),
            f.filled("o2", 4, 10.0),
        ]
    )
    e = render_snapshot(m.figures())["execution"]
    assert e["orders_open"] == 2
    assert e["fill_rate"] == 0.0
    assert e["partial_fill_rate"] == 0.0
    assert e["order_to_fill_ms"] is None
    assert render_orders(m.order_figures())[0]["status"] == "partially_filled"


def test_vwap_deviation_realized_spread_and_price_impact_at_the_horizon():
    """Buy at 100.05 with mid 100.00; the mid 300 s later is 100.20."""
    f = EventFactory(FakeClock("2025-01-02T15:00:00Z"))
    m = Monitor(MonitorSettings(impact_horizon_seconds=300.0))
    m.apply_many(
        [
            f.mark(
                "X",
                100.0,
                bid=99.95,
                ask=100.05,
                ts="2025-01-02T15:00:00Z",
                exchange_ts=1735830000000000000 - 5_000_000,
            ),
            f.submitted("o1", "X", "buy", 10, ts="2025-01-02T15:00:01Z"),
            f.filled("o1", 10, 100.05, vwap=100.0, ts="2025-01-02T15:00:02Z"),
            f.mark("X", 100.1, bid=100.05, ask=100.15, ts="2025-01-02T15:04:00Z"),
            f.mark("X", 100.2, bid=100.15, ask=100.25, ts="2025-01-02T15:05:02Z"),
        ]
    )
    e = render_snapshot(m.figures())["execution"]
    # arrival = mid at submission = 100.00 -> slippage (100.05 - 100) / 100 * 1e4 = 5 bps
    assert e["avg_slippage_bps"] == approx(5.0)
    # against the interval VWAP 100.00 -> 5 bps as well
    assert e["slippage_vs_vwap"] == approx(5.0)
    # the first mark at or after 15:05:02 has mid 100.20
    # realized spread = (100.05 - 100.20) / 100 * 1e4 = -15
    # price impact = (100.20 - 100) / 100 * 1e4 = 20
    assert e["realized_spread_bps"] == approx(-15.0)
    assert e["price_impact_bps"] == approx(20.0)
    # market data latency: 5 ms on the one mark that carried exchange_ts
    assert e["market_data_latency_ms"] == approx(5.0)
    assert m.counters().market_data_latency_seconds.counts[1] == 1  # 0.005 <= le 0.005


def test_a_dropped_impact_measurement_leaves_the_next_one_measured_at_its_own_horizon():
    """At most one fill waits (max_pending_impact=1): the second fill drops the first.

    Hand-worked: mid 100.00 at both fills. The first fill's measurement (100.10, due 15:01:02)
    is dropped; the mark at 15:01:10 (mid 100.30) is before the second's horizon (15:01:31), so
    only the mark at 15:01:40 (mid 100.20) measures the second fill at 100.05:
    realized spread (100.05 - 100.20) / 100 * 1e4 = -15 bps, price impact
    (100.20 - 100.00) / 100 * 1e4 = 20 bps.
    """
    f = EventFactory(FakeClock("2025-01-02T15:00:00Z"))
    m = Monitor(MonitorSettings(impact_horizon_seconds=60.0, max_pending_impact=1))
    m.apply_many(
        [
            f.mark("X", 100.0, bid=99.95, ask=100.05, ts="2025-01-02T15:00:00Z"),
            f.submitted("o1", "X", "buy", 10, ts="2025-01-02T15:00:01Z"),
            f.filled("o1", 10, 100.10, ts="2025-01-02T15:00:02Z"),
            f.submitted("o2", "X", "buy", 10, ts="2025-01-02T15:00:30Z"),
            f.filled("o2", 10, 100.05, ts="2025-01-02T15:00:31Z"),
            f.mark("X", 100.3, bid=100.25, ask=100.35, ts="2025-01-02T15:01:10Z"),
        ]
    )
    e = render_snapshot(m.figures())["execution"]
    assert e["realized_spread_bps"] is None
    assert e["price_impact_bps"] is None
    m.apply(f.mark("X", 100.2, bid=100.15, ask=100.25, ts="2025-01-02T15:01:40Z"))
    e = render_snapshot(m.figures())["execution"]
    assert e["realized_spread_bps"] == pytest.approx(-15.0)
    assert e["price_impact_bps"] == pytest.approx(20.0)
    # (the first mark came before any order named X)
    assert dict(m.figures().anomalies) == {
        "impact_measurement_dropped": 1,
        "mark_unknown_symbol": 1,
    }
