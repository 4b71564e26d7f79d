"""The threaded Client's NATS transport: one event loop per process for every nats:// client.

nats-py runs on asyncio, and :class:`~algowatch.client.Client` is threaded: its sending
thread hands each part of a batch to an event loop running in a daemon thread and waits
for the result there (never in the caller of a helper). Every ``nats://`` Client of a
process shares that one loop (each keeps its own connection): a bot process with many
clients then has one thread reading every connection, which wakes once for the
acknowledgements of several connections instead of once per connection, and threads do
not queue for the GIL one per client. The loop thread starts with the first client and
stops when the last one closes (a forked child starts its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading

from algowatch._client_delivery import Delivery
from algowatch._client_nats import NatsPublisher, settle

__all__ = ["NatsLink"]


class _SharedLoop:
    # the process's NATS event loop and its thread, counted by the links that use them
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._users = 0
        self._pid = 0

    def acquire(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            thread = self._thread
            fresh = self._pid != os.getpid() or thread is None or not thread.is_alive()
            if self._loop is None or fresh:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="algowatch-client-nats", daemon=True
                )
                thread.start()
                self._loop, self._thread, self._users, self._pid = loop, thread, 0, os.getpid()
            self._users += 1
            return self._loop

    def release(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        with self._lock:
            if loop is not self._loop:  # a loop this process no longer runs (forked)
                return
            self._users -= 1
            if self._users:
                return
            thread, self._loop, self._thread = self._thread, None, None
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout)
            if not thread.is_alive():
                loop.close()


_SHARED = _SharedLoop()


class NatsLink:
    """A :class:`~algowatch._client_nats.NatsPublisher` on the process's shared NATS loop.

    :meth:`deliver` is called from the client's sending thread and blocks it (never
    the caller of a helper) while a part is published.
    """

    def __init__(self, publisher: NatsPublisher) -> None:
        self.publisher = publisher
        self._loop = _SHARED.acquire()
        self._closed = False
        self._loop.call_soon_threadsafe(publisher.start)

    def deliver(self, delivery: Delivery, abandon: threading.Event) -> None:
        """Publish every part of ``delivery``, with retries, until settled or abandoned."""
        bound = self.publisher.part_seconds
        while (item := delivery.next_part()) is not None:
            if abandon.is_set():
                delivery.abandon()
                break
            part = item[0]
            future = asyncio.run_coroutine_threadsafe(
                self.publisher.publish(part, abandon.is_set), self._loop
            )
            try:
                results = future.result(bound)
            except Exception as exc:  # whatever nats-py raises: retried, counted
                future.cancel()
                wait = delivery.record_error(part, exc)
            else:
                wait = settle(delivery, part, results)
            if wait is not None:
                abandon.wait(wait)

    def close(self, timeout: float = 2.0) -> None:
        """Close the connection (within about ``timeout`` seconds); the last link stops the loop."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):  # a loop that no longer runs (a forked child)
            future = asyncio.run_coroutine_threadsafe(self.publisher.close(), self._loop)
            future.result(timeout)
        _SHARED.release(self._loop, timeout)
