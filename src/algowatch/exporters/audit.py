"""Collector of the audit trail: writer state and the last verification result.

A failing provider is counted in
``algowatch_exporter_provider_errors_total{provider="audit"}`` and its families are
left out of that scrape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from algowatch.exporters._families import gauge
from algowatch.exporters._naming import metric_name
from algowatch.exporters._providers import ProviderErrors

__all__ = ["AuditCollector"]


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
            gauge(
                metric_name("algowatch", "audit_writer_up"),
                "1 while the audit trail writer is healthy, 0 after it failed closed.",
            ),
            gauge(
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
