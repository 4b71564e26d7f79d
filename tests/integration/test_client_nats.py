"""The SDK publishing to a real NATS JetStream server (``nats-server -js``) on a free port.

Each test starts its own server (loopback, its own store folder), reads what arrived
with nats-py (the stream's own messages, by sequence) and decodes the payloads with
``algowatch.events``: the contract is subject ``algowatch.events.<account>.<bot>``,
header ``Nats-Msg-Id`` = ``event_id`` and the event's JSON object as the payload.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from algowatch import events as ev
from algowatch._client_delivery import assign_ids
from algowatch.client import AsyncClient, BufferFullError, Client, ClientStats, DroppedEvent
from algowatch.testing import EventFactory

from ..nats_server_kit import (
    STREAM,
    SUBJECTS,
    NatsServer,
    create_stream,
    free_port,
    stream_messages,
    with_jetstream,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("nats-server") is None, reason="nats-server is not installed"),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[NatsServer]:
    nats_server = NatsServer(tmp_path / "jetstream").start()
    try:
        yield nats_server
    finally:
        nats_server.kill()


def stats(**counts: int) -> ClientStats:
    base = dict.fromkeys(("enqueued", "sent", "duplicates", "dropped", "rejected"), 0)
    base |= dict.fromkeys(("failed", "retries", "buffered"), 0)
    return ClientStats(**(base | counts))


def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_events_arrive_with_the_contract_subject_header_and_payload(
    server: NatsServer, factory: EventFactory
) -> None:
    """Subject per account and bot, Nats-Msg-Id = event_id, payload decodes to the event sent."""
    create_stream(server.url)
    sent = assign_ids(
        [
            factory.submitted("o1", "AAPL", "buy", 10, account="desk.eu"),
            factory.filled("o1", 10, 190.25, fill_id="f1", fee=0.35, account="desk.eu"),
            factory.mark("AAPL", 190.5, account="us"),
            factory.heartbeat("engine"),
        ]
    )
    with Client(server.url, bot="momentum-1", flush_interval_seconds=0.02) as client:
        for event in sent:
            client.emit(event)
        assert client.flush(timeout=30)
        assert client.stats() == stats(enqueued=4, sent=4)
    messages = stream_messages(server.url)
    assert [m.subject for m in messages] == [
        "algowatch.events.desk_eu.momentum-1",
        "algowatch.events.desk_eu.momentum-1",
        "algowatch.events.us.momentum-1",
        "algowatch.events.default.momentum-1",
    ]
    assert [m.headers["Nats-Msg-Id"] for m in messages] == [e.event_id for e in sent]
    assert [ev.decode_event(m.data) for m in messages] == sent
    # the payload is the one JSON object the HTTP ingest accepts, byte for byte
    assert [m.data for m in messages] == [ev.encode_event(e) for e in sent]


def test_the_bot_defaults_to_the_strategy_label(server: NatsServer) -> None:
    """Without bot=, the subject's last token is the client's strategy label."""
    create_stream(server.url)
    with Client(server.url, strategy="mean_reversion", account="acct-7") as client:
        client.mark("MSFT", 410.0)
        assert client.flush(timeout=30)
    assert [m.subject for m in stream_messages(server.url)] == [
        "algowatch.events.acct-7.mean_reversion"
    ]


def _nats_loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "algowatch-client-nats"]


def test_clients_of_a_process_share_one_loop_that_stops_with_the_last(server: NatsServer) -> None:
    """Three clients, one NATS loop thread; closing one leaves the others publishing."""
    create_stream(server.url)
    assert _nats_loop_threads() == [], "a client of another test is still open"
    clients = [
        Client(server.url, bot=f"bot-{i}", account="acct", flush_interval_seconds=0.02)
        for i in range(3)
    ]
    shared = _nats_loop_threads()
    assert len(shared) == 1
    clients[0].mark("A", 1.0)
    assert clients[0].flush(timeout=30)
    clients[0].close()
    for client in clients[1:]:
        client.mark("B", 2.0)
        assert client.flush(timeout=30)
    assert all(t.is_alive() for t in shared)
    for client in clients[1:]:
        client.close()
    assert not any(t.is_alive() for t in shared)
    assert [m.subject for m in stream_messages(server.url)] == [
        f"algowatch.events.acct.bot-{i}" for i in range(3)
    ]


def test_a_forked_child_publishes_on_a_loop_of_its_own(server: NatsServer) -> None:
    """The parent's shared loop thread does not exist in a fork: the child starts its own."""
    create_stream(server.url)
    with Client(server.url, bot="parent", account="acct") as parent:
        parent.mark("A", 1.0)
        assert parent.flush(timeout=30)
        with warnings.catch_warnings():  # Python >= 3.12 warns of a fork with threads
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: publish, close, and say how it went in the exit code
            code = 1
            try:
                with Client(server.url, bot="child", account="acct") as child:
                    child.mark("B", 2.0)
                    code = 0 if child.flush(timeout=20) else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        parent.mark("C", 3.0)
        assert parent.flush(timeout=30)
    assert [m.subject for m in stream_messages(server.url)] == [
        "algowatch.events.acct.parent",
        "algowatch.events.acct.child",
        "algowatch.events.acct.parent",
    ]


def test_server_killed_then_restarted_delivers_every_buffered_event(server: NatsServer) -> None:
    """SIGKILL the server: events wait in the buffer; after the restart all arrive, once."""
    create_stream(server.url)
    client = Client(
        server.url,
        bot="b1",
        flush_interval_seconds=0.02,
        backoff_initial_seconds=0.02,
        backoff_max_seconds=0.1,
        timeout_seconds=2.0,
    )
    try:
        for i in range(50):
            client.mark("AAPL", 100.0 + i)
        assert client.flush(timeout=30)
        server.kill()
        started = time.perf_counter()
        for i in range(50):
            client.mark("MSFT", 200.0 + i)
        assert time.perf_counter() - started < 1.0  # the helpers never wait on the network
        wait_until(lambda: client.stats().retries >= 2)
        assert client.stats().sent == 50
        assert client.last_error is not None
        assert "not connected to NATS" in client.last_error
        server.start()  # same port, same store folder
        assert client.flush(timeout=30)
        assert client.stats() == stats(
            enqueued=100, sent=100, retries=client.stats().retries, buffered=0
        )
    finally:
        client.close(timeout=0)
    messages = stream_messages(server.url)
    payloads = [ev.decode_event(m.data) for m in messages]
    assert [p.symbol for p in payloads] == ["AAPL"] * 50 + ["MSFT"] * 50  # type: ignore[union-attr]
    assert [p.price for p in payloads] == [100.0 + i for i in range(50)] + [  # type: ignore[union-attr]
        200.0 + i for i in range(50)
    ]
    assert len({m.headers["Nats-Msg-Id"] for m in messages}) == 100


def test_republished_events_are_deduplicated_by_message_id(server: NatsServer) -> None:
    """The same event_ids published twice are stored once and counted as duplicates."""
    create_stream(server.url)
    events = assign_ids(
        [ev.Mark(ts=1_735_828_200_000_000_000 + i, symbol="A", price=1.0) for i in range(5)]
    )
    with Client(server.url, bot="b1") as client:
        for event in [*events, *events]:
            client.emit(event)
        assert client.flush(timeout=30)
        assert client.stats() == stats(enqueued=10, sent=10, duplicates=5)
    assert [m.headers["Nats-Msg-Id"] for m in stream_messages(server.url)] == [
        e.event_id for e in events
    ]


def test_missing_stream_keeps_the_events_and_says_why(server: NatsServer) -> None:
    """No stream captures the subject: kept, retried, counted as refused; delivered once created."""
    client = Client(server.url, bot="b1", backoff_initial_seconds=0.01, backoff_max_seconds=0.05)
    try:
        client.heartbeat("engine")
        assert not client.flush(timeout=0.5)
        result = client.stats()
        assert (result.sent, result.rejected, result.failed, result.buffered) == (0, 0, 0, 0)
        assert result.refused >= 1
        assert client.last_error is not None
        assert client.last_error.startswith(
            "no JetStream stream captures subject 'algowatch.events.default.<bot>'"
        )
        create_stream(server.url)
        assert client.flush(timeout=30)
        assert client.stats().sent == 1
    finally:
        client.close(timeout=0)
    assert len(stream_messages(server.url)) == 1


def test_create_stream_makes_the_stream_with_the_contract_subjects(server: NatsServer) -> None:
    """create_stream='ALGOWATCH' creates the stream on first use, with algowatch.events.>."""
    with Client(server.url, bot="b1", create_stream=STREAM) as client:
        client.heartbeat("engine")
        assert client.flush(timeout=30)

    async def work(js: Any) -> Any:
        return await js.stream_info(STREAM)

    info = asyncio.run(with_jetstream(server.url, work))
    assert (info.config.subjects, info.state.messages) == (SUBJECTS, 1)


def test_an_event_over_the_stream_limit_is_dropped_alone(server: NatsServer) -> None:
    """JetStream refuses one message as too large: only it is dropped (too_large)."""
    create_stream(server.url, max_msg_size=1000)
    drops: list[DroppedEvent] = []
    with Client(server.url, bot="b1", on_drop=drops.append, flush_interval_seconds=60) as client:
        client.mark("AAPL", 1.0)
        client.error("crash", "engine", message="x" * 2000)
        client.mark("AAPL", 2.0)
        assert client.flush(timeout=30)
        assert client.stats() == stats(enqueued=3, sent=2, rejected=1)
    assert [(d.reason, type(d.event).__name__) for d in drops] == [("too_large", "Error")]
    assert "message size exceeds maximum allowed" in drops[0].detail
    prices = [ev.decode_event(m.data).price for m in stream_messages(server.url)]  # type: ignore[union-attr]
    assert prices == [1.0, 2.0]


def _unreachable(**options: Any) -> Client:
    return Client(
        f"nats://127.0.0.1:{free_port()}",
        bot="b1",
        batch_size=5,
        max_buffer_events=10,
        flush_interval_seconds=0.01,
        backoff_initial_seconds=0.05,
        **options,
    )


def test_with_no_server_the_helpers_never_block_and_drop_the_oldest() -> None:
    """overflow='drop_oldest': 5,000 calls return at once; the overflow is counted."""
    client = _unreachable()
    try:
        durations = []
        for i in range(5000):
            started = time.perf_counter()
            client.mark("AAPL", 1.0 + i)
            durations.append(time.perf_counter() - started)
        # bounded on a loaded shared machine: no call waits for the network (0.5 s is
        # a scheduling hiccup, not a connection attempt, which takes a second here)
        assert max(durations) < 0.5
        assert sum(durations) < 2.5
        result = client.stats()
        assert result.enqueued == 5000
        assert result.buffered <= 10
        assert result.dropped >= 5000 - 10 - 5
    finally:
        started = time.perf_counter()
        assert client.close(timeout=0.2) is False
        assert time.perf_counter() - started < 3
    final = client.stats()
    assert final.dropped + final.failed + final.buffered == 5000


def test_with_no_server_raise_policy_raises_within_the_budget() -> None:
    """overflow='raise': a helper waits at most block_seconds, then raises BufferFullError."""
    client = _unreachable(overflow="raise", block_seconds=0.05)
    try:
        for i in range(10):
            client.mark("AAPL", 1.0 + i)
        # the sender holds one batch of 5 (retrying: nothing can be delivered) ...
        wait_until(lambda: client.stats().buffered == 5)
        for i in range(5):
            client.mark("AAPL", 11.0 + i)  # ... and these fill the buffer
        started = time.perf_counter()
        with pytest.raises(BufferFullError, match=r"buffer is full \(10 events waiting\)"):
            client.mark("AAPL", 16.0)
        assert 0.04 <= time.perf_counter() - started <= 0.5
    finally:
        client.close(timeout=0)


def test_async_client_publishes_over_nats(server: NatsServer) -> None:
    """AsyncClient publishes from its task on the caller's loop; flush awaits the acks."""
    create_stream(server.url)

    async def main() -> ClientStats:
        async with AsyncClient(server.url, bot="async-bot", batch_size=100) as client:
            for i in range(250):
                client.mark("AAPL", 100.0 + i)
            assert await client.flush(timeout=30)
            return client.stats()

    assert asyncio.run(main()) == stats(enqueued=250, sent=250)
    messages = stream_messages(server.url)
    assert len(messages) == 250
    assert {m.subject for m in messages} == {"algowatch.events.default.async-bot"}


def test_async_client_gives_up_at_close_with_no_server() -> None:
    """aclose(timeout) returns False and counts the event as failed."""

    async def main() -> ClientStats:
        client = AsyncClient(f"nats://127.0.0.1:{free_port()}", bot="b1")
        client.heartbeat("engine")
        assert await client.aclose(timeout=0.2) is False
        return client.stats()

    result = asyncio.run(main())
    assert (result.enqueued, result.sent, result.failed + result.buffered) == (1, 0, 1)


def test_the_docs_example_publishes_two_events(server: NatsServer) -> None:
    """docs/sdk.md's NATS example, run against this test's server, stores its two events."""
    create_stream(server.url)
    text = (Path(__file__).parents[2] / "docs" / "sdk.md").read_text(encoding="utf-8")
    block = re.search(r"## Over NATS JetStream.*?```python\n(.*?)```", text, re.S)
    assert block is not None
    code = block.group(1).replace("nats://127.0.0.1:4222", server.url)
    exec(compile(code, "docs/sdk.md", "exec"), {})
    messages = stream_messages(server.url)
    assert [m.subject for m in messages] == ["algowatch.events.desk-eu.momentum-1"] * 2
    assert [type(ev.decode_event(m.data)).__name__ for m in messages] == [
        "OrderSubmitted",
        "OrderFilled",
    ]


def test_open_client_publishes_its_buffer_at_interpreter_exit(server: NatsServer) -> None:
    """A bot that forgets close() still gets its last events into the stream at exit."""
    create_stream(server.url)
    script = (
        "from algowatch.client import Client\n"
        f"client = Client({server.url!r}, bot='b1', flush_interval_seconds=60)\n"
        "for i in range(5):\n"
        "    client.mark('AAPL', 100.0 + i)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert len(stream_messages(server.url)) == 5
