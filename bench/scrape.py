"""Benchmark: a full ``/metrics`` exposition at about 1,000 and 10,000 series.

For each size, one process builds a Monitor with enough symbols, strategies and
accounts to expose the target number of series, then times (best of N):

* **algowatch**: what ``metrics_endpoint`` does per scrape, ``registry.collect()``
  (the collectors read the engine) plus ``TextEncoder.encode``, split into the
  engine's share (``Monitor.figures()``, ``counters()``, ``last_seen()``) and the exporter's share
  (families and encoding over state read once);
* **algowatch + generate_latest**: the same collectors through prometheus_client's
  encoder, to separate collection from encoding;
* **plain registry**: prometheus_client ``Gauge``/``Counter``/``Histogram`` objects
  holding the same families, label sets and values, through ``generate_latest``,
  with ``_created`` series (the library default) and without them.

Goal: algowatch not slower than the plain registry, and under 20 ms at 1,000 series.

Usage: ``.venv/bin/python bench/scrape.py [--quick] [--without-signals]``. The machine is shared
(2 cores, other jobs running): compare the ratios, measured in the same process.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from algowatch.exporters import register_collectors
from algowatch.exporters.endpoint import TextEncoder
from algowatch.monitor import Monitor
from algowatch.settings import MonitorSettings
from algowatch.testing import EventFactory, FakeClock


def _best(function: Callable[[], Any], repeat: int) -> float:
    function()  # warm-up (and fills the prefix cache, as a running service has)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def build_monitor(symbols: int, strategies: int, accounts: int, *, signals: bool = True) -> Monitor:
    """Return a monitor that traded every symbol from several strategies and accounts."""
    settings = MonitorSettings(
        max_symbols=symbols + 1, max_strategies=strategies + 1, max_accounts=accounts + 1
    )
    clock = FakeClock()
    monitor = Monitor(settings, clock=clock)
    f = EventFactory(clock)
    events = []
    for i in range(symbols):
        kw = {"strategy": f"strategy-{i % strategies}", "account": f"account-{i % accounts}"}
        symbol = f"SYM{i:05d}"
        if signals:
            events.append(f.signal(f"s{i}", symbol, "long", generation_seconds=0.002, **kw))
        events += [
            f.mark(symbol, 100.0, **kw),
            f.submitted(f"b{i}", symbol, "buy", 10, arrival_price=100.0, **kw),
            f.acknowledged(f"b{i}", **kw),
            f.filled(f"b{i}", 10, 100.05, **kw),
            f.submitted(f"r{i}", symbol, "sell", 5, arrival_price=100.0, **kw),
            f.rejected(f"r{i}", **kw),
            f.mark(symbol, 101.0, **kw),
        ]
    applied = monitor.apply_many(events)
    assert applied == len(events), (applied, len(events))
    return monitor


def plain_registry(text: str) -> CollectorRegistry:
    """Return a registry of prometheus_client metric objects holding the same families."""
    registry = CollectorRegistry(auto_describe=True)
    for family in text_string_to_metric_families(text):
        labelnames = sorted({k for s in family.samples for k in s.labels if k != "le"})
        if family.type == "histogram":
            buckets = sorted(
                {float(s.labels["le"]) for s in family.samples if s.name.endswith("_bucket")}
            )
            histogram = Histogram(
                family.name, family.documentation, buckets=buckets, registry=registry
            )
            cumulative = [s for s in family.samples if s.name.endswith("_bucket")]
            previous = 0.0
            for sample in cumulative:
                bound = float(sample.labels["le"])
                for _ in range(int(sample.value - previous)):
                    histogram.observe(bound if bound != float("inf") else 1e9)
                previous = sample.value
        elif family.type == "counter":
            counter = Counter(family.name, family.documentation, labelnames, registry=registry)
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    child = counter.labels(**sample.labels) if labelnames else counter
                    child.inc(sample.value)
        else:
            gauge = Gauge(family.name, family.documentation, labelnames, registry=registry)
            for sample in family.samples:
                child = gauge.labels(**sample.labels) if labelnames else gauge
                child.set(sample.value)
    return registry


class _ReadOnce:
    """The engine's state read once, to time the exporter without the engine's share."""

    def __init__(self, monitor: Monitor) -> None:
        self._figures = monitor.figures()
        self._counters = monitor.counters()
        self._last_seen = monitor.last_seen()

    def figures(self) -> Any:
        return self._figures

    def counters(self) -> Any:
        return self._counters

    def last_seen(self) -> Any:
        return self._last_seen


def run(target: int, repeat: int, *, signals: bool = True) -> list[tuple[str, int, float]]:
    """Time each variant at about ``target`` series; return (variant, series, seconds)."""
    # ~14 series per symbol, ~57 per strategy and per account, ~250 fixed
    strategies = max(1, min(50, target // 400))
    accounts = max(1, min(20, target // 1000))
    symbols = max(1, (target - 250 - 57 * (strategies + accounts)) // 14)
    monitor = build_monitor(symbols, strategies, accounts, signals=signals)
    ours = CollectorRegistry()
    register_collectors(ours, monitor, process=False)
    frozen = CollectorRegistry()
    register_collectors(frozen, _ReadOnce(monitor), process=False)
    encoder = TextEncoder()
    text = encoder.encode(list(ours.collect())).decode()
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))

    def read_state() -> None:
        monitor.figures()
        monitor.counters()
        monitor.last_seen()

    rows = [
        (
            "algowatch /metrics (state read + families + encode)",
            series,
            _best(lambda: encoder.encode(list(ours.collect())), repeat),
        ),
        ("  of which the engine's state read (figures ...)", series, _best(read_state, repeat)),
        (
            "  of which the exporter (families + TextEncoder)",
            series,
            _best(lambda: encoder.encode(list(frozen.collect())), repeat),
        ),
        (
            "algowatch collectors + generate_latest",
            series,
            _best(lambda: generate_latest(ours), repeat),
        ),
    ]
    plain = plain_registry(text)
    plain_text = generate_latest(plain).decode()
    plain_series = sum(1 for line in plain_text.splitlines() if line and not line.startswith("#"))
    rows.append(
        (
            "plain registry, generate_latest (with _created)",
            plain_series,
            _best(lambda: generate_latest(plain), repeat),
        )
    )
    prometheus_client.disable_created_metrics()
    try:
        rows.append(
            (
                "plain registry, generate_latest (no _created)",
                series,
                _best(lambda: generate_latest(plain), repeat),
            )
        )
    finally:
        prometheus_client.enable_created_metrics()
    return rows


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument(
        "--without-signals",
        action="store_true",
        help="no signal events (the engine's signal statistics dominate Monitor.figures())",
    )
    args = parser.parse_args()
    repeat = 5 if args.quick else 20
    print(
        f"python {platform.python_version()} on {platform.machine()}, best of {repeat} "
        "(shared machine: compare ratios)"
    )
    print(f"{'target':>7}  {'variant':<52} {'series':>7} {'ms':>8} {'plain/this':>11}")
    for target in (1_000, 10_000):
        rows = run(target, repeat, signals=not args.without_signals)
        baseline = rows[-1][2]
        for name, series, seconds in rows:
            print(
                f"{target:>7}  {name:<52} {series:>7} {seconds * 1e3:>8.2f} "
                f"{baseline / seconds:>10.2f}x"
            )


if __name__ == "__main__":
    main()
