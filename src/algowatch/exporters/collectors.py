"""Custom Prometheus collectors that read the engine's state at scrape time.

Nothing is copied into prometheus_client metric objects as events arrive: a
scrape calls :meth:`Monitor.snapshot`, :meth:`Monitor.counters` and
:meth:`Monitor.last_seen` and builds the families from them, so values are
never stale and ingestion pays nothing for metrics. Every collector defines
:meth:`describe`, so registering it never runs a collection (PROMETHEUS.md:
the auto-describe self-deadlock). No ``_created`` series are exposed: the
families are built without creation timestamps, so nothing global has to be
switched off.

If the engine cannot produce its state, the exception propagates and the
scrape fails, which turns ``up`` to 0 and fires ``TradingEngineDown``. The
optional health and audit providers are different: their failure is counted
in ``algowatch_exporter_provider_errors_total{provider}`` and their families
are left out of that scrape, so a broken health check cannot hide the P&L.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from algowatch.exporters._fields import FIELDS, Field
from algowatch.exporters._naming import metric_name
from algowatch.health import STATUSES as CHECK_STATUSES
from algowatch.monitor import CounterState, HistogramData, LastSeen
from algowatch.settings import MonitorSettings

__all__ = [
    "ORDER_STATUSES",
    "SIGNAL_DIRECTIONS",
    "AuditCollector",
    "HealthCollector",
    "MonitorState",
    "ProviderErrors",
    "TradingCollector",
    "register_collectors",
]

_log = logging.getLogger(__name__)
_NS = 1e-9
NAN = math.nan

#: Terminal order statuses, each pre-created at 0 for every (symbol, side, type) seen (B7).
ORDER_STATUSES: tuple[str, ...] = ("filled", "rejected", "canceled", "partially_filled")
#: Signal directions, each pre-created at 0 for every strategy seen.
SIGNAL_DIRECTIONS: tuple[str, ...] = ("long", "short", "flat")
_HEALTH_STATUSES = ("starting", "healthy", "degraded", "unhealthy")
_UP_STATUSES = frozenset({"connected", "degraded"})
_BROKER_KINDS = frozenset({"broker", "broker_http"})


class MonitorState(Protocol):
    """What the trading collector reads: the part of :class:`~algowatch.monitor.Monitor` it uses."""

    def snapshot(self) -> dict[str, Any]:
        """Return the JSON-ready snapshot."""
        ...

    def positions(self) -> list[dict[str, Any]]:
        """Return the open positions."""
        ...

    def counters(self) -> CounterState:
        """Return the counters and histograms."""
        ...

    def last_seen(self) -> LastSeen:
        """Return when each source was last heard from."""
        ...


def _value(raw: Any) -> float:
    # the snapshot writes undefined as None; Prometheus gets NaN, never a misleading 0
    return NAN if raw is None else float(raw)


def _name(*words: str, unit: str | None = None, total: bool = False) -> str:
    return metric_name("trading", *words, unit=unit, total=total)


def _gauge(name: str, doc: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def _counter(name: str, doc: str, labels: Iterable[str] = ()) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, labels=list(labels))


def _histogram(name: str, doc: str) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, doc, labels=[])


def _le(bound: float) -> str:
    return repr(float(bound))


def _add_histogram(family: HistogramMetricFamily, data: HistogramData) -> None:
    cumulative = data.cumulative()
    buckets = [(_le(b), float(c)) for b, c in zip(data.bounds, cumulative, strict=False)]
    buckets.append(("+Inf", float(cumulative[-1])))
    # with a negative bucket prometheus_client leaves out _sum and _count (OpenMetrics, B6)
    family.add_metric([], buckets, data.sum)


_HISTOGRAMS: tuple[tuple[str, str, str], ...] = (
    (
        "order_latency_seconds",
        _name("order_latency", unit="seconds"),
        "Submit-to-completing-fill latency of filled orders.",
    ),
    (
        "ack_latency_seconds",
        _name("order_ack_latency", unit="seconds"),
        "Submit-to-acknowledgement latency of orders.",
    ),
    (
        "signal_generation_seconds",
        _name("signal_generation", unit="seconds"),
        "Time the strategy took to generate a signal.",
    ),
    (
        "slippage_bps",
        _name("slippage", unit="basis_points"),
        "Slippage of each filled order against its arrival price, in basis points "
        "(positive = unfavourable). Negative buckets: no _sum or _count series (OpenMetrics); "
        "the count is the +Inf bucket, the mean is trading_mean_slippage_basis_points.",
    ),
    (
        "market_data_latency_seconds",
        _name("market_data_latency", unit="seconds"),
        "Exchange-to-receipt delay of marks that carry an exchange timestamp.",
    ),
)


class TradingCollector(Collector):
    """Expose the engine's trading, execution and signal state.

    Parameters
    ----------
    monitor
        The engine (anything with ``snapshot``, ``positions``, ``counters`` and
        ``last_seen``).
    settings
        The engine's settings; ``max_symbols`` caps the per-symbol position and
        freshness series (the rest fold into ``symbol="other"``, counted in
        ``algowatch_exporter_folded_series``).

    .. versionadded:: 0.1.0
    """

    def __init__(self, monitor: MonitorState, settings: MonitorSettings | None = None) -> None:
        self._monitor = monitor
        self._max_symbols = (settings or MonitorSettings()).max_symbols

    def describe(self) -> Iterator[Metric]:
        """Yield every family this collector exposes, without samples."""
        return iter(self._families(None))

    def collect(self) -> Iterator[Metric]:
        """Yield the families with the engine's current values."""
        return iter(self._families(self._monitor))

    def _families(self, monitor: MonitorState | None) -> list[Metric]:
        snapshot = monitor.snapshot() if monitor else None
        counters = monitor.counters() if monitor else None
        families: list[Metric] = []
        families.extend(self._fields(snapshot))
        families.extend(self._counters(counters))
        families.extend(self._histograms(counters))
        positions = None
        if monitor is not None:
            # the snapshot carries the positions; asking again would rebuild them
            listed = snapshot.get("positions") if snapshot is not None else None
            positions = listed if isinstance(listed, list) else monitor.positions()
        families.extend(self._positions(positions))
        families.extend(self._last_seen(monitor.last_seen() if monitor else None))
        return families

    @staticmethod
    def _field_family(field: Field, name: str, labels: list[str]) -> Metric:
        if field.kind == "counter":
            return _counter(name, field.help, labels)
        return _gauge(name, field.help, labels)

    @staticmethod
    def _add_field(family: Metric, field: Field, labels: list[str], section: Any) -> None:
        raw = section.get(field.key) if isinstance(section, Mapping) else None
        if field.kind == "counter":
            if raw is not None:
                family.add_metric(labels, float(raw))  # type: ignore[attr-defined]
            return
        value = _value(raw)
        if field.scale == "milli":
            value /= 1000.0
        family.add_metric(labels, value)  # type: ignore[attr-defined]

    def _fields(self, snapshot: Mapping[str, Any] | None) -> list[Metric]:
        families: list[Metric] = []
        groups: tuple[tuple[str, str, str], ...] = (
            ("", "", ""),
            ("strategy_", "by_strategy", "strategy"),
            ("account_", "by_account", "account"),
        )
        for prefix, key, label in groups:
            labels = [label] if label else []
            for field in FIELDS:
                family = self._field_family(field, f"trading_{prefix}{field.name}", labels)
                if snapshot is not None:
                    if not key:
                        self._add_field(family, field, [], snapshot.get(field.section))
                    else:
                        for owner, sections in sorted(snapshot.get(key, {}).items()):
                            self._add_field(family, field, [owner], sections.get(field.section))
                families.append(family)
        return families

    @staticmethod
    def _counters(counters: CounterState | None) -> list[Metric]:
        orders = _counter(
            _name("orders", total=True),
            "Orders by terminal status, one increment per order (filled, rejected, canceled, "
            "partially_filled = canceled after partial fills).",
            ["symbol", "side", "type", "status"],
        )
        signals = _counter(
            _name("signals", total=True), "Signals generated.", ["strategy", "direction"]
        )
        errors = _counter(
            _name("errors", total=True),
            "Errors reported by the trading system.",
            ["error_type", "component"],
        )
        events = _counter(
            metric_name("algowatch", "events_applied", total=True),
            "Events applied to the engine, by type (duplicates excluded).",
            ["type"],
        )
        anomalies = _counter(
            metric_name("algowatch", "anomalies", total=True),
            "Odd events the engine tolerated (fill of an unknown order, mark of an unknown "
            "symbol, ...), by kind.",
            ["kind"],
        )
        folded = _counter(
            metric_name("algowatch", "folded_labels", total=True),
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

    @staticmethod
    def _histograms(counters: CounterState | None) -> list[Metric]:
        families: list[Metric] = []
        for attr, name, doc in _HISTOGRAMS:
            family = _histogram(name, doc)
            if counters is not None:
                _add_histogram(family, getattr(counters, attr))
            families.append(family)
        return families

    def _cap(self, symbols: Iterable[str]) -> set[str]:
        # keep the first max_symbols symbols in sorted order; the rest fold into "other"
        return set(sorted(set(symbols))[: self._max_symbols])

    def _positions(self, positions: list[dict[str, Any]] | None) -> list[Metric]:
        labels = ["account", "symbol"]
        quantity = _gauge(
            _name("position_quantity"),
            "Signed open quantity (negative = short).",
            labels,
        )
        value = _gauge(
            _name("position_market_value", unit="usd"),
            "Market value of the open position at the last mark.",
            labels,
        )
        pnl = _gauge(
            _name("position_unrealized_pnl", unit="usd"),
            "Unrealized P&L of the open position at the last mark.",
            labels,
        )
        folded = _gauge(
            metric_name("algowatch", "exporter_folded_series"),
            "Per-symbol series folded into symbol='other' by the exporter's cap at this scrape.",
        )
        if positions is not None:
            keep = self._cap(p["symbol"] for p in positions)
            totals: dict[tuple[str, str], list[float]] = {}
            folded_count = 0
            for p in positions:
                symbol = p["symbol"] if p["symbol"] in keep else "other"
                folded_count += symbol != p["symbol"]
                sign = -1.0 if p.get("side") == "short" else 1.0
                row = totals.setdefault((p["account"], symbol), [0.0, 0.0, 0.0])
                row[0] += sign * abs(float(p.get("quantity") or 0.0))
                row[1] += _value(p.get("market_value"))
                row[2] += _value(p.get("unrealized_pnl"))
            for key, (qty, mv, upnl) in sorted(totals.items()):
                quantity.add_metric(list(key), qty)
                value.add_metric(list(key), mv)
                pnl.add_metric(list(key), upnl)
            folded.add_metric([], float(folded_count))
        return [quantity, value, pnl, folded]

    def _last_seen(self, seen: LastSeen | None) -> list[Metric]:
        marks = _gauge(
            _name("last_mark_timestamp", unit="seconds"),
            "UNIX time (event time) of the last mark of each symbol.",
            ["symbol"],
        )
        beats = _gauge(
            _name("last_heartbeat_timestamp", unit="seconds"),
            "UNIX time (event time) of the last heartbeat of each component.",
            ["component"],
        )
        order = _gauge(
            _name("last_order_timestamp", unit="seconds"),
            "UNIX time (event time) of the last order event.",
        )
        event = _gauge(
            _name("last_event_timestamp", unit="seconds"),
            "UNIX time (event time) of the last event applied.",
        )
        if seen is not None:
            keep = self._cap(seen.marks)
            latest: dict[str, int] = {}
            for symbol, ts in seen.marks.items():
                key = symbol if symbol in keep else "other"
                latest[key] = max(latest.get(key, ts), ts)
            for symbol, ts in sorted(latest.items()):
                marks.add_metric([symbol], ts * _NS)
            for component, ts in sorted(seen.heartbeats.items()):
                beats.add_metric([component], ts * _NS)
            if seen.last_order_ts is not None:
                order.add_metric([], seen.last_order_ts * _NS)
            if seen.last_event_ts is not None:
                event.add_metric([], seen.last_event_ts * _NS)
        return [marks, beats, order, event]


class ProviderErrors(Collector):
    """Count failures of the optional health and audit providers.

    .. versionadded:: 0.1.0
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = {"audit": 0, "health": 0}
        self._logged: set[str] = set()

    def record(self, provider: str, exc: BaseException) -> None:
        """Count one failure of ``provider`` (logged the first time only)."""
        self.counts[provider] = self.counts.get(provider, 0) + 1
        if provider not in self._logged:
            self._logged.add(provider)
            _log.warning("metrics provider %r failed: %r (counted from now on)", provider, exc)

    def _family(self, with_values: bool) -> CounterMetricFamily:
        family = _counter(
            metric_name("algowatch", "exporter_provider_errors", total=True),
            "Scrapes in which a health or audit provider raised (its families were left out).",
            ["provider"],
        )
        if with_values:
            for provider, count in sorted(self.counts.items()):
                family.add_metric([provider], float(count))
        return family

    def describe(self) -> Iterator[Metric]:
        """Yield the error counter family, without samples."""
        yield self._family(False)

    def collect(self) -> Iterator[Metric]:
        """Yield the error counter family."""
        yield self._family(True)


class HealthCollector(Collector):
    """Expose the health runner's cached report: check up/latency, broker up, overall status.

    Parameters
    ----------
    report
        Returns the ``/health`` document (``HealthRunner.report``): ``status``
        and ``checks`` (name -> ``kind``, ``status``, ``latency_seconds``,
        ``age_seconds``). It must not wait on a dependency.
    errors
        Where provider failures are counted.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self, report: Callable[[], Mapping[str, Any]], errors: ProviderErrors | None = None
    ) -> None:
        self._report = report
        self._errors = errors or ProviderErrors()

    def describe(self) -> Iterator[Metric]:
        """Yield every family this collector exposes, without samples."""
        return iter(self._families(None))

    def collect(self) -> Iterator[Metric]:
        """Yield the families from the current report (none when the provider raises)."""
        try:
            report = self._report()
        except Exception as exc:
            self._errors.record("health", exc)
            return iter(())
        return iter(self._families(report))

    @staticmethod
    def _families(report: Mapping[str, Any] | None) -> list[Metric]:
        status = _gauge(
            metric_name("algowatch", "health_status"),
            "1 for the current overall health status, 0 for the others.",
            ["status"],
        )
        up = _gauge(
            metric_name("algowatch", "health_check_up"),
            "1 when the dependency is connected or degraded, 0 when disconnected or unknown.",
            ["check", "kind"],
        )
        duration = _gauge(
            metric_name("algowatch", "health_check_duration", unit="seconds"),
            "How long the last run of the check took (absent until the check has run).",
            ["check", "kind"],
        )
        check_status = _gauge(
            metric_name("algowatch", "health_check_status"),
            "1 for the current status of each check (connected, degraded, disconnected, unknown).",
            ["check", "kind", "status"],
        )
        age = _gauge(
            metric_name("algowatch", "health_check_observation_age", unit="seconds"),
            "Age of the newest observation a freshness check saw (marks, heartbeats, orders).",
            ["check", "kind"],
        )
        broker = _gauge(
            _name("broker_up"),
            "1 when the broker connection is connected or degraded, 0 otherwise (pg_up style).",
            ["broker"],
        )
        if report is not None:
            current = report.get("status")
            for value in _HEALTH_STATUSES:
                status.add_metric([value], 1.0 if value == current else 0.0)
            checks = report.get("checks") or {}
            for name, check in sorted(checks.items()):
                kind = str(check.get("kind", ""))
                is_up = 1.0 if check.get("status") in _UP_STATUSES else 0.0
                up.add_metric([name, kind], is_up)
                if check.get("latency_seconds") is not None:
                    duration.add_metric([name, kind], float(check["latency_seconds"]))
                for value in CHECK_STATUSES:
                    current_check = 1.0 if check.get("status") == value else 0.0
                    check_status.add_metric([name, kind, value], current_check)
                if check.get("age_seconds") is not None:
                    age.add_metric([name, kind], float(check["age_seconds"]))
                if kind in _BROKER_KINDS:
                    broker.add_metric([name], is_up)
        return [status, up, duration, check_status, age, broker]


class AuditCollector(Collector):
    """Expose the audit trail writer's state and the last verification result.

    Parameters
    ----------
    state
        Returns the writer state (``AuditWriter.state``: ``"ok"`` or
        ``"failed"``).
    verify_status
        Returns the status of the last ``audit verify`` (e.g. ``"ok"``), or
        ``None`` when none ran.
    errors
        Where provider failures are counted.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        state: Callable[[], str],
        verify_status: Callable[[], str | None] | None = None,
        errors: ProviderErrors | None = None,
    ) -> None:
        self._state = state
        self._verify = verify_status
        self._errors = errors or ProviderErrors()

    @staticmethod
    def _empty() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            _gauge(
                metric_name("algowatch", "audit_writer_up"),
                "1 while the audit trail writer is healthy, 0 after it failed closed.",
            ),
            _gauge(
                metric_name("algowatch", "audit_verify_status"),
                "1 for the status of the last audit trail verification.",
                ["status"],
            ),
        )

    def describe(self) -> Iterator[Metric]:
        """Yield both families, without samples."""
        return iter(self._empty())

    def collect(self) -> Iterator[Metric]:
        """Yield the writer state and verification status (none when the provider raises)."""
        writer, verify = self._empty()
        try:
            state = self._state()
            verified = self._verify() if self._verify else None
        except Exception as exc:
            self._errors.record("audit", exc)
            return iter(())
        writer.add_metric([], 1.0 if state == "ok" else 0.0)
        if verified is not None:
            verify.add_metric([verified], 1.0)
        return iter((writer, verify))


def register_collectors(
    registry: CollectorRegistry,
    monitor: MonitorState,
    *,
    health: Callable[[], Mapping[str, Any]] | None = None,
    audit: Callable[[], str] | None = None,
    audit_verify: Callable[[], str | None] | None = None,
    settings: MonitorSettings | None = None,
    process: bool = True,
) -> list[Collector]:
    """Register algowatch's collectors on ``registry`` and return them.

    Parameters
    ----------
    registry
        A registry of your own (never the global ``REGISTRY`` implicitly).
    monitor
        The engine whose state is exposed at scrape time.
    health
        ``HealthRunner.report`` (or any callable returning that document).
    audit
        Returns the audit writer's state, e.g. ``lambda: writer.state``.
    audit_verify
        Returns the status of the last audit verification, or ``None``.
    settings
        The engine's settings (for the per-symbol series cap).
    process
        Also register prometheus_client's ``process_*`` collector (resident
        memory, CPU seconds, open files), used by the process alerts.

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> from algowatch.monitor import Monitor
    >>> registry = CollectorRegistry()
    >>> _ = register_collectors(registry, Monitor(), process=False)
    >>> b"trading_drawdown_ratio 0.0" in generate_latest(registry)
    True

    .. versionadded:: 0.1.0
    """
    from prometheus_client import ProcessCollector  # noqa: PLC0415 - only when asked for

    errors = ProviderErrors()
    collectors: list[Collector] = [TradingCollector(monitor, settings)]
    if health is not None:
        collectors.append(HealthCollector(health, errors))
    if audit is not None:
        collectors.append(AuditCollector(audit, audit_verify, errors))
    # last, so a scrape's provider failures are counted in that same scrape
    collectors.append(errors)
    for collector in collectors:
        registry.register(collector)
    if process:
        collectors.append(ProcessCollector(registry=registry))
    return collectors
