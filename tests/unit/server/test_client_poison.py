"""A poison event cannot stop the SDK: against a real service on a free loopback port."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

import algowatch.client as client_module
from algowatch._client_delivery import classify
from algowatch.client import AsyncClient, Client, ClientStats, DroppedEvent, FlushResult
from algowatch.events import Event, Mark
from algowatch.server import ServerThread, create_app

from .conftest import make_settings

TS = 1_735_828_200_000_000_000  # 2025-01-02T14:30:00Z


def applied(server: ServerThread) -> int:
    return int(server.call(lambda: server.app.state.service.monitor.figures().events_applied))


def last_mark_ts(server: ServerThread, symbol: str) -> int:
    """The ts of the last mark the service applied for ``symbol`` (its engine state)."""
    return int(server.call(lambda: server.app.state.service.monitor.last_seen().marks[symbol]))


def good_marks(client: Client | AsyncClient) -> None:
    """Ten valid marks, prices 100 to 109, one millisecond apart."""
    for i in range(10):
        client.mark("AAPL", 100.0 + i, ts=TS + i * 1_000_000)


def dropped_logs(caplog: pytest.LogCaptureFixture, reason: str) -> list[str]:
    prefix = f"algowatch client dropped 1 event(s) ({reason}); first: "
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(prefix)]


@pytest.fixture
def without_call_site_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let bad events reach the sender, as from an SDK older than the service's contract."""
    monkeypatch.setattr(client_module, "check_event", lambda event: event)


def test_bad_event_among_ten_good_is_dropped_alone_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One event larger than the service accepts (413 alone): the ten good ones arrive."""
    settings = make_settings(tmp_path / "data", max_body_bytes=2000)
    drops: list[DroppedEvent] = []
    with (
        ServerThread(create_app(settings)) as server,
        Client(server.url, flush_interval_seconds=60, on_drop=drops.append) as client,
    ):
        good_marks(client)
        client.error("BrokerTimeout", "broker", message="x" * 3000, ts=TS + 5)
        result = client.flush(timeout=30)
        assert result == FlushResult(True, sent=10, rejected=1)
        assert client.stats() == ClientStats(
            enqueued=11,
            sent=10,
            duplicates=0,
            dropped=0,
            rejected=1,
            failed=0,
            retries=0,
            buffered=0,
        )
        assert applied(server) == 10
        assert last_mark_ts(server, "AAPL") == TS + 9_000_000
    assert [(type(d.event).__name__, d.event.ts, d.reason, d.status) for d in drops] == [
        ("Error", TS + 5, "too_large", 413)
    ]
    assert drops[0].detail == (
        'HTTP 413: {"detail":"the body is larger than the limit of 2000 bytes"}'
    )
    (record,) = dropped_logs(caplog, "too_large")
    assert record == (
        f"algowatch client dropped 1 event(s) (too_large); first: error "
        f"event_id={drops[0].event.event_id}: {drops[0].detail}"
    )


@pytest.mark.usefixtures("without_call_site_check")
def test_event_the_service_names_invalid_is_dropped_and_the_ten_good_delivered(
    live: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    """422 naming one event: only that event is dropped, with the service's explanation."""
    drops: list[DroppedEvent] = []
    with Client(live.url, flush_interval_seconds=60, on_drop=drops.append) as client:
        good_marks(client)
        client.mark("AAPL", -1.0, ts=TS + 5)
        assert client.flush(timeout=30) == FlushResult(True, sent=10, rejected=1)
        assert (client.stats().sent, client.stats().rejected) == (10, 1)
    assert applied(live) == 10
    assert last_mark_ts(live, "AAPL") == TS + 9_000_000
    assert [(d.event.ts, d.reason, d.status, d.detail) for d in drops] == [
        (TS + 5, "invalid", 422, "mark.price must be > 0, received -1.0")
    ]
    assert len(dropped_logs(caplog, "invalid")) == 1


@pytest.mark.usefixtures("without_call_site_check")
@pytest.mark.parametrize(
    ("name", "bad", "detail"),
    [
        (
            "nanoseconds_times_1000",
            Mark(ts=TS * 1000, symbol="AAPL", price=1.0),
            "cannot be encoded: ValueError(\"a ULID's time must be within [0, 2**48) ms, "
            f'received {TS * 1000} ns")',
        ),
        (
            "lone_surrogate",
            Mark(ts=TS, symbol="\ud800", price=1.0),
            "cannot be encoded: UnicodeEncodeError('utf-8', '\\ud800', 0, 1, "
            "'surrogates not allowed')",
        ),
    ],
)
def test_event_that_killed_the_sender_is_dropped_and_the_sender_keeps_delivering(
    live: ServerThread, name: str, bad: Event, detail: str
) -> None:
    """The two events that used to kill the sending thread now cost only themselves."""
    drops: list[DroppedEvent] = []
    with Client(live.url, flush_interval_seconds=60, on_drop=drops.append) as client:
        for i in range(5):
            client.mark("AAPL", 100.0 + i, ts=TS + i)
        client.emit(bad)
        for i in range(5, 10):
            client.mark("AAPL", 100.0 + i, ts=TS + i)
        assert client.flush(timeout=30) == FlushResult(True, sent=10, rejected=1)
        client.mark("MSFT", 50.0, ts=TS + 20)
        assert client.flush(timeout=30) == FlushResult(True, sent=1)
        assert client._thread.is_alive()
    assert applied(live) == 11
    assert [(d.event, d.reason, d.detail) for d in drops] == [(bad, "invalid", detail)]


@pytest.mark.usefixtures("without_call_site_check")
def test_async_client_drops_only_the_bad_event_too(live: ServerThread) -> None:
    """AsyncClient shares the logic: ten good delivered, the bad one reported."""
    drops: list[DroppedEvent] = []

    async def main() -> tuple[FlushResult, ClientStats]:
        async with AsyncClient(live.url, flush_interval_seconds=60, on_drop=drops.append) as c:
            good_marks(c)
            c.mark("AAPL", float("nan"), ts=TS + 5)
            c.emit(Mark(ts=TS * 1000, symbol="AAPL", price=1.0))
            return await c.flush(timeout=30), c.stats()

    result, stats = asyncio.run(main())
    assert result == FlushResult(True, sent=10, rejected=2)
    assert (stats.sent, stats.rejected, stats.sender_errors) == (10, 2, 0)
    assert applied(live) == 10
    assert sorted((d.event.ts, d.reason, d.status) for d in drops) == [
        (TS + 5, "invalid", 422),
        (TS * 1000, "invalid", None),
    ]


class FailingOnce:
    """A transport that raises once, then forwards every request to the real service."""

    def __init__(self, url: str, error: Exception) -> None:
        self.error: Exception | None = error
        self._real = httpx.Client(base_url=url)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        response = self._real.send(request)
        return httpx.Response(response.status_code, content=response.read())

    def close(self) -> None:
        self._real.close()


def test_sender_thread_survives_an_exception_raised_by_the_transport(
    live: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    """A non-HTTP exception from the transport is logged, counted and retried."""
    faulty = FailingOnce(live.url, RuntimeError("injected transport fault"))
    try:
        with Client(
            live.url,
            flush_interval_seconds=60,
            backoff_initial_seconds=0.01,
            transport=httpx.MockTransport(faulty),
        ) as client:
            good_marks(client)
            assert client.flush(timeout=30) == FlushResult(True, sent=10)
            assert client._thread.is_alive()
            result = client.stats()
            assert (result.sent, result.retries, result.sender_errors) == (10, 1, 1)
            assert client.last_error == "RuntimeError('injected transport fault')"
    finally:
        faulty.close()
    assert applied(live) == 10
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "algowatch client: the sender raised RuntimeError('injected transport fault'); "
        "it keeps running"
    ]


def test_sender_survives_a_bug_in_its_own_bookkeeping(
    live: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception escaping a delivery settles that batch as failed; later ones arrive."""
    drops: list[DroppedEvent] = []
    calls: list[int] = []

    def classify_failing_once(response: httpx.Response | None, error: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            msg = "bookkeeping bug"
            raise ZeroDivisionError(msg)
        return classify(response, error)

    monkeypatch.setattr(client_module, "classify", classify_failing_once)
    with Client(live.url, flush_interval_seconds=60, on_drop=drops.append) as client:
        client.mark("AAPL", 100.0, ts=TS)
        assert client.flush(timeout=30) == FlushResult(True, failed=1)
        client.mark("AAPL", 101.0, ts=TS + 1)
        assert client.flush(timeout=30) == FlushResult(True, sent=1)
        assert client.stats().sender_errors == 1
    assert [(d.reason, d.detail) for d in drops] == [
        ("internal_error", "the sender failed: ZeroDivisionError('bookkeeping bug')")
    ]
    # the first event did reach the service before the bug: nothing is lost
    assert applied(live) == 2


def test_sender_loop_survives_an_exception_outside_any_batch(
    live: ServerThread, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception where no batch is held is logged and counted; the next wake delivers."""
    with Client(live.url, flush_interval_seconds=0.05) as client:
        take = client._buffer.take
        failures = iter([MemoryError("injected")])

        def take_failing_once(limit: int) -> list[Event]:
            error = next(failures, None)
            if error is not None:
                raise error
            return take(limit)

        monkeypatch.setattr(client._buffer, "take", take_failing_once)
        good_marks(client)
        assert client.flush(timeout=30) == FlushResult(True, sent=10)
        assert client.stats().sender_errors == 1
        assert client._thread.is_alive()
    assert applied(live) == 10
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "algowatch client: the sender raised MemoryError('injected'); it keeps running"
    ]


def test_an_event_emitted_unvalidated_is_refused_by_the_service_alone(live: ServerThread) -> None:
    """``emit(validate=False)`` (the integrations' mapped events): the service still judges."""
    drops: list[DroppedEvent] = []
    with Client(live.url, flush_interval_seconds=60, on_drop=drops.append) as client:
        good_marks(client)
        client.emit(Mark(ts=TS + 5, symbol="AAPL", price=-1.0), validate=False)
        assert client.flush(timeout=30) == FlushResult(True, sent=10, rejected=1)
    assert applied(live) == 10
    assert [(d.event.ts, d.reason, d.status, d.detail) for d in drops] == [
        (TS + 5, "invalid", 422, "mark.price must be > 0, received -1.0")
    ]
