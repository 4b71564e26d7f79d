"""The trading collector: the engine's figures, counters and timestamps at scrape time.

Nothing is copied into prometheus_client metric objects as events arrive: a
scrape reads :meth:`Monitor.figures` (typed, cached until the next event),
:meth:`Monitor.counters` and :meth:`Monitor.last_seen` and builds the families
from them, so values are never stale and ingestion pays nothing for metrics.
:meth:`TradingCollector.describe` yields the families without reading the engine,
so registering never runs a collection (PROMETHEUS.md: the auto-describe
self-deadlock). No ``_created`` series are exposed.

If the engine cannot produce its state, the exception propagates and the scrape
fails, which turns ``up`` to 0 and fires ``TradingEngineDown``.

Per-symbol series use the engine's folding decision: a symbol past the first
``max_symbols`` the engine saw is labelled ``other`` in every metric (positions,
orders, last marks), the same symbol in all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from algowatch.exporters._counters import counter_families, histogram_families
from algowatch.exporters._families import counter, gauge, gauge_value, trading_name
from algowatch.exporters._naming import metric_name
from algowatch.exporters._scope_metrics import SCOPE_METRICS
from algowatch.monitor import CounterState, LastSeen, MonitorFigures, PositionFigures

__all__ = ["MonitorState", "TradingCollector"]

_NS = 1e-9
# (family infix, label) of the portfolio, per strategy and per account families
_SCOPES: tuple[tuple[str | None, str | None], ...] = (
    (None, None),
    ("strategy", "strategy"),
    ("account", "account"),
)


class MonitorState(Protocol):
    """What the trading collector reads: the part of :class:`~algowatch.monitor.Monitor` it uses."""

    def figures(self) -> MonitorFigures:
        """Return the typed figures."""
        ...

    def counters(self) -> CounterState:
        """Return the counters and histograms."""
        ...

    def last_seen(self) -> LastSeen:
        """Return when each source was last heard from."""
        ...


class TradingCollector(Collector):
    """Expose the engine's trading, execution and signal state.

    Parameters
    ----------
    monitor
        The engine (anything with ``figures``, ``counters`` and ``last_seen``).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       Reads :meth:`Monitor.figures`; per-symbol series follow the engine's
       folding (first seen), no longer a cap of the exporter's own; the
       ``settings`` parameter is gone.
    """

    def __init__(self, monitor: MonitorState) -> None:
        self._monitor = monitor
        # the family names, built (and checked) once
        self._names = [[metric.family(infix) for metric in SCOPE_METRICS] for infix, _ in _SCOPES]

    def describe(self) -> Iterator[Metric]:
        """Yield every family this collector exposes, without samples."""
        return iter(self._families(None))

    def collect(self) -> Iterator[Metric]:
        """Yield the families with the engine's current values."""
        return iter(self._families(self._monitor))

    def _families(self, monitor: MonitorState | None) -> list[Metric]:
        figures = monitor.figures() if monitor else None
        counters = monitor.counters() if monitor else None
        families = self._scope_families(figures)
        families.extend(counter_families(counters))
        families.extend(histogram_families(counters))
        families.extend(_position_families(figures.positions if figures else None))
        families.extend(_last_seen_families(monitor.last_seen() if monitor else None))
        return families

    def _scope_families(self, figures: MonitorFigures | None) -> list[Metric]:
        families: list[Metric] = []
        for (infix, label), names in zip(_SCOPES, self._names, strict=True):
            labels = [label] if label else []
            if figures is None:
                scopes = {}
            elif infix is None:
                scopes = {"": figures.portfolio}
            else:
                scopes = dict(figures.strategies if infix == "strategy" else figures.accounts)
            for metric, family_name in zip(SCOPE_METRICS, names, strict=True):
                family: CounterMetricFamily | GaugeMetricFamily
                if metric.counter:
                    family = counter(family_name, metric.help, labels)
                    for owner, scope in scopes.items():
                        family.add_metric([owner] if label else [], float(metric.figure(scope)))
                else:
                    family = gauge(family_name, metric.help, labels)
                    for owner, scope in scopes.items():
                        value = gauge_value(metric.figure(scope))
                        family.add_metric([owner] if label else [], value)
                families.append(family)
        return families


# family names, built (and checked by metric_name) once
_POSITION_QUANTITY = trading_name("position_quantity")
_POSITION_MARKET_VALUE = trading_name("position_market_value", unit="usd")
_POSITION_UNREALIZED_PNL = trading_name("position_unrealized_pnl", unit="usd")
_EXPORTER_FOLDED_SERIES = metric_name("algowatch", "exporter_folded_series")
_LAST_MARK_TIMESTAMP = trading_name("last_mark_timestamp", unit="seconds")
_LAST_HEARTBEAT_TIMESTAMP = trading_name("last_heartbeat_timestamp", unit="seconds")
_LAST_ORDER_TIMESTAMP = trading_name("last_order_timestamp", unit="seconds")
_LAST_EVENT_TIMESTAMP = trading_name("last_event_timestamp", unit="seconds")


def _position_families(positions: tuple[PositionFigures, ...] | None) -> list[Metric]:
    labels = ["account", "symbol"]
    quantity = gauge(_POSITION_QUANTITY, "Signed open quantity (negative = short).", labels)
    value = gauge(
        _POSITION_MARKET_VALUE,
        "Market value of the open position at the last mark.",
        labels,
    )
    pnl = gauge(
        _POSITION_UNREALIZED_PNL,
        "Unrealized P&L of the open position at the last mark.",
        labels,
    )
    folded = gauge(
        _EXPORTER_FOLDED_SERIES,
        "Position series folded into symbol='other' at this scrape (symbols past the "
        "engine's max_symbols, first seen first kept).",
    )
    if positions is not None:
        totals: dict[tuple[str, str], list[float]] = {}
        folded_count = 0
        for p in positions:
            folded_count += p.label != p.symbol
            row = totals.setdefault((p.account, p.label), [0.0, 0.0, 0.0])
            row[0] += p.quantity
            row[1] += gauge_value(p.market_value)
            row[2] += gauge_value(p.unrealized_pnl)
        for key, (held, market_value, unrealized) in sorted(totals.items()):
            quantity.add_metric(list(key), held)
            value.add_metric(list(key), market_value)
            pnl.add_metric(list(key), unrealized)
        folded.add_metric([], float(folded_count))
    return [quantity, value, pnl, folded]


def _last_seen_families(seen: LastSeen | None) -> list[Metric]:
    marks = gauge(
        _LAST_MARK_TIMESTAMP,
        "UNIX time (event time) of the last mark of each symbol.",
        ["symbol"],
    )
    beats = gauge(
        _LAST_HEARTBEAT_TIMESTAMP,
        "UNIX time (event time) of the last heartbeat of each component.",
        ["component"],
    )
    order = gauge(
        _LAST_ORDER_TIMESTAMP,
        "UNIX time (event time) of the last order event.",
    )
    event = gauge(
        _LAST_EVENT_TIMESTAMP,
        "UNIX time (event time) of the last event applied.",
    )
    if seen is not None:
        # keyed by the engine's symbol label already (folded symbols share "other")
        for symbol, ts in sorted(seen.marks.items()):
            marks.add_metric([symbol], ts * _NS)
        for component, ts in sorted(seen.heartbeats.items()):
            beats.add_metric([component], ts * _NS)
        if seen.last_order_ts is not None:
            order.add_metric([], seen.last_order_ts * _NS)
        if seen.last_event_ts is not None:
            event.add_metric([], seen.last_event_ts * _NS)
    return [marks, beats, order, event]
