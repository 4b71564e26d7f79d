"""Benchmark: the read side, a ``/metrics`` scrape at ~1,000 series and a snapshot at 60k events.

Times (best of N, seconds) on the code that is installed, so the same command run on
two checkouts compares them (``--json`` prints one line to diff):

* ``scrape_changed``: one ``mark`` applied, then a full ``/metrics`` exposition
  (``registry.collect()`` + ``TextEncoder.encode``): what a live service pays per scrape
  when events arrived since the last one;
* ``scrape_unchanged``: a scrape with no event since the previous one;
* ``snapshot_changed`` / ``snapshot_unchanged``: ``render_snapshot(Monitor.figures())`` (the JSON
  document) after 60,000 events, with and without one event applied in between;
* ``figures_changed`` / ``figures_unchanged``: ``Monitor.figures()`` (the typed read,
  where the code has it): what the risk guard and the exporter read.

Usage: ``.venv/bin/python bench/read.py [--quick] [--json]``. The machine is shared
(2 cores, other jobs running): compare ratios from runs made one after the other.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry

from algowatch import events as ev
from algowatch.exporters import register_collectors
from algowatch.exporters.endpoint import TextEncoder
from algowatch.monitor import Monitor
from algowatch.server import render_snapshot
from scrape import build_monitor  # type: ignore[import-not-found]


def _best(function: Callable[[], Any], repeat: int) -> float:
    function()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def stream(n: int) -> list[ev.Event]:
    """Return ``n`` events over about 33 hours: 2,000 equity-curve points, two session rolls."""
    out: list[ev.Event] = []
    ts = 1_735_828_200 * 1_000_000_000
    for i in range(n // 5):
        symbol = f"SYM{i % 40}"
        price = 100.0 + (i % 13) * 0.05
        labels = {"strategy": ("alpha", "beta", "gamma")[i % 3], "account": ("a", "b")[i % 2]}
        oid = f"o{i}"
        ts += 10_000_000_000
        out += [
            ev.Mark(ts=ts, symbol=symbol, price=price, bid=price - 0.01, ask=price + 0.01),
            ev.OrderSubmitted(
                ts=ts + 1,
                order_id=oid,
                symbol=symbol,
                side="buy" if (i // 400) % 2 == 0 else "sell",
                quantity=10.0,
                order_type="limit",
                **labels,
            ),
            ev.OrderAcknowledged(ts=ts + 2, order_id=oid, **labels),
            ev.OrderFilled(
                ts=ts + 3, order_id=oid, fill_id=oid, quantity=10.0, price=price, fee=0.1, **labels
            ),
            ev.Signal(
                ts=ts + 4, signal_id=oid, symbol=symbol, direction="long", confidence=0.6, **labels
            ),
        ]
    return out


class _Marks:
    # a fresh mark per call, so each timed read sees a changed state
    def __init__(self, monitor: Monitor, symbol: str) -> None:
        self.monitor = monitor
        self.symbol = symbol
        self.ts = (monitor.last_seen().last_event_ts or 0) + 1
        self.n = 0

    def apply(self) -> None:
        self.n += 1
        self.ts += 1_000_000
        price = 100.0 + (self.n % 7) * 0.01
        self.monitor.apply(ev.Mark(ts=self.ts, symbol=self.symbol, price=price))


def scrape(repeat: int) -> dict[str, float]:
    """Time a full exposition at about 1,000 series."""
    monitor = build_monitor(56, 2, 1)
    registry = CollectorRegistry()
    register_collectors(registry, monitor, process=False)
    encoder = TextEncoder()
    text = encoder.encode(list(registry.collect())).decode()
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    marks = _Marks(monitor, "SYM00000")

    def changed() -> None:
        marks.apply()
        encoder.encode(list(registry.collect()))

    return {
        "series": float(series),
        "scrape_changed": _best(changed, repeat),
        "scrape_unchanged": _best(lambda: encoder.encode(list(registry.collect())), repeat),
    }


def snapshot(events: int, repeat: int) -> dict[str, float]:
    """Time the JSON snapshot (and the typed figures, if any) after ``events`` events."""
    monitor = Monitor()
    monitor.apply_many(stream(events))
    marks = _Marks(monitor, "SYM0")

    def changed() -> None:
        marks.apply()
        render_snapshot(monitor.figures())

    out = {
        "events": float(events),
        "snapshot_changed": _best(changed, repeat),
        "snapshot_unchanged": _best(lambda: render_snapshot(monitor.figures()), repeat),
    }
    figures = getattr(monitor, "figures", None)
    if figures is not None:

        def figures_changed() -> None:
            marks.apply()
            figures()

        out["figures_changed"] = _best(figures_changed, repeat)
        out["figures_unchanged"] = _best(figures, repeat)
    return out


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    repeat = 5 if args.quick else 30
    result = {**scrape(repeat), **snapshot(60_000, repeat)}
    if args.json:
        print(json.dumps(result))
        return
    for name, value in result.items():
        shown = f"{value:10.0f}" if name in {"series", "events"} else f"{value * 1e3:10.3f} ms"
        print(f"{name:22s} {shown}")


if __name__ == "__main__":
    main()
