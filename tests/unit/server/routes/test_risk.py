"""The risk guard's routes: report, and a reset that only a JSON body with the token can make."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from fastapi.testclient import TestClient

from algowatch.monitor import Monitor, ScopeFigures
from algowatch.server import create_app
from algowatch.server.routes._risk import MAX_REASON_CHARS, MAX_RESET_BODY_BYTES
from algowatch.settings import HealthSettings, RiskSettings, ServerSettings, Settings
from algowatch.testing import FakeClock

TOKEN = "s3cret-token-0123456789"
AUTH = {"authorization": f"Bearer {TOKEN}"}
RESET = "/api/v1/risk/reset"
BODY = {"by": "alice", "reason": "checked"}


EMPTY = Monitor().figures().portfolio


def _snap(drawdown: float) -> ScopeFigures:
    """The guard's input: an otherwise empty portfolio at ``drawdown``."""
    trading = dataclasses.replace(EMPTY.trading, current_drawdown=drawdown, daily_pnl=0.0)
    return dataclasses.replace(EMPTY, trading=trading)


@pytest.fixture
def latched(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    """A service with a token whose guard has latched ``flatten`` (drawdown 0.3 > 0.2)."""
    settings = Settings(
        data_dir=str(tmp_path),
        server=ServerSettings(token=TOKEN),
        health=HealthSettings(system_metrics=False),
        risk=RiskSettings(max_drawdown=0.20),
    )
    app = create_app(settings, clock=clock, risk_loop=False)
    with TestClient(app, base_url="http://127.0.0.1") as api:
        app.state.risk_guard.check(_snap(0.3))
        yield api


def _level(api: TestClient) -> tuple[str, bool]:
    report = api.get("/api/v1/risk", headers=AUTH).json()
    return report["level"], report["latched"]


def test_report_shows_the_breach_and_reset_releases_the_latch(latched: TestClient) -> None:
    """GET shows the latched breach; a reset with the token and a JSON body releases it."""
    report = latched.get("/api/v1/risk", headers=AUTH).json()
    assert (report["level"], report["latched"]) == ("flatten", True)
    assert report["alerts"][0]["limit"] == "max_drawdown"
    assert report["alerts"][0]["ts"] == "2025-01-02T14:30:00.000000000Z"
    assert report["limits"]["max_drawdown"]["value"] == 0.3
    answer = latched.post(RESET, json=BODY, headers=AUTH)
    assert answer.status_code == 200
    assert answer.json()["level"] == "stop_entries"
    assert answer.json()["alerts"][0]["message"] == "kill switch reset by alice: checked"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_reset_accepts_the_bearer_scheme_in_any_case(latched: TestClient, scheme: str) -> None:
    """RFC 6750's scheme is case-insensitive, on reset as on every route."""
    answer = latched.post(RESET, json=BODY, headers={"authorization": f"{scheme} {TOKEN}"})
    assert answer.status_code == 200
    assert _level(latched) == ("stop_entries", False)


def test_reset_without_the_token_gets_the_shared_401_body(latched: TestClient) -> None:
    """The reset refuses with the same problem body as every /api/v1 route."""
    answer = latched.post(RESET, json=BODY)
    assert answer.status_code == 401
    assert answer.json() == {"detail": "a valid 'Authorization: Bearer <token>' header is required"}
    assert answer.headers["www-authenticate"] == "Bearer"
    assert _level(latched) == ("flatten", True)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"by": 1, "reason": "x"}, "Expected `str`, got `int` - at `$.by`"),
        ({"by": "", "reason": "x"}, "Expected `str` of length >= 1 - at `$.by`"),
        (
            {"by": "a", "reason": "x" * (MAX_REASON_CHARS + 1)},
            "Expected `str` of length <= 2000 - at `$.reason`",
        ),
        ({"by": "a" * 201, "reason": "x"}, "Expected `str` of length <= 200 - at `$.by`"),
        ({"by": "a", "reason": "x", "extra": 1}, "Object contains unknown field `extra`"),
    ],
)
def test_reset_with_a_bad_field_gets_422_naming_it(
    latched: TestClient, body: dict[str, Any], detail: str
) -> None:
    """Each field is typed and bounded; nothing is reset."""
    answer = latched.post(RESET, json=body, headers=AUTH)
    assert (answer.status_code, answer.json()) == (422, {"detail": detail})
    assert _level(latched) == ("flatten", True)


def test_reset_body_that_is_not_json_gets_422(latched: TestClient) -> None:
    answer = latched.post(
        RESET, content=b"by=alice", headers={**AUTH, "content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": 'body must be JSON like {"by": "alice", "reason": "checked positions"}'
    }


@pytest.mark.parametrize("media_type", ["text/plain", "application/x-ndjson", ""])
def test_reset_accepts_only_application_json(latched: TestClient, media_type: str) -> None:
    """415 for any other content type, NDJSON included; the latch stays."""
    headers = {**AUTH, "content-type": media_type} if media_type else AUTH
    answer = latched.post(RESET, content=msgspec.json.encode(BODY), headers=headers)
    assert answer.status_code == 415
    assert answer.json()["detail"].startswith("content-type must be one of application/json")
    assert _level(latched) == ("flatten", True)


def test_reset_body_over_16_kib_gets_413(latched: TestClient) -> None:
    """The reason cannot carry megabytes into the audit trail: the body is capped."""
    body = msgspec.json.encode({"by": "a", "reason": "x" * MAX_RESET_BODY_BYTES})
    answer = latched.post(RESET, content=body, headers={**AUTH, "content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json() == {"detail": "the body is larger than the limit of 16384 bytes"}
    assert _level(latched) == ("flatten", True)


def test_report_carries_the_health_report_the_guard_judged(latched: TestClient) -> None:
    """``health`` is null before an evaluation with a health report, then the /health body."""
    assert latched.get("/api/v1/risk", headers=AUTH).json()["health"] is None
    app: Any = latched.app
    runner = app.state.service.health
    app.state.risk_guard.check(_snap(0.3), health=runner.report())
    judged = latched.get("/api/v1/risk", headers=AUTH).json()["health"]
    served = latched.get("/health").json()
    # the same document as /health (the timestamps are the fake clock's, so equal too)
    assert judged == served
    assert set(judged["checks"]) == {"journal"}
