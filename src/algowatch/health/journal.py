"""The journal check: whether the service can store events right now.

Every other part of the service still answers while the journal's store is down (the
state in memory, the dashboard, ``/metrics``), but no event can be accepted. So the
check makes the service ``degraded`` (``/health`` answers 200 and says why) and not
ready (``/ready`` answers 503, so a load balancer sends the events elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from algowatch.health._base import Check, Outcome, _call_any, _ThreadCall

__all__ = ["JournalCheck"]


class JournalCheck(Check):
    """Probe the event journal by calling its ``ping`` (``Journal.ping``).

    The function takes no arguments and runs in a thread (a hung database is cut at
    the timeout); returning means ``connected``, raising means ``disconnected`` with
    the error. For PostgreSQL the ping runs ``SELECT 1`` on the journal's own
    connection and reconnects it first when it was lost (within the journal's
    backoff), so the check also brings the journal back while no event arrives. The
    SQLite journal has no server: its ping only checks that it is open.

    Not critical by default (a store outage leaves the service ``degraded``, not
    ``unhealthy``), and :attr:`gates_readiness`: while it is down ``/ready`` answers 503.

    Examples
    --------
    >>> import asyncio
    >>> def ping() -> None:
    ...     raise ConnectionError("server closed the connection unexpectedly")
    >>> check = JournalCheck("journal", ping)
    >>> (check.critical, check.gates_readiness, check.interval_seconds)
    (False, True, 1.0)
    >>> asyncio.run(JournalCheck("journal", lambda: None).probe()).status
    'connected'

    .. versionadded:: 0.2.0
    """

    kind = "journal"
    gates_readiness = True

    def __init__(
        self,
        name: str,
        ping: Callable[[], Any],
        *,
        timeout_seconds: float = 2.0,
        interval_seconds: float = 1.0,
        critical: bool = False,
    ) -> None:
        super().__init__(
            name,
            timeout_seconds=timeout_seconds,
            interval_seconds=interval_seconds,
            critical=critical,
        )
        self._ping = ping
        self._thread = _ThreadCall(name)

    async def probe(self) -> Outcome:
        """Ping the journal once."""
        await _call_any(self._ping, self._thread)
        return Outcome("connected")
