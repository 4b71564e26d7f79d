"""The engine's histogram accumulator (compiled with the engine, see :mod:`algowatch._native`)."""

from __future__ import annotations

from bisect import bisect_left

from algowatch.monitor._types import HistogramData

__all__ = ["Histogram"]


class Histogram:
    """The mutable accumulator behind :class:`HistogramData`; ``observe`` is O(log buckets)."""

    __slots__ = ("bounds", "count", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        """Count one value."""
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value
        self.count += 1

    def data(self) -> HistogramData:
        """Return a copy as plain numbers."""
        return HistogramData(self.bounds, tuple(self.counts), self.total, self.count)
