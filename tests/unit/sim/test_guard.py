"""RiskLevelReader: the simulated bot reads the guard's level from a real service's risk API."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from algowatch.client import Client
from algowatch.server import ServerThread, create_app
from algowatch.settings import HealthSettings, RiskSettings, ServerSettings, Settings
from algowatch.sim.guard import RISK_PATH, RiskLevelReader
from algowatch.testing import EventFactory

TOKEN = "s3cret-token-0123456789"


def _settings(data_dir: Path, **risk: Any) -> Settings:
    # only drawdown can breach; the service's own loop is slow, the test evaluates
    options: dict[str, Any] = {
        "max_drawdown": 0.10,
        "daily_loss_limit": 1e12,
        "check_interval_seconds": 3600.0,
    }
    options.update(risk)
    return Settings(
        data_dir=str(data_dir),
        server=ServerSettings(token=TOKEN),
        health=HealthSettings(system_metrics=False),
        risk=RiskSettings(**options),
    )


def _evaluate(server: ServerThread) -> None:
    service = server.app.state.service
    asyncio.run_coroutine_threadsafe(service.risk.evaluate_now(), service.loop).result(10)


def test_reader_follows_the_guard_of_a_running_service(tmp_path: Path) -> None:
    """ok before the crash; flatten once the service's guard has judged it, as the API says.

    Hand-worked crash: 1000 AAPL bought at 100 with 100 000 of capital, marked at 80:
    drawdown 20 000 / 100 000 = 0.20, twice the 0.10 limit, so the guard flattens.
    """
    factory = EventFactory()
    with ServerThread(create_app(_settings(tmp_path / "data"))) as server:
        read = RiskLevelReader(server.url, token=TOKEN)
        assert read.refresh() == "ok"
        with Client(server.url, token=TOKEN) as client:
            for event in (
                factory.submitted("o1", "AAPL", "buy", 1000),
                factory.filled("o1", 1000, 100.0),
                factory.mark("AAPL", 80.0),
            ):
                client.emit(event)
            assert client.flush(timeout=10)
        _evaluate(server)
        auth = {"authorization": f"Bearer {TOKEN}"}
        report = httpx.get(server.url + RISK_PATH, headers=auth).json()
        assert report["level"] == "flatten"
        assert read.refresh() == "flatten"
        assert read.errors == 0
        read.close()


def test_calling_the_reader_does_no_io_and_its_thread_refreshes() -> None:
    """A call returns the level read last; the started thread reads again every period."""
    answers = iter(["warn", "stop_entries"])
    requests: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"level": next(answers, "flatten")})

    transport = httpx.MockTransport(service)
    read = RiskLevelReader("http://127.0.0.1", refresh_seconds=0.02, transport=transport)
    assert (read(), read()) == ("ok", "ok")
    assert requests == []
    read.start()  # reads once at once
    assert requests[0].url.path == RISK_PATH
    deadline = time.monotonic() + 10
    while read() != "flatten":
        assert time.monotonic() < deadline, "the thread never refreshed the level"
        time.sleep(0.01)
    read.close()
    count = len(requests)
    time.sleep(0.1)  # five periods: a stopped thread reads nothing
    assert len(requests) == count


def test_reader_given_no_guard_reads_ok(tmp_path: Path) -> None:
    """[risk] enabled = false: the route answers 404 and the bot has no guard to obey."""
    settings = msgspec.structs.replace(
        _settings(tmp_path / "data"), risk=RiskSettings(enabled=False)
    )
    server = ServerThread(create_app(settings))
    with server, RiskLevelReader(server.url, token=TOKEN) as read:
        assert read.refresh() == "ok"
        assert read.errors == 0


def test_reader_given_a_wrong_token_keeps_the_last_level_and_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 401 is a failed read: the last level stays, the error is counted, logged once."""
    caplog.set_level(logging.WARNING, logger="algowatch.sim")
    app = create_app(_settings(tmp_path / "data"))
    with (
        ServerThread(app) as server,
        RiskLevelReader(server.url, token="wrong-16chars-token") as read,
    ):
        read.level = "stop_entries"
        assert read.refresh() == "stop_entries"
        assert read.refresh() == "stop_entries"
    assert read.errors == 2
    warnings = [r.getMessage() for r in caplog.records if r.name == "algowatch.sim"]
    assert len(warnings) == 1
    assert warnings[0].startswith("risk level not read, keeping 'stop_entries'")
    assert "401" in warnings[0]


def test_reader_given_no_service_keeps_ok() -> None:
    """Connection refused before any read: the level is the initial "ok", the error counted."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with RiskLevelReader(f"http://127.0.0.1:{port}", timeout_seconds=2) as read:
        assert read.refresh() == "ok"
    assert read.errors == 1


def test_reader_given_a_body_without_a_known_level_keeps_the_last_level() -> None:
    """A 200 whose body names no level the guard has is a failed read, not a new level."""
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"level": "panic"}))
    with RiskLevelReader("http://127.0.0.1", transport=transport) as read:
        assert read.refresh() == "ok"
    assert read.errors == 1


def test_reader_given_no_refresh_period_raises() -> None:
    with pytest.raises(ValueError, match=r"refresh_seconds must be > 0, received 0"):
        RiskLevelReader("http://127.0.0.1", refresh_seconds=0)
