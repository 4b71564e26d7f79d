"""Health checks against the real PostgreSQL and Redis, closed ports and hung servers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from algowatch.health import HealthRunner
from algowatch.monitor import Monitor
from algowatch.server.routes import health_router as router
from algowatch.settings import HealthCheckSettings, HealthSettings
from algowatch.testing import EventFactory, FakeClock

pytestmark = pytest.mark.integration


def runner_for(*entries: dict[str, Any], **kwargs: Any) -> HealthRunner:
    settings = HealthSettings(
        system_metrics=False,
        startup_grace_seconds=0.0,
        checks=tuple(HealthCheckSettings(**e) for e in entries),
    )
    return HealthRunner(settings, **kwargs)


def app_for(runner: HealthRunner, *, start: bool = True) -> FastAPI:
    """The router in an app whose lifespan starts and stops the runner (as the service)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start:
            await runner.start()
        try:
            yield
        finally:
            await runner.stop()

    app = FastAPI(lifespan=lifespan)
    app.include_router(router(runner))
    return app


def test_real_postgres_and_redis_are_connected(postgres_dsn, redis_url):
    """SELECT 1 and PING against the servers of this machine."""
    runner = runner_for(
        {"name": "db", "kind": "postgres", "target": postgres_dsn},
        {"name": "cache", "kind": "redis", "target": redis_url},
    )
    results = asyncio.run(runner.run_once())
    for name in ("db", "cache"):
        assert results[name].status == "connected", results[name].error
        assert results[name].error is None
        latency = results[name].latency_seconds
        assert latency is not None
        assert 0.0 < latency < 1.0
    assert runner.status == "healthy"


@pytest.mark.parametrize("kind", ["postgres", "redis", "broker_http"])
def test_closed_port_is_disconnected_quickly(closed_port, kind):
    """Connection refused: disconnected with the error, long before the timeout."""
    target = {
        "postgres": f"postgresql://postgres@127.0.0.1:{closed_port}/test",
        "redis": f"redis://127.0.0.1:{closed_port}/0",
        "broker_http": f"http://127.0.0.1:{closed_port}/v2/account",
    }[kind]
    runner = runner_for({"name": "dep", "kind": kind, "target": target, "timeout_seconds": 5})
    started = time.perf_counter()
    result = asyncio.run(runner.run_once())["dep"]
    assert time.perf_counter() - started < 2.0
    assert result.status == "disconnected"
    assert result.error
    assert "timeout" not in result.error
    assert runner.status == "unhealthy"


@pytest.mark.parametrize("kind", ["postgres", "redis", "broker_http"])
def test_hung_server_is_cut_at_the_timeout_while_health_answers_fast(
    black_hole, kind, serve, redis_url
):
    """A server that accepts and never answers: disconnected at 2 s; /health stays < 50 ms."""
    target = {
        "postgres": f"postgresql://postgres@127.0.0.1:{black_hole.port}/test",
        "redis": f"redis://127.0.0.1:{black_hole.port}/0",
        "broker_http": f"http://127.0.0.1:{black_hole.port}/v2/account",
    }[kind]
    runner = runner_for(
        {"name": "dep", "kind": kind, "target": target, "timeout_seconds": 2.0,
         "interval_seconds": 30.0},
        {"name": "cache", "kind": "redis", "target": redis_url, "critical": False},
    )  # fmt: skip

    # A full collection of this test process's heap (pytest, FastAPI, drivers) stalls any
    # Python thread for 30-100 ms; that is the interpreter, not the dependency, so move the
    # existing objects out of the collector's reach, as a service would after startup
    # (gc.freeze), and measure only what the hang could cause.
    gc.collect()
    gc.freeze()
    try:
        with serve(app_for(runner)) as base, httpx.Client(base_url=base) as client:
            started = time.perf_counter()
            while not black_hole.accepted:  # measure while the probe hangs
                assert time.perf_counter() - started < 1.0, "the probe never connected"
                time.sleep(0.01)
            client.get("/live")  # open the connection
            latencies, during = [], []
            while time.perf_counter() - started < 1.2:  # the probe hangs meanwhile
                sent = time.perf_counter()
                response = client.get("/health")
                latencies.append(time.perf_counter() - sent)
                during.append(response.json()["checks"]["dep"]["status"])
                time.sleep(0.05)
            time.sleep(max(0.0, 2.5 - (time.perf_counter() - started)))  # past the timeout
            final = client.get("/health")
    finally:
        gc.unfreeze()
    assert set(during) == {"unknown"}  # answered from the cache while the probe hung
    assert black_hole.accepted  # the probe did connect and hang
    assert len(latencies) >= 5
    assert max(latencies) < 0.05, [round(x * 1000, 1) for x in latencies]
    assert final.status_code == 503
    check = final.json()["checks"]["dep"]
    assert check["status"] == "disconnected"
    assert check["error"] == "no answer within the timeout of 2 s"
    # cut at the timeout: the event loop's timer may fire up to a millisecond early (libuv,
    # under uvloop, keeps its clock in whole milliseconds; seen: 1.999989 s)
    assert 1.999 <= check["latency_seconds"] < 2.4
    assert final.json()["checks"]["cache"]["status"] == "connected"


@pytest.mark.parametrize(("critical", "down"), [(True, "unhealthy"), (False, "degraded")])
def test_stopping_redis_flips_health_and_back(private_redis, critical, down, serve):
    """Our own redis-server stopped: unhealthy or degraded per critical; restarted: healthy."""
    runner = runner_for(
        {"name": "cache", "kind": "redis", "target": private_redis.url, "critical": critical,
         "timeout_seconds": 0.5, "interval_seconds": 0.1},
    )  # fmt: skip

    def wait_for(client: httpx.Client, status: str) -> httpx.Response:
        deadline = time.monotonic() + 5
        while True:
            response = client.get("/health")
            if response.json()["status"] == status or time.monotonic() > deadline:
                return response
            time.sleep(0.05)

    with serve(app_for(runner)) as base, httpx.Client(base_url=base) as client:
        up = wait_for(client, "healthy")
        private_redis.stop()
        stopped = wait_for(client, down)
        ready_when_down = client.get("/ready")
        private_redis.start()
        back = wait_for(client, "healthy")
    assert (up.status_code, up.json()["status"]) == (200, "healthy")
    assert stopped.json()["status"] == down
    assert stopped.status_code == (503 if critical else 200)
    assert ready_when_down.status_code == (503 if critical else 200)
    check = stopped.json()["checks"]["cache"]
    assert check["status"] == "disconnected"
    assert "ConnectionError" in check["error"]
    assert (back.status_code, back.json()["status"]) == (200, "healthy")


def test_stale_heartbeat_marks_and_quiet_order_flow_show_with_their_ages(serve):
    """The engine's last_seen feeds /health: each stale source is named with its age."""
    clock = FakeClock("2025-01-02T15:00:00Z")  # 10:00 in New York, a Thursday
    events = EventFactory(clock)
    monitor = Monitor(clock=clock)
    monitor.apply(events.submitted("o1", "AAPL", "buy", 10))
    monitor.apply(events.mark("AAPL", 100.0))
    monitor.apply(events.mark("MSFT", 400.0))
    monitor.apply(events.heartbeat("engine"))
    runner = runner_for(
        {"name": "engine", "kind": "heartbeat", "max_age_seconds": 30},
        {"name": "quotes", "kind": "market_data", "max_age_seconds": 60},
        {"name": "orders", "kind": "order_flow", "max_age_seconds": 900,
         "trading_hours": "09:30-16:00", "trading_days": "mon-fri",
         "timezone": "America/New_York"},
        clock=clock,
        last_seen=monitor.last_seen,
    )  # fmt: skip
    asyncio.run(runner.run_once())
    assert runner.status == "healthy"
    clock.advance(1000)
    monitor.apply(events.mark("MSFT", 401.0))  # MSFT stays fresh, AAPL goes stale

    asyncio.run(runner.run_once())
    with serve(app_for(runner, start=False)) as base:
        response = httpx.get(f"{base}/health")
    assert response.status_code == 503
    checks = response.json()["checks"]
    engine, quotes, orders = checks["engine"], checks["quotes"], checks["orders"]
    assert engine["status"] == "disconnected"
    assert engine["age_seconds"] == pytest.approx(1000.0, abs=0.01)
    assert engine["error"].startswith("stale heartbeats (older than 30 s): engine 100")
    assert quotes["status"] == "degraded"
    assert quotes["age_seconds"] == pytest.approx(1000.0, abs=0.01)
    assert quotes["details"]["ages_seconds"]["MSFT"] == pytest.approx(0.001, abs=0.01)
    assert quotes["error"].startswith("stale marks (older than 60 s): AAPL 100")
    assert orders["status"] == "disconnected"
    assert orders["age_seconds"] == pytest.approx(1000.0, abs=0.01)
    assert orders["error"].startswith("no orders for 100")
    assert "during trading hours (threshold 900 s" in orders["error"]
