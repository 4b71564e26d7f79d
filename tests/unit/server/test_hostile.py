"""Hostile input and a poisoning client against the real service (uvicorn, SQLite journal).

Issue 12: nothing a client sends may stop good data being accepted. The same corpus and
blast test run against PostgreSQL in ``tests/integration/server/test_hostile_postgres.py``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from algowatch.server import ServerThread, create_app
from algowatch.settings import Settings

from .conftest import make_settings


def _load_kit() -> Any:
    path = Path(__file__).parents[2] / "hostile_kit.py"
    spec = importlib.util.spec_from_file_location("algowatch_hostile_kit_server", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


KIT = _load_kit()


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
    sent, failures = KIT.run_corpus(server.url, service_settings.server.max_body_bytes)
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
    results = KIT.run_blast(server.url, seconds=10.0)
    innocent, poison = results["innocent"], results["poison"]
    assert results["errors"] == []
    assert set(innocent) == {202}
    assert set(poison) == {422}
    assert innocent[202] >= 3
    assert poison[422] >= 3
    with httpx.Client(base_url=server.url) as http:
        applied = http.get("/api/v1/snapshot").json()["events_applied"]
    assert applied == results["accepted"] == innocent[202] * 20
