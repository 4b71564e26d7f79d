"""The risk guard's pure decision core: escalation, hysteresis, latching, conditions."""

from __future__ import annotations

import dataclasses
import math

import pytest

from algowatch.health import CheckResult, CheckStatus, HealthReport
from algowatch.monitor import Monitor, ScopeFigures
from algowatch.risk import STATE_LIMITS, RiskInputs, RiskState, evaluate, level_rank, reset
from algowatch.settings import RiskSettings

NS = 10**9
# max_drawdown 0.20: warn at 0.15 (0.75 x), stop entries at 0.18 (0.9 x), flatten at 0.20;
# hysteresis 0.2: warn clears below 0.12, stop_entries below 0.144.
S = RiskSettings(max_drawdown=0.20, daily_loss_limit=1000.0, recovery_seconds=30.0)


def _health(name: str, kind: str, status: CheckStatus) -> HealthReport:
    """A health report holding one check's result."""
    result = CheckResult(name, kind, True, status, 0.01, 0)
    return HealthReport(status="healthy", ts=0, configured_checks=1, checks={name: result})


EMPTY = Monitor().figures().portfolio


def _snap(
    drawdown: float | None = 0.0,
    daily_pnl: float | None = 0.0,
    *,
    orders_submitted: int = 0,
    orders_rejected: int = 0,
) -> ScopeFigures:
    # the portfolio's figures with the values the guard reads (None: undefined, NaN)
    trading = dataclasses.replace(
        EMPTY.trading,
        current_drawdown=math.nan if drawdown is None else drawdown,
        daily_pnl=math.nan if daily_pnl is None else daily_pnl,
    )
    execution = dataclasses.replace(
        EMPTY.execution, orders_submitted=orders_submitted, orders_rejected=orders_rejected
    )
    return dataclasses.replace(EMPTY, trading=trading, execution=execution)


def _walk(values: list[float], settings: RiskSettings = S) -> list[str]:
    state, levels = RiskState(), list[str]()
    for n, value in enumerate(values):
        state, _ = evaluate(state, RiskInputs(now_ns=n * NS, figures=_snap(value)), settings)
        levels.append(state.limits["max_drawdown"].level)
    return levels


def test_evaluate_given_empty_snapshot_stays_ok() -> None:
    """No numbers (a fresh monitor) -> ok, no alerts."""
    state, alerts = evaluate(RiskState(), RiskInputs(now_ns=0, figures=None), S)
    assert state.level == "ok"
    assert alerts == []


def test_drawdown_escalates_through_each_level() -> None:
    """0.10 ok, 0.15 warn, 0.18 stop_entries, 0.20 flatten (thresholds hand-computed)."""
    assert _walk([0.10, 0.15, 0.18, 0.20]) == ["ok", "warn", "stop_entries", "flatten"]


def test_drawdown_hovering_at_a_threshold_does_not_flap() -> None:
    """Values around 0.15 stay at warn; only below 0.12 does it clear."""
    levels = _walk([0.151, 0.149, 0.152, 0.13, 0.121, 0.119])
    assert levels == ["warn", "warn", "warn", "warn", "warn", "ok"]


def test_drawdown_drops_from_stop_entries_to_warn_with_hysteresis() -> None:
    """From stop_entries (0.18) a value of 0.15 holds; 0.14 (< 0.144) drops to warn."""
    assert _walk([0.18, 0.15, 0.14]) == ["stop_entries", "stop_entries", "warn"]


def test_alerts_are_emitted_once_per_level_change() -> None:
    """Five evaluations with two changes produce two alerts with the right fields."""
    state, all_alerts = RiskState(), []
    for n, value in enumerate([0.01, 0.16, 0.16, 0.16, 0.05]):
        state, alerts = evaluate(state, RiskInputs(now_ns=n * NS, figures=_snap(value)), S)
        all_alerts += alerts
    assert [(a.limit, a.previous, a.level) for a in all_alerts] == [
        ("max_drawdown", "ok", "warn"),
        ("max_drawdown", "warn", "ok"),
    ]
    assert all_alerts[0].value == 0.16
    assert all_alerts[0].threshold == 0.20
    assert all_alerts[0].message == "max_drawdown raised to warn: observed 0.16, limit 0.2"


def test_flatten_latches_until_reset() -> None:
    """After flatten the guard stays flattened even when the drawdown recovers."""
    state, _ = evaluate(RiskState(), RiskInputs(now_ns=0, figures=_snap(0.25)), S)
    state, _ = evaluate(state, RiskInputs(now_ns=NS, figures=_snap(0.0)), S)
    assert state.level == "flatten"
    assert state.latched
    assert state.limits["max_drawdown"].level == "ok"
    state, alert = reset(state, 2 * NS, by="alice", reason="positions checked")
    assert (state.level, state.latched) == ("ok", False)
    assert alert.message == "kill switch reset by alice: positions checked"


def test_reset_while_the_breach_persists_stops_entries() -> None:
    """Resetting with the drawdown still past the limit leaves stop_entries, not ok."""
    state, _ = evaluate(RiskState(), RiskInputs(now_ns=0, figures=_snap(0.25)), S)
    state, _ = reset(state, NS, by="bob", reason="inspecting")
    assert state.level == "stop_entries"
    state, _ = evaluate(state, RiskInputs(now_ns=2 * NS, figures=_snap(0.25)), S)
    assert state.level == "flatten"


def test_daily_loss_uses_the_negative_daily_pnl() -> None:
    """A loss of 950 of a 1000 limit stops entries; a gain never triggers."""
    state, _ = evaluate(RiskState(), RiskInputs(now_ns=0, figures=_snap(0, -950.0)), S)
    assert state.limits["daily_loss"].level == "stop_entries"
    assert state.limits["daily_loss"].value == 950.0
    state, _ = evaluate(RiskState(), RiskInputs(now_ns=0, figures=_snap(0, 5000.0)), S)
    assert state.limits["daily_loss"].level == "ok"


def _orders(state: RiskState, now: int, submitted: int, rejected: int) -> RiskState:
    snap = _snap(orders_submitted=submitted, orders_rejected=rejected)
    return evaluate(state, RiskInputs(now_ns=now * NS, figures=snap), S)[0]


def test_rejection_rate_needs_the_minimum_order_count() -> None:
    """5 rejections of 9 orders is below the 10-order minimum: no judgement."""
    state = _orders(RiskState(), 0, 0, 0)
    state = _orders(state, 10, 9, 5)
    assert state.limits["rejection_rate"].value is None
    assert state.limits["rejection_rate"].level == "ok"


def test_rejection_rate_is_measured_over_the_window() -> None:
    """4 of 20 orders rejected in the window = 0.2 > 0.10 -> stop_entries; old ones age out."""
    state = _orders(RiskState(), 0, 100, 0)
    state = _orders(state, 60, 120, 4)
    assert state.limits["rejection_rate"].value == pytest.approx(0.2)
    assert state.limits["rejection_rate"].level == "stop_entries"
    # 400 s later only clean orders remain in the 300 s window
    state = _orders(state, 400, 200, 4)
    state = _orders(state, 460, 230, 4)
    assert state.limits["rejection_rate"].value == pytest.approx(0.0)
    assert state.limits["rejection_rate"].level == "ok"


def test_broker_down_from_health_check_clears_after_recovery_period() -> None:
    """A disconnected broker check stops entries; it clears 30 s after it reconnects."""
    down = _health("paper", "broker", "disconnected")
    up = _health("paper", "broker", "connected")
    state, alerts = evaluate(RiskState(), RiskInputs(now_ns=0, health=down), S)
    assert state.level == "stop_entries"
    assert alerts[0].limit == "broker_down"
    for t in (1, 10, 30):
        state, alerts = evaluate(state, RiskInputs(now_ns=t * NS, health=up), S)
    assert state.level == "stop_entries"
    state, alerts = evaluate(state, RiskInputs(now_ns=31 * NS, health=up), S)
    assert state.level == "ok"
    assert [(a.limit, a.level) for a in alerts] == [("broker_down", "ok")]


def test_broker_down_from_stale_broker_heartbeats() -> None:
    """Broker heartbeats older than the timeout (30 s) mean the broker is down."""
    beats = {"engine": 100 * NS, "broker": 60 * NS}
    state, _ = evaluate(RiskState(), RiskInputs(now_ns=100 * NS, heartbeats=beats), S)
    assert state.limits["broker_down"].level == "stop_entries"
    assert state.limits["broker_down"].value == 40.0


def test_missing_engine_heartbeat_flattens() -> None:
    """No engine heartbeat for longer than the timeout is the dead man's switch: flatten."""
    beats = {"engine": 0}
    state, _ = evaluate(RiskState(), RiskInputs(now_ns=29 * NS, heartbeats=beats), S)
    assert state.level == "ok"
    state, _ = evaluate(state, RiskInputs(now_ns=31 * NS, heartbeats=beats), S)
    assert state.level == "flatten"


def test_alive_but_not_trading_warns() -> None:
    """Fresh heartbeats but no order for longer than no_trading_timeout -> warn."""
    beats = {"engine": 1000 * NS}
    inputs = RiskInputs(now_ns=1000 * NS, heartbeats=beats, last_order_ts=50 * NS)
    state, _ = evaluate(RiskState(), inputs, S)
    assert state.level == "warn"
    assert state.limits["not_trading"].value == 950.0


def test_state_round_trips_through_its_dict_form() -> None:
    """to_dict/from_dict rebuild an equal state (what the guard persists)."""
    state = _orders(RiskState(), 0, 10, 0)
    state, _ = evaluate(state, RiskInputs(now_ns=NS, figures=_snap(0.19)), S)
    assert RiskState.from_dict(state.to_dict()) == state


def test_level_rank_orders_levels() -> None:
    """ok < warn < stop_entries < flatten."""
    assert [level_rank(x) for x in ("ok", "warn", "stop_entries", "flatten")] == [0, 1, 2, 3]


def test_heartbeat_checks_are_judged_by_the_guard_itself() -> None:
    """A heartbeat-kind check (even one called "broker") is not a broker connectivity probe:
    the guard judges the broker's heartbeats from their timestamps instead."""
    down = _health("broker", "heartbeat", "disconnected")
    beats = {"broker": 0, "engine": 0}
    inputs = RiskInputs(now_ns=NS, health=down, heartbeats=beats)
    state, _ = evaluate(RiskState(), inputs, S)
    assert state.limits["broker_down"].level == "ok"
    inputs = RiskInputs(now_ns=21 * NS, health=down, heartbeats=beats)
    state, _ = evaluate(state, inputs, RiskSettings(heartbeat_timeout_seconds=20))
    assert state.limits["broker_down"].level == "stop_entries"


def test_rejection_rate_without_a_denominator_is_unknown_not_breached() -> None:
    """2 of 10 orders rejected stops entries; once the 300 s window holds no new orders the
    rate is unknown (None) and the limit clears to ok instead of holding stop_entries."""
    state = _orders(RiskState(), 0, 0, 0)
    state = _orders(state, 10, 10, 2)
    assert state.limits["rejection_rate"].level == "stop_entries"
    # entries stopped: no further orders; the window slides past the 10 orders
    state = _orders(state, 320, 10, 2)
    state = _orders(state, 330, 10, 2)
    assert state.limits["rejection_rate"].value is None
    assert state.limits["rejection_rate"].level == "ok"
    assert state.level == "ok"


def test_reset_clears_levels_that_are_not_latched() -> None:
    """A rejection-rate stop and a drawdown warn held by hysteresis both clear on reset."""
    state = _orders(RiskState(), 0, 0, 0)
    state, _ = evaluate(
        state,
        RiskInputs(now_ns=10 * NS, figures=_snap(0.16, orders_submitted=10, orders_rejected=2)),
        S,
    )
    assert state.limits["rejection_rate"].level == "stop_entries"
    assert state.limits["max_drawdown"].level == "warn"
    state, alert = reset(state, 11 * NS, by="carol", reason="broker reconnected")
    assert (state.level, state.latched) == ("ok", False)
    assert alert.previous == "stop_entries"
    assert {n: st.level for n, st in state.limits.items()}["rejection_rate"] == "ok"
    assert state.limits["max_drawdown"].level == "ok"
    # a breach still observed is raised again at the next evaluation (0.16 >= 0.15 warns)
    state, alerts = evaluate(
        state,
        RiskInputs(now_ns=12 * NS, figures=_snap(0.16, orders_submitted=10, orders_rejected=2)),
        S,
    )
    assert state.limits["max_drawdown"].level == "warn"
    assert [a.limit for a in alerts] == ["max_drawdown", "rejection_rate"]


def test_evaluating_only_the_state_limits_keeps_the_others_and_the_samples() -> None:
    """only=STATE_LIMITS judges drawdown and daily loss; a broker stop and the rejection
    rate's samples stay exactly as the last full evaluation left them."""
    down = _health("paper", "broker", "disconnected")
    state, _ = evaluate(
        RiskState(), RiskInputs(now_ns=0, health=down, figures=_snap(orders_submitted=5)), S
    )
    assert state.limits["broker_down"].level == "stop_entries"
    before = state.order_samples
    state, alerts = evaluate(
        state,
        RiskInputs(now_ns=NS, figures=_snap(0.25, orders_submitted=50, orders_rejected=40)),
        S,
        only=STATE_LIMITS,
    )
    assert [a.limit for a in alerts] == ["max_drawdown"]
    assert state.limits["max_drawdown"].level == "flatten"
    assert state.limits["broker_down"].level == "stop_entries"
    assert state.limits["rejection_rate"].level == "ok"
    assert state.order_samples == before
    assert state.level == "flatten"
