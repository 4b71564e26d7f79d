"""Clocks: the only place algowatch reads the time.

Library code never calls :func:`time.time`; it is handed a :class:`Clock`.
A live service uses :class:`SystemClock`; tests use
:class:`algowatch.testing.FakeClock`; a replay drives time from event timestamps.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Source of wall-clock and monotonic time, in integer nanoseconds."""

    def time_ns(self) -> int:
        """Return UNIX time in nanoseconds (UTC)."""
        ...

    def monotonic_ns(self) -> int:
        """Return a monotonic reading in nanoseconds, for durations only."""
        ...


class SystemClock:
    """The machine's clocks (:func:`time.time_ns`, :func:`time.monotonic_ns`)."""

    def time_ns(self) -> int:
        """Return UNIX time in nanoseconds (UTC)."""
        return time.time_ns()

    def monotonic_ns(self) -> int:
        """Return the monotonic clock in nanoseconds."""
        return time.monotonic_ns()
