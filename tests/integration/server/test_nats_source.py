"""``[sources.nats]`` on a private nats-server: dead letters, resume after restart, refusals."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from algowatch.server import InProcessMonitor
from algowatch.settings import HealthSettings, NatsSourceSettings, Settings, SourcesSettings

from ...nats_kit import NatsNode

nats = pytest.importorskip("nats")

pytestmark = pytest.mark.integration


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NatsNode]:
    server = NatsNode("solo", tmp_path / "nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _settings(data: Path, url: str, **nats_settings: Any) -> Settings:
    quick = {"reconnect_seconds": 0.2, "fetch_timeout_seconds": 0.3}
    source = NatsSourceSettings(servers=(url,), durable="solo", **(quick | nats_settings))
    return Settings(
        data_dir=str(data),
        health=HealthSettings(system_metrics=False),
        sources=SourcesSettings(nats=source),
    )


def _wait(what: str, predicate: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, KeyError):
            if predicate():
                return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _nats_details(service: InProcessMonitor) -> dict[str, Any]:
    details: dict[str, Any] = httpx.get(f"{service.url}/health", timeout=5).json()["checks"][
        "nats"
    ]["details"]
    return details


def _mark(i: int) -> bytes:
    row = {"type": "mark", "symbol": "BTC", "price": 100 + i, "event_id": f"m-{i}"}
    return json.dumps(row | {"ts": "2026-01-01T00:00:00Z"}).encode()


async def _publish(
    url: str, messages: list[tuple[str, bytes]], headers: dict[int, dict[str, str]] | None = None
) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=5)
    for index, (subject, body) in enumerate(messages):
        await js.publish(subject, body, headers=(headers or {}).get(index))
    await nc.close()


async def _dead_letters(url: str, received: list[Any], ready: asyncio.Event) -> None:
    nc = await nats.connect(url)

    async def keep(message: Any) -> None:
        received.append(message)

    try:
        await nc.subscribe("algowatch.dead.>", cb=keep)
        await nc.flush()
        ready.set()
        await asyncio.sleep(3600)
    finally:
        await nc.close()


def test_bad_messages_are_dead_lettered_and_a_restart_resumes_after_the_journal(
    node: NatsNode, tmp_path: Path
) -> None:
    received: list[Any] = []

    async def scenario() -> None:
        ready = asyncio.Event()
        listener = asyncio.create_task(_dead_letters(node.url, received, ready))
        await ready.wait()
        settings = _settings(tmp_path / "data", node.url)
        # the first service creates the stream, consumes 3 good and 1 bad message
        with InProcessMonitor(settings) as service:
            await asyncio.to_thread(
                _wait, "the stream", lambda: _nats_details(service)["connections"] == 1
            )
            await _publish(
                node.url,
                [
                    ("algowatch.events.acct-1.bot-1", _mark(0)),
                    ("algowatch.events.acct-1.bot-1", b'{"type":"mark","symbol":"BTC"}'),
                    ("algowatch.events.acct-1.bot-2", _mark(1)),
                    ("algowatch.events.acct-1.bot-2", _mark(2)),
                ],
                headers={1: {"Nats-Msg-Id": "bad-1", "Bot-Version": "7"}},
            )
            await asyncio.to_thread(
                _wait, "four messages", lambda: _nats_details(service)["applied_sequence"] == 4
            )
            first = service.snapshot()
            details = _nats_details(service)
        # while it is down: two more; the restarted service applies only those
        await _publish(
            node.url,
            [
                ("algowatch.events.acct-1.bot-1", _mark(3)),
                ("algowatch.events.acct-1.bot-1", _mark(0)),
            ],
        )
        with InProcessMonitor(settings) as service:
            await asyncio.to_thread(
                _wait, "six messages", lambda: _nats_details(service)["applied_sequence"] == 6
            )
            second = service.snapshot()
            after = _nats_details(service)
            ready_status = httpx.get(f"{service.url}/ready", timeout=5).status_code
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener

        assert first["events_applied"] == 3
        assert details["rejected_messages"] == 1
        assert (details["messages"], details["events"]) == (4, 3)
        # m-0 published again under a new stream sequence: the journal ignores it
        assert second["events_applied"] == 4
        assert after["messages"] == 2
        assert after["events"] == 2  # both valid, handed to the journal; one a duplicate
        assert after["redelivered_messages"] == 0  # resumed after the journal's position
        assert ready_status == 200

    asyncio.run(scenario())
    assert len(received) == 1
    dead = received[0]
    assert dead.subject == "algowatch.dead.algowatch.events.acct-1.bot-1"
    assert dead.data == b'{"type":"mark","symbol":"BTC"}'
    assert "mark.price is required" in dead.headers["Algowatch-Error"]
    assert dead.headers["Algowatch-Stream-Sequence"] == "2"
    # the bot's own headers travel with it; its message id goes (a dead-letter stream keeps all)
    assert dead.headers["Bot-Version"] == "7"
    assert "Nats-Msg-Id" not in dead.headers
    position = tmp_path / "data" / "nats-ALGOWATCH-solo.position"
    assert position.read_text() == "6"


def test_a_dead_letter_prefix_inside_the_stream_subjects_is_refused(
    node: NatsNode, tmp_path: Path
) -> None:
    settings = _settings(
        tmp_path / "data", node.url, stream="WIDE", stream_subjects=("algowatch.>",),
        subjects=("algowatch.>",),
    )  # fmt: skip
    with InProcessMonitor(settings) as service:
        _wait(
            "the refusal",
            lambda: (
                "would capture its dead letters" in (_nats_details(service)["last_error"] or "")
            ),
        )
        health = httpx.get(f"{service.url}/health", timeout=5).json()["checks"]["nats"]
        assert health["details"]["messages"] == 0


def test_a_shard_applies_only_its_accounts_and_is_ready_when_its_filter_is_drained(
    node: NatsNode, tmp_path: Path
) -> None:
    def row(i: int, account: str) -> bytes:
        event = {"type": "mark", "symbol": "BTC", "price": 100 + i, "event_id": f"{account}-{i}"}
        return json.dumps(event | {"account": account, "ts": "2026-01-01T00:00:00Z"}).encode()

    messages = [
        (f"algowatch.events.{account}.bot-1", row(i, account))
        for i in range(6)
        for account in ("acct-1", "acct-2")
    ]
    asyncio.run(_publish_after_stream(node.url, messages))
    settings = _settings(tmp_path / "data", node.url, subjects=("algowatch.events.acct-1.>",))
    with InProcessMonitor(settings) as service:
        _wait("the shard", lambda: _nats_details(service)["events"] == 6)
        _wait("ready", lambda: httpx.get(f"{service.url}/ready", timeout=5).status_code == 200)
        snapshot = service.snapshot()
        details = _nats_details(service)
    assert snapshot["events_applied"] == 6
    assert details["messages"] == 6  # acct-2's six never reached this shard
    # the stream's last message is acct-2's: the shard is current without reaching it
    assert details["applied_sequence"] == 11
    assert details["stream_last_sequence"] == 12
    assert details["lag_events"] == 0


async def _publish_after_stream(url: str, messages: list[tuple[str, bytes]]) -> None:
    nc = await nats.connect(url)
    await nc.jetstream(timeout=5).add_stream(name="ALGOWATCH", subjects=["algowatch.events.>"])
    await nc.close()
    await _publish(url, messages)


def test_a_quiet_stream_is_applied_without_waiting_for_a_full_batch_or_the_expiry(
    node: NatsNode, tmp_path: Path
) -> None:
    """One message into a 2,000-message pull that expires in 30 s is applied in moments."""
    settings = _settings(tmp_path / "data", node.url, batch_size=2_000, fetch_timeout_seconds=30.0)
    with InProcessMonitor(settings) as service:
        _wait("the stream", lambda: _nats_details(service)["connections"] == 1)
        time.sleep(0.3)  # the first pull request is waiting on the server
        for i in range(3):
            asyncio.run(_publish(node.url, [("algowatch.events.acct-1.bot-1", _mark(i))]))
            start = time.monotonic()
            _wait("the event", lambda i=i: _nats_details(service)["applied_sequence"] == i + 1)
            assert time.monotonic() - start < 5.0  # the pull's expiry is 30 s away
        details = _nats_details(service)
    assert (details["messages"], details["consumer_resets"]) == (3, 1)
