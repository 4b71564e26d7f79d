"""create_app wiring: /metrics, health, audit writer and journal lifecycle."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from algowatch.events import encode_events
from algowatch.exporters import naming_problems
from algowatch.server import ServerThread, create_app
from algowatch.settings import AuditSettings, HealthSettings, RiskSettings, Settings
from algowatch.testing import EventFactory

from .conftest import LOOPBACK, TOKEN, make_settings

NDJSON = {"content-type": "application/x-ndjson"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_expose_the_ingested_state(api: TestClient, factory: EventFactory) -> None:
    """/metrics is served from the app's own registry and reflects applied events."""
    events = [factory.submitted("o1", "AAPL", "buy", 10), factory.filled("o1", 10, 100.0)]
    api.post("/api/v1/events", content=encode_events(events), headers=NDJSON)
    values = samples(api.get("/metrics").text)
    key = (
        "trading_orders_total",
        (("side", "buy"), ("status", "filled"), ("symbol", "AAPL"), ("type", "market")),
    )
    assert values[key] == 1.0
    assert values[("trading_open_positions", ())] == 1.0


def test_metrics_need_the_token_when_one_is_set(tmp_path: Path) -> None:
    """With a token, /metrics answers 401 without it (Prometheus sends it as a bearer)."""
    with TestClient(create_app(make_settings(tmp_path, token=TOKEN)), base_url=LOOPBACK) as api:
        assert api.get("/metrics").status_code == 401
        response = api.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        assert samples(response.text)[("trading_open_positions", ())] == 0.0


def test_each_app_has_its_own_registry(settings: Settings, tmp_path: Path) -> None:
    """Two apps in one process do not share collectors (no global REGISTRY)."""
    first = create_app(settings)
    second = create_app(make_settings(tmp_path / "other"))
    assert first.state.registry is not second.state.registry


def test_shutdown_closes_the_journal_and_the_audit_writer(settings: Settings) -> None:
    """The lifespan closes everything it opened; the audit trail gets its checkpoint."""
    app = create_app(settings)
    with TestClient(app, base_url=LOOPBACK) as api:
        assert api.get("/health").json()["status"] in {"healthy", "starting"}
        service = app.state.service
        assert service.audit.state == "ok"
    assert service.journal.closed
    assert service.audit.state == "closed"
    audit_dir = settings.data_path / "audit"
    assert (audit_dir / "checkpoints.jsonl").stat().st_size > 0


def test_audit_writer_is_not_opened_when_disabled(tmp_path: Path) -> None:
    """[audit] enabled = false leaves no audit directory."""
    settings = Settings(
        data_dir=str(tmp_path),
        audit=AuditSettings(enabled=False),
        health=HealthSettings(system_metrics=False),
    )
    with TestClient(create_app(settings), base_url=LOOPBACK) as api:
        assert api.get("/live").status_code == 200
    assert not (tmp_path / "audit").exists()


def test_ingest_metrics_count_accepted_duplicate_and_refused(api: TestClient) -> None:
    """The service's own counters are exported, with names that follow the rules."""
    mark = b'{"type":"mark","symbol":"AAPL","price":1,"event_id":"m1"}\n'
    api.post("/api/v1/events", content=mark * 2, headers=NDJSON)
    api.post("/api/v1/events", content=b'{"type":"mark"}', headers=NDJSON)
    text = api.get("/metrics").text
    values = samples(text)
    assert {
        name: values[(name, ())]
        for name in (
            "algowatch_ingest_events_total",
            "algowatch_ingest_duplicate_events_total",
            "algowatch_ingest_rejected_batches_total",
            "algowatch_ingest_busy_rejections_total",
            "algowatch_ingest_journal_failures_total",
            "algowatch_ingest_pending_events",
            "algowatch_ingest_replayed_events",
            "algowatch_stream_clients",
        )
    } == {
        "algowatch_ingest_events_total": 1.0,
        "algowatch_ingest_duplicate_events_total": 1.0,
        "algowatch_ingest_rejected_batches_total": 1.0,
        "algowatch_ingest_busy_rejections_total": 0.0,
        "algowatch_ingest_journal_failures_total": 0.0,
        "algowatch_ingest_pending_events": 0.0,
        "algowatch_ingest_replayed_events": 0.0,
        "algowatch_stream_clients": 0.0,
    }
    problems = {
        family.name: naming_problems(
            family.name + ("_total" if family.type == "counter" else ""), family.type
        )
        for family in text_string_to_metric_families(text)
        if family.name.startswith("algowatch_ingest") or family.name.startswith("algowatch_stream")
    }
    assert all(found == [] for found in problems.values()), problems
    assert len(problems) == 8


def test_server_thread_reports_the_startup_error(tmp_path: Path) -> None:
    """A service that cannot start raises the cause, not a timeout."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    # the risk guard reads its state file when the app is built, so it is off here to
    # reach the lifespan; with it on, create_app itself raises the same error
    settings = msgspec.structs.replace(
        make_settings(blocker / "data"), risk=RiskSettings(enabled=False)
    )
    server = ServerThread(create_app(settings))
    with pytest.raises(NotADirectoryError, match="Not a directory"):
        server.start()
    server.stop()
    with pytest.raises(NotADirectoryError, match="Not a directory"):
        create_app(make_settings(blocker / "data"))
