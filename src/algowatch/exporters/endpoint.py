"""The ``/metrics`` endpoint: collect on the event loop, encode in a worker thread.

``prometheus_client.make_asgi_app`` runs collection, text encoding and gzip
synchronously inside its async handler, so a scrape stops the event loop that
ingests events for the whole exposition (PROMETHEUS.md). Here the handler
splits the work:

1. ``registry.collect()`` runs on the event loop. The engine is single-threaded
   and mutated by the loop, so this is where its state is read consistently;
   the collectors only copy plain numbers into metric families.
2. :func:`encode_text` turns the families into the text format (0.0.4) in a
   worker thread (``run_in_threadpool``), so the loop keeps serving between
   GIL switches.

:func:`encode_text` produces the same lines as ``generate_latest`` but caches
each series' name-and-labels prefix between scrapes, which makes it faster for
the same families. ``_created`` samples are never written.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import CollectorRegistry
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["CONTENT_TYPE", "TextEncoder", "encode_text", "metrics_endpoint"]

#: Content type of the Prometheus text exposition format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_INF = math.inf
_TYPES = {"info": "gauge", "stateset": "gauge", "gaugehistogram": "histogram", "unknown": "untyped"}


def _escape_label(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _number(value: float) -> str:
    if value != value:  # noqa: PLR0124 - NaN is the only value unequal to itself
        return "NaN"
    if value == _INF:
        return "+Inf"
    if value == -_INF:
        return "-Inf"
    return repr(float(value))


class TextEncoder:
    r"""Encode metric families to the Prometheus text format, caching series prefixes.

    Parameters
    ----------
    max_cached
        Prefixes kept between scrapes; the cache is emptied when it grows past
        this (series churn), so memory stays bounded.

    Examples
    --------
    >>> from prometheus_client.metrics_core import GaugeMetricFamily
    >>> g = GaugeMetricFamily("trading_drawdown_ratio", "Drawdown.", labels=["strategy"])
    >>> g.add_metric(['a"b'], 0.25)
    >>> print(TextEncoder().encode([g]).decode(), end="")
    # HELP trading_drawdown_ratio Drawdown.
    # TYPE trading_drawdown_ratio gauge
    trading_drawdown_ratio{strategy="a\"b"} 0.25

    .. versionadded:: 0.1.0
    """

    def __init__(self, max_cached: int = 200_000) -> None:
        self._prefixes: dict[tuple[str, tuple[str, ...], tuple[str, ...]], str] = {}
        self._max_cached = max_cached

    def _prefix(self, name: str, labels: dict[str, str]) -> str:
        key = (name, tuple(labels), tuple(labels.values()))
        prefix = self._prefixes.get(key)
        if prefix is None:
            if labels:
                inner = ",".join(f'{k}="{_escape_label(v)}"' for k, v in sorted(labels.items()))
                prefix = f"{name}{{{inner}}} "
            else:
                prefix = f"{name} "
            if len(self._prefixes) >= self._max_cached:
                self._prefixes.clear()
            self._prefixes[key] = prefix
        return prefix

    def encode(self, families: Iterable[Metric]) -> bytes:
        """Return the text exposition of ``families``."""
        out: list[str] = []
        append = out.append
        prefix = self._prefix
        for family in families:
            name, kind = family.name, family.type
            if kind == "counter":
                name += "_total"
            elif kind == "info":
                name += "_info"
            doc = family.documentation.replace("\\", r"\\").replace("\n", r"\n")
            append(f"# HELP {name} {doc}\n# TYPE {name} {_TYPES.get(kind, kind)}\n")
            extra: dict[str, list[str]] = {}
            created = family.name + "_created"
            for sample in family.samples:
                sname = sample.name
                if sname == created:
                    continue
                line = prefix(sname, sample.labels) + _number(sample.value)
                if sample.timestamp is not None:
                    line += f" {int(float(sample.timestamp) * 1000):d}"
                if sname in (family.name + "_gsum", family.name + "_gcount"):
                    extra.setdefault(sname, []).append(line + "\n")
                else:
                    append(line + "\n")
            for sname, lines in sorted(extra.items()):
                append(f"# HELP {sname} {doc}\n# TYPE {sname} gauge\n")
                out.extend(lines)
        return "".join(out).encode("utf-8")


def encode_text(registry: CollectorRegistry, encoder: TextEncoder | None = None) -> bytes:
    """Collect ``registry`` and return its text exposition (like ``generate_latest``).

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry, Counter
    >>> registry = CollectorRegistry()
    >>> Counter("trading_orders", "Orders.", registry=registry).inc()
    >>> encode_text(registry).splitlines()[2]
    b'trading_orders_total 1.0'

    .. versionadded:: 0.1.0
    """
    return (encoder or TextEncoder()).encode(list(registry.collect()))


def metrics_endpoint(registry: CollectorRegistry) -> Callable[[Request], Awaitable[Response]]:
    """Return an async ``/metrics`` handler for Starlette or FastAPI.

    Use it as ``app.add_route("/metrics", metrics_endpoint(registry))`` (FastAPI
    or Starlette) or ``Route("/metrics", metrics_endpoint(registry))``.
    Collection runs on the event loop (a consistent read of the engine), text
    encoding in a worker thread, so a large scrape does not stall ingestion.

    .. versionadded:: 0.1.0
    """
    encoder = TextEncoder()

    async def metrics(request: Request) -> Response:
        families = list(registry.collect())
        body = await run_in_threadpool(encoder.encode, families)
        return Response(body, media_type=CONTENT_TYPE)

    return metrics
