"""Prometheus collectors for the service's own ingest, stream and HTTP counters."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from algowatch.exporters import metric_name
from algowatch.server._service import Service
from algowatch.server._web import HttpStats

__all__ = ["HttpCollector", "IngestCollector"]


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


_REFUSAL_REASONS = ("host", "cross_site", "media_type", "body_too_large")
_CLOSE_REASONS = ("header_timeout", "body_timeout", "connection_limit")


class HttpCollector(Collector):
    """Expose what the web surface refused, closed or lost (see ``docs/api.md``).

    ``algowatch_http_client_disconnects_total`` counts requests whose client left
    before sending its whole body (not server errors);
    ``algowatch_http_refused_requests_total{reason}`` the requests refused by the
    Host, cross-site, media-type and body-size rules;
    ``algowatch_http_closed_connections_total{reason}`` the connections closed for
    slow headers or bodies or over ``server.max_connections``; and
    ``algowatch_http_connections`` the connections open now.
    """

    def __init__(self, stats: HttpStats) -> None:
        self._stats = stats

    def describe(self) -> Iterator[Metric]:
        """Yield the families without samples (no collection at registration)."""
        return iter(self._families(with_values=False))

    def collect(self) -> Iterator[Metric]:
        """Yield the families with the current counts."""
        return iter(self._families(with_values=True))

    def _families(self, *, with_values: bool) -> list[Metric]:
        stats = self._stats
        disconnects = CounterMetricFamily(
            metric_name("algowatch", "http", "client_disconnects"),
            "Requests whose client disconnected before its body was complete.",
        )
        refused = CounterMetricFamily(
            metric_name("algowatch", "http", "refused_requests"),
            "Requests refused by the Host, cross-site, media-type or body-size rules.",
            labels=["reason"],
        )
        closed = CounterMetricFamily(
            metric_name("algowatch", "http", "closed_connections"),
            "Connections closed for slow headers or bodies, or over server.max_connections.",
            labels=["reason"],
        )
        connections = GaugeMetricFamily(
            metric_name("algowatch", "http", "connections"), "HTTP connections open now."
        )
        if with_values:
            disconnects.add_metric([], stats.client_disconnects)
            for reason in _REFUSAL_REASONS:
                refused.add_metric([reason], stats.refused[reason])
            for reason in _CLOSE_REASONS:
                closed.add_metric([reason], stats.closed[reason])
            connections.add_metric([], stats.open_connections)
        return [disconnects, refused, closed, connections]
