"""The engine's cost: per fill, replay throughput, and memory on an endless stream.

1. Per-event cost of one ``order_filled`` through the whole ``Monitor`` (ledger with FIFO
   lots for the portfolio, its strategy and its account; order lifecycle; execution
   aggregates; counters; histograms; equity curve) next to the original design's
   ``TradingPrometheusMetrics.record_order`` (three prometheus_client calls on a fresh
   ``CollectorRegistry``), in the same process. Goal: <= 3x.
2. Replay throughput: NDJSON bytes -> ``decode_batch`` -> ``Monitor.apply_many``.
   Goal: >= 200,000 events/s.
3. Peak memory while 10,000,000 events are generated and applied one by one, in a
   subprocess (``resource.getrusage`` max RSS at checkpoints). Goal: flat, < 300 MB.

Usage: python bench/engine.py [--quick]
The machine may be shared: compare the ratios measured in the same process.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator

import msgspec
from prometheus_client import CollectorRegistry, Counter, Histogram

from algowatch import events as ev
from algowatch.events import decode_batch
from algowatch.monitor import Monitor

START_NS = 1_735_828_200 * 1_000_000_000
SYMBOLS = ("AAPL", "MSFT", "NVDA", "BTC-USD", "ES", "NQ", "EURUSD", "GC")


class TradingPrometheusMetrics:
    """The original design's metrics class (section 4.1), on an injected registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.orders_total = Counter(
            "trading_orders_total",
            "Total number of orders submitted",
            ["symbol", "side", "type", "status"],
            registry=registry,
        )
        self.order_latency = Histogram(
            "trading_order_latency_seconds",
            "Order execution latency",
            buckets=[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
            registry=registry,
        )
        self.slippage_bps = Histogram(
            "trading_slippage_basis_points",
            "Order slippage distribution",
            buckets=[-10, -5, -2, -1, 0, 1, 2, 5, 10, 20, 50],
            registry=registry,
        )

    def record_order(
        self,
        symbol: str,
        side: str,
        order_type: str,
        status: str,
        latency: float,
        slippage: float,
    ) -> None:
        self.orders_total.labels(symbol=symbol, side=side, type=order_type, status=status).inc()
        self.order_latency.observe(latency)
        self.slippage_bps.observe(slippage)


def _best(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_fill(n: int, strategies: tuple[str, ...], repeat: int = 7) -> tuple[float, float]:
    """Return (engine seconds per fill, record_order seconds per call), best of interleaved runs.

    The engine side: ``n`` orders are submitted (untimed), then ``n`` completing fills are
    timed; sides alternate so that round trips close and trades are booked.
    """

    def make() -> tuple[Monitor, list[ev.OrderFilled]]:
        m = Monitor()
        fills = []
        for i in range(n):
            symbol = SYMBOLS[i % len(SYMBOLS)]
            ts = START_NS + i * 1_000_000
            side = "buy" if (i // len(SYMBOLS)) % 2 == 0 else "sell"
            strategy = strategies[i % len(strategies)]
            m.apply(
                ev.OrderSubmitted(
                    ts=ts,
                    event_id=f"s{i}",
                    order_id=f"o{i}",
                    symbol=symbol,
                    side=side,
                    quantity=100.0,
                    order_type="limit",
                    arrival_price=100.0,
                    strategy=strategy,
                )
            )
            fills.append(
                ev.OrderFilled(
                    ts=ts + 500_000,
                    event_id=f"f{i}",
                    order_id=f"o{i}",
                    fill_id=f"f{i}",
                    quantity=100.0,
                    price=100.0 + (i % 7) * 0.01,
                    fee=0.5,
                    strategy=strategy,
                )
            )
        return m, fills

    args = [
        (
            SYMBOLS[i % len(SYMBOLS)],
            "buy" if i % 2 else "sell",
            "limit",
            "filled",
            0.01 * (i % 50),
            (i % 30) - 10.0,
        )
        for i in range(n)
    ]
    engine_best = baseline_best = float("inf")
    for _ in range(repeat):
        # interleaved so that load from other processes hits both sides alike
        m, fills = make()
        apply = m.apply
        gc.collect()
        start = time.perf_counter()
        for fill in fills:
            apply(fill)
        engine_best = min(engine_best, time.perf_counter() - start)
        record = TradingPrometheusMetrics(CollectorRegistry()).record_order
        gc.collect()
        start = time.perf_counter()
        for a in args:
            record(*a)
        baseline_best = min(baseline_best, time.perf_counter() - start)
    return engine_best / n, baseline_best / n


def make_ndjson(n: int) -> bytes:
    """Return n NDJSON events: per order 3 marks, submit, ack, 2 fills; signals now and then."""
    enc = msgspec.json.encode
    out: list[bytes] = []
    ts = START_NS
    i = 0
    while len(out) < n:
        symbol = SYMBOLS[i % len(SYMBOLS)]
        side = "buy" if (i // len(SYMBOLS)) % 2 == 0 else "sell"
        oid = f"o{i}"
        price = 100.0 + (i % 13) * 0.05
        rows: list[dict[str, object]] = [
            {
                "type": "mark",
                "symbol": symbol,
                "price": price,
                "bid": price - 0.01,
                "ask": price + 0.01,
                "exchange_ts": None,
            },
            {
                "type": "order_submitted",
                "order_id": oid,
                "symbol": symbol,
                "side": side,
                "quantity": 100,
                "order_type": "limit",
                "limit_price": price,
                "strategy": ("alpha", "beta")[i % 2],
            },
            {"type": "order_acknowledged", "order_id": oid},
            {"type": "mark", "symbol": symbol, "price": price + 0.01},
            {
                "type": "order_filled",
                "order_id": oid,
                "fill_id": f"{oid}-1",
                "quantity": 40,
                "price": price,
                "fee": 0.2,
            },
            {
                "type": "order_filled",
                "order_id": oid,
                "fill_id": f"{oid}-2",
                "quantity": 60,
                "price": price + 0.01,
                "fee": 0.3,
            },
            {"type": "mark", "symbol": symbol, "price": price + 0.02},
        ]
        if i % 5 == 0:
            rows.append(
                {
                    "type": "signal",
                    "signal_id": f"s{i}",
                    "symbol": symbol,
                    "direction": "long",
                    "confidence": 0.7,
                    "strategy": "alpha",
                }
            )
            rows.append(
                {
                    "type": "signal_outcome",
                    "signal_id": f"s{i}",
                    "actual_direction": "long",
                    "pnl": 1.0,
                    "bars_held": i % 4,
                }
            )
        for row in rows:
            ts += 1_000_000
            row["ts"] = ev.format_timestamp(ts)
            if "exchange_ts" in row:
                row["exchange_ts"] = ev.format_timestamp(ts - 2_000_000)
            row["event_id"] = f"e{len(out)}"
            out.append(enc(row))
        i += 1
    return b"\n".join(out[:n]) + b"\n"


def bench_replay(n: int) -> tuple[float, float, float]:
    """Return (events/s decode+engine, events/s decode only, events/s engine only)."""
    data = make_ndjson(n)
    decode_best = _best(lambda: decode_batch(data), repeat=3)
    events = decode_batch(data).events
    assert len(events) == n

    def engine_only() -> None:
        Monitor().apply_many(events)

    engine_best = _best(engine_only, repeat=3)

    def both() -> None:
        m = Monitor()
        m.apply_many(decode_batch(data).events)

    both_best = _best(both, repeat=3)
    return n / both_best, n / decode_best, n / engine_best


def _endless(n: int) -> Iterator[ev.Event]:
    # events built on the fly (nothing held), every order finishes, ids never repeat
    ts = START_NS
    for i in range(n // 5):
        symbol = SYMBOLS[i % len(SYMBOLS)] + str(i % 50)
        side = "buy" if (i // 400) % 2 == 0 else "sell"
        price = 100.0 + (i % 13) * 0.05
        oid = f"o{i}"
        ts += 5_000_000
        yield ev.Mark(
            ts=ts, event_id=f"m{i}", symbol=symbol, price=price, bid=price - 0.01, ask=price + 0.01
        )
        yield ev.OrderSubmitted(
            ts=ts + 1,
            event_id=f"s{i}",
            order_id=oid,
            symbol=symbol,
            side=side,
            quantity=10.0,
            order_type="limit",
            strategy=("alpha", "beta", "gamma")[i % 3],
        )
        yield ev.OrderAcknowledged(ts=ts + 2, event_id=f"a{i}", order_id=oid)
        yield ev.OrderFilled(
            ts=ts + 3,
            event_id=f"f{i}",
            order_id=oid,
            fill_id=f"f{i}",
            quantity=10.0,
            price=price,
            fee=0.1,
        )
        yield ev.Signal(
            ts=ts + 4,
            event_id=f"g{i}",
            signal_id=f"g{i}",
            symbol=symbol,
            direction="long",
            confidence=0.6,
        )


def _peak_rss_mb() -> float:
    # VmHWM is this process's own peak; ru_maxrss would carry the parent's across fork/exec
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(n: int) -> None:
    """Run in a subprocess: stream n events, print peak RSS (MB) at checkpoints as JSON."""
    base = _peak_rss_mb()
    m = Monitor()
    checkpoints = {n // 10, n // 4, n // 2, n}
    marks: list[tuple[int, float]] = []
    apply = m.apply
    count = 0
    start = time.perf_counter()
    for event in _endless(n):
        apply(event)
        count += 1
        if count in checkpoints:
            marks.append((count, _peak_rss_mb()))
    elapsed = time.perf_counter() - start
    m.figures()  # the typed read after the run (no server import: it would skew base_mb)
    print(json.dumps({"base_mb": base, "marks": marks, "seconds": elapsed, "events": count}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer events (smoke run)")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    fills = 20_000 if args.quick else 100_000
    replay = 100_000 if args.quick else 1_000_000
    streamed = 1_000_000 if args.quick else 10_000_000

    child = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(streamed)],
        check=True,
        capture_output=True,
        text=True,
    )
    memory = json.loads(child.stdout)
    one_fill, one_base = bench_fill(fills, ("default",))
    two_fill, two_base = bench_fill(fills, ("alpha", "beta"))
    rate, decode_rate, engine_rate = bench_replay(replay)

    rows: list[tuple[str, str, str]] = [
        ("fill via Monitor.apply, 1 strategy + 1 account (us/event)", f"{one_fill * 1e6:.2f}", ""),
        ("  original record_order, same run (us/call)", f"{one_base * 1e6:.2f}", ""),
        ("  ratio engine / record_order", f"{one_fill / one_base:.2f}", "<= 3"),
        ("fill via Monitor.apply, 2 strategies (us/event)", f"{two_fill * 1e6:.2f}", ""),
        ("  original record_order, same run (us/call)", f"{two_base * 1e6:.2f}", ""),
        ("  ratio engine / record_order", f"{two_fill / two_base:.2f}", "<= 3"),
        ("replay NDJSON: decode_batch + engine (events/s)", f"{rate:,.0f}", ">= 200,000"),
        ("  decode_batch only (events/s)", f"{decode_rate:,.0f}", ""),
        ("  Monitor.apply_many only (events/s)", f"{engine_rate:,.0f}", ""),
    ]
    for count, rss in memory["marks"]:
        rows.append((f"peak RSS after {count:,} streamed events (MB)", f"{rss:.1f}", "< 300"))
    first, last = memory["marks"][0][1], memory["marks"][-1][1]
    rows.append(("  interpreter + imports before the stream (MB)", f"{memory['base_mb']:.1f}", ""))
    rows.append(("  growth, first to last checkpoint (MB)", f"{last - first:.1f}", "flat"))
    rows.append(
        ("  streamed events/s (build + apply)", f"{memory['events'] / memory['seconds']:,.0f}", "")
    )
    print(f"{'figure':<56} {'value':>12} {'goal':>11}")
    for name, value, goal in rows:
        print(f"{name:<56} {value:>12} {goal:>11}")
    print(
        f"fills: {fills:,}; replay events: {replay:,}; streamed: {streamed:,}. "
        "The machine may be shared: compare ratios measured in the same run."
    )


if __name__ == "__main__":
    main()
