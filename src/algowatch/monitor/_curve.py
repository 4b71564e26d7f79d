"""The portfolio's equity curve: one point per interval, bounded.

Compiled with the engine (see :mod:`algowatch._native`).
"""

from __future__ import annotations

from collections import deque

__all__ = ["EquityCurve"]


class EquityCurve:
    """The last equity of each ``interval_ns`` interval, at most ``points`` of them.

    Closed intervals are in a deque; the open interval's point is kept in fields, so a
    mark costs a comparison and two stores.
    """

    __slots__ = ("_bucket", "_closed", "_equity", "_interval_ns", "_open", "_points", "_ts")

    def __init__(self, points: int, interval_ns: int) -> None:
        self._points = points
        self._closed: deque[tuple[int, float]] = deque(maxlen=max(0, points - 1))
        self._interval_ns = max(1, interval_ns)
        self._open = False
        self._bucket = 0
        self._ts = 0
        self._equity = 0.0

    def record(self, ts: int, equity: float) -> None:
        """Record ``equity`` at ``ts``: it becomes its interval's point unless a later one is."""
        bucket = ts // self._interval_ns
        if self._open:
            if bucket == self._bucket:
                if ts >= self._ts:
                    self._ts = ts
                    self._equity = equity
                return
            self._closed.append((self._ts, self._equity))
        self._open = True
        self._bucket = bucket
        self._ts = ts
        self._equity = equity

    def points(self) -> list[tuple[int, float]]:
        """Return the ``(ts, equity)`` points, oldest first."""
        if self._points <= 0:
            return []
        points = list(self._closed)
        if self._open:
            points.append((self._ts, self._equity))
        return points
