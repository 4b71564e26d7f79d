"""Bearer-token authentication and the loopback rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from algowatch.errors import ConfigError
from algowatch.server import check_bind, create_app, is_loopback
from algowatch.settings import ServerSettings

from .conftest import LOOPBACK, TOKEN, make_settings

MARK = b'{"type":"mark","symbol":"AAPL","price":1}'
NDJSON = {"content-type": "application/x-ndjson"}
UNAUTHORIZED = {"detail": "a valid 'Authorization: Bearer <token>' header is required"}


@pytest.fixture
def secured(tmp_path: Path) -> TestClient:
    with TestClient(create_app(make_settings(tmp_path, token=TOKEN)), base_url=LOOPBACK) as client:
        yield client


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer wrong"},
        {"authorization": f"Basic {TOKEN}"},
        {"authorization": f"Bearer {TOKEN}2"},
        {"authorization": "Bearer "},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/events"),
        ("get", "/api/v1/snapshot"),
        ("get", "/api/v1/orders"),
        ("get", "/api/v1/stream?limit=1"),
    ],
)
def test_missing_or_wrong_token_gets_401(
    secured: TestClient, headers: dict[str, str], method: str, path: str
) -> None:
    """Every API route needs the exact token; nothing is applied without it."""
    response = secured.request(method, path, content=MARK, headers={**NDJSON, **headers})
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert response.headers["www-authenticate"] == "Bearer"
    ok = secured.get("/api/v1/snapshot", headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.json()["events_applied"] == 0


def test_right_token_is_accepted(secured: TestClient) -> None:
    """With the token, ingest and reads work."""
    auth = {"authorization": f"Bearer {TOKEN}"}
    response = secured.post("/api/v1/events", content=MARK, headers={**NDJSON, **auth})
    assert response.status_code == 202
    assert secured.get("/api/v1/snapshot", headers=auth).json()["events_applied"] == 1


def test_health_probes_need_no_token(secured: TestClient) -> None:
    """Orchestrators probe /live without credentials."""
    assert secured.get("/live").status_code == 200


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_non_loopback_bind_without_token_is_refused(tmp_path: Path) -> None:
    """create_app refuses 0.0.0.0 without a token, naming the setting and the fix."""
    msg = (
        "server.host '0.0.0.0' accepts connections from other machines, so server.token "
        "is required: set ALGOWATCH_TOKEN or bind 127.0.0.1"
    )
    with pytest.raises(ConfigError, match=f"^{msg.replace('.', '[.]')}$"):
        create_app(make_settings(tmp_path, host="0.0.0.0"))


def test_non_loopback_bind_with_token_is_allowed() -> None:
    check_bind(ServerSettings(host="0.0.0.0", token=TOKEN))
