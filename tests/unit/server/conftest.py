"""Fixtures for the service tests: a fresh app over a temporary data folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from algowatch.server import ServerThread, create_app
from algowatch.settings import HealthSettings, ServerSettings, Settings
from algowatch.testing import FakeClock

# the service answers only to its own host names (loopback by default), not "testserver"
LOOPBACK = "http://127.0.0.1"
# server.token needs at least 16 characters and no blanks
TOKEN = "s3cret-token-0123456789"


def make_settings(data_dir: Path, **server: Any) -> Settings:
    """Return settings with a private data folder, no system sampling, and ``server`` options."""
    return Settings(
        data_dir=str(data_dir),
        server=ServerSettings(**server),
        health=HealthSettings(system_metrics=False),
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def api(settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    """A started service (lifespan run) driven by the fake clock."""
    with TestClient(create_app(settings, clock=clock), base_url=LOOPBACK) as client:
        yield client


def state(client: TestClient) -> dict[str, Any]:
    """Return the snapshot without its ``as_of`` (which follows the clock)."""
    snapshot = client.get("/api/v1/snapshot").json()
    snapshot.pop("as_of")
    return snapshot


@pytest.fixture
def live(tmp_path: Path) -> Iterator[ServerThread]:
    """The service under uvicorn on a free loopback port (stream interval 0.1 s)."""
    settings = make_settings(tmp_path / "data", stream_interval_seconds=0.1)
    with ServerThread(create_app(settings)) as server:
        yield server
