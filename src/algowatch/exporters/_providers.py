"""Failures of the optional metric providers (health report, audit state), counted."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from algowatch.exporters._families import counter
from algowatch.exporters._naming import metric_name

__all__ = ["ProviderErrors"]

_log = logging.getLogger("algowatch.exporters.collectors")


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
        family = counter(
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
