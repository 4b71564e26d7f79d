"""Metric family builders shared by the collectors (every name through :func:`metric_name`)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from algowatch.exporters._naming import metric_name
from algowatch.monitor import HistogramData

__all__ = ["add_histogram", "counter", "gauge", "gauge_value", "histogram", "trading_name"]


def trading_name(*words: str, unit: str | None = None, total: bool = False) -> str:
    """Return the ``trading_`` metric name of ``words`` (see :func:`metric_name`)."""
    return metric_name("trading", *words, unit=unit, total=total)


def gauge(family: str, doc: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    """Return an empty gauge family."""
    return GaugeMetricFamily(family, doc, labels=list(labels))


def counter(family: str, doc: str, labels: Iterable[str] = ()) -> CounterMetricFamily:
    """Return an empty counter family (``family`` without ``_total``)."""
    return CounterMetricFamily(family, doc, labels=list(labels))


def histogram(family: str, doc: str) -> HistogramMetricFamily:
    """Return an empty histogram family without labels."""
    return HistogramMetricFamily(family, doc, labels=[])


def gauge_value(value: float) -> float:
    """Return ``value`` for a gauge: an undefined figure (NaN, ±inf) is NaN, never 0."""
    return value if math.isfinite(value) else math.nan


def add_histogram(family: HistogramMetricFamily, data: HistogramData) -> None:
    """Add the engine's histogram ``data`` to ``family`` (cumulative buckets)."""
    cumulative = data.cumulative()
    buckets = [(repr(float(b)), float(c)) for b, c in zip(data.bounds, cumulative, strict=False)]
    buckets.append(("+Inf", float(cumulative[-1])))
    # with a negative bucket prometheus_client leaves out _sum and _count (OpenMetrics, B6)
    family.add_metric([], buckets, data.sum)
