"""The engine's histogram accumulator (compiled with the engine, see :mod:`algowatch._native`)."""

from __future__ import annotations

from algowatch.monitor._types import HistogramData

__all__ = ["Histogram"]


class Histogram:
    """The mutable accumulator behind :class:`HistogramData`; ``observe`` is O(buckets)."""

    __slots__ = ("bounds", "count", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        """Count one value."""
        # bisect_left by hand: a dozen bounds at most, compared as machine floats when
        # compiled (NaN stops at the first bucket, as bisect_left puts it there)
        bounds = self.bounds
        index = 0
        size = len(bounds)
        while index < size and bounds[index] < value:
            index += 1
        counts = self.counts
        counts[index] = counts[index] + 1  # a machine add when compiled (+= is a generic call)
        self.total += value
        self.count += 1

    def data(self) -> HistogramData:
        """Return a copy as plain numbers."""
        return HistogramData(self.bounds, tuple(self.counts), self.total, self.count)
