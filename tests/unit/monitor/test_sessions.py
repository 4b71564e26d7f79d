"""Sessions in a non-UTC time zone: daily P&L, session returns, trades today."""

from __future__ import annotations

import itertools

import empyrical
import numpy as np
import pytest

from algowatch.errors import ConfigError
from algowatch.events import format_timestamp, parse_timestamp
from algowatch.monitor import Monitor, SessionCalendar
from algowatch.server import render_snapshot
from algowatch.settings import MonitorSettings
from algowatch.testing import EventFactory, FakeClock

approx = pytest.approx
NY = MonitorSettings(session_timezone="America/New_York", session_start="09:30")


def _two_sessions() -> Monitor:
    f = EventFactory(FakeClock("2025-01-02T15:00:00Z"))
    m = Monitor(NY)
    m.apply_many(
        [
            # session 1: 2025-01-02 09:30 New York = 14:30Z, until 2025-01-03 14:30Z
            f.submitted("x1", "XYZ", "buy", 5, ts="2025-01-02T15:00:00Z"),
            f.filled("x1", 5, 10.0, ts="2025-01-02T15:00:01Z"),
            f.submitted("x2", "XYZ", "sell", 5, ts="2025-01-02T15:10:00Z"),
            f.filled("x2", 5, 12.0, ts="2025-01-02T15:10:01Z"),  # trade +10
            f.submitted("a1", "AAPL", "buy", 10, ts="2025-01-02T16:00:00Z"),
            f.filled("a1", 10, 100.0, ts="2025-01-02T16:00:01Z"),
            f.mark("AAPL", 110.0, ts="2025-01-02T20:00:00Z"),  # equity 100,110
            # 09:00 New York on Jan 3rd is still session 1
            f.mark("AAPL", 105.0, ts="2025-01-03T14:00:00Z"),  # equity 100,060
            # 10:00 New York: session 2 starts; session 1 closed at 100,060
            f.mark("AAPL", 102.0, ts="2025-01-03T15:00:00Z"),  # equity 100,030
            f.submitted("a2", "AAPL", "sell", 10, ts="2025-01-03T15:30:00Z"),
            f.filled("a2", 10, 103.0, ts="2025-01-03T15:30:01Z"),  # trade +30, equity 100,040
        ]
    )
    return m


def test_session_boundary_in_new_york_closes_session_one_at_its_last_equity():
    """Daily P&L is against the equity at the boundary; trades today restart."""
    snap = render_snapshot(_two_sessions().figures())
    t = snap["trading"]
    assert snap["session"]["start"] == "2025-01-03T14:30:00.000000000Z"
    assert t["sessions"] == 1
    assert t["daily_pnl"] == approx(100_040.0 - 100_060.0)
    assert t["daily_return"] == approx(-20.0 / 100_060.0)
    assert t["num_trades_today"] == 1
    assert t["num_trades"] == 2
    assert t["realized_pnl"] == approx(40.0)
    assert t["high_water_mark"] == approx(100_110.0)
    assert t["max_drawdown"] == approx(80.0 / 100_110.0)  # low point 100,030
    assert t["current_drawdown"] == approx(70.0 / 100_110.0)


def test_wall_clock_past_the_session_end_restarts_daily_figures():
    """A live service with no event yet today reports daily P&L 0, not yesterday's."""
    clock = FakeClock("2025-01-03T16:00:00Z")
    m = Monitor(NY, clock=clock)
    f = EventFactory(FakeClock("2025-01-02T15:00:00Z"))
    m.apply_many([f.submitted("o1", "X", "buy", 1), f.filled("o1", 1, 10.0, fee=1.0)])
    clock.set("2025-01-02T16:00:00Z")
    assert render_snapshot(m.figures())["trading"]["daily_pnl"] == approx(-1.0)
    clock.set("2025-01-03T16:00:00Z")
    snap = render_snapshot(m.figures())
    assert snap["trading"]["daily_pnl"] == 0.0
    assert snap["trading"]["num_trades_today"] == 0
    assert snap["as_of"] == "2025-01-03T16:00:00.000000000Z"


def test_replay_without_clock_uses_the_latest_event_time_as_now():
    """Replaying yesterday's events gives yesterday's daily numbers."""
    snap = render_snapshot(_two_sessions().figures())
    assert snap["as_of"] == "2025-01-03T15:30:01.000000000Z"
    assert snap["trading"]["daily_pnl"] == approx(-20.0)


def test_ratios_come_from_session_returns_and_match_empyrical():
    """Sharpe, Sortino and VaR over session returns agree with empyrical-reloaded."""
    f = EventFactory(FakeClock("2025-01-02T15:00:00Z"))
    m = Monitor(MonitorSettings(starting_capital=1_000.0))
    m.apply_many(
        [
            f.submitted("o1", "X", "buy", 10, ts="2025-01-01T12:00:00Z"),
            f.filled("o1", 10, 10.0, ts="2025-01-01T12:00:01Z"),
        ]
    )
    prices = [10.0, 11.0, 10.5, 12.0, 11.0, 11.5, 13.0]
    for day, price in enumerate(prices, start=2):
        m.apply(f.mark("X", price, ts=f"2025-01-{day:02d}T12:00:00Z"))
    # session returns: day 1 closes at equity 1,000 (bought at the mark price, no fee),
    # then each session closes at 1,000 + 10 * (price - 10)
    equity = [1_000.0] + [1_000.0 + 10 * (p - 10.0) for p in prices[:-1]]
    returns = np.array([equity[0] / 1_000.0 - 1] + [b / a - 1 for a, b in itertools_pairs(equity)])
    t = render_snapshot(m.figures())["trading"]
    assert t["sessions"] == len(returns)
    assert t["sharpe_ratio"] == approx(empyrical.sharpe_ratio(returns, annualization=252))
    assert t["sortino_ratio"] == approx(empyrical.sortino_ratio(returns, annualization=252))
    assert t["var_95"] == approx(-empyrical.value_at_risk(returns, 0.05))
    assert t["expected_shortfall"] == approx(-empyrical.conditional_value_at_risk(returns, 0.05))


def itertools_pairs(values: list[float]) -> list[tuple[float, float]]:
    return list(itertools.pairwise(values))


def test_calendar_handles_daylight_saving_days():
    """The session after the spring-forward change is 23 hours long."""
    cal = SessionCalendar("America/New_York", "09:30")
    start, end = cal.bounds(parse_timestamp("2025-03-08T15:00:00Z"))
    assert format_timestamp(start) == "2025-03-08T14:30:00.000000000Z"
    assert format_timestamp(end) == "2025-03-09T13:30:00.000000000Z"
    assert cal.label(parse_timestamp("2025-03-09T13:00:00Z")) == "2025-03-08"


def test_calendar_rejects_unknown_time_zone_naming_the_key():
    """The error names the setting and shows the value."""
    with pytest.raises(ConfigError, match=r"monitor\.session_timezone .* received 'Mars/Base'"):
        SessionCalendar("Mars/Base", "00:00")


def test_calendar_gives_an_open_session_outside_its_date_range():
    """A timestamp in year 9999 does not raise."""
    cal = SessionCalendar("UTC", "00:00")
    # 9999-12-31T23:00:00Z: past what a journal stores (and parse_timestamp accepts)
    ts = 253_402_297_200 * 1_000_000_000
    assert cal.bounds(ts) == (ts, 2**100)
    m = Monitor()
    f = EventFactory(FakeClock(ts))
    assert m.apply_many([f.mark("X", 1.0), f.heartbeat()]) == 2
    assert render_snapshot(m.figures())["session"]["end"] is None
    assert render_snapshot(m.figures())["trading"]["sessions"] == 0
