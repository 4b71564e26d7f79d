"""Market data, heartbeat and order-flow checks, on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from algowatch.errors import ConfigError
from algowatch.events import parse_timestamp
from algowatch.health import HeartbeatCheck, MarketDataCheck, OrderFlowCheck, TradingHours
from algowatch.monitor import LastSeen
from algowatch.testing import FakeClock

_NS = 1_000_000_000


def ts(text: str) -> int:
    return parse_timestamp(text)


def probe(check):
    return asyncio.run(check.probe())


# ------------------------------------------------------------------ market data


def test_market_data_given_nothing_seen_is_unknown(clock: FakeClock):
    """No marks and no watched symbols: nothing to judge yet."""
    check = MarketDataCheck("md", LastSeen, clock)
    outcome = probe(check)
    assert outcome.status == "unknown"
    assert outcome.error == "no marks seen yet"
    assert outcome.age_seconds is None


def test_market_data_given_fresh_marks_is_connected_with_the_stalest_age(clock: FakeClock):
    """Every mark within max_age: connected; age is the oldest watched mark's."""
    now = clock.time_ns()
    seen = LastSeen(marks={"AAPL": now - 2 * _NS, "MSFT": now - 5 * _NS})
    outcome = probe(MarketDataCheck("md", lambda: seen, clock, max_age_seconds=10))
    assert outcome.status == "connected"
    assert outcome.error is None
    assert outcome.age_seconds == 5.0
    assert outcome.details["ages_seconds"] == {"AAPL": 2.0, "MSFT": 5.0}


def test_market_data_given_one_stale_symbol_is_degraded_naming_it(clock: FakeClock):
    """Some stale, some fresh: degraded, the stale symbol and its age in the error."""
    now = clock.time_ns()
    seen = LastSeen(marks={"AAPL": now - 2 * _NS, "MSFT": now - 45 * _NS})
    outcome = probe(MarketDataCheck("md", lambda: seen, clock, max_age_seconds=30))
    assert outcome.status == "degraded"
    assert outcome.error == "stale marks (older than 30 s): MSFT 45.0 s old"
    assert outcome.age_seconds == 45.0


def test_market_data_given_all_stale_is_disconnected_and_ages_with_the_clock(clock: FakeClock):
    """Marks age as the clock moves; past max_age every symbol is stale."""
    now = clock.time_ns()
    seen = LastSeen(marks={"AAPL": now, "MSFT": now})
    check = MarketDataCheck("md", lambda: seen, clock, max_age_seconds=30)
    assert probe(check).status == "connected"
    clock.advance(31)
    outcome = probe(check)
    assert outcome.status == "disconnected"
    assert outcome.age_seconds == 31.0
    assert outcome.error == "stale marks (older than 30 s): AAPL 31.0 s old, MSFT 31.0 s old"


def test_market_data_given_a_watched_symbol_never_seen_counts_it_stale(clock: FakeClock):
    """A named symbol without any mark is stale, and the age is then unknown."""
    seen = LastSeen(marks={"AAPL": clock.time_ns()})
    check = MarketDataCheck("md", lambda: seen, clock, symbols="AAPL, TSLA")
    outcome = probe(check)
    assert check.symbols == ("AAPL", "TSLA")
    assert outcome.status == "degraded"
    assert outcome.error == "stale marks (older than 30 s): TSLA never seen"
    assert outcome.age_seconds is None


def test_market_data_ignores_unwatched_symbols(clock: FakeClock):
    """Only the named symbols are judged."""
    now = clock.time_ns()
    seen = LastSeen(marks={"AAPL": now, "OLD": now - 3600 * _NS})
    outcome = probe(MarketDataCheck("md", lambda: seen, clock, symbols=["AAPL"]))
    assert outcome.status == "connected"
    assert outcome.details["ages_seconds"] == {"AAPL": 0.0}


# ------------------------------------------------------------------ heartbeat


def test_heartbeat_given_a_stale_component_reports_its_age(clock: FakeClock):
    """The engine stopped beating 95 s ago with a 30 s limit."""
    seen = LastSeen(heartbeats={"engine": clock.time_ns() - 95 * _NS})
    outcome = probe(HeartbeatCheck("hb", lambda: seen, clock, max_age_seconds=30))
    assert outcome.status == "disconnected"
    assert outcome.age_seconds == 95.0
    assert outcome.error == "stale heartbeats (older than 30 s): engine 95.0 s old"


def test_heartbeat_given_a_fresh_beat_is_connected(clock: FakeClock):
    """A beat 1 s old with a 30 s limit."""
    seen = LastSeen(heartbeats={"engine": clock.time_ns() - _NS})
    outcome = probe(HeartbeatCheck("hb", lambda: seen, clock, components="engine"))
    assert (outcome.status, outcome.age_seconds) == ("connected", 1.0)


def test_heartbeat_given_no_beat_from_a_named_component_is_disconnected(clock: FakeClock):
    """Naming a component that never beat makes the check fail."""
    outcome = probe(HeartbeatCheck("hb", LastSeen, clock, components="engine"))
    assert outcome.status == "disconnected"
    assert outcome.error == "stale heartbeats (older than 30 s): engine never seen"


def test_heartbeat_reads_the_real_monitor(clock: FakeClock, factory):
    """The Monitor's last_seen() feeds the check (the contract between the two areas)."""
    from algowatch.monitor import Monitor  # noqa: PLC0415 - the engine, only for this test

    monitor = Monitor(clock=clock)
    monitor.apply(factory.heartbeat("engine"))
    check = HeartbeatCheck("hb", monitor.last_seen, clock, max_age_seconds=30)
    assert probe(check).status == "connected"
    clock.advance(40)
    outcome = probe(check)
    assert outcome.status == "disconnected"
    assert outcome.age_seconds == pytest.approx(40.0, abs=0.01)


# ------------------------------------------------------------------ trading hours


def test_trading_hours_given_nyse_hours_in_new_york_time():
    """09:30-16:00 America/New_York, Monday to Friday (EST is UTC-5 in January)."""
    nyse = TradingHours("09:30-16:00", "mon-fri", "America/New_York")
    thursday_open = ts("2025-01-02T14:30:00Z")
    assert nyse.session_open(ts("2025-01-02T14:29:59Z")) is None
    assert nyse.session_open(thursday_open) == thursday_open
    assert nyse.session_open(ts("2025-01-02T20:59:59Z")) == thursday_open
    assert nyse.session_open(ts("2025-01-02T21:00:00Z")) is None
    assert nyse.session_open(ts("2025-01-04T15:00:00Z")) is None  # Saturday


def test_trading_hours_given_summer_time_follow_the_zone():
    """In July New York is UTC-4, so the open is 13:30 UTC."""
    nyse = TradingHours("09:30-16:00", "mon-fri", "America/New_York")
    assert nyse.session_open(ts("2025-07-01T13:29:00Z")) is None
    assert nyse.session_open(ts("2025-07-01T13:31:00Z")) == ts("2025-07-01T13:30:00Z")


def test_trading_hours_given_an_overnight_session_it_belongs_to_its_opening_day():
    """18:00-17:00 Sunday to Thursday (a futures week): Friday 02:00 is Thursday's session."""
    futures = TradingHours("18:00-17:00", "sun-thu", "UTC")
    assert futures.days == frozenset({6, 0, 1, 2, 3})
    assert futures.session_open(ts("2025-01-03T02:00:00Z")) == ts("2025-01-02T18:00:00Z")
    assert futures.session_open(ts("2025-01-03T17:30:00Z")) is None  # Friday break
    assert futures.session_open(ts("2025-01-04T12:00:00Z")) is None  # Saturday
    assert futures.session_open(ts("2025-01-05T18:00:00Z")) == ts("2025-01-05T18:00:00Z")


def test_trading_hours_given_no_hours_a_session_is_the_whole_local_day():
    """Days only: every listed weekday from local midnight."""
    days = TradingHours(None, "mon,wed", "UTC")
    assert days.session_open(ts("2025-01-06T12:00:00Z")) == ts("2025-01-06T00:00:00Z")
    assert days.session_open(ts("2025-01-07T12:00:00Z")) is None


@pytest.mark.parametrize(
    ("hours", "days", "zone", "message"),
    [
        (
            "25:00-26:00",
            None,
            "UTC",
            "health.checks[0].trading_hours must be 'HH:MM-HH:MM' such as '09:30-16:00', "
            "received '25:00-26:00'",
        ),
        (
            None,
            "monday-friday",
            "UTC",
            "health.checks[0].trading_days must list weekdays such as 'mon-fri' or "
            "'mon,wed,fri', received 'monday-friday'",
        ),
        (
            None,
            None,
            "Mars/Olympus",
            "health.checks[0].timezone must be an IANA time zone such as 'America/New_York', "
            "received 'Mars/Olympus'",
        ),
    ],
)
def test_trading_hours_given_bad_values_raise_naming_the_key(hours, days, zone, message):
    """Errors name the key, show the value and state the expectation."""
    with pytest.raises(ConfigError) as info:
        TradingHours(hours, days, zone, field="health.checks[0]")
    assert str(info.value) == message


# ------------------------------------------------------------------ order flow


def _order_flow(clock, seen, **kw):
    hours = TradingHours("09:30-16:00", "mon-fri", "America/New_York")
    return OrderFlowCheck("orders", lambda: seen, clock, hours=hours, **kw)


def test_order_flow_given_no_orders_during_trading_hours_fails_with_the_age():
    """Alive but not trading: the last order 20 min ago, threshold 15 min."""
    clock = FakeClock("2025-01-02T15:00:00Z")  # 10:00 in New York, Thursday
    seen = LastSeen(last_order_ts=ts("2025-01-02T14:40:00Z"))
    outcome = probe(_order_flow(clock, seen, max_age_seconds=900))
    assert outcome.status == "disconnected"
    assert outcome.age_seconds == 1200.0
    assert outcome.details["quiet_seconds"] == 1200.0
    assert outcome.error == (
        "no orders for 1200.0 s during trading hours (threshold 900 s; last order 1200.0 s ago)"
    )


def test_order_flow_given_recent_orders_is_connected():
    """An order 5 min ago with a 15 min threshold."""
    clock = FakeClock("2025-01-02T15:00:00Z")
    seen = LastSeen(last_order_ts=ts("2025-01-02T14:55:00Z"))
    outcome = probe(_order_flow(clock, seen, max_age_seconds=900))
    assert (outcome.status, outcome.age_seconds) == ("connected", 300.0)


def test_order_flow_outside_trading_hours_is_connected_however_old_the_last_order():
    """After the close, quiet is expected."""
    clock = FakeClock("2025-01-02T22:00:00Z")  # 17:00 in New York
    seen = LastSeen(last_order_ts=ts("2025-01-01T20:00:00Z"))
    outcome = probe(_order_flow(clock, seen, max_age_seconds=900))
    assert outcome.status == "connected"
    assert outcome.details["in_trading_hours"] is False
    assert outcome.age_seconds == 26 * 3600.0


def test_order_flow_measures_quiet_from_the_open_not_from_yesterday():
    """Yesterday's last order does not page at 09:31; it does at 09:46."""
    clock = FakeClock("2025-01-02T14:00:00Z")  # before the open; check created then
    seen = LastSeen(last_order_ts=ts("2025-01-01T20:59:00Z"))
    check = _order_flow(clock, seen, max_age_seconds=900)
    clock.set("2025-01-02T14:31:00Z")
    assert probe(check).status == "connected"
    clock.set("2025-01-02T14:46:00Z")
    outcome = probe(check)
    assert outcome.status == "disconnected"
    assert outcome.details["quiet_seconds"] == 960.0


def test_order_flow_given_no_order_ever_counts_from_the_check_start():
    """A service started mid-session waits max_age before complaining."""
    clock = FakeClock("2025-01-02T16:00:00Z")
    check = _order_flow(clock, LastSeen(), max_age_seconds=600)
    clock.advance(599)
    assert probe(check).status == "connected"
    clock.advance(2)
    outcome = probe(check)
    assert outcome.status == "disconnected"
    assert outcome.age_seconds is None
    assert outcome.error == (
        "no orders for 601.0 s during trading hours (threshold 600 s; no order seen)"
    )
