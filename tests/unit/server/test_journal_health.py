"""The service's own journal check and journal metrics, over the embedded SQLite journal."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from algowatch.events import encode_event
from algowatch.testing import EventFactory


def journal_metrics(api: TestClient) -> dict[str, float]:
    text = api.get("/metrics").text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("algowatch_journal_")
    }


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_service_reports_its_journal_as_a_connected_check_and_up(api: TestClient) -> None:
    """/health lists the 'journal' check, connected; /metrics says the store is up."""
    assert wait_for(lambda: api.get("/health").json()["checks"]["journal"]["status"] != "unknown")
    check = api.get("/health").json()["checks"]["journal"]
    assert (check["kind"], check["critical"], check["status"]) == ("journal", False, "connected")
    assert api.get("/ready").status_code == 200
    assert journal_metrics(api) == {
        "algowatch_journal_up": 1.0,
        "algowatch_journal_failures_total": 0.0,
        "algowatch_journal_reconnects_total": 0.0,
    }


def test_journal_that_stops_answering_makes_the_service_degraded_and_not_ready(
    api: TestClient,
) -> None:
    """A journal that cannot answer: ingest 503, /ready 503, /health 200 degraded, up 0."""
    service = api.app.state.service  # type: ignore[attr-defined]
    service.journal.close()
    event = encode_event(EventFactory().heartbeat("engine")).decode()
    response = api.post(
        "/api/v1/events", content=f"[{event}]", headers={"content-type": "application/json"}
    )
    assert response.status_code == 503
    assert wait_for(lambda: api.get("/ready").status_code == 503)
    health = api.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    check = health.json()["checks"]["journal"]
    assert check["status"] == "disconnected"
    assert "is closed" in check["error"]
    assert journal_metrics(api)["algowatch_journal_up"] == 0.0
