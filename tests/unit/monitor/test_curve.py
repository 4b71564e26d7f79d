"""The equity curve: event-time order (a late event counts at the latest point), and its
fine history."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from algowatch.monitor import Monitor
from algowatch.monitor._curve import EquityCurve
from algowatch.settings import MonitorSettings
from algowatch.testing import EventFactory, FakeClock

_NS = 1_000_000_000
S = _NS


@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.floats(-1e6, 1e6, allow_nan=False)),
        min_size=1,
        max_size=200,
    ),
    st.integers(1, 50),
    st.integers(1, 500),
)
def test_points_are_in_time_order_and_end_on_the_latest_equity(records, points, interval) -> None:
    curve = EquityCurve(points, interval)
    for ts, equity in records:
        curve.record(ts, equity)
    got = curve.points()
    times = [ts for ts, _ in got]
    assert times == sorted(set(times))  # strictly increasing: never back in time
    assert len(got) <= points
    # the last point is the state after the last event applied, at the latest time seen
    assert got[-1] == (max(ts for ts, _ in records), records[-1][1])
    # one point per interval, at the latest time seen in it
    assert len({ts // interval for ts in times}) == len(times)


def test_in_order_stream_keeps_the_last_equity_of_each_interval() -> None:
    """A hand-worked example: intervals of 10 ns, one point each, the last one wins."""
    curve = EquityCurve(points=10, interval_ns=10)
    for ts, equity in [(1, 100.0), (4, 101.0), (12, 102.0), (19, 103.0), (35, 99.0)]:
        curve.record(ts, equity)
    assert curve.points() == [(4, 101.0), (19, 103.0), (35, 99.0)]


def test_a_stray_event_from_last_year_does_not_zig_zag_the_live_curve() -> None:
    """The issue's case: a curl example dated 2025 arrives while the SDK stamps now."""
    settings = MonitorSettings(equity_curve_interval_seconds=60.0)
    now = FakeClock("2026-12-03T10:00:00Z")
    f = EventFactory(now, step_seconds=30.0)
    m = Monitor(settings)
    m.apply(f.submitted("o1", "AAPL", "buy", 10, arrival_price=190.0))
    m.apply(f.filled("o1", 10, 190.0))
    for price in (191.0, 192.0, 193.0):
        m.apply(f.mark("AAPL", price))
    latest = now.time_ns()
    # the stray event: a mark from 2025 that moves the price (the position is real)
    m.apply(f.mark("AAPL", 189.4, ts="2025-01-02T14:30:00Z"))
    figures = m.figures()
    trading = figures.portfolio.trading
    times = [ts for ts, _ in figures.equity_curve]
    assert times == sorted(times)
    assert min(times) >= latest - 120 * _NS  # nothing drawn back in 2025
    # its effect is real (the position is now worth 189.4): at the latest point's time
    assert figures.equity_curve[-1] == (latest, trading.equity)
    assert trading.equity == settings.starting_capital + 10 * (189.4 - 190.0)
    # no session was rolled back to 2025: no daily bar from it, counted as out of order
    assert trading.sessions == 0
    assert figures.session_start_ts is not None
    assert figures.session_start_ts <= latest < figures.session_end_ts
    assert figures.anomalies["out_of_order_timestamp"] == 1


def test_history_keeps_the_last_equity_of_each_fine_interval() -> None:
    """One point per second in the history, one per minute in the snapshot's curve."""
    curve = EquityCurve(points=100, interval_ns=60 * S, history_points=100, history_interval_ns=S)
    marks = [(1.0, 100.0), (1.5, 101.0), (2.2, 90.0), (2.9, 95.0), (3.1, 96.0), (61.0, 97.0)]
    for seconds, equity in marks:
        curve.record(round(seconds * S), equity)
    assert curve.history() == [
        (round(1.5 * S), 101.0),
        (round(2.9 * S), 95.0),
        (round(3.1 * S), 96.0),
        (61 * S, 97.0),
    ]
    assert curve.points() == [(round(3.1 * S), 96.0), (61 * S, 97.0)]


def test_history_falls_back_to_interval_points_before_it() -> None:
    """Past its bound, older history comes from the interval points."""
    curve = EquityCurve(points=100, interval_ns=10 * S, history_points=3, history_interval_ns=S)
    for second in range(40):
        curve.record(second * S, 100.0 + second)
    history = curve.history()
    assert history[-3:] == [(37 * S, 137.0), (38 * S, 138.0), (39 * S, 139.0)]
    assert history[:-3] == [(9 * S, 109.0), (19 * S, 119.0), (29 * S, 129.0)]


def test_no_history_gives_the_interval_points() -> None:
    curve = EquityCurve(points=10, interval_ns=10 * S)
    for second in range(25):
        curve.record(second * S, float(second))
    assert curve.history() == curve.points() == [(9 * S, 9.0), (19 * S, 19.0), (24 * S, 24.0)]
