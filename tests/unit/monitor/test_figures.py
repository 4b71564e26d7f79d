"""The typed read side: figures in base units, frozen, cached per applied event."""

from __future__ import annotations

import dataclasses
import math

import pytest

from algowatch.monitor import Monitor
from algowatch.testing import EventFactory, FakeClock


def test_figures_before_any_event_are_undefined_not_zero() -> None:
    """An empty engine: no as_of, NaN ratios and latencies, zero counts."""
    figures = Monitor().figures()
    assert figures.as_of_ts is None
    assert figures.events_applied == 0
    assert math.isnan(figures.portfolio.trading.sharpe_ratio)
    assert math.isnan(figures.portfolio.execution.mean_ack_latency_seconds)
    assert figures.portfolio.execution.orders_submitted == 0
    assert figures.positions == ()
    assert figures.equity_curve == ()


def test_figures_are_in_base_units_hand_worked(factory: EventFactory) -> None:
    """Buy 10 @ 100.10 (fee 1), ack 1 ms and fill 2 ms after submit, mark 101, then short 4.

    unrealized = 10 * 101 - (10 * 100.10 + 1) = 8.0; latencies in seconds: ack 0.001, fill
    the mean of 0.002 (o1) and 0.001 (o2) = 0.0015; the short's quantity is signed (-4).
    """
    f = factory
    m = Monitor()
    m.apply_many(
        [
            f.submitted("o1", "AAPL", "buy", 10, arrival_price=100.0),
            f.acknowledged("o1"),
            f.filled("o1", 10, 100.10, fee=1.0),
            f.mark("AAPL", 101.0),
            f.submitted("o2", "MSFT", "sell", 4),
            f.filled("o2", 4, 50.0),
        ]
    )
    figures = m.figures()
    trading = figures.portfolio.trading
    assert trading.unrealized_pnl == pytest.approx(8.0)
    assert trading.open_positions == 2
    execution = figures.portfolio.execution
    assert execution.mean_ack_latency_seconds == pytest.approx(0.001)
    assert execution.mean_fill_latency_seconds == pytest.approx(0.0015)
    assert execution.mean_slippage_bps == pytest.approx(10.0)  # (100.10 - 100) / 100 * 1e4
    assert [(p.symbol, p.quantity, p.label) for p in figures.positions] == [
        ("AAPL", 10.0, "AAPL"),
        ("MSFT", -4.0, "MSFT"),
    ]
    assert list(figures.strategies) == ["default"]
    assert repr(figures.strategies["default"].trading) == repr(trading)  # NaN-aware


def test_figures_are_frozen(factory: EventFactory) -> None:
    """A consumer cannot change what the next consumer reads."""
    figures = Monitor().figures()
    with pytest.raises(dataclasses.FrozenInstanceError):
        figures.portfolio.trading.equity = 1.0  # type: ignore[misc]


def test_figures_are_cached_until_the_next_event(factory: EventFactory) -> None:
    """Two reads without an event return one object; any apply, even a duplicate, renews it."""
    m = Monitor()
    first = factory.mark("AAPL", 100.0)
    m.apply(first)
    figures = m.figures()
    assert m.figures() is figures
    assert m.apply(first) is False  # a duplicate changes the anomaly counts
    renewed = m.figures()
    assert renewed is not figures
    assert renewed.anomalies == {"mark_unknown_symbol": 1, "duplicate_event_id": 1}


def test_figures_with_clock_follow_the_clock_and_restart_daily_figures() -> None:
    """as_of follows the wall clock; past the session end the daily P&L restarts at 0."""
    clock = FakeClock("2025-01-02T14:30:00Z")
    f = EventFactory(clock)
    m = Monitor(clock=clock)
    m.apply_many(
        [
            f.submitted("o1", "AAPL", "buy", 10),
            f.filled("o1", 10, 100.0),
            f.mark("AAPL", 105.0),
        ]
    )
    assert m.figures().portfolio.trading.daily_pnl == pytest.approx(50.0)
    clock.advance(60.0)
    later = m.figures()
    assert later.as_of_ts == clock.time_ns()
    assert later.portfolio is m.figures().portfolio  # the state did not change
    clock.set("2025-01-03T00:00:01Z")
    next_day = m.figures()
    assert next_day.portfolio.trading.daily_pnl == 0.0
    assert next_day.portfolio.trading.unrealized_pnl == pytest.approx(50.0)


def test_trade_and_order_figures_hand_worked(factory: EventFactory) -> None:
    """Buy 2 @ 100 then sell 2 @ 103 (1 ms apart): one long trade, +6, 0.001 s long.

    Orders come newest first; an order never acknowledged has no acknowledgement time,
    and one never filled has no average price (NaN).
    """
    f = factory
    m = Monitor()
    m.apply_many(
        [
            f.submitted("o1", "AAPL", "buy", 2),
            f.filled("o1", 2, 100.0),
            f.submitted("o2", "AAPL", "sell", 2),
            f.filled("o2", 2, 103.0),
            f.submitted("o3", "AAPL", "buy", 1),
        ]
    )
    (trade,) = m.trade_figures()
    assert (trade.side, trade.quantity, trade.entry_price, trade.exit_price) == (
        "long",
        2.0,
        100.0,
        103.0,
    )
    assert trade.pnl == pytest.approx(6.0)
    assert trade.duration_seconds == pytest.approx(0.002)
    orders = m.order_figures()
    assert [o.order_id for o in orders] == ["o3", "o2", "o1"]
    assert orders[0].acknowledged_ts is None
    assert math.isnan(orders[0].average_price)
    assert (orders[1].status, orders[1].filled_quantity) == ("filled", 2.0)
    assert [o.order_id for o in m.order_figures(offset=1, limit=1)] == ["o2"]


def test_cached_figures_cannot_be_changed_by_one_reader(factory: EventFactory) -> None:
    """The per-strategy and anomaly mappings are read-only views of the shared object."""
    m = Monitor()
    m.apply(factory.mark("AAPL", 100.0))
    figures = m.figures()
    with pytest.raises(TypeError):
        figures.anomalies["mark_unknown_symbol"] = 0  # type: ignore[index]
    with pytest.raises(TypeError):
        figures.strategies["x"] = figures.portfolio  # type: ignore[index]
    assert m.figures().anomalies == {"mark_unknown_symbol": 1}
