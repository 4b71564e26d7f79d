"""Hostile input and a poisoning client against the real service on the PostgreSQL journal.

The same corpus and blast test as ``tests/unit/server/test_hostile.py`` (SQLite), against
a fresh database on the shared 127.0.0.1:5432 server, dropped at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from algowatch.server import ServerThread, create_app
from algowatch.settings import HealthSettings, JournalSettings, Settings

from ... import hostile_kit

pytestmark = pytest.mark.integration

SERVER = "host=127.0.0.1 port=5432 user=postgres"


@pytest.fixture
def service_settings(tmp_path: Path) -> Iterator[Settings]:
    name = f"algowatch_hostile_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Settings(
            data_dir=str(tmp_path / "data"),
            journal=JournalSettings(backend="postgres", dsn=f"{SERVER} dbname={name}"),
            health=HealthSettings(system_metrics=False),
        )
    finally:
        with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
    with httpx.Client(base_url=server.url) as http:
        response = http.post("/api/v1/events", json=[{"type": "heartbeat", "component": "e"}])
        assert response.status_code == 202
        assert http.get("/api/v1/snapshot").json()["events_applied"] == 1


def test_a_poisoning_client_fails_no_innocent_batch(server: ServerThread) -> None:
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


def test_a_restart_replays_what_the_hostile_run_accepted(
    service_settings: Settings,
) -> None:
    """After the corpus and good data, a restarted service replays the PostgreSQL journal."""
    with ServerThread(create_app(service_settings)) as running:
        _sent, failures = hostile_kit.run_corpus(
            running.url, service_settings.server.max_body_bytes
        )
        assert failures == []
        with httpx.Client(base_url=running.url) as http:
            body = [{"type": "mark", "symbol": "AAPL", "price": 1.0 + i} for i in range(5)]
            assert http.post("/api/v1/events", json=body).status_code == 202
            before = http.get("/api/v1/snapshot").json()
    with (
        ServerThread(create_app(service_settings)) as running,
        httpx.Client(base_url=running.url) as http,
    ):
        after = http.get("/api/v1/snapshot").json()
    assert after["events_applied"] == before["events_applied"] == 5
