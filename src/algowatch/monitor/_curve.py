"""The portfolio's equity curve: one point per interval, bounded, and its recent history.

The interval points (a minute by default) are the snapshot's ``equity_curve``; the
history is a second curve of the same kind at a fine interval (a second by default) for
``GET /api/v1/equity``, which down-samples it (LTTB) for the dashboard.

Compiled with the engine (see :mod:`algowatch._native`).
"""

from __future__ import annotations

from collections import deque

__all__ = ["EquityCurve"]


class EquityCurve:
    """The last equity of each ``interval_ns`` interval, at most ``points`` of them.

    The points are in event-time order. The engine applies events in arrival order, so
    the equity after a late event (one stamped before the latest point) is the equity
    as of the latest point, not as of the late event's own time: it replaces the
    latest point's equity at that point's time. A stray old event (a file dated last
    year sent to a live service) thus never draws the line back in time.

    Closed intervals are in a deque; the open interval's point is kept in fields, so a
    mark costs a comparison and two stores.
    """

    __slots__ = (
        "_bucket",
        "_closed",
        "_equity",
        "_fine",
        "_interval_ns",
        "_open",
        "_points",
        "_ts",
    )

    def __init__(
        self,
        points: int,
        interval_ns: int,
        history_points: int = 0,
        history_interval_ns: int = 1_000_000_000,
    ) -> None:
        self._points = points
        # the fine history, a curve of its own; None when it is off
        self._fine: EquityCurve | None = (
            EquityCurve(history_points, history_interval_ns) if history_points > 0 else None
        )
        self._closed: deque[tuple[int, float]] = deque(maxlen=max(0, points - 1))
        self._interval_ns = max(1, interval_ns)
        self._open = False
        self._bucket = 0
        self._ts = 0
        self._equity = 0.0

    def record(self, ts: int, equity: float) -> None:
        """Record ``equity`` at ``ts``, or at the latest point's time when ``ts`` is before it.

        Examples
        --------
        >>> curve = EquityCurve(points=10, interval_ns=10)
        >>> for ts, equity in [(5, 100.0), (15, 101.0), (3, 99.0), (27, 102.0)]:
        ...     curve.record(ts, equity)
        >>> curve.points()  # the late event at 3 counts at 15, the latest point then
        [(5, 100.0), (15, 99.0), (27, 102.0)]
        """
        fine = self._fine
        if fine is not None:
            fine.record(ts, equity)
        if self._open:
            if ts <= self._ts:
                self._equity = equity
                return
            bucket = ts // self._interval_ns
            if bucket == self._bucket:
                self._ts = ts
                self._equity = equity
                return
            self._closed.append((self._ts, self._equity))
        else:
            bucket = ts // self._interval_ns
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

    def history(self) -> list[tuple[int, float]]:
        """Return the finest ``(ts, equity)`` series kept, oldest first.

        The fine history where it reaches, the interval points before it (every
        interval point when the history is off).
        """
        fine = self._fine
        recent = fine.points() if fine is not None else []
        if not recent:
            return self.points()
        first = recent[0][0]
        return [point for point in self.points() if point[0] < first] + recent
