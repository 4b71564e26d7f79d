"""Prometheus collector for system metrics.

Values are read at scrape time from the runner's cache, so a scrape never waits on
a dependency. :class:`SystemCollector` exports the psutil samples; the checks
themselves are exported by :class:`algowatch.exporters.HealthCollector` from
:meth:`HealthRunner.report`. Host metrics are exported under ``algowatch_system_*``; the process's
resident memory, open file descriptors and CPU seconds are left to
prometheus_client's built-in ``process_*`` collector, which already exports them
(PROMETHEUS.md B9). Turn host metrics off with ``[health] system_metrics = false``
on hosts where node_exporter runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from algowatch.health.runner import HealthRunner

__all__ = ["SystemCollector"]

_Family = GaugeMetricFamily | CounterMetricFamily

# (metric name, help, SystemMetrics field); gauges, then counters (cumulative since boot)
_SYSTEM_GAUGES = (
    ("algowatch_system_cpu_usage_ratio", "Host CPU busy fraction.", "cpu_usage_ratio"),
    ("algowatch_system_cpus", "Logical CPUs of the host.", "cpu_count"),
    ("algowatch_system_load1", "Host load average over 1 minute.", "load_average_1m"),
    ("algowatch_system_load5", "Host load average over 5 minutes.", "load_average_5m"),
    ("algowatch_system_load15", "Host load average over 15 minutes.", "load_average_15m"),
    ("algowatch_system_memory_total_bytes", "Host physical memory.", "memory_total_bytes"),
    ("algowatch_system_memory_used_bytes", "Host memory in use.", "memory_used_bytes"),
    ("algowatch_system_memory_usage_ratio", "Host memory in use.", "memory_usage_ratio"),
    ("algowatch_system_swap_usage_ratio", "Host swap in use.", "swap_usage_ratio"),
    ("algowatch_system_network_connections", "Host inet sockets (sampled rarely).",
     "network_connections"),
    ("algowatch_process_cpu_usage_ratio", "This process's share of the host's CPUs.",
     "process_cpu_usage_ratio"),
    ("algowatch_process_threads", "Threads of this process.", "process_threads"),
    ("algowatch_process_open_files", "Regular files this process holds open.",
     "process_open_files"),
)  # fmt: skip
_DISK_GAUGES = (
    ("algowatch_system_disk_total_bytes", "Size of the file system.", "disk_total_bytes"),
    ("algowatch_system_disk_used_bytes", "Used bytes of the file system.", "disk_used_bytes"),
    ("algowatch_system_disk_usage_ratio", "Used fraction of the file system.", "disk_usage_ratio"),
)
_SYSTEM_COUNTERS = (
    ("algowatch_system_disk_read_bytes", "Bytes read by all disks since boot.", "disk_read_bytes"),
    ("algowatch_system_disk_written_bytes", "Bytes written by all disks since boot.",
     "disk_written_bytes"),
    ("algowatch_system_network_sent_bytes", "Bytes sent on all interfaces since boot.",
     "network_sent_bytes"),
    ("algowatch_system_network_received_bytes", "Bytes received on all interfaces since boot.",
     "network_received_bytes"),
)  # fmt: skip


class SystemCollector(Collector):
    """Export the runner's latest psutil sample as ``algowatch_system_*`` metrics.

    Exports nothing when ``[health] system_metrics`` is false. Register it next to
    whichever collector exports the checks; it never reads psutil itself, the
    runner's background task does.

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry
    >>> from algowatch.health import HealthRunner
    >>> from algowatch.settings import HealthSettings
    >>> collector = SystemCollector(HealthRunner(HealthSettings(system_metrics=False)))
    >>> list(collector.describe())
    []

    .. versionadded:: 0.1.0
    """

    def __init__(self, runner: HealthRunner) -> None:
        self._runner = runner

    def describe(self) -> Iterable[Metric]:
        """Return the metric families without reading any value."""
        return list(self._families().values())

    def _families(self) -> dict[str, _Family]:
        if not self._runner.settings.system_metrics:
            return {}
        families: list[_Family] = [GaugeMetricFamily(n, h) for n, h, _ in _SYSTEM_GAUGES]
        families.extend(GaugeMetricFamily(n, h, labels=("path",)) for n, h, _ in _DISK_GAUGES)
        families.extend(CounterMetricFamily(n, h) for n, h, _ in _SYSTEM_COUNTERS)
        return {f.name: f for f in families}

    def collect(self) -> Iterable[Metric]:
        """Return the metric families with the latest sample (none before the first)."""
        families = self._families()
        system = self._runner.system_metrics
        if system is None or not families:
            return []
        for name, _, field in (*_SYSTEM_GAUGES, *_SYSTEM_COUNTERS):
            value = getattr(system, field)
            if value is not None:
                families[name].add_metric([], float(value))
        for name, _, field in _DISK_GAUGES:
            families[name].add_metric([system.disk_path], float(getattr(system, field)))
        return list(families.values())
