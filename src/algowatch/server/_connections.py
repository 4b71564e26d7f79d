"""Slow and surplus clients: a header deadline, a connection cap, quiet accept errors.

uvicorn has no deadline for receiving a request's headers: its keep-alive timer is
reset by every byte, so a client that trickles one header byte a second holds its
connection (and a file descriptor) forever, and a thousand of them exhaust the
process's descriptors. :func:`guarded_protocol` returns uvicorn's httptools protocol
(the C parser llhttp: about 5% fewer event-loop instructions per 1,000-event batch than
uvicorn's pure-Python h11 protocol, the body copied three times fewer) with

- a limit of 16 KiB on a request line and headers (h11's own limit): past it the
  request is answered 400 and the connection closed;
- a deadline of ``server.header_timeout_seconds`` from the connection (or the end of
  the previous response) to the end of the request's headers, after which the
  connection is closed;
- a cap on open connections, ``server.max_connections`` and never more than the
  file-descriptor limit leaves room for (:func:`connection_budget`): past it, the
  oldest connection still waiting for its request headers is closed (a request in
  progress is never closed for the cap).

The body's deadline is kept by :class:`~algowatch.server._web.WebGuard`.

When descriptors run out anyway, asyncio's accept loop reports
``socket.accept() out of system resource`` once per pending connection, each with a
traceback; :class:`AcceptErrorLimiter` lets one line through per interval and counts
the rest.
"""

from __future__ import annotations

import asyncio
import logging
import math
import resource
import time
from collections.abc import Callable
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from algowatch.server._web import HttpStats
from algowatch.settings import ServerSettings

__all__ = ["AcceptErrorLimiter", "ConnectionBudget", "connection_budget", "guarded_protocol"]

# descriptors the process needs besides client connections: journal, audit trail, log
# file, event loop, listening socket, psutil reads, webhooks
_RESERVED_DESCRIPTORS = 64
_MAX_BACKLOG = 2048
_BATCHES_IN_FLIGHT = 3
# the limit on a request line and headers (h11's); past it the request gets 400
_HOLD_BYTES = 16 * 1024
_HEADERS_TOO_LARGE = "Request line and headers larger than 16 KiB."
_ACCEPT_ERROR = "socket.accept() out of system resource"
_log = logging.getLogger("algowatch.server")


class ConnectionBudget:
    """How many connections to keep open and how many to accept per event-loop tick.

    ``backlog`` is both the kernel's listen queue and asyncio's accept batch: it
    accepts up to ``backlog`` connections per event-loop tick, and their protocols
    (where the cap is applied) run a tick or two later, so the cap leaves room for
    three batches on top of the open connections.
    """

    def __init__(self, max_connections: int, backlog: int) -> None:
        self.max_connections = max_connections
        self.backlog = backlog

    def __repr__(self) -> str:
        return f"ConnectionBudget(max_connections={self.max_connections}, backlog={self.backlog})"


def connection_budget(
    max_connections: int, descriptor_limit: int | None = None
) -> ConnectionBudget:
    """Return the connection cap and accept backlog that fit the descriptor limit.

    Parameters
    ----------
    max_connections
        ``server.max_connections``.
    descriptor_limit
        The soft ``RLIMIT_NOFILE``; read from the process when ``None``.

    Examples
    --------
    >>> connection_budget(1000, 1024)
    ConnectionBudget(max_connections=768, backlog=64)
    >>> connection_budget(1000, 1_048_576)
    ConnectionBudget(max_connections=1000, backlog=2048)
    """
    if descriptor_limit is None:
        descriptor_limit, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if descriptor_limit == resource.RLIM_INFINITY or descriptor_limit <= 0:
        return ConnectionBudget(max_connections, _MAX_BACKLOG)
    backlog = max(16, min(_MAX_BACKLOG, descriptor_limit // 16))
    room = max(1, descriptor_limit - _BATCHES_IN_FLIGHT * backlog - _RESERVED_DESCRIPTORS)
    return ConnectionBudget(min(max_connections, room), backlog)


class _GuardedProtocol(HttpToolsProtocol):
    # set on the per-server subclass made by guarded_protocol()
    header_timeout: ClassVar[float]
    max_connections: ClassVar[int]
    stats: ClassVar[HttpStats]
    # connections waiting for request headers, oldest first (dicts keep insertion order)
    waiting: ClassVar[dict[_GuardedProtocol, None]]

    _deadline: asyncio.TimerHandle | None = None
    _seen_cycle: object = None
    _held: bytearray | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()
        if len(self.connections) > self.max_connections:
            oldest = next(iter(self.waiting))
            oldest.close_slow("connection_limit")
        self.stats.open_connections = len(self.connections)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)
        self.stats.open_connections = len(self.connections)

    def data_received(self, data: bytes) -> None:
        if self._deadline is not None:
            # waiting for headers: hold bytes back until the blank line that ends them,
            # so a client trickling a byte at a time costs a buffer append, not a parse;
            # usually the first read holds the whole request and nothing is copied
            held = self._held
            buffer: bytes | bytearray = data
            start = 0
            if held is not None:
                start = max(0, len(held) - 2)
                held += data
                buffer = held
            end = _headers_end(buffer, start)
            if end < 0 and len(buffer) <= _HOLD_BYTES:
                self._held = held if held is not None else bytearray(data)
                self._unset_keepalive_if_required()
                return
            self._held = None
            if end < 0 or end > _HOLD_BYTES:
                self._stop_waiting()
                self.send_400_response(_HEADERS_TOO_LARGE)
                return
            if held is not None:
                data = bytes(held)
        super().data_received(data)
        self._check_headers_parsed()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # a pipelined request may have been parsed by the call above
        if not self._check_headers_parsed() and not self.transport.is_closing():
            self._await_headers()

    def _check_headers_parsed(self) -> bool:
        if self.cycle is not None and self.cycle is not self._seen_cycle:
            self._seen_cycle = self.cycle
            self._stop_waiting()
            return True
        return False

    def _await_headers(self) -> None:
        self._stop_waiting()
        self.waiting[self] = None
        self._deadline = self.loop.call_later(
            self.header_timeout, self.close_slow, "header_timeout"
        )

    def _stop_waiting(self) -> None:
        self.waiting.pop(self, None)
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def close_slow(self, reason: str) -> None:
        """Close this connection, which is waiting for request headers, for ``reason``."""
        self._stop_waiting()
        self.stats.closed[reason] += 1
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("closed connection from %s: %s", self.client, reason)
        self.transport.abort()


def _headers_end(data: bytes | bytearray, start: int) -> int:
    # the offset just past the blank line that ends a request's headers (searched from
    # ``start``), or -1; a held request is usually the whole request, searched in place
    crlf = data.find(b"\n\r\n", start)
    lf = data.find(b"\n\n", start)
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf + 2
    return crlf + 3 if crlf >= 0 else -1


def guarded_protocol(
    settings: ServerSettings, stats: HttpStats, budget: ConnectionBudget
) -> type[HttpToolsProtocol]:
    """Return the uvicorn protocol class with the header limits and the connection cap.

    Each call makes a class of its own (one per server), holding that server's
    waiting connections and counting into ``stats``; the cap is
    ``budget.max_connections``.
    """
    attributes: dict[str, Any] = {
        "header_timeout": settings.header_timeout_seconds,
        "max_connections": budget.max_connections,
        "stats": stats,
        "waiting": {},
    }
    return type("GuardedProtocol", (_GuardedProtocol,), attributes)


class AcceptErrorLimiter:
    """An event-loop exception handler that rate-limits ``accept()`` resource errors.

    One ``socket.accept() out of system resource`` line (without traceback) gets
    through per ``interval`` seconds, saying how many were suppressed since the
    last; every other context goes to the loop's default handler.

    Parameters
    ----------
    interval
        Seconds between two logged accept errors.
    monotonic
        The clock measuring the interval.
    """

    def __init__(self, interval: float = 10.0, monotonic: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.suppressed = 0
        self._monotonic = monotonic
        self._next = -math.inf

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Handle one exception context of ``loop``."""
        if context.get("message") != _ACCEPT_ERROR:
            loop.default_exception_handler(context)
            return
        now = self._monotonic()
        if now < self._next:
            self.suppressed += 1
            return
        self._next = now + self.interval
        suppressed, self.suppressed = self.suppressed, 0
        logging.getLogger("asyncio").error(
            "%s: %s (%d more in the last %.0f s not logged); the process is out of file "
            "descriptors: lower server.max_connections or raise the limit (ulimit -n)",
            _ACCEPT_ERROR,
            context.get("exception"),
            suppressed,
            self.interval,
        )
