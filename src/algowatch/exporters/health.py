"""Collectors of the health runner: the checks (cached report) and the psutil samples.

Both read the runner's cache at scrape time, so a scrape never waits on a
dependency. :class:`HealthCollector` exports the checks of
:meth:`HealthRunner.report <algowatch.health.HealthRunner.report>`;
:class:`SystemCollector` the host and process samples under ``algowatch_system_*``
and ``algowatch_process_*`` (the process's resident memory, open descriptors and
CPU seconds are left to prometheus_client's built-in ``process_*`` collector,
PROMETHEUS.md B9). Turn host metrics off with ``[health] system_metrics = false``
on hosts where node_exporter runs.

A failing report provider is counted in
``algowatch_exporter_provider_errors_total{provider="health"}`` and its families
are left out of that scrape, so a broken health check cannot hide the P&L.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from algowatch.exporters._families import gauge, trading_name
from algowatch.exporters._naming import metric_name
from algowatch.exporters._providers import ProviderErrors
from algowatch.health import BROKER_KINDS, HealthReport
from algowatch.health import STATUSES as CHECK_STATUSES

if TYPE_CHECKING:
    from algowatch.health.runner import HealthRunner
    from algowatch.health.system import SystemMetrics

_Figure = Callable[["SystemMetrics"], float | None]

__all__ = ["HealthCollector", "SystemCollector"]

_HEALTH_STATUSES = ("starting", "healthy", "degraded", "unhealthy")


class HealthCollector(Collector):
    """Expose the health runner's cached report: check up/latency, broker up, overall status.

    Parameters
    ----------
    report
        Returns the health report (``HealthRunner.report``); its ``status`` and each
        check's ``kind``, ``status``, ``latency_seconds`` and ``age_seconds`` are
        exported. It must not wait on a dependency.
    errors
        Where provider failures are counted.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       ``report`` returns the typed :class:`~algowatch.health.HealthReport`.
    """

    def __init__(
        self, report: Callable[[], HealthReport], errors: ProviderErrors | None = None
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
    def _families(report: HealthReport | None) -> list[Metric]:
        status = gauge(
            metric_name("algowatch", "health_status"),
            "1 for the current overall health status, 0 for the others.",
            ["status"],
        )
        up = gauge(
            metric_name("algowatch", "health_check_up"),
            "1 when the dependency is connected or degraded, 0 when disconnected or unknown.",
            ["check", "kind"],
        )
        duration = gauge(
            metric_name("algowatch", "health_check_duration", unit="seconds"),
            "How long the last run of the check took (absent until the check has run).",
            ["check", "kind"],
        )
        check_status = gauge(
            metric_name("algowatch", "health_check_status"),
            "1 for the current status of each check (connected, degraded, disconnected, unknown).",
            ["check", "kind", "status"],
        )
        age = gauge(
            metric_name("algowatch", "health_check_observation_age", unit="seconds"),
            "Age of the newest observation a freshness check saw (marks, heartbeats, orders).",
            ["check", "kind"],
        )
        broker = gauge(
            trading_name("broker_up"),
            "1 when the broker connection is connected or degraded, 0 otherwise (pg_up style).",
            ["broker"],
        )
        if report is not None:
            for value in _HEALTH_STATUSES:
                status.add_metric([value], 1.0 if value == report.status else 0.0)
            for name, check in sorted(report.checks.items()):
                kind = check.kind
                is_up = 1.0 if check.up else 0.0
                up.add_metric([name, kind], is_up)
                if check.latency_seconds is not None:
                    duration.add_metric([name, kind], check.latency_seconds)
                for value in CHECK_STATUSES:
                    current_check = 1.0 if check.status == value else 0.0
                    check_status.add_metric([name, kind, value], current_check)
                if check.age_seconds is not None:
                    age.add_metric([name, kind], check.age_seconds)
                if kind in BROKER_KINDS:
                    broker.add_metric([name], is_up)
        return [status, up, duration, check_status, age, broker]


_Family = GaugeMetricFamily | CounterMetricFamily


def _system(words: str, *, total: bool = False) -> str:
    # a counter's family name carries no _total (the family adds it); the check sees it
    return metric_name("algowatch", words, total=total).removesuffix("_total")


# (metric name, help, the sample's figure); gauges, then counters (cumulative since boot)
_SYSTEM_GAUGES: tuple[tuple[str, str, _Figure], ...] = (
    (_system("system_cpu_usage_ratio"), "Host CPU busy fraction.", lambda m: m.cpu_usage_ratio),
    (_system("system_cpus"), "Logical CPUs of the host.", lambda m: m.cpu_count),
    (_system("system_load1"), "Host load average over 1 minute.", lambda m: m.load_average_1m),
    (_system("system_load5"), "Host load average over 5 minutes.", lambda m: m.load_average_5m),
    (_system("system_load15"), "Host load average over 15 minutes.", lambda m: m.load_average_15m),
    (_system("system_memory_total_bytes"), "Host physical memory.", lambda m: m.memory_total_bytes),
    (_system("system_memory_used_bytes"), "Host memory in use.", lambda m: m.memory_used_bytes),
    (_system("system_memory_usage_ratio"), "Host memory in use.", lambda m: m.memory_usage_ratio),
    (_system("system_swap_usage_ratio"), "Host swap in use.", lambda m: m.swap_usage_ratio),
    (_system("system_network_connections"), "Host inet sockets (sampled rarely).",
     lambda m: m.network_connections),
    (_system("process_cpu_usage_ratio"), "This process's share of the host's CPUs.",
     lambda m: m.process_cpu_usage_ratio),
    (_system("process_threads"), "Threads of this process.", lambda m: m.process_threads),
    (_system("process_open_files"), "Regular files this process holds open.",
     lambda m: m.process_open_files),
)  # fmt: skip
_DISK_GAUGES: tuple[tuple[str, str, _Figure], ...] = (
    (_system("system_disk_total_bytes"), "Size of the file system.", lambda m: m.disk_total_bytes),
    (
        _system("system_disk_used_bytes"),
        "Used bytes of the file system.",
        lambda m: m.disk_used_bytes,
    ),
    (
        _system("system_disk_usage_ratio"),
        "Used fraction of the file system.",
        lambda m: m.disk_usage_ratio,
    ),
)
_SYSTEM_COUNTERS: tuple[tuple[str, str, _Figure], ...] = (
    (_system("system_disk_read_bytes", total=True), "Bytes read by all disks since boot.",
     lambda m: m.disk_read_bytes),
    (_system("system_disk_written_bytes", total=True), "Bytes written by all disks since boot.",
     lambda m: m.disk_written_bytes),
    (_system("system_network_sent_bytes", total=True), "Bytes sent on all interfaces since boot.",
     lambda m: m.network_sent_bytes),
    (_system("system_network_received_bytes", total=True),
     "Bytes received on all interfaces since boot.", lambda m: m.network_received_bytes),
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
        for name, _, figure in (*_SYSTEM_GAUGES, *_SYSTEM_COUNTERS):
            value = figure(system)
            if value is not None:
                families[name].add_metric([], float(value))
        for name, _, figure in _DISK_GAUGES:
            disk = figure(system)
            if disk is not None:
                families[name].add_metric([system.disk_path], float(disk))
        return list(families.values())
