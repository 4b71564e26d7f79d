"""The service's risk loop: periodic evaluation that survives a failed one, and a clean stop."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import msgspec
import pytest
from fastapi.testclient import TestClient

from algowatch.events import encode_events
from algowatch.server import create_app
from algowatch.settings import RiskSettings
from algowatch.testing import EventFactory, FakeClock

from .conftest import LOOPBACK, make_settings

NDJSON = {"content-type": "application/x-ndjson"}


def test_a_failed_evaluation_is_counted_logged_and_the_loop_goes_on(
    tmp_path: Path, clock: FakeClock, factory: EventFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """With the audit trail refusing records, a breach is not acted on: counted, logged, next.

    Hand-worked crash: 1000 bought at 100 with 100 000 of capital, marked at 80, is a 0.20
    drawdown, past the 0.10 limit: the evaluation has a kill-switch record to audit, and
    the guard's audit adapter, closed here, refuses it (fail closed).
    """
    risk = RiskSettings(max_drawdown=0.10, daily_loss_limit=1e12, check_interval_seconds=0.02)
    settings = msgspec.structs.replace(make_settings(tmp_path / "data"), risk=risk)
    app = create_app(settings, clock=clock)
    loop = app.state.service.risk
    with TestClient(app, base_url=LOOPBACK) as api:
        loop._audit.close()  # the trail refuses the guard's records from now on
        crash = [
            factory.submitted("o1", "AAPL", "buy", 1000),
            factory.filled("o1", 1000, 100.0),
            factory.mark("AAPL", 80.0),
        ]
        api.post("/api/v1/events", content=encode_events(crash), headers=NDJSON)
        deadline = time.monotonic() + 10
        while loop.failures < 1:
            assert time.monotonic() < deadline, "the breach was never evaluated"
            time.sleep(0.02)
        checks = loop.guard.checks
        while loop.guard.checks < checks + 2:
            assert time.monotonic() < deadline, "the loop stopped after a failed evaluation"
            time.sleep(0.02)
    # fail closed: without its record the guard does not act; every later check raises
    # the same alert again and fails again, counted
    assert loop.guard.level == "ok"
    assert loop.failures >= 2
    failed = [r for r in caplog.records if r.getMessage() == "risk check failed"]
    assert failed
    assert failed[0].levelno == logging.ERROR
    assert "refused: the service's audit trail is closed" in str(failed[0].exc_info[1])


def test_stop_ends_the_periodic_evaluation(tmp_path: Path, clock: FakeClock) -> None:
    """After the service stops, the guard is no longer evaluated."""
    risk = RiskSettings(check_interval_seconds=0.02)
    settings = msgspec.structs.replace(make_settings(tmp_path / "data"), risk=risk)
    app = create_app(settings, clock=clock)
    guard = app.state.risk_guard
    with TestClient(app, base_url=LOOPBACK):
        deadline = time.monotonic() + 10
        while guard.checks < 2:
            assert time.monotonic() < deadline, "the loop never evaluated the guard"
            time.sleep(0.02)
    checks = guard.checks
    time.sleep(0.2)  # ten loop periods
    assert guard.checks == checks
