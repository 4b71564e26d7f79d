"""The /metrics handler serves the text format and encodes off the event loop."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from algowatch.exporters import metrics_endpoint, register_collectors
from algowatch.exporters.endpoint import CONTENT_TYPE
from algowatch.monitor import Monitor


class _ThreadRecordingFamily(GaugeMetricFamily):
    """A family that records which thread reads its samples (the encoder does)."""

    readers: list[int]

    @property  # type: ignore[override]
    def samples(self) -> list[object]:
        readers = self.__dict__.get("readers")
        if readers is not None:  # None while the constructor adds the sample
            readers.append(threading.get_ident())
        return self._samples

    @samples.setter
    def samples(self, value: list[object]) -> None:
        self._samples = value


class _Recording(Collector):
    def __init__(self) -> None:
        self.collect_threads: list[int] = []
        self.encode_threads: list[int] = []

    def collect(self) -> Iterator[Metric]:
        self.collect_threads.append(threading.get_ident())
        family = _ThreadRecordingFamily("trading_probe_ratio", "Probe.", value=0.5)
        family.readers = self.encode_threads
        yield family


def test_metrics_endpoint_serves_parseable_text() -> None:
    """The response parses with prometheus_client.parser and carries the 0.0.4 content type."""
    registry = CollectorRegistry()
    register_collectors(registry, Monitor(), process=False)
    app = Starlette(routes=[Route("/metrics", metrics_endpoint(registry))])
    with TestClient(app) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    names = {f.name for f in text_string_to_metric_families(response.text)}
    assert {"trading_drawdown_ratio", "trading_orders", "trading_order_latency_seconds"} <= names


def test_metrics_endpoint_encodes_in_a_worker_thread_and_collects_on_the_loop() -> None:
    """Collection (engine read) runs on the loop thread, encoding in another thread."""
    registry = CollectorRegistry()
    probe = _Recording()
    registry.register(probe)
    loop_threads: list[int] = []

    async def where(request: object) -> object:
        loop_threads.append(threading.get_ident())
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/metrics", metrics_endpoint(registry)), Route("/where", where)])
    with TestClient(app) as client:
        client.get("/where")
        body = client.get("/metrics").text
    assert "trading_probe_ratio 0.5" in body
    assert probe.collect_threads == loop_threads
    assert probe.encode_threads
    assert set(probe.encode_threads).isdisjoint(loop_threads)
