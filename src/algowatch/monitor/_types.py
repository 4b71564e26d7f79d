"""Plain-number views of the engine's state for exporters and health checks."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ACK_LATENCY_BOUNDS",
    "MARKET_DATA_LATENCY_BOUNDS",
    "ORDER_LATENCY_BOUNDS",
    "SIGNAL_GENERATION_BOUNDS",
    "SLIPPAGE_BPS_BOUNDS",
    "CounterState",
    "HistogramData",
    "LastSeen",
]

ORDER_LATENCY_BOUNDS: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0)
ACK_LATENCY_BOUNDS: tuple[float, ...] = ORDER_LATENCY_BOUNDS
SIGNAL_GENERATION_BOUNDS: tuple[float, ...] = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0)
SLIPPAGE_BPS_BOUNDS: tuple[float, ...] = (
    -10.0,
    -5.0,
    -2.0,
    -1.0,
    0.0,
    1.0,
    2.0,
    5.0,
    10.0,
    20.0,
    50.0,
)
MARKET_DATA_LATENCY_BOUNDS: tuple[float, ...] = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)


@dataclass(frozen=True, slots=True)
class HistogramData:
    """A histogram as plain numbers.

    ``counts`` are per bucket (not cumulative); the last entry is the ``+Inf``
    bucket, so ``len(counts) == len(bounds) + 1``. A value ``v`` falls in the
    first bucket whose upper bound satisfies ``v <= bound`` (Prometheus ``le``).

    Examples
    --------
    >>> h = HistogramData(bounds=(1.0, 2.0), counts=(1, 0, 2), sum=7.5, count=3)
    >>> h.cumulative()
    (1, 1, 3)

    .. versionadded:: 0.1.0
    """

    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    sum: float
    count: int

    def cumulative(self) -> tuple[int, ...]:
        """Return the cumulative bucket counts (Prometheus ``_bucket`` values)."""
        total = 0
        out: list[int] = []
        for count in self.counts:
            total += count
            out.append(total)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class CounterState:
    """Every counter and histogram of the engine, for the Prometheus exporter.

    ``orders`` is keyed by ``(symbol, side, order_type, status)`` and counts one
    increment per order at its terminal status (``filled``, ``rejected``,
    ``canceled``, or ``partially_filled`` for a cancel after partial fills); all
    four statuses are present (possibly 0) for every ``(symbol, side,
    order_type)`` seen, so a first rejection shows in ``rate()``. Symbols past
    ``max_symbols`` and strategies past ``max_strategies`` are folded into
    ``"other"``; ``folded_labels`` counts the events whose label was folded.

    .. versionadded:: 0.1.0
    """

    orders: dict[tuple[str, str, str, str], int]
    signals: dict[tuple[str, str], int]
    errors: dict[tuple[str, str], int]
    events: dict[str, int]
    anomalies: dict[str, int]
    folded_labels: int
    order_latency_seconds: HistogramData
    ack_latency_seconds: HistogramData
    signal_generation_seconds: HistogramData
    slippage_bps: HistogramData
    market_data_latency_seconds: HistogramData


@dataclass(frozen=True, slots=True)
class LastSeen:
    """When the engine last heard from each source (UNIX nanoseconds of event time).

    ``marks`` is keyed by symbol (folded like the counters), ``heartbeats`` by
    component.

    .. versionadded:: 0.1.0
    """

    marks: dict[str, int] = field(default_factory=dict)
    heartbeats: dict[str, int] = field(default_factory=dict)
    last_order_ts: int | None = None
    last_event_ts: int | None = None
