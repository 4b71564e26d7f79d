"""The simulated bot's view of the risk guard: ``GET /api/v1/risk``, as any bot reads it.

:class:`RiskLevelReader` is the ``risk_level`` callable of a
:class:`~algowatch.sim.simulation.Simulation` talking to a running service: it
returns the guard's level from the service's risk API, read every
``refresh_seconds`` (real time) by a background thread, so the strategies obey the
service's one guard without sharing its process or its objects, and never wait on
the network to ask.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Self

import httpx

__all__ = ["RISK_PATH", "RiskLevelReader"]

RISK_PATH = "/api/v1/risk"

_log = logging.getLogger("algowatch.sim")
_LEVELS = frozenset({"ok", "warn", "stop_entries", "flatten"})


class RiskLevelReader:
    """Return the service's risk level, read over HTTP by a background thread.

    Calling the reader never waits on the network: it returns the level read last.
    :meth:`start` runs a thread that reads ``GET /api/v1/risk`` every
    ``refresh_seconds`` (real time), so a slow answer never stalls the trading loop
    that asks; :meth:`refresh` reads once, now. A 404 means the service runs no
    guard (``[risk] enabled = false``): the level is then ``"ok"``. Any other
    failure (connection refused, timeout, a 401 or 5xx, a body without a known
    ``level``) keeps the last level read, is counted in :attr:`errors` and logged
    once until a read succeeds again; before the first successful read the level
    is ``"ok"``.

    Parameters
    ----------
    base_url
        The service, e.g. ``"http://127.0.0.1:8000"``.
    token
        The service's bearer token, if it requires one.
    refresh_seconds
        Real seconds between two reads of the background thread.
    timeout_seconds
        HTTP timeout of one read.
    transport
        An ``httpx`` transport (tests).

    Examples
    --------
    >>> def service(request: httpx.Request) -> httpx.Response:
    ...     return httpx.Response(200, json={"level": "stop_entries", "latched": False})
    >>> with RiskLevelReader("http://algowatch", transport=httpx.MockTransport(service)) as read:
    ...     before = read()
    ...     read.refresh(), read()
    ('stop_entries', 'stop_entries')
    >>> before
    'ok'
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        refresh_seconds: float = 0.2,
        timeout_seconds: float = 2.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not refresh_seconds > 0:
            msg = f"refresh_seconds must be > 0, received {refresh_seconds!r}"
            raise ValueError(msg)
        self.refresh_seconds = refresh_seconds
        self.level = "ok"
        self.errors = 0
        self._failing = False
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=base_url, headers=headers, timeout=timeout_seconds, transport=transport
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self) -> str:
        """Return the level read last (no I/O)."""
        return self.level

    def start(self) -> Self:
        """Read the level now, then every ``refresh_seconds`` from a background thread."""
        self.refresh()
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._poll, name="algowatch-sim-risk", daemon=True
            )
            self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            self.refresh()

    def refresh(self) -> str:
        """Read the level from the service now; return it (the last one if the read failed)."""
        try:
            response = self._http.get(RISK_PATH)
            level: object
            if response.status_code == httpx.codes.NOT_FOUND:
                level = "ok"  # the service runs no guard
            else:
                response.raise_for_status()
                body = response.json()
                level = body.get("level") if isinstance(body, dict) else None
                if level not in _LEVELS:
                    msg = f"{RISK_PATH} answered without a known level: {response.text[:200]!r}"
                    raise ValueError(msg)  # noqa: TRY301 - one failure path for every cause
        except (httpx.HTTPError, ValueError) as exc:
            self.errors += 1
            if not self._failing:
                _log.warning("risk level not read, keeping %r: %r", self.level, exc)
            self._failing = True
            return self.level
        self._failing = False
        self.level = str(level)
        return self.level

    def close(self) -> None:
        """Stop the background thread and close the HTTP connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
