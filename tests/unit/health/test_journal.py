"""JournalCheck: the journal's ping as a health check that gates readiness."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from algowatch.health import AuditCheck, HealthRunner, JournalCheck
from algowatch.journal import SqliteJournal
from algowatch.server.routes import health_router
from algowatch.settings import HealthSettings
from algowatch.testing import FakeClock


async def probe_routes(runner: HealthRunner) -> dict[str, httpx.Response]:
    await runner.run_once()
    app = FastAPI()
    app.include_router(health_router(runner))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return {p: await client.get(p) for p in ("/health", "/ready")}


def runner_for(journal: SqliteJournal) -> HealthRunner:
    return HealthRunner(
        HealthSettings(system_metrics=False),
        clock=FakeClock(),
        checks=[JournalCheck("journal", journal.ping)],
    )


def test_open_journal_is_connected_healthy_and_ready(tmp_path: Path) -> None:
    """An open SQLite journal pings fine: healthy, 200 on /health and /ready."""
    with SqliteJournal(tmp_path / "journal.sqlite3") as journal:
        runner = runner_for(journal)
        responses = asyncio.run(probe_routes(runner))
        assert runner.ready is True
    assert responses["/ready"].status_code == 200
    assert responses["/ready"].json() == {"status": "healthy"}
    check = responses["/health"].json()["checks"]["journal"]
    assert (check["kind"], check["critical"], check["status"]) == ("journal", False, "connected")


def test_journal_that_cannot_answer_is_degraded_and_not_ready(tmp_path: Path) -> None:
    """A failing ping: /health 200 'degraded' with the error, /ready 503 (not 'unhealthy')."""
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    journal.close()  # its ping now raises JournalError, as a lost store's does
    runner = runner_for(journal)
    responses = asyncio.run(probe_routes(runner))
    assert runner.status == "degraded"
    assert runner.ready is False
    health = responses["/health"]
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    check = health.json()["checks"]["journal"]
    assert check["status"] == "disconnected"
    assert check["error"] == f"JournalError: journal {journal.location} is closed"
    assert responses["/ready"].status_code == 503
    assert responses["/ready"].json() == {"status": "degraded"}


def test_journal_check_recovers_when_the_ping_does() -> None:
    """Ready follows the latest probe: down, then up again once the ping answers."""
    answers = [ConnectionError("server closed the connection unexpectedly"), None]

    def ping() -> None:
        answer = answers.pop(0)
        if answer is not None:
            raise answer

    runner = HealthRunner(
        HealthSettings(system_metrics=False),
        clock=FakeClock(),
        checks=[JournalCheck("journal", ping)],
    )

    async def twice() -> list[bool]:
        seen = []
        for _ in range(2):
            await runner.run_once()
            seen.append(runner.ready)
        return seen

    assert asyncio.run(twice()) == [False, True]
    assert runner.status == "healthy"


@pytest.mark.parametrize("critical", [False, True])
def test_a_critical_journal_check_makes_the_service_unhealthy(critical: bool) -> None:
    """critical=True keeps the usual rule: a disconnected critical check is unhealthy."""

    def ping() -> None:
        raise ConnectionError("refused")

    runner = HealthRunner(
        HealthSettings(system_metrics=False),
        clock=FakeClock(),
        checks=[JournalCheck("journal", ping, critical=critical)],
    )
    asyncio.run(runner.run_once())
    assert runner.status == ("unhealthy" if critical else "degraded")
    assert runner.ready is False


def test_runner_without_readiness_checks_is_ready_when_degraded() -> None:
    """Only checks that gate readiness change /ready: a plain non-critical failure does not."""
    runner = HealthRunner(
        HealthSettings(system_metrics=False),
        clock=FakeClock(),
        checks=[AuditCheck("audit", lambda: "failed", critical=False)],
    )
    assert runner.ready is False  # starting
    asyncio.run(runner.run_once())
    assert (runner.status, runner.ready) == ("degraded", True)
