"""Connection checks: broker (HTTP or a callable), PostgreSQL, Redis, audit writer.

Each probe opens what it needs, does the smallest round trip that proves the
dependency answers (``GET``, ``SELECT 1``, ``PING``) and closes it again, so a
dependency that comes back is seen at the next probe. The runner cuts a probe at
its timeout; a hung server is therefore ``disconnected`` after ``timeout_seconds``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx

from algowatch.errors import MissingDependencyError
from algowatch.health._base import STATUSES, Check, CheckStatus, Outcome, _call_any, _ThreadCall

__all__ = [
    "AuditCheck",
    "BrokerCallableCheck",
    "BrokerHttpCheck",
    "PostgresCheck",
    "RedisCheck",
    "import_optional",
]


def import_optional(module: str, extra: str) -> ModuleType:
    """Import an optional dependency, or raise an error naming the extra to install.

    Raises
    ------
    MissingDependencyError
        If ``module`` cannot be imported.

    Examples
    --------
    >>> import_optional("json", "none").__name__
    'json'
    >>> import_optional("algowatch_no_such_module", "postgres")
    Traceback (most recent call last):
    ...
    algowatch.errors.MissingDependencyError: the 'postgres' extra is required for this check \
(module 'algowatch_no_such_module' is not installed): pip install 'algowatch[postgres]'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        msg = (
            f"the {extra!r} extra is required for this check (module {module!r} is not "
            f"installed): pip install 'algowatch[{extra}]'"
        )
        raise MissingDependencyError(msg) from None


class BrokerHttpCheck(Check):
    """Probe a broker's HTTP endpoint with ``GET``.

    2xx and 3xx are ``connected``, 429 (rate limited) is ``degraded``, any other
    status is ``disconnected``; connection errors and timeouts are ``disconnected``.

    Parameters
    ----------
    url
        The endpoint to ``GET`` (a status or account endpoint).
    transport
        An httpx transport, for tests (``httpx.MockTransport``) or custom TLS.
    headers
        Extra request headers (an API key).

    .. versionadded:: 0.1.0
    """

    kind = "broker_http"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name, **options)
        self.url = url
        self._transport = transport
        self._headers = headers
        # built here, not in probe(): loading the TLS trust store takes tens of
        # milliseconds of CPU, which would stall the event loop (and /health) mid-run
        self._client: httpx.AsyncClient | None = self._new_client()

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self._transport,
            headers=self._headers,
            # the runner cuts the probe at timeout_seconds; httpx's own limit is only a
            # backstop for direct use, so that the runner's message is the one reported
            timeout=self.timeout_seconds + 1.0,
            follow_redirects=False,
        )

    async def probe(self) -> Outcome:
        """Send one ``GET`` and classify the response status."""
        if self._client is None:  # closed by aclose(): the runner was restarted
            self._client = self._new_client()
        response = await self._client.get(self.url)
        code = response.status_code
        details = {"http_status": code}
        if code < 400:
            return Outcome("connected", details=details)
        error = f"HTTP {code} from {self.url}"
        status: CheckStatus = "degraded" if code == 429 else "disconnected"
        return Outcome(status, error=error, details=details)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


class BrokerCallableCheck(Check):
    """Probe a broker by calling a user function, such as ``client.get_account``.

    The function takes no arguments. A coroutine function runs on the event loop; a
    plain function runs in a thread so that a blocking call is cut at the timeout too
    (at most one call per check is in flight; while a hung call has not returned, the
    next probe reports ``disconnected`` at once). Returning normally means
    ``connected``, unless the function returns one of the status strings, which is
    then used; raising means ``disconnected`` with the error.

    Examples
    --------
    >>> import asyncio
    >>> async def get_account() -> dict[str, float]:
    ...     return {"equity": 1.0}
    >>> asyncio.run(BrokerCallableCheck("alpaca", get_account).probe()).status
    'connected'

    .. versionadded:: 0.1.0
    """

    kind = "broker"

    def __init__(self, name: str, call: Callable[[], Any], **options: Any) -> None:
        super().__init__(name, **options)
        self._call = call
        self._thread = _ThreadCall(name)

    async def probe(self) -> Outcome:
        """Call the function once."""
        value = await _call_any(self._call, self._thread)
        if isinstance(value, str) and value in STATUSES:
            error = None if value == "connected" else f"the broker probe returned {value!r}"
            return Outcome(value, error=error)
        return Outcome("connected")


class AuditCheck(Check):
    """Report the audit writer's state from a function returning ``"ok"``, ``"failed"``, ...

    ``"ok"`` is ``connected``, ``"failed"`` is ``disconnected`` (the writer failed
    closed and refuses appends), anything else is ``degraded`` with the state named.

    Examples
    --------
    >>> import asyncio
    >>> asyncio.run(AuditCheck("audit", lambda: "failed").probe()).error
    "the audit writer's state is 'failed', expected 'ok'"

    .. versionadded:: 0.1.0
    """

    kind = "audit"

    def __init__(self, name: str, state: Callable[[], str], **options: Any) -> None:
        super().__init__(name, **options)
        self._state = state
        self._thread = _ThreadCall(name)

    async def probe(self) -> Outcome:
        """Read the writer's state."""
        state = await _call_any(self._state, self._thread)
        details = {"state": state}
        if state == "ok":
            return Outcome("connected", details=details)
        error = f"the audit writer's state is {state!r}, expected 'ok'"
        return Outcome("disconnected" if state == "failed" else "degraded", error, details=details)


class PostgresCheck(Check):
    """Connect to PostgreSQL with psycopg (async) and run ``SELECT 1``.

    Needs the ``postgres`` extra; without it, construction raises
    :class:`~algowatch.errors.MissingDependencyError` naming the extra.

    Parameters
    ----------
    dsn
        A libpq connection string or URI (``postgresql://user@127.0.0.1:5432/db``).

    .. versionadded:: 0.1.0
    """

    kind = "postgres"

    def __init__(self, name: str, dsn: str, **options: Any) -> None:
        super().__init__(name, **options)
        self.dsn = dsn
        self._psycopg = import_optional("psycopg", "postgres")

    async def probe(self) -> Outcome:
        """Open a connection, run ``SELECT 1`` and close it."""
        connect_timeout = max(1, round(self.timeout_seconds))
        conn = await self._psycopg.AsyncConnection.connect(
            self.dsn, connect_timeout=connect_timeout, autocommit=True
        )
        try:
            cursor = await conn.execute("SELECT 1")
            row = await cursor.fetchone()
        finally:
            await conn.close()
        if row is None or row[0] != 1:
            return Outcome("degraded", error=f"SELECT 1 returned {row!r}, expected (1,)")
        return Outcome("connected")


class RedisCheck(Check):
    """Connect to Redis with ``redis.asyncio`` and send ``PING``.

    Needs the ``redis`` extra; without it, construction raises
    :class:`~algowatch.errors.MissingDependencyError` naming the extra.

    Parameters
    ----------
    url
        A Redis URL (``redis://127.0.0.1:6379/0``).

    .. versionadded:: 0.1.0
    """

    kind = "redis"

    def __init__(self, name: str, url: str, **options: Any) -> None:
        super().__init__(name, **options)
        self.url = url
        self._redis = import_optional("redis.asyncio", "redis")
        # one attempt per probe: the probe itself is the retry, every interval
        retry = import_optional("redis.asyncio.retry", "redis").Retry
        self._retry = retry(import_optional("redis.backoff", "redis").NoBackoff(), 0)

    async def probe(self) -> Outcome:
        """Open a client, ``PING`` and close it."""
        client = self._redis.Redis.from_url(
            self.url,
            socket_timeout=self.timeout_seconds,
            socket_connect_timeout=self.timeout_seconds,
            retry=self._retry,
        )
        try:
            pong = await client.ping()
        finally:
            await client.aclose()
        if pong is not True:
            return Outcome("degraded", error=f"PING returned {pong!r}, expected True")
        return Outcome("connected")
