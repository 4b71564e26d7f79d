"""Hostile input and a poisoning client against the real service (uvicorn, SQLite journal).

Issue 12: nothing a client sends may stop good data being accepted. The same corpus and
blast test run against PostgreSQL in ``tests/integration/server/test_hostile_postgres.py``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from algowatch.server import ServerThread, create_app
from algowatch.settings import Settings

from ... import hostile_kit
from .conftest import make_settings


@pytest.fixture
def service_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def server(service_settings: Settings) -> Iterator[ServerThread]:
    with ServerThread(create_app(service_settings)) as running:
        yield running


def test_hostile_corpus_gets_only_4xx_naming_a_field_and_changes_nothing(
    server: ServerThread, service_settings: Settings
) -> None:
    """Over 100 hostile requests: no 5xx, every 4xx names its field, no state change."""
    sent, failures = hostile_kit.run_corpus(server.url, service_settings.server.max_body_bytes)
    assert sent >= 100
    assert failures == []
    # and the service still accepts good data
    with httpx.Client(base_url=server.url) as http:
        response = http.post(
            "/api/v1/events",
            json=[{"type": "heartbeat", "component": "engine"}],
        )
        assert response.status_code == 202
        assert http.get("/api/v1/snapshot").json()["events_applied"] == 1


def test_a_poisoning_client_fails_no_innocent_batch(
    server: ServerThread, service_settings: Settings
) -> None:
    """3 clients post valid batches while 1 posts poison for ~10 s: every innocent batch lands."""
    results = hostile_kit.run_blast(server.url, seconds=10.0)
    innocent, poison = results["innocent"], results["poison"]
    assert results["errors"] == []
    assert set(innocent) == {202}
    assert set(poison) == {422}
    assert innocent[202] >= 3
    assert poison[422] >= 3
    with httpx.Client(base_url=server.url) as http:
        applied = http.get("/api/v1/snapshot").json()["events_applied"]
    assert applied == results["accepted"] == innocent[202] * 20


def _refusing_journal(settings: Settings) -> None:
    """Create the SQLite journal with a real trigger that refuses one component's events.

    Stands for any store-side refusal the validator does not foresee (a constraint added by
    an operator, a future schema): the journal raises for that batch, not for the others.
    """
    from algowatch.journal import open_journal  # noqa: PLC0415

    open_journal(settings.journal, settings.data_path).close()
    with sqlite3.connect(settings.data_path / "journal.sqlite3") as db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON events "
            'WHEN instr(NEW.payload, \'"component":"refused"\') > 0 '
            "BEGIN SELECT RAISE(ABORT, 'refused by the operator''s trigger'); END"
        )


def test_a_batch_the_journal_refuses_gets_422_and_fails_no_other_batch(
    service_settings: Settings,
) -> None:
    """A store-side refusal is a 422 for that batch alone while other clients keep landing."""
    _refusing_journal(service_settings)
    with ServerThread(create_app(service_settings)) as running:
        with httpx.Client(base_url=running.url) as http:
            refused = http.post(
                "/api/v1/events", json=[{"type": "heartbeat", "component": "refused"}]
            )
            assert refused.status_code == 422
            body = refused.json()
            assert body["detail"] == "the journal refused the batch; nothing was applied"
            (item,) = body["invalid"]
            assert item["index"] is None
            (error,) = item["errors"]
            assert error["field"] == "batch"
            assert "refused by the operator's trigger" in error["message"]
            assert error["message"].endswith("resending it unchanged will fail again")

        statuses: dict[str, list[int]] = {"innocent": [], "refused": []}

        def post(role: str, component: str, count: int) -> None:
            with httpx.Client(base_url=running.url, timeout=30) as http:
                for i in range(count):
                    body = [
                        {"type": "heartbeat", "component": component, "event_id": f"{role}-{i}"}
                    ]
                    statuses[role].append(http.post("/api/v1/events", json=body).status_code)

        threads = [threading.Thread(target=post, args=("innocent", "feed", 60)) for _ in range(3)]
        threads.append(threading.Thread(target=post, args=("refused", "refused", 60)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        with httpx.Client(base_url=running.url) as http:
            applied = http.get("/api/v1/snapshot").json()["events_applied"]
        stats = running.app.state.service.pipeline.stats  # type: ignore[union-attr]
    assert set(statuses["innocent"]) == {202}
    assert set(statuses["refused"]) == {422}
    # three innocent threads share event ids per index: 60 distinct events were applied
    assert applied == 60
    assert stats.journal_failures == 61
    # refused batches did share group commits with innocent ones (typically 20-40 of them)
    assert stats.isolated_groups >= 1
