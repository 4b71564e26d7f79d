"""The SDK against a real uvicorn server on a free loopback port."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from ulid import ULID

from algowatch._client_delivery import assign_ids
from algowatch.client import (
    AsyncClient,
    BufferFullError,
    Client,
    ClientClosedError,
    ClientStats,
    DroppedEvent,
)
from algowatch.errors import InvalidEventError
from algowatch.events import Mark
from algowatch.server import InProcessMonitor, ServerThread, create_app
from algowatch.testing import EventFactory, FakeClock

from .conftest import make_settings

TS = 1_735_828_200_000_000_000  # 2025-01-02T14:30:00Z


def applied(server: ServerThread) -> int:
    return server.call(lambda: server.app.state.service.monitor.figures().events_applied)


def requests(server: ServerThread) -> int:
    return server.app.state.service.pipeline.stats.batches


def stats(**counts: int) -> ClientStats:
    base = {
        "enqueued": 0,
        "sent": 0,
        "duplicates": 0,
        "dropped": 0,
        "rejected": 0,
        "failed": 0,
        "retries": 0,
        "buffered": 0,
    }
    return ClientStats(**{**base, **counts})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_helpers_batch_events_into_few_requests(live: ServerThread) -> None:
    """2,500 events with batch_size 1,000 arrive in a handful of requests, not 2,500."""
    with Client(live.url, batch_size=1000, flush_interval_seconds=60) as client:
        for i in range(2500):
            client.mark("AAPL", 100.0 + i % 7)
        assert client.flush(timeout=30)
        assert client.stats() == stats(enqueued=2500, sent=2500)
    assert applied(live) == 2500
    assert 3 <= requests(live) <= 6


def test_every_helper_builds_a_valid_event(live: ServerThread, clock: FakeClock) -> None:
    """Each typed helper produces an event the service accepts, stamped by the clock."""
    with Client(live.url, clock=clock, strategy="momo", account="acct") as client:
        client.signal("s1", "AAPL", "long", confidence=0.7, generation_seconds=0.002)
        client.order_submitted(
            "o1",
            "AAPL",
            "buy",
            10,
            "limit",
            limit_price=101.0,
            arrival_price=100.0,
            decision_price=100.0,
            signal_id="s1",
        )
        client.order_acknowledged("o1", broker_order_id="b1")
        client.order_filled("o1", "f1", 10, 100.5, fee=1.0, liquidity="taker")
        client.mark("AAPL", 101.0, bid=100.9, ask=101.1)
        client.account_snapshot(100_010.0, cash=98_994.0, buying_power=200_000.0)
        client.signal_outcome("s1", "long", pnl=5.0, bars_to_profit=1, bars_held=3)
        client.order_submitted("o2", "AAPL", "sell", 10)
        client.order_rejected("o2", "insufficient margin")
        client.order_submitted("o3", "AAPL", "sell", 10)
        client.order_canceled("o3", reason="timeout")
        client.error("BrokerTimeout", "broker", message="read timeout")
        client.heartbeat("engine")
        assert client.flush(timeout=30)
        assert client.stats() == stats(enqueued=13, sent=13)
    assert applied(live) == 13
    orders = live.call(live.app.state.service.monitor.order_figures)
    assert sorted((o.order_id, o.status, o.strategy, o.account) for o in orders) == [
        ("o1", "filled", "momo", "acct"),
        ("o2", "rejected", "momo", "acct"),
        ("o3", "canceled", "momo", "acct"),
    ]
    seen = live.call(live.app.state.service.monitor.last_seen)
    assert seen.heartbeats == {"engine": clock.time_ns()}


def test_invalid_argument_raises_at_the_call_site_and_the_rest_is_delivered(
    live: ServerThread,
) -> None:
    """A bad argument raises in the helper; nothing is enqueued; the good events arrive."""
    with Client(live.url) as client:
        client.mark("AAPL", 100.0)
        with pytest.raises(InvalidEventError, match=r"^mark\.price must be > 0, received -1$"):
            client.mark("AAPL", -1)
        client.mark("AAPL", 101.0)
        assert client.flush(timeout=30)
        assert client.stats() == stats(enqueued=2, sent=2)
    assert applied(live) == 2


def test_retries_until_the_restarted_service_accepts(tmp_path: Path) -> None:
    """Events sent while the service is down arrive exactly once after it restarts."""
    settings = make_settings(tmp_path / "data")
    port = free_port()
    client = Client(
        f"http://127.0.0.1:{port}",
        flush_interval_seconds=0.02,
        backoff_initial_seconds=0.02,
        backoff_max_seconds=0.1,
    )
    try:
        with ServerThread(create_app(settings), port=port):
            for i in range(50):
                client.mark("AAPL", 100.0 + i)
            assert client.flush(timeout=30)
        for i in range(50):
            client.mark("MSFT", 100.0 + i)
        deadline = time.monotonic() + 10
        while client.stats().retries < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert client.stats().retries >= 2
        with ServerThread(create_app(settings), port=port) as server:
            assert client.flush(timeout=30)
            assert applied(server) == 100
        result = client.stats()
        assert (result.enqueued, result.sent, result.duplicates) == (100, 100, 0)
    finally:
        client.close(timeout=0)


def test_resending_a_stored_batch_is_counted_as_duplicates(live: ServerThread) -> None:
    """Retrying with the same ULIDs never double counts."""
    events = assign_ids([Mark(ts=TS + i, symbol="AAPL", price=1.0 + i) for i in range(3)])
    with Client(live.url) as client:
        for event in [*events, *events]:
            client.emit(event)
        assert client.flush(timeout=30)
        assert client.stats() == stats(enqueued=6, sent=6, duplicates=3)
    assert applied(live) == 3


def test_assigned_ids_are_ulids_carrying_the_event_time(factory: EventFactory) -> None:
    """Ids are assigned once, are unique, and their time part is the event's ts (ms)."""
    events = [Mark(ts=1_735_828_200_123_456_789, symbol="A", price=1.0) for _ in range(3)]
    ids = [e.event_id for e in assign_ids(events)]
    assert len(set(ids)) == 3
    assert {ULID.from_str(i).milliseconds for i in ids} == {1_735_828_200_123}
    kept = factory.mark("A", 1.0)
    assert assign_ids([kept]) == [kept]


def test_oversized_batches_are_split_on_413(tmp_path: Path) -> None:
    """A batch over the service's body limit is halved until it fits."""
    settings = make_settings(tmp_path / "data", max_body_bytes=2000)
    with (
        ServerThread(create_app(settings)) as server,
        Client(server.url, flush_interval_seconds=60) as client,
    ):
        for i in range(60):
            client.mark("AAPL", 100.0 + i)
        assert client.flush(timeout=30)
        assert client.stats() == stats(enqueued=60, sent=60)
        assert applied(server) == 60


def test_wrong_token_keeps_the_events_and_reports_them_undelivered_at_close(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """401 is not the events' fault: they are kept and retried, never silently dropped."""
    settings = make_settings(tmp_path / "data", token="right-token-0123456789")
    drops: list[DroppedEvent] = []
    with ServerThread(create_app(settings)) as server:
        client = Client(
            server.url,
            token="wrong-token-0123456789",
            backoff_initial_seconds=0.01,
            backoff_max_seconds=0.05,
            on_drop=drops.append,
        )
        client.heartbeat("engine")
        assert not client.flush(timeout=0.5)
        result = client.stats()
        assert (result.sent, result.rejected, result.failed) == (0, 0, 0)
        assert result.refused >= 2
        assert result.retries >= result.refused
        assert client.last_error is not None
        assert client.last_error.startswith("HTTP 401")
        assert client.close(timeout=0) is False
    assert client.stats().failed == 1
    assert [(d.reason, type(d.event).__name__) for d in drops] == [("undelivered", "Heartbeat")]
    refusals = [r for r in caplog.records if "refused a batch (HTTP 401" in r.getMessage()]
    assert len(refusals) == 1  # rate-limited: one record per kind and minute


def _unreachable(**options: object) -> Client:
    return Client(
        f"http://127.0.0.1:{free_port()}",
        batch_size=5,
        max_buffer_events=10,
        flush_interval_seconds=60,
        backoff_initial_seconds=1.0,
        **options,  # type: ignore[arg-type]
    )


def test_full_buffer_raises_within_the_budget() -> None:
    """overflow='raise': a helper waits at most block_seconds, then raises."""
    client = _unreachable(overflow="raise", block_seconds=0.05)
    durations = []
    error = None
    try:
        for i in range(100):
            started = time.perf_counter()
            try:
                client.mark("AAPL", 1.0 + i)
            except BufferFullError as exc:
                error = exc
                break
            finally:
                durations.append(time.perf_counter() - started)
        assert str(error) == (
            "the algowatch client buffer is full (10 events waiting); "
            "the service is down or slower than the event rate"
        )
        assert 0.04 <= durations[-1] <= 0.5
        assert max(durations[:-1]) < 0.5
        assert client.stats().buffered == 10
    finally:
        client.close(timeout=0)


def test_full_buffer_drops_the_oldest_and_counts_them() -> None:
    """overflow='drop_oldest' (default): the caller never waits; drops are counted."""
    client = _unreachable()
    try:
        started = time.perf_counter()
        for i in range(100):
            client.mark("AAPL", 1.0 + i)
        assert time.perf_counter() - started < 0.5
        result = client.stats()
        assert result.buffered == 10
        assert result.enqueued == 100
        assert result.dropped >= 100 - 10 - 5
    finally:
        assert client.close(timeout=0.1) is False
    assert client.stats().failed + client.stats().dropped + client.stats().buffered >= 90


def test_close_gives_up_at_its_deadline_and_counts_failures() -> None:
    """With the service down, close(timeout) returns False and counts the lost events."""
    client = _unreachable()
    for i in range(3):
        client.mark("AAPL", 1.0 + i)
    started = time.perf_counter()
    assert client.close(timeout=0.2) is False
    assert time.perf_counter() - started < 2
    assert client.stats().failed + client.stats().buffered == 3
    with pytest.raises(ClientClosedError, match="the algowatch client is closed"):
        client.heartbeat("engine")


def test_async_client_delivers_and_flushes(live: ServerThread) -> None:
    """AsyncClient batches from a task; flush awaits delivery."""

    async def main() -> ClientStats:
        async with AsyncClient(live.url, batch_size=100) as client:
            for i in range(250):
                client.mark("AAPL", 100.0 + i)
            client.order_submitted("o1", "AAPL", "buy", 1)
            assert await client.flush(timeout=30)
            return client.stats()

    assert asyncio.run(main()) == stats(enqueued=251, sent=251)
    assert applied(live) == 251


def test_async_client_gives_up_at_close_when_the_service_is_down() -> None:
    """aclose(timeout) returns False when nothing could be delivered."""

    async def main() -> ClientStats:
        client = AsyncClient(f"http://127.0.0.1:{free_port()}", backoff_initial_seconds=0.01)
        client.heartbeat("engine")
        assert await client.aclose(timeout=0.2) is False
        return client.stats()

    result = asyncio.run(main())
    assert (result.enqueued, result.sent, result.failed + result.buffered) == (1, 0, 1)


def test_in_process_monitor_serves_the_bot_from_a_thread(tmp_path: Path) -> None:
    """The in-process form journals, applies and serves on a free loopback port."""
    settings = make_settings(tmp_path / "data")
    with InProcessMonitor(settings) as service, service.client() as client:
        client.order_submitted("o1", "AAPL", "buy", 10)
        client.order_filled("o1", "f1", 10, 100.0)
        assert client.flush(timeout=30)
        snapshot = service.snapshot()
        assert snapshot["events_applied"] == 2
        assert snapshot["trading"]["num_positions"] == 1
        assert service.url.startswith("http://127.0.0.1:")
    with InProcessMonitor(settings) as service:
        assert service.snapshot()["events_applied"] == 2


def test_open_client_delivers_its_buffer_at_interpreter_exit(live: ServerThread) -> None:
    """A bot that forgets close() still gets its last events out at exit."""
    script = (
        "from algowatch.client import Client\n"
        f"client = Client({live.url!r}, flush_interval_seconds=60)\n"
        "for i in range(5):\n"
        "    client.mark('AAPL', 100.0 + i)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert applied(live) == 5


class HeldTransport(httpx.HTTPTransport):
    """The real transport, counting posts; the first waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.posts = 0
        self.posting = threading.Event()
        self.release = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.posts += 1
        self.posting.set()
        self.release.wait(30)
        return super().handle_request(request)


def test_events_arriving_during_a_post_linger_until_the_interval_or_a_flush(
    live: ServerThread,
) -> None:
    """A trickle is not chased with one small post each: it waits for the next interval."""
    transport = HeldTransport()
    with Client(live.url, batch_size=5, flush_interval_seconds=60, transport=transport) as client:
        for i in range(5):  # a full batch wakes the sender
            client.mark("AAPL", 100.0 + i, ts=TS + i)
        assert transport.posting.wait(30)
        for i in range(5, 8):  # three more while it posts
            client.mark("AAPL", 100.0 + i, ts=TS + i)
        transport.release.set()
        deadline = time.monotonic() + 30
        while client.stats().sent < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # long enough for a sender that chased them to post them
        assert (transport.posts, client.stats().sent, client.stats().buffered) == (1, 5, 3)
        assert client.flush(timeout=30)
        assert (transport.posts, client.stats().sent, client.stats().buffered) == (2, 8, 0)
    assert applied(live) == 8
