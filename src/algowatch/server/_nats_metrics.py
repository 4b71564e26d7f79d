"""The Prometheus collector of the NATS source: lag, positions and message counters."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from algowatch.exporters import metric_name
from algowatch.server._nats import NatsSource

__all__ = ["LAG_METRIC", "NatsCollector"]

LAG_METRIC = metric_name("algowatch", "nats", "consumer", "lag", unit="events")
"""Events of the stream (matching the replica's subjects) not yet journaled and applied."""


class NatsCollector(Collector):
    """Expose the consumer's lag, applied and stream sequences, and its message counters.

    Every family has the labels ``stream`` and ``consumer`` (the durable name). The
    scrape adds ``replica`` (and ``shard``) in the rendered Prometheus configuration.
    """

    def __init__(self, source: NatsSource) -> None:
        self._source = source

    def describe(self) -> Iterator[Metric]:
        """Yield the families without samples (no collection at registration)."""
        return iter(self._families(with_values=False))

    def collect(self) -> Iterator[Metric]:
        """Yield the families with the consumer's current values."""
        return iter(self._families(with_values=True))

    def _families(self, *, with_values: bool) -> list[Metric]:
        stats = self._source.stats
        settings = self._source.settings
        labels = ["stream", "consumer"]
        values = [settings.stream, settings.durable]
        families: list[tuple[Metric, float]] = []

        def gauge(name: str, doc: str, value: float) -> None:
            families.append((GaugeMetricFamily(name, doc, labels=labels), value))

        def counter(name: str, doc: str, value: float) -> None:
            families.append((CounterMetricFamily(name, doc, labels=labels), value))

        gauge(
            LAG_METRIC,
            "Messages of the stream this replica consumes that it has not applied yet.",
            stats.lag_events,
        )
        gauge(
            metric_name("algowatch", "nats", "applied", "sequence"),
            "Stream sequence of the last message journaled and applied.",
            stats.applied_sequence,
        )
        gauge(
            metric_name("algowatch", "nats", "stream", "last", "sequence"),
            "Latest stream sequence this replica knows of.",
            stats.stream_last_sequence,
        )
        gauge(
            metric_name("algowatch", "nats", "caught", "up"),
            "1 once the replica has applied the stream as it stood at start.",
            1.0 if stats.caught_up else 0.0,
        )
        gauge(
            metric_name("algowatch", "nats", "connected"),
            "1 while connected to a NATS server.",
            1.0 if stats.connected else 0.0,
        )
        counter(
            metric_name("algowatch", "nats", "messages", total=True),
            "Messages consumed (new to the journal).",
            stats.messages,
        )
        counter(
            metric_name("algowatch", "nats", "rejected", "messages", total=True),
            "Messages refused (invalid) and republished to the dead-letter subject.",
            stats.rejected_messages,
        )
        counter(
            metric_name("algowatch", "nats", "redelivered", "messages", total=True),
            "Messages delivered again that the journal already held (skipped).",
            stats.redelivered_messages,
        )
        counter(
            metric_name("algowatch", "nats", "consumer", "resets", total=True),
            "Times the consumer was recreated at the journal's position (start, lost delivery).",
            stats.consumer_resets,
        )
        out: list[Metric] = []
        for family, value in families:
            if with_values:
                assert isinstance(family, GaugeMetricFamily | CounterMetricFamily)
                family.add_metric(values, value)
            out.append(family)
        return out
