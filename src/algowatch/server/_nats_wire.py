"""The NATS protocol pieces of the source: subject matching, ack metadata, batch pulls."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

__all__ = [
    "Delivery",
    "Puller",
    "header_map",
    "header_value",
    "is_status",
    "message_id",
    "parse_reply",
    "subject_matches",
]

_STATUS_PREFIX = b"NATS/1.0 "


def subject_matches(pattern: str, subject: str) -> bool:
    """Return whether NATS subject ``pattern`` (``*`` one token, ``>`` the rest) matches.

    Examples
    --------
    >>> subject_matches("algowatch.events.>", "algowatch.dead.algowatch.events.a.b")
    False
    >>> subject_matches("algowatch.>", "algowatch.dead.x")
    True
    """
    want = pattern.split(".")
    have = subject.split(".")
    for index, part in enumerate(want):
        if part == ">":
            return len(have) > index
        if index >= len(have) or part not in ("*", have[index]):
            return False
    return len(want) == len(have)


def is_status(payload: bytes, header_block: bytes) -> bool:
    r"""Return whether a message is a server status (``NATS/1.0 404 No Messages``, no payload).

    Examples
    --------
    >>> is_status(b"", b"NATS/1.0 408 Request Timeout\r\n\r\n")
    True
    >>> is_status(b"", b"NATS/1.0\r\nNats-Msg-Id: a\r\n\r\n")
    False
    """
    return not payload and header_block.startswith(_STATUS_PREFIX)


def header_value(header_block: bytes, name: str) -> str | None:
    r"""Return the first value of header ``name`` (case-sensitive) in a raw header block.

    Examples
    --------
    >>> header_value(b"NATS/1.0\r\nNats-Msg-Id: e-1\r\n\r\n", "Nats-Msg-Id")
    'e-1'
    >>> header_value(b"", "Nats-Msg-Id") is None
    True
    """
    return header_map(header_block).get(name)


def header_map(header_block: bytes) -> dict[str, str]:
    r"""Return the ``Name: value`` lines of a raw header block (the status line excluded).

    Examples
    --------
    >>> header_map(b"NATS/1.0\r\nA: 1\r\nB:2\r\n\r\n")
    {'A': '1', 'B': '2'}
    """
    out: dict[str, str] = {}
    for line in header_block.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.strip():
            key = name.strip().decode("ascii", "replace")
            out.setdefault(key, value.strip().decode("utf-8", "replace"))
    return out


Delivery = tuple[bytes, bytes, bytes, bytes]
"""One delivered message as the connection hands it over: subject, reply, payload, headers."""


def message_id(delivery: Delivery) -> str | None:
    """Return a delivery's ``Nats-Msg-Id`` header (read only when a message is refused)."""
    return header_value(delivery[3], "Nats-Msg-Id")


def parse_reply(reply: bytes) -> tuple[int, int, int, int]:
    # $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending> (9 tokens), or
    # $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>...
    tokens = reply.split(b".")
    base = 4 if len(tokens) == 9 else 6
    return (
        int(tokens[base + 1]),  # stream sequence
        int(tokens[base + 2]),  # consumer sequence
        int(tokens[base + 3]),  # timestamp, ns
        int(tokens[base + 4]),  # pending
    )


class Puller:
    """Pull from a durable consumer on one inbox: batches as large as the backlog, no waiting.

    nats-py's ``fetch`` awaits each message with a timeout, and its subscriptions build a
    ``Msg`` and run a callback task per message: at tens of thousands of messages a
    second that bookkeeping costs more than decoding them. Here the connection
    (:class:`~algowatch._nats_direct.DirectConnection`) appends each delivery's raw
    parts to a list. :meth:`take` returns what has arrived as soon as the read that
    brought it has been parsed, not when a whole batch is complete: a quiet stream's
    events are applied at once, and while the consumer is busy a backlog piles up
    into the next, larger batch. Pull requests for ``batch`` messages each (at most
    ``expires_seconds`` long) are renewed when half of what was asked for has come
    (:attr:`wants_more`), so the server always has one to fill.
    """

    def __init__(self, nc: Any, next_subject: str, batch: int, expires_seconds: float) -> None:
        self._nc = nc
        self._next = next_subject
        self._inbox: str = nc.new_inbox()
        self._batch = batch
        self._body = f'{{"batch":{batch},"expires":{round(expires_seconds * 1e9)}}}'.encode()
        self._buffer: list[Delivery] = []
        self._owed = 0  # messages the open requests may still bring
        self._ready = asyncio.Event()
        self._sub: Any = None
        self.expired = False

    @property
    def wants_more(self) -> bool:
        """Return whether to ask for another batch (half of the open requests' is in)."""
        return self._owed <= self._batch // 2

    async def open(self) -> None:
        self._sub = await self._nc.subscribe_direct(self._inbox, self._deliver)

    def _deliver(self, subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
        if headers and is_status(data, headers):
            # the server ended a request (expired, nothing left): it owes what it says
            self.expired = True
            left = header_value(headers, "Nats-Pending-Messages")
            self._owed = max(0, self._owed - int(left)) if left and left.isdigit() else 0
            self._ready.set()
            return
        buffer = self._buffer
        buffer.append((subject, reply, data, headers))
        self._owed -= 1
        if len(buffer) == 1:  # once the rest of this read is parsed too
            asyncio.get_running_loop().call_soon(self._ready.set)

    async def request(self) -> None:
        """Ask the server for up to ``batch`` more messages."""
        self._owed += self._batch
        self.expired = False
        await self._nc.publish(self._next, self._body, reply=self._inbox)

    async def take(self, timeout: float) -> list[Delivery]:
        """Return what has arrived, waiting up to ``timeout`` seconds when nothing has."""
        if not self._buffer:
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                self._owed = 0  # a request's end was lost (a reconnect): ask again
        self._ready.clear()
        taken, self._buffer = self._buffer, []
        return taken

    async def ack(self, delivery: Delivery) -> None:
        """Acknowledge ``delivery`` (and, with ``AckPolicy.ALL``, every one before it)."""
        await self._nc.publish(delivery[1].decode())

    async def close(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
