"""Server-sent events: one snapshot computation per interval, fanned out to every client."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

__all__ = ["SnapshotBroadcaster"]

_log = logging.getLogger("algowatch.server")

# A comment line every this many idle intervals keeps proxies from closing a quiet stream.
_KEEPALIVE_INTERVALS = 30


class SnapshotBroadcaster:
    """Publish the Monitor's snapshot to SSE clients at most once per ``interval_seconds``.

    The snapshot is computed and encoded once per tick, and only when events were
    applied since the last one. Each client has a bounded queue of ``queue_size``
    messages; a slow client loses its oldest messages (it only ever needs the newest
    snapshot), so one stuck reader cannot grow the service's memory.
    """

    def __init__(
        self,
        snapshot: Callable[[], dict[str, Any]],
        *,
        interval_seconds: float,
        queue_size: int,
    ) -> None:
        self._snapshot = snapshot
        self._interval = max(0.01, interval_seconds)
        self._queue_size = max(1, queue_size)
        self._clients: set[asyncio.Queue[bytes | None]] = set()
        self._dirty = True
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self.dropped_messages = 0

    @property
    def clients(self) -> int:
        """Return the number of connected stream clients."""
        return len(self._clients)

    def mark_changed(self, _applied: int = 0) -> None:
        """Record that the state changed, so the next tick publishes a snapshot."""
        self._dirty = True

    def start(self) -> None:
        """Start the publishing task on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="algowatch-sse")

    def close_streams(self) -> None:
        """End every open stream and refuse new subscribers (safe to call twice)."""
        self._closed = True
        for queue in list(self._clients):
            self._put(queue, None)

    async def stop(self) -> None:
        """End every stream cleanly and stop publishing."""
        self.close_streams()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _encode(self) -> bytes:
        data = orjson.dumps(self._snapshot())
        return b"event: snapshot\ndata: " + data + b"\n\n"

    def _put(self, queue: asyncio.Queue[bytes | None], message: bytes | None) -> None:
        while queue.full():
            queue.get_nowait()
            self.dropped_messages += 1
        queue.put_nowait(message)

    async def _run(self) -> None:
        idle = 0
        while True:
            await asyncio.sleep(self._interval)
            if not self._clients:
                continue
            if self._dirty:
                self._dirty = False
                idle = 0
                try:
                    message = self._encode()
                except Exception as exc:
                    _log.error("computing the snapshot for the stream failed: %r", exc)
                    continue
            else:
                idle += 1
                if idle < _KEEPALIVE_INTERVALS:
                    continue
                idle = 0
                message = b": keep-alive\n\n"
            for queue in list(self._clients):
                self._put(queue, message)

    async def subscribe(self, limit: int | None = None) -> AsyncIterator[bytes]:
        """Yield SSE messages: the current snapshot at once, then each update.

        Ends after ``limit`` snapshots when given, or when the service stops.
        """
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(self._queue_size)
        sent = 0
        if self._closed:
            return
        self._clients.add(queue)
        try:
            yield b"retry: 2000\n\n" + self._encode()
            sent += 1
            while limit is None or sent < limit:
                message = await queue.get()
                if message is None:
                    return
                yield message
                if message.startswith(b"event:"):
                    sent += 1
        finally:
            self._clients.discard(queue)
