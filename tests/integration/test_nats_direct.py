"""DirectConnection on a real nats-server: raw deliveries in order, other subscriptions intact."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..nats_kit import NatsNode

pytest.importorskip("nats")

from algowatch._nats_direct import DirectConnection

pytestmark = pytest.mark.integration


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NatsNode]:
    server = NatsNode("direct", tmp_path / "nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_direct_subscriptions_get_raw_parts_in_order_and_others_get_messages(
    node: NatsNode,
) -> None:
    raw: list[tuple[bytes, bytes, bytes, bytes]] = []
    usual: list[Any] = []

    async def scenario() -> None:
        nc = DirectConnection()
        await nc.connect(node.url)
        sub = await nc.subscribe_direct("direct.>", lambda *parts: raw.append(parts))

        async def keep(message: Any) -> None:
            usual.append(message)

        await nc.subscribe("usual.>", cb=keep)
        for i in range(500):
            headers = {"Nats-Msg-Id": f"e-{i}"} if i % 2 else None
            await nc.publish(f"direct.{i}", str(i).encode(), reply=f"r.{i}", headers=headers)
        await nc.publish("usual.one", b"u", headers={"A": "1"})
        await nc.flush()
        for _ in range(500):  # a flush's PONG may overtake the deliveries to ourselves
            if len(raw) == 500 and usual:
                break
            await asyncio.sleep(0.01)
        await sub.unsubscribe()
        await nc.publish("direct.after", b"late")
        # the JetStream API (nats-py's own request path) still works on this connection
        info = await nc.jetstream().account_info()
        assert info.streams == 0
        await asyncio.sleep(0.2)
        await nc.close()

    asyncio.run(scenario())
    assert [r[2] for r in raw] == [str(i).encode() for i in range(500)]
    assert raw[0] == (b"direct.0", b"r.0", b"0", b"")
    assert raw[1][:3] == (b"direct.1", b"r.1", b"1")
    assert raw[1][3] == b"NATS/1.0\r\nNats-Msg-Id: e-1\r\n\r\n"
    assert [(m.subject, m.data, m.headers) for m in usual] == [("usual.one", b"u", {"A": "1"})]


def test_a_handler_that_raises_is_reported_and_the_next_message_still_arrives(
    node: NatsNode,
) -> None:
    errors: list[BaseException] = []
    raw: list[bytes] = []

    def handler(subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
        if data == b"bad":
            raise ValueError("a handler bug")
        raw.append(data)

    async def scenario() -> None:
        async def error_cb(exc: Exception) -> None:
            errors.append(exc)

        nc = DirectConnection()
        await nc.connect(node.url, error_cb=error_cb)
        await nc.subscribe_direct("direct.>", handler)
        for body in (b"1", b"bad", b"2"):
            await nc.publish("direct.x", body)
        for _ in range(500):
            if len(raw) == 2:
                break
            await asyncio.sleep(0.01)
        assert nc.is_connected
        await nc.close()

    asyncio.run(scenario())
    assert raw == [b"1", b"2"]
    assert [str(e) for e in errors] == ["a handler bug"]
