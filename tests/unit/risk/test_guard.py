"""The risk guard's effects: audit, log, state file, stream event, hooks, metrics, API."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from algowatch import events as ev
from algowatch.audit import AuditWriter, read_records
from algowatch.exporters import RiskCollector
from algowatch.monitor import Monitor, ScopeFigures
from algowatch.risk import STATE_FILE, RiskAlert, RiskGuard
from algowatch.settings import RiskSettings
from algowatch.testing import FakeClock

S = RiskSettings(max_drawdown=0.20)


EMPTY = Monitor().figures().portfolio


def _snap(drawdown: float) -> ScopeFigures:
    # the portfolio's figures at ``drawdown`` (what the service passes to check)
    trading = dataclasses.replace(EMPTY.trading, current_drawdown=drawdown, daily_pnl=0.0)
    return dataclasses.replace(EMPTY, trading=trading)


def _guard(
    tmp_path: Path, clock: FakeClock, audit: AuditWriter | None = None, **kw: Any
) -> tuple[RiskGuard, list[RiskAlert]]:
    logged: list[RiskAlert] = []
    guard = RiskGuard(
        kw.pop("settings", S),
        clock=clock,
        state_path=tmp_path / STATE_FILE,
        audit=audit,
        log=logged.append,
        **kw,
    )
    return guard, logged


def test_guard_escalation_runs_every_effect(tmp_path: Path, clock: FakeClock) -> None:
    """One breach: audit record, log line, state file, stream event and hook call."""
    published: list[ev.Event] = []
    hooked: list[dict[str, Any]] = []
    with AuditWriter(tmp_path / "audit", clock=clock) as audit:
        guard, logged = _guard(
            tmp_path, clock, audit, publish=published.append, hooks=[hooked.append]
        )
        guard.check(_snap(0.16))
        clock.advance(1)
        guard.check(_snap(0.21))
    records = list(read_records(tmp_path / "audit"))
    kinds = [r["kind"] for r in records if r["kind"] not in ("segment_start", "checkpoint")]
    assert kinds == ["limit_change", "decision", "kill_switch"]
    kill = next(r for r in records if r["kind"] == "kill_switch")
    assert kill["limit"] == "max_drawdown"
    assert kill["observed"] == 0.21
    assert kill["threshold"] == 0.20
    assert kill["risk_state"]["current_drawdown"] == 0.21
    assert [a.level for a in logged] == ["warn", "flatten"]
    assert [h["level"] for h in hooked] == ["warn", "flatten"]
    assert all(isinstance(e, ev.Error) and e.error_type == "risk_alert" for e in published)
    assert published[-1].extra["risk"]["guard_level"] == "flatten"
    state = json.loads((tmp_path / STATE_FILE).read_text())
    assert state["state"]["level"] == "flatten"
    assert guard.level == "flatten"
    assert not guard.allows_entries()


def test_guard_state_survives_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    """A new guard on the same state file is still flattened, with its alerts."""
    guard, _ = _guard(tmp_path, clock)
    guard.check(_snap(0.25))
    restarted, logged = _guard(tmp_path, clock)
    assert restarted.level == "flatten"
    assert restarted.state == guard.state
    assert [a.level for a in restarted.alerts] == ["flatten"]
    restarted.check(_snap(0.0))
    assert restarted.level == "flatten"
    assert [(a.limit, a.level, a.guard_level) for a in logged] == [
        ("max_drawdown", "ok", "flatten")
    ]
    restarted.reset(by="alice", reason="checked")
    assert _guard(tmp_path, clock)[0].level == "ok"


def test_guard_records_changed_limits_at_start(tmp_path: Path, clock: FakeClock) -> None:
    """Restarting with other limits appends a limit_change with both sets."""
    with AuditWriter(tmp_path / "audit", clock=clock) as audit:
        _guard(tmp_path, clock, audit)[0].check(_snap(0.01))
        _guard(tmp_path, clock, audit)  # same limits: nothing new
        _guard(tmp_path, clock, audit, settings=RiskSettings(max_drawdown=0.1))
    changes = [r for r in read_records(tmp_path / "audit") if r["kind"] == "limit_change"]
    assert len(changes) == 2
    assert changes[1]["previous_limits"]["max_drawdown"] == 0.20
    assert changes[1]["limits_in_force"]["max_drawdown"] == 0.1


def test_guard_reset_is_audited_as_an_override(tmp_path: Path, clock: FakeClock) -> None:
    """An operator reset writes an override record naming who and why."""
    with AuditWriter(tmp_path / "audit", clock=clock) as audit:
        guard, _ = _guard(tmp_path, clock, audit)
        guard.check(_snap(0.3))
        guard.reset(by="alice", reason="positions reconciled")
    override = next(r for r in read_records(tmp_path / "audit") if r["kind"] == "override")
    assert override["authorised_by"] == "alice"
    assert override["reason"] == "positions reconciled"
    assert override["previous_level"] == "flatten"


def test_guard_failing_hook_is_counted_not_raised(tmp_path: Path, clock: FakeClock) -> None:
    """A hook that raises does not stop the guard or the other hooks."""
    seen: list[dict[str, Any]] = []

    def broken(alert: Any) -> None:
        raise RuntimeError("pager down")

    guard, _ = _guard(tmp_path, clock, hooks=[broken, seen.append])
    guard.check(_snap(0.3))
    assert guard.hook_failures == 1
    assert len(seen) == 1


def test_guard_disabled_does_nothing(tmp_path: Path, clock: FakeClock) -> None:
    """enabled = false: no evaluation, no alerts."""
    guard, logged = _guard(tmp_path, clock, settings=RiskSettings(enabled=False))
    assert guard.check(_snap(0.9)) == []
    assert guard.level == "ok"
    assert logged == []


def test_collector_exposes_level_limits_and_alert_counts(clock: FakeClock) -> None:
    """Gauges and counters read from the guard at scrape time."""
    guard = RiskGuard(S, clock=clock, log=lambda a: None)
    registry = CollectorRegistry()
    registry.register(RiskCollector(guard))
    assert registry.get_sample_value("trading_risk_level") == 0.0
    guard.check(_snap(0.16))
    guard.check(_snap(0.3))
    assert registry.get_sample_value("trading_risk_level") == 3.0
    assert registry.get_sample_value("trading_risk_kill_switch_engaged") == 1.0
    assert registry.get_sample_value("trading_risk_limit_level", {"limit": "max_drawdown"}) == 3.0
    assert registry.get_sample_value("trading_risk_limit_level", {"limit": "daily_loss"}) == 0.0
    assert (
        registry.get_sample_value(
            "trading_risk_alerts_total", {"limit": "max_drawdown", "level": "warn"}
        )
        == 1.0
    )
    assert registry.get_sample_value("trading_risk_hook_failures_total") == 0.0


@pytest.mark.parametrize("drawdown", [0.05, 0.151, 0.19])
def test_guard_report_lists_every_limit(clock: FakeClock, drawdown: float) -> None:
    """The report names all six limits with their configured thresholds."""
    guard = RiskGuard(S, clock=clock, log=lambda a: None)
    guard.check(_snap(drawdown))
    report = guard.report()
    assert sorted(report["limits"]) == sorted(
        ["max_drawdown", "daily_loss", "rejection_rate", "broker_down", "heartbeat", "not_trading"]
    )
    assert report["configured_limits"]["max_drawdown"] == 0.20
