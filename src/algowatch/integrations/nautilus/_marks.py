"""Throttle prices into ``mark`` events: at most one per symbol per interval of event time."""

from __future__ import annotations

from algowatch import events as ev

__all__ = ["MarkThrottle"]


class MarkThrottle:
    """Pass a symbol's first mark in each interval; hold back the latest of the rest.

    Event time (the price's ``ts``) drives it, so a backtest is throttled as a live node
    is. :meth:`drain` returns the held-back marks (the latest price of each symbol), to
    send when the source stops.

    Examples
    --------
    >>> throttle = MarkThrottle(interval_seconds=1.0)
    >>> [m.price for m in (throttle.offer(ev.Mark(ts=t, symbol="X", price=p))
    ...  for t, p in [(0, 1.0), (5 * 10**8, 2.0), (10**9, 3.0), (12 * 10**8, 4.0)]) if m]
    [1.0, 3.0]
    >>> [m.price for m in throttle.drain()]
    [4.0]
    """

    def __init__(self, *, interval_seconds: float) -> None:
        if interval_seconds < 0:
            msg = f"interval_seconds must be >= 0, received {interval_seconds!r}"
            raise ValueError(msg)
        self._interval_ns = int(interval_seconds * 1e9)
        self._sent_ts: dict[str, int] = {}
        self._held: dict[str, ev.Mark] = {}

    def offer(self, mark: ev.Mark) -> ev.Mark | None:
        """Return the mark if it is to be sent now, else hold it back and return None."""
        last = self._sent_ts.get(mark.symbol)
        if last is None or mark.ts - last >= self._interval_ns:
            self._sent_ts[mark.symbol] = mark.ts
            self._held.pop(mark.symbol, None)
            return mark
        self._held[mark.symbol] = mark
        return None

    def drain(self) -> list[ev.Mark]:
        """Return the held-back marks and forget them."""
        held = list(self._held.values())
        for mark in held:
            self._sent_ts[mark.symbol] = mark.ts
        self._held.clear()
        return held
