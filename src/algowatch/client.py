"""The SDK a trading system uses to send its events to the algowatch service.

:class:`Client` (threads) and :class:`AsyncClient` (asyncio) buffer events in a
bounded buffer and post them in batches from the background, with retries. To run
the service inside the bot's process, use :class:`algowatch.server.InProcessMonitor`
(the SDK itself imports neither the server nor the engine).

The helpers (``order_submitted``, ``order_filled``, ``mark``, ...) never wait on
the network. Policy when the buffer is full (the service is down or slower than
the bot): wait up to ``block_seconds`` for room (``Client`` only; 0 by default),
then ``overflow="drop_oldest"`` discards the oldest waiting event (counted in
:attr:`ClientStats.dropped`) or ``overflow="raise"`` raises
:class:`BufferFullError`. Retries are safe: every event carries an ``event_id``
(a ULID, assigned once) and the service ignores ids it already stored. A
:class:`Client` still open when the interpreter exits gets two seconds to deliver
its buffer; call :meth:`Client.close` (or use ``with``) to choose the deadline.

One bad event cannot stop delivery. The helpers validate with the event contract
where they are called and raise :class:`~algowatch.errors.InvalidEventError`
naming the argument; when the service still refuses part of a batch, only the
events it names (or, if it names none, the ones found by halving the batch) are
dropped, reported to ``on_drop``, logged and counted, and the rest is delivered.
The sender logs and survives any exception.

Examples
--------
>>> import tempfile
>>> import algowatch.server  # the service, for this example only: the SDK never imports it
>>> from algowatch.settings import Settings
>>> with tempfile.TemporaryDirectory() as tmp:
...     with algowatch.server.InProcessMonitor(Settings(data_dir=tmp)) as service:
...         with Client(service.url) as client:
...             client.mark("AAPL", 190.5)
...             client.flush(timeout=10)
...         service.snapshot()["events_applied"]
FlushResult(settled=True, sent=1, rejected=0, dropped=0, failed=0)
1

.. versionadded:: 0.1.0
.. versionchanged:: 0.2.0
   ``InProcessMonitor`` moved to :mod:`algowatch.server`.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import random
import threading
import time
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Self

import httpx

from algowatch import events as ev
from algowatch._client_buffer import (
    BufferFullError,
    ClientClosedError,
    EventBuffer,
    OverflowPolicy,
)
from algowatch._client_check import check_event
from algowatch._client_delivery import (
    ClientOptions,
    Delivery,
    auth_headers,
    classify,
    tls_verify,
)
from algowatch._client_helpers import EventHelpers
from algowatch._client_nats import NatsPublisher, deliver_async, nats_publisher
from algowatch._client_nats_link import NatsLink
from algowatch._client_report import DropReporter
from algowatch._client_stats import ClientStats, DroppedEvent, DropReason, FlushResult
from algowatch._ulid import UlidGenerator
from algowatch.clock import Clock

__all__ = [
    "AsyncClient",
    "BufferFullError",
    "Client",
    "ClientClosedError",
    "ClientStats",
    "DropReason",
    "DroppedEvent",
    "FlushResult",
    "OverflowPolicy",
]

_PATH = "/api/v1/events"
_HEADERS = {"content-type": "application/x-ndjson"}
# Clients still open when the interpreter exits get this long to deliver their buffer.
_EXIT_FLUSH_SECONDS = 2.0
_OPEN_CLIENTS: weakref.WeakSet[Client] = weakref.WeakSet()


@atexit.register
def _close_open_clients() -> None:
    for client in list(_OPEN_CLIENTS):
        client.close(timeout=_EXIT_FLUSH_SECONDS)


def _new_delivery(client: Client | AsyncClient, batch: list[ev.Event]) -> Delivery:
    # Both clients hand their batches to the same Delivery logic (_client_delivery).
    return Delivery(
        batch,
        client._buffer,
        client._reporter,
        rng=client._rng,
        backoff_initial=client._options.backoff_initial,
        backoff_max=client._options.backoff_max,
        ids=client._ids,
    )


class Client(EventHelpers):
    """Send events to an algowatch service from a background thread.

    Parameters
    ----------
    base_url
        The service, e.g. ``"http://127.0.0.1:8000"``.
    token
        The service's bearer token (``ALGOWATCH_TOKEN``), if it requires one.
    batch_size
        Events per request (at most).
    flush_interval_seconds
        A partial batch waits about this long before it is sent: the sender posts what
        waited through an interval, and events arriving meanwhile linger until the next
        one (or a full batch, or a flush), so a trickle costs one post per interval.
    max_buffer_events
        Events that may wait in memory; then ``overflow`` applies.
    overflow
        ``"drop_oldest"`` (default) or ``"raise"`` (:class:`BufferFullError`).
    block_seconds
        Budget a helper may wait for room in a full buffer before ``overflow`` applies.
    timeout_seconds
        HTTP timeout per request.
    backoff_initial_seconds, backoff_max_seconds
        Retry waits double from the first to the second (with jitter), and a
        ``Retry-After`` from the service is honoured.
    clock
        Source of ``ts`` for events built by the helpers.
    strategy, account
        Default labels of the events.
    transport
        An ``httpx`` transport (tests).
    on_drop
        Called from the sender with a :class:`DroppedEvent` for each event given up
        (invalid, too large alone, undelivered at close); its exceptions are logged.

    Examples
    --------
    >>> client = Client("http://127.0.0.1:9", flush_interval_seconds=60)
    >>> client.order_submitted("o1", "AAPL", "buy", 10, "limit", limit_price=190.0)
    >>> client.stats().buffered
    1
    >>> client.close(timeout=0)
    False
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        batch_size: int = 1000,
        flush_interval_seconds: float = 0.25,
        max_buffer_events: int = 100_000,
        overflow: OverflowPolicy = "drop_oldest",
        block_seconds: float = 0.0,
        timeout_seconds: float = 10.0,
        backoff_initial_seconds: float = 0.05,
        backoff_max_seconds: float = 5.0,
        clock: Clock | None = None,
        strategy: str = "default",
        account: str = "default",
        transport: httpx.BaseTransport | None = None,
        on_drop: Callable[[DroppedEvent], object] | None = None,
        bot: str | None = None,
        create_stream: str | None = None,
    ) -> None:
        self._options = ClientOptions(
            batch_size=batch_size,
            flush_interval_seconds=flush_interval_seconds,
            backoff_initial_seconds=backoff_initial_seconds,
            backoff_max_seconds=backoff_max_seconds,
        )
        self._init_helpers(clock, strategy, account)
        self._buffer = EventBuffer(max_buffer_events, overflow, block_seconds)
        self._reporter = DropReporter(on_drop, self._buffer.counts, self._buffer.lock)
        # nats:// URLs publish to NATS JetStream instead (_client_nats)
        publisher = nats_publisher(
            base_url,
            strategy=strategy,
            bot=bot,
            token=token,
            create_stream=create_stream,
            timeout_seconds=timeout_seconds,
            backoff_max_seconds=backoff_max_seconds,
        )
        self._nats = NatsLink(publisher) if publisher is not None else None
        self._http = (
            httpx.Client(
                base_url=base_url,
                headers=auth_headers(token),
                timeout=timeout_seconds,
                transport=transport,
                verify=tls_verify(base_url),
            )
            if publisher is None
            else None
        )
        self._rng = random.Random()  # noqa: S311 - jitter, not cryptography
        self._ids = UlidGenerator()  # event ids, drawn by the sender
        self._wake = threading.Event()
        self._abandon = threading.Event()
        self._stopping = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="algowatch-client", daemon=True)
        self._thread.start()
        _OPEN_CLIENTS.add(self)

    def emit(self, event: ev.Event, *, validate: bool = True) -> None:
        """Enqueue an event built by the caller (see the typed helpers).

        ``validate=False`` skips the call-site check, for events a trusted mapper built
        from an already typed source (the integrations): the service still validates,
        and an event it refuses is dropped alone (``stats().rejected``, ``on_drop``).

        Raises
        ------
        InvalidEventError
            When the event breaks the contract (every invalid field is named); nothing
            is enqueued. The typed helpers raise it for a bad argument.
        BufferFullError
            When the buffer is full and ``overflow="raise"``.
        ClientClosedError
            After :meth:`close`.
        """
        if self._closed:
            msg = "the algowatch client is closed; create a new one"
            raise ClientClosedError(msg)
        if validate:
            event = check_event(event)
        # a full batch wakes the sender once: Event.set takes a Condition's lock and notifies,
        # which costs more than the rest of emit (and the sender may not run for a while)
        if self._buffer.put(event, may_block=True) >= self._options.batch_size and not (
            self._wake.is_set()
        ):
            self._wake.set()

    def stats(self) -> ClientStats:
        """Return the client's counters."""
        return self._buffer.stats()

    @property
    def last_error(self) -> str | None:
        """Return the latest failed answer (``"HTTP 401: ..."``) or exception, as text."""
        return self._reporter.last_error

    def flush(self, timeout: float | None = None) -> FlushResult:
        """Send every event enqueued so far; return whether all were settled in time.

        Settled means answered 202, or given up and counted (overflow, invalid,
        undeliverable). The result is true when all were settled, and counts what was
        sent, rejected, dropped and failed since the previous flush.
        """
        buffer = self._buffer
        target = buffer.request_flush()
        self._wake.set()
        with buffer.lock:
            settled = buffer.done.wait_for(lambda: buffer.counts.done >= target, timeout)
        return buffer.flush_result(settled)

    def close(self, timeout: float = 10.0) -> bool:
        """Flush for up to ``timeout`` seconds, then stop; return whether all were sent.

        Events still undelivered at the deadline are counted in ``stats().failed``.
        """
        if self._closed:
            return True
        flushed = bool(self.flush(timeout))
        self._closed = True
        self._abandon.set()
        self._stopping = True
        self._wake.set()
        self._thread.join()
        if self._nats is not None:
            self._nats.close()
        if self._http is not None:
            self._http.close()
        _OPEN_CLIENTS.discard(self)
        return flushed

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # The sender posts what waited through an interval, then waits again unless a full batch
    # or a flush is waiting (linger, as Kafka's linger.ms): events that arrive while it posts
    # are not chased with a post each, or a bot's steady trickle would become many small
    # posts, each costing the bot's process (its GIL) a request's CPU.
    def _run(self) -> None:
        while True:
            self._wake.wait(self._options.flush_interval)
            self._wake.clear()
            try:
                due = len(self._buffer)
                while batch := self._buffer.take(self._options.batch_size):
                    self._send(batch)
                    due -= len(batch)
                    if due <= 0 and not self._buffer.urgent(self._options.batch_size):
                        break  # linger until the next interval
            except Exception as exc:  # the sender must outlive any bug
                self._reporter.sender_error(exc)
            if self._stopping:
                return

    def _send(self, batch: list[ev.Event]) -> None:
        delivery = _new_delivery(self, batch)
        try:
            if self._nats is not None:
                self._nats.deliver(delivery, self._abandon)
            else:
                self._deliver(delivery)
        except Exception as exc:  # settle the batch, so flush() and close() do not wait
            self._reporter.sender_error(exc)
            delivery.abandon("internal_error", f"the sender failed: {exc!r}")

    def _deliver(self, delivery: Delivery) -> None:
        while (item := delivery.next_part()) is not None:
            if self._abandon.is_set():
                delivery.abandon()
                break
            part, body = item
            assert self._http is not None
            try:
                response = self._http.post(_PATH, content=body, headers=_HEADERS)
            except Exception as exc:  # connection errors, and whatever a transport raises
                wait = delivery.record_error(part, exc)
            else:
                wait = delivery.record(part, classify(response, None))
            if wait is not None:
                self._abandon.wait(wait)


class AsyncClient(EventHelpers):
    """Send events to an algowatch service from an asyncio task.

    Same parameters as :class:`Client` except ``block_seconds``: the async helpers
    never wait, so a full buffer applies ``overflow`` at once. Call the helpers
    from the event loop's thread; use ``async with`` or :meth:`aclose`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        batch_size: int = 1000,
        flush_interval_seconds: float = 0.25,
        max_buffer_events: int = 100_000,
        overflow: OverflowPolicy = "drop_oldest",
        timeout_seconds: float = 10.0,
        backoff_initial_seconds: float = 0.05,
        backoff_max_seconds: float = 5.0,
        clock: Clock | None = None,
        strategy: str = "default",
        account: str = "default",
        transport: httpx.AsyncBaseTransport | None = None,
        on_drop: Callable[[DroppedEvent], object] | None = None,
        bot: str | None = None,
        create_stream: str | None = None,
    ) -> None:
        self._options = ClientOptions(
            batch_size=batch_size,
            flush_interval_seconds=flush_interval_seconds,
            backoff_initial_seconds=backoff_initial_seconds,
            backoff_max_seconds=backoff_max_seconds,
        )
        self._init_helpers(clock, strategy, account)
        self._buffer = EventBuffer(max_buffer_events, overflow, 0.0)
        self._reporter = DropReporter(on_drop, self._buffer.counts, self._buffer.lock)
        # nats:// URLs publish to NATS JetStream instead (_client_nats)
        self._nats: NatsPublisher | None = nats_publisher(
            base_url,
            strategy=strategy,
            bot=bot,
            token=token,
            create_stream=create_stream,
            timeout_seconds=timeout_seconds,
            backoff_max_seconds=backoff_max_seconds,
        )
        self._http = (
            httpx.AsyncClient(
                base_url=base_url,
                headers=auth_headers(token),
                timeout=timeout_seconds,
                transport=transport,
                verify=tls_verify(base_url),
            )
            if self._nats is None
            else None
        )
        self._rng = random.Random()  # noqa: S311 - jitter, not cryptography
        self._ids = UlidGenerator()  # event ids, drawn by the sender
        self._wake: asyncio.Event | None = None
        self._progress: asyncio.Event | None = None
        self._abandon: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._closed = False

    def _ensure_started(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._progress = asyncio.Event()
            self._abandon = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="algowatch-async-client"
            )
            if self._nats is not None:
                self._nats.start()

    def emit(self, event: ev.Event, *, validate: bool = True) -> None:
        """Enqueue an event built by the caller (see the typed helpers).

        ``validate=False`` skips the call-site check, for events a trusted mapper built
        from an already typed source (the integrations): the service still validates,
        and an event it refuses is dropped alone (``stats().rejected``, ``on_drop``).

        Raises
        ------
        InvalidEventError
            When the event breaks the contract (every invalid field is named); nothing
            is enqueued. The typed helpers raise it for a bad argument.
        BufferFullError
            When the buffer is full and ``overflow="raise"``.
        ClientClosedError
            After :meth:`aclose`.
        """
        if self._closed:
            msg = "the algowatch client is closed; create a new one"
            raise ClientClosedError(msg)
        if validate:
            event = check_event(event)
        if self._task is None:
            self._ensure_started()
        if self._buffer.put(event, may_block=False) >= self._options.batch_size:
            assert self._wake is not None
            self._wake.set()

    def stats(self) -> ClientStats:
        """Return the client's counters."""
        return self._buffer.stats()

    @property
    def last_error(self) -> str | None:
        """Return the latest failed answer (``"HTTP 401: ..."``) or exception, as text."""
        return self._reporter.last_error

    async def flush(self, timeout: float | None = None) -> FlushResult:
        """Send every event enqueued so far; return whether all were settled in time.

        The result is as for :meth:`Client.flush`.
        """
        settled = await self._wait_settled(timeout)
        return self._buffer.flush_result(settled)

    async def _wait_settled(self, timeout: float | None) -> bool:
        target = self._buffer.request_flush()
        if self._buffer.counts.done >= target:
            return True
        self._ensure_started()
        assert self._wake is not None
        assert self._progress is not None
        self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._buffer.counts.done < target:
            self._progress.clear()
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._progress.wait(), remaining)
            except TimeoutError:
                return False
        return True

    async def aclose(self, timeout: float = 10.0) -> bool:
        """Flush for up to ``timeout`` seconds, then stop; return whether all were sent."""
        if self._closed:
            return True
        flushed = bool(await self.flush(timeout))
        self._closed = True
        self._stopping = True
        if self._task is not None:
            assert self._abandon is not None
            assert self._wake is not None
            self._abandon.set()
            self._wake.set()
            await self._task
        if self._nats is not None:
            await self._nats.close()
        if self._http is not None:
            await self._http.aclose()
        return flushed

    async def __aenter__(self) -> Self:
        self._ensure_started()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self) -> None:
        # posts and lingers as Client._run does
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._options.flush_interval)
            self._wake.clear()
            try:
                due = len(self._buffer)
                while batch := self._buffer.take(self._options.batch_size):
                    await self._send(batch)
                    due -= len(batch)
                    if due <= 0 and not self._buffer.urgent(self._options.batch_size):
                        break  # linger until the next interval
            except Exception as exc:  # the sender must outlive any bug
                self._reporter.sender_error(exc)
            if self._stopping:
                return

    async def _send(self, batch: list[ev.Event]) -> None:
        assert self._progress is not None
        delivery = _new_delivery(self, batch)
        try:
            if self._nats is not None:
                assert self._abandon is not None
                await deliver_async(self._nats, delivery, self._abandon, self._progress)
            else:
                await self._deliver(delivery)
        except Exception as exc:  # settle the batch, so flush() and aclose() do not wait
            self._reporter.sender_error(exc)
            delivery.abandon("internal_error", f"the sender failed: {exc!r}")
        self._progress.set()

    async def _deliver(self, delivery: Delivery) -> None:
        assert self._abandon is not None
        assert self._progress is not None
        while (item := delivery.next_part()) is not None:
            if self._abandon.is_set():
                delivery.abandon()
                break
            part, body = item
            assert self._http is not None
            try:
                response = await self._http.post(_PATH, content=body, headers=_HEADERS)
            except Exception as exc:  # connection errors, and whatever a transport raises
                wait = delivery.record_error(part, exc)
            else:
                wait = delivery.record(part, classify(response, None))
            self._progress.set()
            if wait is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._abandon.wait(), wait)
