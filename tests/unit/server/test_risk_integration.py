"""The risk guard inside the service: limits enforced by ``create_app`` itself.

A drawdown past the limit, sent through ``POST /api/v1/events`` like any bot would,
must reach the guard through the service's own loop: level in ``/api/v1/risk``, an
audit record in the service's audit trail, ``trading_risk_level`` on ``/metrics``,
the guard's ``error`` event journaled and applied, and the latch kept across a
restart.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from algowatch.audit import verify
from algowatch.audit.verify import read_records
from algowatch.events import encode_events
from algowatch.risk import STATE_FILE
from algowatch.server import create_app
from algowatch.settings import RiskSettings, ServerSettings, Settings
from algowatch.testing import EventFactory, FakeClock

from .conftest import LOOPBACK, TOKEN, make_settings

NDJSON = {"content-type": "application/x-ndjson"}


def risk_settings(data_dir: Path, **risk: Any) -> Settings:
    """Return service settings whose guard checks every 20 ms; only drawdown can breach."""
    options: dict[str, Any] = {
        "max_drawdown": 0.10,
        "daily_loss_limit": 1e12,
        "check_interval_seconds": 0.02,
    }
    options.update(risk)
    return msgspec.structs.replace(make_settings(data_dir), risk=RiskSettings(**options))


def crash(factory: EventFactory) -> list[Any]:
    """Buy 1000 AAPL at 100 with 100 000 of capital, then mark it at 80.

    Hand-worked: equity falls from the high-water mark 100 000 to
    100 000 - 1000 * 20 = 80 000, a drawdown of 20 000 / 100 000 = 0.20, twice the
    0.10 limit, so the guard must go straight to ``flatten``.
    """
    return [
        factory.submitted("o1", "AAPL", "buy", 1000),
        factory.filled("o1", 1000, 100.0),
        factory.mark("AAPL", 100.0),
        factory.mark("AAPL", 80.0),
    ]


def wait_for(api: TestClient, condition: Any, timeout: float = 10.0) -> dict[str, Any]:
    """Poll ``/api/v1/risk`` until ``condition(report)`` holds; return the report."""
    deadline = time.monotonic() + timeout
    while True:
        report: dict[str, Any] = api.get("/api/v1/risk").json()
        if condition(report):
            return report
        assert time.monotonic() < deadline, f"risk report never matched: {report}"
        time.sleep(0.02)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_drawdown_breach_is_enforced_by_the_service(
    tmp_path: Path, clock: FakeClock, factory: EventFactory
) -> None:
    settings = risk_settings(tmp_path / "data")
    events = crash(factory)
    app = create_app(settings, clock=clock)
    with TestClient(app, base_url=LOOPBACK) as api:
        assert api.get("/api/v1/risk").json()["level"] == "ok"
        response = api.post("/api/v1/events", content=encode_events(events), headers=NDJSON)
        assert response.status_code == 202
        report = wait_for(api, lambda r: r["level"] == "flatten")
        assert report["latched"] is True
        assert report["allows_entries"] is False
        drawdown = report["limits"]["max_drawdown"]
        assert drawdown["level"] == "flatten"
        assert abs(drawdown["value"] - 0.20) < 1e-9
        assert report["alerts"][0]["limit"] == "max_drawdown"

        # the guard's error event entered through the ingest pipeline and was applied
        def published(snapshot: dict[str, Any]) -> bool:
            return snapshot["events_applied"] == len(events) + report["alerts_total"]

        deadline = time.monotonic() + 10
        while not published(snapshot := api.get("/api/v1/snapshot").json()):
            assert time.monotonic() < deadline, snapshot["events_applied"]
            time.sleep(0.02)

        values = samples(api.get("/metrics").text)
        assert values[("trading_risk_level", ())] == 3.0
        assert values[("trading_risk_kill_switch_engaged", ())] == 1.0
        assert values[("trading_risk_limit_level", (("limit", "max_drawdown"),))] == 3.0
        key = (("level", "flatten"), ("limit", "max_drawdown"))
        assert values[("trading_risk_alerts_total", key)] == 1.0
        error_key = (("component", "risk_guard"), ("error_type", "risk_alert"))
        assert values[("trading_errors_total", error_key)] == report["alerts_total"]
        assert app.state.risk_guard is app.state.service.risk_guard
        published_events = report["alerts_total"]

    # the records are in the service's own audit trail, which verifies after shutdown
    audit_dir = settings.data_path / "audit"
    records = list(read_records(audit_dir))
    kinds = [r["kind"] for r in records]
    assert kinds.count("limit_change") == 1
    engaged = [r for r in records if r["kind"] == "kill_switch"]
    assert len(engaged) == 1
    assert engaged[0]["limit"] == "max_drawdown"
    assert engaged[0]["guard_level"] == "flatten"
    assert verify(audit_dir).ok

    # the latch and the journaled risk event survive a restart on the same data folder
    quiet = risk_settings(tmp_path / "data", check_interval_seconds=3600.0)
    restarted = create_app(quiet, clock=clock)
    with TestClient(restarted, base_url=LOOPBACK) as api:
        report = api.get("/api/v1/risk").json()
        assert (report["level"], report["latched"], report["checks"]) == ("flatten", True, 0)
        service = restarted.state.service
        assert service.replayed_events == len(events) + published_events
        answer = api.post("/api/v1/risk/reset", json={"by": "alice", "reason": "reconciled"})
        assert answer.status_code == 200
        assert answer.json()["latched"] is False
    records = list(read_records(audit_dir))
    assert [r["kind"] for r in records].count("limit_change") == 1  # same limits: no change
    # the reset is audited; its own event, once applied, lets the event-driven guard
    # judge the drawdown again (still 0.20 here), which may latch again
    overrides = [r for r in records if r["kind"] == "override"]
    assert [r["authorised_by"] for r in overrides] == ["alice"]
    assert {r["kind"] for r in records[records.index(overrides[0]) + 1 :]} <= {"kill_switch"}
    assert verify(audit_dir).ok


def test_changed_limits_are_audited_once_the_trail_is_open(tmp_path: Path) -> None:
    """The guard's limit_change, noted when the app is built, reaches the audit trail."""
    data = tmp_path / "data"
    with TestClient(create_app(risk_settings(data)), base_url=LOOPBACK):
        pass
    with TestClient(create_app(risk_settings(data, max_drawdown=0.05)), base_url=LOOPBACK):
        pass
    changes = [r for r in read_records(data / "audit") if r["kind"] == "limit_change"]
    assert [c["limits_in_force"]["max_drawdown"] for c in changes] == [0.10, 0.05]
    assert changes[1]["previous_limits"]["max_drawdown"] == 0.10
    assert verify(data / "audit").ok


def test_reset_event_is_ingested_from_the_route(
    tmp_path: Path, clock: FakeClock, factory: EventFactory
) -> None:
    """A reset publishes from the event loop itself; the event still goes through the journal."""
    settings = risk_settings(tmp_path / "data", check_interval_seconds=3600.0)
    app = create_app(settings, clock=clock, risk_loop=True)
    with TestClient(app, base_url=LOOPBACK) as api:
        before = api.get("/api/v1/snapshot").json()["events_applied"]
        answer = api.post("/api/v1/risk/reset", json={"by": "bob", "reason": "drill"})
        assert answer.status_code == 200
        deadline = time.monotonic() + 10
        while api.get("/api/v1/snapshot").json()["events_applied"] != before + 1:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert app.state.service.journal.count() == 1


def test_without_the_loop_the_caller_drives_the_checks(
    tmp_path: Path, clock: FakeClock, factory: EventFactory
) -> None:
    """risk_loop=False leaves evaluation to ``service.risk.evaluate_now``."""
    settings = risk_settings(tmp_path / "data")
    app = create_app(settings, clock=clock, risk_loop=False)
    with TestClient(app, base_url=LOOPBACK) as api:
        api.post("/api/v1/events", content=encode_events(crash(factory)), headers=NDJSON)
        time.sleep(0.1)  # five loop periods: a loop would have run by now
        assert api.get("/api/v1/risk").json()["checks"] == 0
        alerts = api.portal.call(app.state.service.risk.evaluate_now)
        assert [(a.limit, a.level) for a in alerts] == [("max_drawdown", "flatten")]
        assert api.get("/api/v1/risk").json()["level"] == "flatten"


def test_risk_disabled_removes_the_guard(tmp_path: Path, factory: EventFactory) -> None:
    settings = risk_settings(tmp_path / "data", enabled=False)
    app = create_app(settings)
    assert app.state.risk_guard is None
    with TestClient(app, base_url=LOOPBACK) as api:
        api.post("/api/v1/events", content=encode_events(crash(factory)), headers=NDJSON)
        assert api.get("/api/v1/risk").status_code == 404
        assert api.post("/api/v1/risk/reset", json={"by": "a", "reason": "b"}).status_code in {
            404,
            405,
        }
        names = {family.name for family in text_string_to_metric_families(api.get("/metrics").text)}
        assert "trading_risk_level" not in names
        assert "trading_open_positions" in names
        assert "/api/v1/risk" not in api.get("/openapi.json").json()["paths"]
    assert not (settings.data_path / STATE_FILE).exists()
    kinds = {r["kind"] for r in read_records(settings.data_path / "audit")}
    assert not kinds & {"limit_change", "kill_switch", "decision"}


def test_risk_routes_need_the_token_when_one_is_set(tmp_path: Path) -> None:
    """Like every /api/v1 route, the guard's report and reset answer 401 without the token."""
    settings = msgspec.structs.replace(
        risk_settings(tmp_path / "data"), server=ServerSettings(token=TOKEN)
    )
    with TestClient(create_app(settings), base_url=LOOPBACK) as api:
        assert api.get("/api/v1/risk").status_code == 401
        body = {"by": "mallory", "reason": "no token"}
        assert api.post("/api/v1/risk/reset", json=body).status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert api.get("/api/v1/risk", headers=auth).json()["level"] == "ok"
        assert api.post("/api/v1/risk/reset", json=body, headers=auth).status_code == 200


def test_a_breach_is_judged_when_its_event_is_applied_not_on_the_timer(
    tmp_path: Path, clock: FakeClock, factory: EventFactory
) -> None:
    """Event-driven guard: with the timer at an hour, the applied crash alone flattens."""
    settings = risk_settings(tmp_path / "data", check_interval_seconds=3600.0)
    app = create_app(settings, clock=clock)
    with TestClient(app, base_url=LOOPBACK) as api:
        response = api.post("/api/v1/events", content=encode_events(crash(factory)), headers=NDJSON)
        assert response.status_code == 202
        report = wait_for(api, lambda r: r["level"] == "flatten", timeout=5.0)
        assert report["limits"]["max_drawdown"]["level"] == "flatten"
        # only the state limits were judged: the time-based ones were never evaluated
        assert "heartbeat" not in report["limits"] or report["limits"]["heartbeat"]["level"] == "ok"
        trigger = app.state.service.risk.trigger
        assert trigger is not None
        assert trigger.evaluations >= 1
        assert trigger.failures == 0
