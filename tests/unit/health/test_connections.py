"""Broker, audit, PostgreSQL and Redis checks without servers (servers: integration tests)."""

from __future__ import annotations

import asyncio
import sys
import threading
import time

import httpx
import pytest

from algowatch.errors import MissingDependencyError
from algowatch.health import (
    AuditCheck,
    BrokerCallableCheck,
    BrokerHttpCheck,
    HealthRunner,
    PostgresCheck,
    RedisCheck,
)
from algowatch.settings import HealthSettings
from algowatch.testing import FakeClock


def run_one(check, clock=None):
    """Run one check through a runner (timeouts and exceptions become results)."""
    runner = HealthRunner(HealthSettings(system_metrics=False), clock=clock, checks=[check])
    return asyncio.run(runner.run_once())[check.name]


# ------------------------------------------------------------------ broker over HTTP


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        (200, "connected", None),
        (204, "connected", None),
        (429, "degraded", "HTTP 429 from http://broker.test/v2/account"),
        (401, "disconnected", "HTTP 401 from http://broker.test/v2/account"),
        (503, "disconnected", "HTTP 503 from http://broker.test/v2/account"),
    ],
)
def test_broker_http_classifies_the_response_status(code, status, error):
    """2xx connected, 429 degraded, other errors disconnected."""
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, str(request.url)))
        return httpx.Response(code)

    check = BrokerHttpCheck(
        "alpaca", "http://broker.test/v2/account", transport=httpx.MockTransport(handler)
    )
    result = run_one(check)
    assert (result.status, result.error) == (status, error)
    assert result.details == {"http_status": code}
    assert seen == [("GET", "http://broker.test/v2/account")]


def test_broker_http_given_a_connection_error_is_disconnected_with_it():
    """A transport failure is the check's result, with the exception named."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    check = BrokerHttpCheck("b", "http://broker.test/", transport=httpx.MockTransport(handler))
    result = run_one(check)
    assert result.status == "disconnected"
    assert result.error == "ConnectError: connection refused"


# ------------------------------------------------------------------ broker callables


def test_broker_callable_async_returning_is_connected():
    """A registered coroutine function such as get_account."""

    async def get_account():
        return {"equity": 100_000.0}

    assert run_one(BrokerCallableCheck("alpaca", get_account)).status == "connected"


def test_broker_callable_raising_is_disconnected_with_the_error():
    """The exception type and message become the error."""

    async def get_account():
        msg = "invalid API key"
        raise PermissionError(msg)

    result = run_one(BrokerCallableCheck("alpaca", get_account))
    assert (result.status, result.error) == ("disconnected", "PermissionError: invalid API key")


def test_broker_callable_returning_a_status_uses_it():
    """A callable may report degraded itself."""
    result = run_one(BrokerCallableCheck("ib", lambda: "degraded"))
    assert (result.status, result.error) == ("degraded", "the broker probe returned 'degraded'")


def test_broker_callable_sync_returning_an_awaitable_awaits_it():
    """lambda: client.get_account() returns a coroutine, which is awaited."""

    async def get_account():
        return "connected"

    assert run_one(BrokerCallableCheck("b", lambda: get_account())).status == "connected"  # noqa: PLW0108 - the lambda is the point


def test_broker_callable_async_hanging_is_cut_at_the_timeout():
    """A coroutine that never returns is cancelled at timeout_seconds."""
    cancelled = []

    async def hang():
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    check = BrokerCallableCheck("b", hang, timeout_seconds=0.05)
    started = time.perf_counter()
    result = run_one(check)
    elapsed = time.perf_counter() - started
    assert result.status == "disconnected"
    assert result.error == "no answer within the timeout of 0.05 s"
    assert cancelled == [True]
    assert elapsed < 1.0


def test_broker_callable_blocking_is_cut_at_the_timeout_and_not_stacked():
    """A blocking function runs in a thread: cut at the timeout, one call in flight at most."""
    release = threading.Event()
    calls = []

    def blocking_get_account():
        calls.append(threading.current_thread().name)
        release.wait(10)
        return {"equity": 1.0}

    check = BrokerCallableCheck("b", blocking_get_account, timeout_seconds=0.05)
    runner = HealthRunner(HealthSettings(system_metrics=False), checks=[check])

    async def scenario():
        first = (await runner.run_once())["b"]
        second = (await runner.run_once())["b"]
        release.set()
        await asyncio.sleep(0.05)
        third = (await runner.run_once())["b"]
        return first, second, third

    started = time.perf_counter()
    first, second, third = asyncio.run(scenario())
    assert time.perf_counter() - started < 2.0
    assert (first.status, first.error) == (
        "disconnected",
        "no answer within the timeout of 0.05 s",
    )
    assert (second.status, second.error) == (
        "disconnected",
        "TimeoutError: the previous call has not returned yet",
    )
    assert third.status == "connected"
    assert calls == ["algowatch-health-b", "algowatch-health-b"]


# ------------------------------------------------------------------ audit writer


@pytest.mark.parametrize(
    ("state", "status", "error"),
    [
        ("ok", "connected", None),
        ("failed", "disconnected", "the audit writer's state is 'failed', expected 'ok'"),
        ("closed", "degraded", "the audit writer's state is 'closed', expected 'ok'"),
    ],
)
def test_audit_check_maps_the_writer_state(state, status, error):
    """ok is connected, failed (fail-closed writer) disconnected, others degraded."""
    result = run_one(AuditCheck("audit", lambda: state))
    assert (result.status, result.error) == (status, error)
    assert result.details == {"state": state}


# ------------------------------------------------------------------ latency and timestamps


def test_result_carries_latency_and_check_time_from_the_clock():
    """Latency is measured on the injected monotonic clock; last_checked is wall time."""
    clock = FakeClock("2025-01-02T14:30:00Z")

    async def slow_on_the_fake_clock():
        clock.advance(0.25)
        return None

    result = run_one(BrokerCallableCheck("b", slow_on_the_fake_clock), clock=clock)
    assert result.latency_seconds == 0.25
    assert result.to_dict()["last_checked"] == "2025-01-02T14:30:00.250000000Z"


# ------------------------------------------------------------------ optional extras


@pytest.mark.parametrize(
    ("factory", "extra", "module"),
    [
        (lambda: PostgresCheck("db", "postgresql://127.0.0.1/test"), "postgres", "psycopg"),
        (lambda: RedisCheck("cache", "redis://127.0.0.1:6379/0"), "redis", "redis.asyncio"),
    ],
)
def test_missing_extra_raises_naming_it(monkeypatch, factory, extra, module):
    """Without the driver, construction fails with the extra to install."""
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError) as info:
        factory()
    assert str(info.value) == (
        f"the {extra!r} extra is required for this check (module {module!r} is not "
        f"installed): pip install 'algowatch[{extra}]'"
    )
    assert isinstance(info.value, ImportError)


def test_broker_http_check_survives_a_runner_restart():
    """stop() closes the client; a later start() probes with a new one."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    check = BrokerHttpCheck("b", "http://broker.test/", transport=transport)
    runner = HealthRunner(HealthSettings(system_metrics=False), checks=[check])

    async def scenario():
        first = (await runner.run_once())["b"].status
        await runner.stop()
        second = (await runner.run_once())["b"].status
        await runner.stop()
        return first, second

    assert asyncio.run(scenario()) == ("connected", "connected")


def test_blocking_call_failing_after_its_timeout_is_not_reported_later(caplog):
    """A late exception of a timed-out call is consumed, not logged as unretrieved."""
    release = threading.Event()

    def late_failure():
        release.wait(10)
        msg = "too late"
        raise ConnectionError(msg)

    check = BrokerCallableCheck("b", late_failure, timeout_seconds=0.02)
    runner = HealthRunner(HealthSettings(system_metrics=False), checks=[check])

    async def scenario():
        first = (await runner.run_once())["b"]
        release.set()
        await asyncio.sleep(0.05)
        second = (await runner.run_once())["b"]
        return first, second

    with caplog.at_level("ERROR", logger="asyncio"):
        first, second = asyncio.run(scenario())
        import gc  # noqa: PLC0415 - force the futures' finalizers inside the capture

        gc.collect()
    assert first.error == "no answer within the timeout of 0.02 s"
    assert second.error == "ConnectionError: too late"
    assert "never retrieved" not in caplog.text
