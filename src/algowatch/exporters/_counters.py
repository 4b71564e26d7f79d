"""The engine's counters and histograms as metric families (orders, signals, errors, ...)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client.metrics_core import Metric

from algowatch.exporters._families import add_histogram, counter, histogram, trading_name
from algowatch.exporters._naming import metric_name
from algowatch.monitor import CounterState, HistogramData

__all__ = ["ORDER_STATUSES", "SIGNAL_DIRECTIONS", "counter_families", "histogram_families"]

#: Terminal order statuses, each pre-created at 0 for every (symbol, side, type) seen (B7).
ORDER_STATUSES: tuple[str, ...] = ("filled", "rejected", "canceled", "partially_filled")
#: Signal directions, each pre-created at 0 for every strategy seen.
SIGNAL_DIRECTIONS: tuple[str, ...] = ("long", "short", "flat")

# (the histogram, family name, help)
_HISTOGRAMS: tuple[tuple[Callable[[CounterState], HistogramData], str, str], ...] = (
    (
        lambda c: c.order_latency_seconds,
        trading_name("order_latency", unit="seconds"),
        "Submit-to-completing-fill latency of filled orders.",
    ),
    (
        lambda c: c.ack_latency_seconds,
        trading_name("order_ack_latency", unit="seconds"),
        "Submit-to-acknowledgement latency of orders.",
    ),
    (
        lambda c: c.signal_generation_seconds,
        trading_name("signal_generation", unit="seconds"),
        "Time the strategy took to generate a signal.",
    ),
    (
        lambda c: c.slippage_bps,
        trading_name("slippage", unit="basis_points"),
        "Slippage of each filled order against its arrival price, in basis points "
        "(positive = unfavourable). Negative buckets: no _sum or _count series (OpenMetrics); "
        "the count is the +Inf bucket, the mean is trading_mean_slippage_basis_points.",
    ),
    (
        lambda c: c.market_data_latency_seconds,
        trading_name("market_data_latency", unit="seconds"),
        "Exchange-to-receipt delay of marks that carry an exchange timestamp.",
    ),
)

# family names, built (and checked by metric_name) once
_ORDERS_TOTAL = trading_name("orders", total=True)
_SIGNALS_TOTAL = trading_name("signals", total=True)
_ERRORS_TOTAL = trading_name("errors", total=True)
_EVENTS_APPLIED_TOTAL = metric_name("algowatch", "events_applied", total=True)
_ANOMALIES_TOTAL = metric_name("algowatch", "anomalies", total=True)
_FOLDED_LABELS_TOTAL = metric_name("algowatch", "folded_labels", total=True)


def counter_families(counters: CounterState | None) -> list[Metric]:
    """Return the counter families, with values when ``counters`` is given."""
    orders = counter(
        _ORDERS_TOTAL,
        "Orders by terminal status, one increment per order (filled, rejected, canceled, "
        "partially_filled = canceled after partial fills).",
        ["symbol", "side", "type", "status"],
    )
    signals = counter(_SIGNALS_TOTAL, "Signals generated.", ["strategy", "direction"])
    errors = counter(
        _ERRORS_TOTAL,
        "Errors reported by the trading system.",
        ["error_type", "component"],
    )
    events = counter(
        _EVENTS_APPLIED_TOTAL,
        "Events applied to the engine, by type (duplicates excluded).",
        ["type"],
    )
    anomalies = counter(
        _ANOMALIES_TOTAL,
        "Odd events the engine tolerated (fill of an unknown order, mark of an unknown "
        "symbol, ...), by kind.",
        ["kind"],
    )
    folded = counter(
        _FOLDED_LABELS_TOTAL,
        "Events whose symbol or strategy label was folded into 'other' by the cardinality cap.",
    )
    if counters is not None:
        counts = counters.orders
        for symbol, side, order_type in sorted({k[:3] for k in counts}):
            for status in ORDER_STATUSES:
                count = counts.get((symbol, side, order_type, status), 0)
                orders.add_metric([symbol, side, order_type, status], float(count))
        extra = {k[3] for k in counts} - set(ORDER_STATUSES)
        for key in sorted(k for k in counts if k[3] in extra):
            orders.add_metric(list(key), float(counts[key]))
        by_direction = counters.signals
        for strategy in sorted({k[0] for k in by_direction}):
            for direction in SIGNAL_DIRECTIONS:
                count = by_direction.get((strategy, direction), 0)
                signals.add_metric([strategy, direction], float(count))
        for ekey, count in sorted(counters.errors.items()):
            errors.add_metric(list(ekey), float(count))
        for kind, count in sorted(counters.events.items()):
            events.add_metric([kind], float(count))
        for kind, count in sorted(counters.anomalies.items()):
            anomalies.add_metric([kind], float(count))
        folded.add_metric([], float(counters.folded_labels))
    return [orders, signals, errors, events, anomalies, folded]


def histogram_families(counters: CounterState | None) -> list[Metric]:
    """Return the histogram families, with values when ``counters`` is given."""
    families: list[Metric] = []
    for data, family_name, doc in _HISTOGRAMS:
        family = histogram(family_name, doc)
        if counters is not None:
            add_histogram(family, data(counters))
        families.append(family)
    return families
