"""The /health, /ready and /live routes, through the ASGI app."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from algowatch.health import Check, HealthRunner, Outcome
from algowatch.server.routes import health_router as router
from algowatch.settings import HealthSettings
from algowatch.testing import FakeClock


class SwitchCheck(Check):
    """A dependency whose status the test flips."""

    kind = "static"

    def __init__(self, name, status, **kw):
        super().__init__(name, **kw)
        self.status = status

    async def probe(self):
        return Outcome(self.status, None if self.status == "connected" else "down")


async def get_all(runner):
    app = FastAPI()
    app.include_router(router(runner))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return {p: await client.get(p) for p in ("/health", "/ready", "/live")}


@pytest.mark.parametrize(
    ("status", "critical", "overall", "code"),
    [
        ("connected", True, "healthy", 200),
        ("degraded", True, "degraded", 200),
        ("disconnected", False, "degraded", 200),
        ("disconnected", True, "unhealthy", 503),
    ],
)
def test_codes_follow_the_overall_status(status, critical, overall, code):
    """/health and /ready: 200 healthy or degraded, 503 unhealthy; /live always 200."""
    runner = HealthRunner(
        HealthSettings(system_metrics=False),
        clock=FakeClock(),
        checks=[SwitchCheck("dep", status, critical=critical)],
    )
    asyncio.run(runner.run_once())
    responses = asyncio.run(get_all(runner))
    assert responses["/health"].status_code == code
    assert responses["/health"].json()["status"] == overall
    assert responses["/health"].json()["checks"]["dep"]["status"] == status
    assert responses["/ready"].status_code == code
    assert responses["/ready"].json() == {"status": overall}
    assert responses["/live"].status_code == 200
    assert responses["/live"].json() == {"status": "alive"}
    assert responses["/health"].headers["content-type"] == "application/json"


def test_starting_is_503_on_health_and_ready_but_live_is_200():
    """Before the first round nothing is known: not ready, not healthy, but alive."""
    runner = HealthRunner(
        HealthSettings(system_metrics=False), checks=[SwitchCheck("d", "connected")]
    )
    responses = asyncio.run(get_all(runner))
    assert responses["/health"].status_code == 503
    assert responses["/health"].json()["status"] == "starting"
    assert responses["/ready"].status_code == 503
    assert responses["/ready"].json() == {"status": "starting"}
    assert responses["/live"].status_code == 200
