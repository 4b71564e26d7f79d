"""The routes get the service by ``Depends(get_service)``, so an override reaches every one."""

from __future__ import annotations

from pathlib import Path

import msgspec
from fastapi.testclient import TestClient

from algowatch.events import encode_events
from algowatch.server import create_app
from algowatch.server._dependencies import get_service
from algowatch.settings import ServerSettings
from algowatch.testing import EventFactory, FakeClock

from .conftest import LOOPBACK, TOKEN, make_settings

NDJSON = {"content-type": "application/x-ndjson"}


def test_overriding_get_service_redirects_ingest_reads_and_the_token(
    tmp_path: Path, clock: FakeClock, factory: EventFactory
) -> None:
    """App A, its service overridden by B's: A's routes ingest into and read B, with B's token."""
    first = create_app(make_settings(tmp_path / "a"), clock=clock)
    second_settings = msgspec.structs.replace(
        make_settings(tmp_path / "b"), server=ServerSettings(token=TOKEN)
    )
    second = create_app(second_settings, clock=clock)
    with (
        TestClient(first, base_url=LOOPBACK) as a,
        TestClient(second, base_url=LOOPBACK) as b,
    ):
        first.dependency_overrides[get_service] = lambda: second.state.service
        auth = {"Authorization": f"Bearer {TOKEN}"}
        # the token dependency reads the overriding service's token
        assert a.get("/api/v1/snapshot").status_code == 401
        body = encode_events([factory.submitted("o1", "AAPL", "buy", 10), factory.mark("AAPL", 1)])
        posted = a.post("/api/v1/events", content=body, headers={**NDJSON, **auth})
        assert posted.status_code == 202, posted.text
        # the events went to B's journal and engine, not A's
        assert second.state.service.journal.count() == 2
        assert first.state.service.journal.count() == 0
        via_a = a.get("/api/v1/snapshot", headers=auth).json()
        assert via_a == b.get("/api/v1/snapshot", headers=auth).json()
        assert via_a["events_applied"] == 2
        assert a.get("/api/v1/orders", headers=auth).json()["orders"][0]["order_id"] == "o1"
        first.dependency_overrides.clear()
        assert a.get("/api/v1/snapshot").json()["events_applied"] == 0
