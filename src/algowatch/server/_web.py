"""The web surface's guard: Host allow-list, cross-site refusal, media types, body limits.

:class:`WebGuard` is a pure ASGI middleware around the whole app. In order, for
every HTTP request:

1. the ``Host`` header must name this service (``server.allowed_hosts``; by default
   the loopback names when bound to loopback), else 400: a DNS-rebinding page
   reaches the loopback port under a name of its own;
2. a state-changing request (not GET, HEAD or OPTIONS) is refused with 403 when a
   browser says it comes from another site (an ``Origin`` other than this
   service's, or ``Sec-Fetch-Site: cross-site``/``same-site``), and with 415 unless
   its body is ``application/json`` or ``application/x-ndjson`` (the types a page
   cannot send to another origin without a CORS preflight, which is refused);
3. a body larger than ``server.max_body_bytes`` is refused with 413, from the
   declared ``Content-Length`` before reading, or as soon as the bytes read pass
   the limit; a body not complete within ``server.body_timeout_seconds`` gets 408;
   after a 413 from the declared length, a body declared no longer than twice the
   limit (at least 1 MiB) is read and discarded, within the body timeout, before
   the connection closes: closing a socket with unread data makes the kernel send a
   reset, which can reach the client instead of the 413. A longer body, or one held
   back for ``Expect: 100-continue``, is not read;
4. every response carries ``Content-Security-Policy``, ``X-Frame-Options: DENY``,
   ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
   ``Cross-Origin-Resource-Policy: same-origin``.

A client that disconnects before its body is complete is counted
(``algowatch_http_client_disconnects_total``) and logged at info, without a
traceback: it is not a server error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from algowatch.errors import AlgowatchError
from algowatch.server._auth import is_loopback
from algowatch.server._responses import problem
from algowatch.settings import ServerSettings

__all__ = [
    "ACCEPTED_MEDIA_TYPES",
    "BodyTooLargeError",
    "HttpStats",
    "WebGuard",
    "allowed_hosts",
    "read_body",
    "read_request_body",
    "require_media_type",
]

ACCEPTED_MEDIA_TYPES = ("application/json", "application/x-ndjson")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
# the dashboard loads its own script, stylesheet and data only; nothing may frame it
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# /docs and /redoc load their scripts from the app (fastapi-offline's copies) and start them
# with an inline script; Redoc runs a worker from a blob
_DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src blob:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
_COMMON_HEADERS = (
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-resource-policy", "same-origin"),
)
# after a 413, a body declared no longer than max(this, 2 x the limit) is read and discarded
_DISCARD_MIN_BYTES = 1024 * 1024
_log = logging.getLogger("algowatch.server")


class BodyTooLargeError(AlgowatchError, ValueError):
    """A request body passed its size limit (answered 413)."""


class _BodyTimeoutError(AlgowatchError, TimeoutError):
    """The body did not arrive within ``server.body_timeout_seconds`` (answered 408)."""


@dataclass
class HttpStats:
    """Counts of what the web surface refused or closed, for ``/metrics``.

    ``refused`` is keyed by reason (``host``, ``cross_site``, ``media_type``,
    ``body_too_large``); ``closed`` by reason (``header_timeout``, ``body_timeout``,
    ``connection_limit``).
    """

    client_disconnects: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)
    open_connections: int = 0


def allowed_hosts(settings: ServerSettings) -> tuple[str, ...]:
    """Return the host names the service answers to (``"*"`` for any).

    ``server.allowed_hosts`` when set; else the loopback names when bound to
    loopback, the bound address plus the loopback names when bound to one address,
    and any name when bound to every interface (``0.0.0.0`` or ``::``, which needs a
    token).

    Examples
    --------
    >>> allowed_hosts(ServerSettings())
    ('127.0.0.1', 'localhost', '::1')
    >>> allowed_hosts(ServerSettings(host="10.0.0.5", token="0123456789abcdef"))
    ('10.0.0.5', '127.0.0.1', 'localhost', '::1')
    """
    if settings.allowed_hosts:
        return tuple(_normalise_host(h) if h != "*" else h for h in settings.allowed_hosts)
    host = _normalise_host(settings.host)
    if is_loopback(host):
        return _LOOPBACK_NAMES
    if host in {"0.0.0.0", "::", ""}:  # noqa: S104 - the wildcard bind is being recognised
        return ("*",)
    return (host, *_LOOPBACK_NAMES)


def _normalise_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _host_name(header: str) -> str:
    # "127.0.0.1:8000" -> "127.0.0.1", "[::1]:8000" -> "::1", "Example.COM." -> "example.com"
    header = header.strip()
    if header.startswith("["):
        return _normalise_host(header[1:].partition("]")[0])
    if header.count(":") == 1:
        header = header.partition(":")[0]
    return _normalise_host(header)


def _host_matches(name: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        if pattern in {"*", name}:
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:]):
            return True
    return False


def _media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def require_media_type(request: Request, accepted: tuple[str, ...]) -> Response | None:
    """Return a 415 problem unless the request's body is one of ``accepted``, else ``None``."""
    media_type = _media_type(request.headers)
    if media_type in accepted:
        return None
    return problem(
        415, f"content-type must be one of {', '.join(accepted)}, received {media_type!r}"
    )


async def read_body(request: Request, limit: int) -> bytes:
    """Return the request body, reading no more than ``limit`` bytes.

    Raises
    ------
    BodyTooLargeError
        When the declared ``Content-Length`` or the bytes read pass ``limit``.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(_too_large(limit))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(_too_large(limit))
        chunks.append(chunk)
    return b"".join(chunks)


async def read_request_body(
    request: Request, accepted: tuple[str, ...], limit: int
) -> bytes | Response:
    """Return the body of a request whose content type is one of ``accepted``, or a 415.

    :func:`require_media_type`, then :func:`read_body`: a body over ``limit`` bytes
    raises :class:`BodyTooLargeError`, which :class:`WebGuard` answers with 413 (and
    counts), as it does a body over ``server.max_body_bytes``.
    """
    refused = require_media_type(request, accepted)
    if refused is not None:
        return refused
    return await read_body(request, limit)


def _too_large(limit: int) -> str:
    return f"the body is larger than the limit of {limit} bytes"


class WebGuard:
    """Guard every HTTP request of ``app`` as the module docstring describes.

    Parameters
    ----------
    app
        The ASGI app to guard.
    settings
        The ``[server]`` section (hosts, origins, body limit and timeout).
    stats
        Where refusals and disconnects are counted.
    """

    def __init__(self, app: ASGIApp, *, settings: ServerSettings, stats: HttpStats) -> None:
        self.app = app
        self.stats = stats
        self._hosts = allowed_hosts(settings)
        self._origins = frozenset(o.rstrip("/").lower() for o in settings.allowed_origins)
        self._max_body = settings.max_body_bytes
        self._body_timeout = settings.body_timeout_seconds
        self._discard_limit = max(_DISCARD_MIN_BYTES, 2 * settings.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(scope["path"], send)
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        refusal = self._refusal(scope, headers, host)
        if refusal is not None:
            if refusal.status_code == 413:
                deadline = asyncio.get_running_loop().time() + self._body_timeout
                unread = self._unread(headers)
                await self._refuse_body(
                    refusal, scope, receive, send, unread=unread, deadline=deadline
                )
            else:
                await refusal(scope, receive, send)
            return
        await self._call_with_body_guard(scope, receive, send)

    def _refusal(self, scope: Scope, headers: Headers, host: str) -> Response | None:
        if not _host_matches(_host_name(host), self._hosts):
            self.stats.refused["host"] += 1
            detail = f"the Host header {host!r} is not allowed; add it to server.allowed_hosts"
            return problem(400, detail)
        if scope["method"] in _SAFE_METHODS:
            return None
        return self._cross_site_refusal(scope, headers, host) or self._body_refusal(headers)

    def _cross_site_refusal(self, scope: Scope, headers: Headers, host: str) -> Response | None:
        origin = headers.get("origin")
        if origin is not None:
            origin = origin.rstrip("/").lower()
            own_origin = f"{scope.get('scheme', 'http')}://{host}".lower()
            if origin == own_origin or origin in self._origins:
                return None
            self.stats.refused["cross_site"] += 1
            detail = (
                f"cross-site requests are refused: Origin {origin!r} is not this "
                "service's origin (see server.allowed_origins)"
            )
            return problem(403, detail)
        site = headers.get("sec-fetch-site", "").lower()
        if site in {"cross-site", "same-site"}:
            self.stats.refused["cross_site"] += 1
            return problem(403, f"cross-site requests are refused: Sec-Fetch-Site {site!r}")
        return None

    def _body_refusal(self, headers: Headers) -> Response | None:
        media_type = _media_type(headers)
        if media_type not in ACCEPTED_MEDIA_TYPES:
            self.stats.refused["media_type"] += 1
            accepted = ", ".join(ACCEPTED_MEDIA_TYPES)
            return problem(415, f"content-type must be one of {accepted}, received {media_type!r}")
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_body:
            self.stats.refused["body_too_large"] += 1
            return problem(413, _too_large(self._max_body), headers={"Connection": "close"})
        return None

    def _unread(self, headers: Headers) -> int:
        # bytes of a refused body to read and discard: 0 when too many or held back
        declared = headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > self._discard_limit:
            return 0
        if headers.get("expect", "").lower() == "100-continue":
            return 0
        return int(declared)

    async def _refuse_body(
        self,
        response: Response,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        unread: int,
        deadline: float,
    ) -> None:
        # Send the whole 413 at once but end the response only after the unread body is
        # discarded: uvicorn closes the connection (Connection: close) as the response ends.
        if unread <= 0:
            await response(scope, receive, send)
            return

        async def send_open(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "more_body": True}
            await send(message)

        await response(scope, receive, send_open)
        await _discard(receive, unread, deadline)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _call_with_body_guard(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._body_timeout
        limit = self._max_body
        received = 0
        body_complete = False
        started = False

        async def guarded_receive() -> Message:
            nonlocal received, body_complete
            if body_complete:
                # after the body only http.disconnect can come; streams wait on it
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise _BodyTimeoutError from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(_too_large(limit))
                body_complete = not message.get("more_body", False)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracked_send)
        except BodyTooLargeError as exc:
            self.stats.refused["body_too_large"] += 1
            if not started:
                response = problem(413, str(exc), headers={"Connection": "close"})
                await response(scope, receive, send)
        except _BodyTimeoutError:
            self.stats.closed["body_timeout"] += 1
            _log.info(
                "closed a request to %s: its body was not complete within %s s",
                scope["path"],
                self._body_timeout,
            )
            if not started:
                detail = f"the body was not complete within {self._body_timeout} s"
                response = problem(408, detail, headers={"Connection": "close"})
                await response(scope, receive, send)
        except ClientDisconnect:
            self.stats.client_disconnects += 1
            _log.info(
                "client disconnected before its request body to %s was complete "
                "(%d bytes received)",
                scope["path"],
                received,
            )


async def _discard(receive: Receive, size: int, deadline: float) -> None:
    # Read and drop up to ``size`` body bytes until the body ends, the client leaves or
    # ``deadline`` (event-loop time) passes.
    discarded = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout_at(deadline):
            while discarded < size:
                message = await receive()
                if message["type"] != "http.request":
                    return
                discarded += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return


def _with_security_headers(path: str, send: Send) -> Send:
    policy = _DOCS_POLICY if path in _DOCS_PATHS else _PAGE_POLICY

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers.setdefault("content-security-policy", policy)
            for name, value in _COMMON_HEADERS:
                headers.setdefault(name, value)
        await send(message)

    return send_with_headers
