"""Prometheus collector for the service's own ingest and stream counters."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from algowatch.exporters import metric_name
from algowatch.server._service import Service

__all__ = ["IngestCollector"]


class IngestCollector(Collector):
    """Expose ingest health: accepted, duplicate and refused events, queue depth, streams.

    ``algowatch_ingest_busy_rejections_total`` counts batches answered 503 because
    the journal was behind; a rising rate means clients are backing off.
    """

    def __init__(self, service: Service) -> None:
        self._service = service

    def describe(self) -> Iterator[Metric]:
        """Yield the families without samples (no collection at registration)."""
        return iter(self._families(with_values=False))

    def collect(self) -> Iterator[Metric]:
        """Yield the families with the service's current values."""
        return iter(self._families(with_values=True))

    def _families(self, *, with_values: bool) -> list[Metric]:
        families: list[tuple[CounterMetricFamily | GaugeMetricFamily, float]] = []
        service = self._service
        stats = service.pipeline.stats if service.pipeline is not None else None

        def counter(name: str, doc: str, value: float) -> None:
            families.append(
                (CounterMetricFamily(metric_name("algowatch", "ingest", name), doc), value)
            )

        def gauge(name: str, doc: str, value: float) -> None:
            families.append((GaugeMetricFamily(metric_name("algowatch", name), doc), value))

        counter("events", "Events journaled and applied.", stats.events if stats else 0)
        counter(
            "duplicate_events",
            "Events ignored because their event_id was known.",
            stats.duplicates if stats else 0,
        )
        counter(
            "rejected_batches",
            "Batches refused as invalid (422).",
            service.counters.get("rejected_batches", 0),
        )
        counter(
            "busy_rejections",
            "Batches refused with 503 because the journal was behind.",
            stats.rejected_busy if stats else 0,
        )
        counter(
            "journal_failures",
            "Journal appends that failed (answered 503).",
            stats.journal_failures if stats else 0,
        )
        gauge(
            "ingest_pending_events",
            "Events accepted for processing and not yet journaled.",
            service.pipeline.pending_events if service.pipeline else 0,
        )
        gauge(
            "ingest_replayed_events",
            "Events replayed from the journal at startup.",
            service.replayed_events,
        )
        gauge("stream_clients", "Open server-sent event streams.", service.broadcaster.clients)
        out: list[Metric] = []
        for family, value in families:
            if with_values:
                family.add_metric([], value)
            out.append(family)
        return out
