"""Collector of the risk guard: its level, latch, per-limit levels and alert counts.

==================================  =====  ===============================================
metric                              type   meaning
==================================  =====  ===============================================
``trading_risk_level``              gauge  0 ok, 1 warn, 2 stop_entries, 3 flatten
``trading_risk_kill_switch_engaged``gauge  1 while the flatten latch is engaged
``trading_risk_limit_level``        gauge  per ``limit``: the level that limit is at (0..3)
``trading_risk_alerts_total``       count  level changes, by ``limit`` and new ``level``
``trading_risk_hook_failures_total``count  hook calls that raised or webhooks that failed
==================================  =====  ===============================================

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from algowatch.exporters._families import trading_name
from algowatch.risk import LIMITS, RiskGuard, level_rank

__all__ = ["RiskCollector"]


class RiskCollector(Collector):
    """Expose a :class:`~algowatch.risk.guard.RiskGuard`'s state; register it on a registry.

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry
    >>> registry = CollectorRegistry()
    >>> registry.register(RiskCollector(RiskGuard()))
    >>> registry.get_sample_value("trading_risk_level")
    0.0
    """

    def __init__(self, guard: RiskGuard) -> None:
        self.guard = guard

    def collect(self) -> Iterator[Metric]:
        """Yield the metric families (called by the registry on each scrape)."""
        guard = self.guard
        state = guard.state
        yield GaugeMetricFamily(
            trading_name("risk_level"),
            "Risk guard level: 0 ok, 1 warn, 2 stop_entries, 3 flatten.",
            value=float(level_rank(state.level)),
        )
        yield GaugeMetricFamily(
            trading_name("risk_kill_switch_engaged"),
            "1 while the risk guard's flatten latch (kill switch) is engaged.",
            value=1.0 if state.latched else 0.0,
        )
        per_limit = GaugeMetricFamily(
            trading_name("risk_limit_level"),
            "Level each risk limit is at: 0 ok, 1 warn, 2 stop_entries, 3 flatten.",
            labels=["limit"],
        )
        for name in LIMITS:
            status = state.limits.get(name)
            per_limit.add_metric([name], float(level_rank(status.level)) if status else 0.0)
        yield per_limit
        alerts = CounterMetricFamily(
            trading_name("risk_alerts", total=True),
            "Risk guard level changes, by limit and new level.",
            labels=["limit", "level"],
        )
        for (limit, level), count in sorted(guard.alert_counts.items()):
            alerts.add_metric([limit, level], count)
        yield alerts
        yield CounterMetricFamily(
            trading_name("risk_hook_failures", total=True),
            "Risk guard hook calls that raised and webhooks that failed after retries.",
            value=guard.hook_failures,
        )
