"""Each scenario, fed into a Monitor with the risk guard in the loop, raises its alerts.

The simulator obeys the guard (``risk_level=guard.level``); health states come from
the real health checks reading the Monitor's ``last_seen``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from algowatch import events as ev
from algowatch.health import CheckResult, HealthReport, HeartbeatCheck, MarketDataCheck
from algowatch.monitor import Monitor
from algowatch.risk import RiskAlert, RiskGuard
from algowatch.settings import RiskSettings
from algowatch.sim import Simulation
from algowatch.testing import FakeClock

START = 1_750_000_000 * 10**9
SETTINGS = RiskSettings(
    daily_loss_limit=25_000.0, heartbeat_timeout_seconds=20.0, no_trading_timeout_seconds=60.0
)


@dataclass
class Run:
    monitor: Monitor
    guard: RiskGuard
    alerts: list[RiskAlert] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    health: list[dict[str, str]] = field(default_factory=list)


def _run(scenario: str, bars: int) -> Run:
    clock = FakeClock(START)
    monitor = Monitor(clock=clock)
    guard = RiskGuard(SETTINGS, clock=clock, log=lambda alert: None)
    run = Run(monitor, guard)
    checks = [
        MarketDataCheck("market_data", monitor.last_seen, clock, max_age_seconds=15),
        HeartbeatCheck("engine", monitor.last_seen, clock, max_age_seconds=20, components="engine"),
        HeartbeatCheck("broker", monitor.last_seen, clock, max_age_seconds=20, components="broker"),
    ]

    def sink(event: ev.Event) -> None:
        clock.set(max(clock.time_ns(), event.ts))
        monitor.apply(event)

    sim = Simulation(scenario, seed=11, start_ns=START, sink=sink, risk_level=lambda: guard.level)
    for _ in range(bars // 5):
        sim.run_bars(5)
        clock.set(sim.now_ns)
        statuses = {c.name: asyncio.run(c.probe()).status for c in checks}
        now = clock.time_ns()
        report = HealthReport(
            status="healthy",
            ts=now,
            configured_checks=len(checks),
            checks={
                name: CheckResult(name, "heartbeat", True, s, 0.0, now)
                for name, s in statuses.items()
            },
        )
        seen = monitor.last_seen()
        run.alerts += guard.check(
            monitor.figures().portfolio,
            health=report,
            heartbeats=seen.heartbeats,
            last_order_ts=seen.last_order_ts,
        )
        run.levels.append(guard.level)
        run.health.append(statuses)
    return run


def _raised(run: Run) -> set[tuple[str, str]]:
    return {(a.limit, a.level) for a in run.alerts}


def test_normal_scenario_never_stops_trading() -> None:
    """A calm market never goes past warn (a stray rejection among few orders may warn)."""
    run = _run("normal", 300)
    assert {a.limit for a in run.alerts} <= {"rejection_rate"}
    assert set(run.levels) <= {"ok", "warn"}
    assert run.levels[-1] == "ok"
    assert all(set(h.values()) == {"connected"} for h in run.health)


def test_drawdown_scenario_flattens_and_the_book_goes_flat() -> None:
    """The crash breaks the 15 % drawdown limit: flatten, then no positions."""
    run = _run("drawdown", 300)
    assert ("max_drawdown", "flatten") in _raised(run)
    assert run.levels[-1] == "flatten"
    trading = run.monitor.figures().portfolio.trading
    assert trading.open_positions == 0
    assert trading.max_drawdown >= 0.15
    # the warning and the stop came before the flatten, in that order
    order = [a.level for a in run.alerts if a.limit == "max_drawdown"]
    assert order[:3] == ["warn", "stop_entries", "flatten"]
    # the closing orders are booked to the strategies that held the positions: every
    # strategy is flat with the book, and no pseudo-strategy holds the other side
    strategies = run.monitor.figures().strategies
    assert "risk" not in strategies
    assert {name: s.trading.open_positions for name, s in strategies.items()} == dict.fromkeys(
        strategies, 0
    )
    assert all(s.trading.gross_exposure == 0 for s in strategies.values())


def test_broker_outage_scenario_stops_entries_and_recovers() -> None:
    """Broker heartbeats stop: the broker check disconnects and entries stop; both recover,
    and the guard ends at ok without an operator (the documented end state)."""
    run = _run("broker-outage", 600)
    assert ("broker_down", "stop_entries") in _raised(run)
    assert ("broker_down", "ok") in _raised(run)
    assert ("rejection_rate", "stop_entries") in _raised(run)
    assert ("rejection_rate", "ok") in _raised(run)
    assert any(h["broker"] == "disconnected" and h["engine"] == "connected" for h in run.health)
    assert run.health[-1]["broker"] == "connected"
    assert "stop_entries" in run.levels
    assert run.levels[-1] == "ok"
    assert {st.level for st in run.guard.state.limits.values()} == {"ok"}


def test_reject_storm_scenario_trips_the_rejection_rate_limit() -> None:
    """Half of the orders rejected: the windowed rejection rate stops entries."""
    run = _run("reject-storm", 200)
    assert ("rejection_rate", "stop_entries") in _raised(run)
    peak = max(a.value for a in run.alerts if a.limit == "rejection_rate" and a.value is not None)
    assert peak > SETTINGS.max_rejection_rate


def test_stale_data_scenario_goes_stale_and_warns_not_trading() -> None:
    """Marks stop: the market-data check disconnects while the engine stays connected."""
    run = _run("stale-data", 260)
    assert any(
        h["market_data"] == "disconnected" and h["engine"] == "connected" for h in run.health
    )
    assert ("not_trading", "warn") in _raised(run)


@pytest.mark.parametrize("scenario", ["latency-spike"])
def test_latency_spike_scenario_keeps_the_guard_calm(scenario: str) -> None:
    """Slow fills are an execution-quality problem, not a risk limit: no flatten."""
    run = _run(scenario, 250)
    assert "flatten" not in run.levels
