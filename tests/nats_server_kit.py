"""A ``nats-server -js`` of a test's own, and reading back what reached its stream.

``NatsServer`` is ``nats_kit.NatsNode`` (a free loopback port, its own store folder) used
alone: ``kill`` is a SIGKILL and ``start`` again restarts it on the same port and store. The
shared server on 4222 is never touched.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import nats
from nats.js.api import StreamConfig

from .nats_kit import NatsNode, free_port

__all__ = [
    "STREAM",
    "SUBJECTS",
    "NatsServer",
    "create_stream",
    "free_port",
    "stream_messages",
    "with_jetstream",
]

STREAM = "ALGOWATCH"
SUBJECTS = ["algowatch.events.>"]


class NatsServer(NatsNode):
    """One node of the test's own: ``start`` returns it; ``kill`` (SIGKILL) then ``start``
    restarts it on the same port and store folder (``store``)."""

    def __init__(self, store: Path) -> None:
        super().__init__(store.name, store.parent)

    def start(self, routes: list[int] | None = None) -> NatsServer:
        super().start(routes)
        return self


async def with_jetstream(url: str, work: Any) -> Any:
    nc = await nats.connect(url, allow_reconnect=False)
    try:
        return await work(nc.jetstream())
    finally:
        await nc.close()


def create_stream(url: str, **config: Any) -> None:
    async def work(js: Any) -> None:
        await js.add_stream(StreamConfig(name=STREAM, subjects=SUBJECTS, **config))

    asyncio.run(with_jetstream(url, work))


def stream_messages(url: str) -> list[Any]:
    """Every message of the stream, in stream-sequence order."""

    async def work(js: Any) -> list[Any]:
        info = await js.stream_info(STREAM)
        return [
            await js.get_msg(STREAM, seq)
            for seq in range(info.state.first_seq, info.state.last_seq + 1)
        ]

    return asyncio.run(with_jetstream(url, work))  # type: ignore[no-any-return]
