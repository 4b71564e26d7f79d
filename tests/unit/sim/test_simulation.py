"""The simulator: deterministic for a seed, and each scenario shows its signature."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest

from algowatch import events as ev
from algowatch.monitor import Monitor
from algowatch.sim import SCENARIOS, Simulation
from algowatch.testing import FakeClock

START = 1_750_000_000 * 10**9
NS = 10**9


def _run(scenario: str, bars: int, seed: int = 7, **kw: Any) -> list[ev.Event]:
    out: list[ev.Event] = []
    Simulation(scenario, seed=seed, start_ns=START, sink=out.append, **kw).run_bars(bars)
    return out


def _monitor_run(scenario: str, bars: int, seed: int = 7) -> tuple[Monitor, Simulation, FakeClock]:
    clock = FakeClock(START)
    monitor = Monitor(clock=clock)

    def sink(event: ev.Event) -> None:
        clock.set(max(clock.time_ns(), event.ts))
        monitor.apply(event)

    sim = Simulation(scenario, seed=seed, start_ns=START, sink=sink)
    sim.run_bars(bars)
    return monitor, sim, clock


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_simulation_given_same_seed_and_start_produces_identical_events(scenario: str) -> None:
    """Same seed, same start -> byte-identical event streams."""
    first = [ev.encode_event(e) for e in _run(scenario, 250)]
    second = [ev.encode_event(e) for e in _run(scenario, 250)]
    assert first == second
    assert len(first) > 500


def test_simulation_given_other_seed_produces_other_prices() -> None:
    """A different seed gives a different market."""
    a = [e.price for e in _run("normal", 50, seed=1) if isinstance(e, ev.Mark)]
    b = [e.price for e in _run("normal", 50, seed=2) if isinstance(e, ev.Mark)]
    assert a != b


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_simulation_emits_valid_events_in_time_order_with_unique_ids(scenario: str) -> None:
    """Events round-trip through the wire format, in ts order, with unique event ids."""
    events = _run(scenario, 300)
    stamps = [e.ts for e in events]
    assert stamps == sorted(stamps)
    ids = [e.event_id for e in events]
    assert len(set(ids)) == len(ids)
    assert [ev.decode_event(ev.encode_event(e)) for e in events] == events


def test_simulation_fills_never_exceed_the_order_quantity() -> None:
    """Partial fills add up to at most the order; a canceled order was partially filled."""
    events = _run("normal", 600)
    ordered = {e.order_id: e.quantity for e in events if isinstance(e, ev.OrderSubmitted)}
    filled: defaultdict[str, float] = defaultdict(float)
    for e in events:
        if isinstance(e, ev.OrderFilled):
            filled[e.order_id] += e.quantity
    assert all(filled[o] <= q + 1e-9 for o, q in ordered.items())
    canceled = {e.order_id for e in events if isinstance(e, ev.OrderCanceled)}
    assert canceled, "600 bars of the normal scenario should include a canceled remainder"
    assert all(0 < filled[o] < ordered[o] for o in canceled)
    partial = [o for o, q in ordered.items() if filled[o] > 0 and o not in canceled]
    fills_per_order = Counter(e.order_id for e in events if isinstance(e, ev.OrderFilled))
    assert any(fills_per_order[o] > 1 for o in partial)


def test_simulation_equity_matches_the_monitor_portfolio_value() -> None:
    """The simulator's own books agree with the engine's (no reconciliation gap)."""
    monitor, sim, _ = _monitor_run("normal", 400)
    trading = monitor.figures().portfolio.trading
    assert trading.portfolio_value == pytest.approx(sim.equity(), abs=0.05)
    assert abs(trading.reconciliation_gap) < 0.05


def test_drawdown_scenario_breaches_the_drawdown_limit() -> None:
    """The crash takes the mark-to-market drawdown past the default 15 % limit."""
    monitor, _, _ = _monitor_run("drawdown", 200)
    trading = monitor.figures().portfolio.trading
    assert trading.max_drawdown > 0.15
    assert trading.current_drawdown > 0.15


def test_normal_scenario_stays_inside_the_drawdown_limit() -> None:
    """Without the crash the same seed keeps the drawdown small."""
    monitor, _, _ = _monitor_run("normal", 200)
    assert monitor.figures().portfolio.trading.max_drawdown < 0.05


def test_reject_storm_scenario_raises_the_rejection_rate() -> None:
    """Half of the orders in the storm are rejected; the normal run rejects almost none."""
    storm, _, _ = _monitor_run("reject-storm", 210)
    calm, _, _ = _monitor_run("normal", 210)
    assert storm.figures().portfolio.execution.rejection_rate > 0.2
    assert calm.figures().portfolio.execution.rejection_rate < 0.05


def test_broker_outage_scenario_stops_broker_heartbeats_and_times_orders_out() -> None:
    """During the outage: broker heartbeats stop, errors are reported, orders time out."""
    monitor, _, clock = _monitor_run("broker-outage", 200)
    seen = monitor.last_seen()
    assert (clock.time_ns() - seen.heartbeats["broker"]) / NS > 100
    assert (clock.time_ns() - seen.heartbeats["engine"]) / NS <= 5
    assert monitor.counters().errors[("connection_error", "broker")] >= 10
    events = _run("broker-outage", 200)
    reasons = [e.reason for e in events if isinstance(e, ev.OrderRejected)]
    assert any(r.startswith("broker unavailable") for r in reasons)


def test_latency_spike_scenario_multiplies_ack_latency() -> None:
    """Acknowledgements during the spike take tens of times longer than normally."""
    spike, _, _ = _monitor_run("latency-spike", 240)
    calm, _, _ = _monitor_run("normal", 240)
    spike_s = spike.figures().portfolio.execution.mean_ack_latency_seconds
    calm_s = calm.figures().portfolio.execution.mean_ack_latency_seconds
    assert spike_s > 10 * calm_s
    assert calm_s < 0.060


def test_stale_data_scenario_stops_marks_while_the_engine_stays_alive() -> None:
    """Marks stop for the window, heartbeats continue, and no orders are sent."""
    monitor, _, clock = _monitor_run("stale-data", 200)
    seen = monitor.last_seen()
    now = clock.time_ns()
    assert min((now - ts) / NS for ts in seen.marks.values()) >= 139
    assert (now - seen.heartbeats["engine"]) / NS <= 5
    assert seen.last_order_ts is not None
    assert (now - seen.last_order_ts) / NS > 100


def test_strategies_obey_stop_entries() -> None:
    """At stop_entries nothing is ever opened, so the book stays flat."""
    events = _run("normal", 300, risk_level=lambda: "stop_entries")
    assert not [e for e in events if isinstance(e, ev.OrderSubmitted)]
    assert [e for e in events if isinstance(e, ev.Signal)]


def test_strategies_obey_flatten() -> None:
    """When the guard says flatten, every position is closed and none reopened."""
    level = {"now": "ok"}
    out: list[ev.Event] = []
    sim = Simulation(
        "drawdown", seed=7, start_ns=START, sink=out.append, risk_level=lambda: level["now"]
    )
    sim.run_bars(100)
    assert any(q != 0 for q in sim.positions.values())
    level["now"] = "flatten"
    sim.run_bars(60)
    assert all(q == 0 for q in sim.positions.values())
    submitted_after = [
        e for e in out if isinstance(e, ev.OrderSubmitted) and e.ts >= START + 101 * NS
    ]
    assert submitted_after
    assert all(e.signal_id is None for e in submitted_after)
