"""The publish bridge: an event published from a worker thread is journaled, then applied."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from algowatch.errors import ServiceUnavailableError
from algowatch.server import create_app
from algowatch.server._publish import PublishBridge
from algowatch.testing import EventFactory, FakeClock

from .conftest import LOOPBACK, make_settings


def test_publish_before_the_service_runs_is_refused() -> None:
    """Nothing to hand the event to: the guard gets the error (and logs it)."""
    with pytest.raises(
        ServiceUnavailableError, match=r"^the risk event was not published: the service is not"
    ):
        PublishBridge().publish(EventFactory().heartbeat("risk_guard"))


def test_event_published_from_a_thread_reaches_the_journal_and_the_engine(
    tmp_path: Path, clock: FakeClock, factory: EventFactory
) -> None:
    """As the guard does from an evaluation's worker thread: the event counts like any other."""
    app = create_app(make_settings(tmp_path / "data"), clock=clock, risk_loop=False)
    service = app.state.service
    with TestClient(app, base_url=LOOPBACK) as api:
        worker = threading.Thread(
            target=service.bridge.publish, args=(factory.error("risk_alert", "risk_guard"),)
        )
        worker.start()
        worker.join()
        deadline = time.monotonic() + 10
        while api.get("/api/v1/snapshot").json()["events_applied"] != 1:
            assert time.monotonic() < deadline, "the published event was never applied"
            time.sleep(0.02)
        assert service.journal.count() == 1
        assert service.bridge.failures == 0
