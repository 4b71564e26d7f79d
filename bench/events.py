"""Event decoding throughput: 1,000,000 NDJSON lines through algowatch.events.decode_batch.

Baselines in the same process: the standard library's json.loads per line (dicts, no
validation) and msgspec's untyped decoder. Goal: >= 300,000 validated events/s.

Usage: python bench/events.py [--quick] [--lines N]
"""

from __future__ import annotations

import argparse
import json
import time

import msgspec

from algowatch.events import decode_batch, format_timestamp

START_NS = 1_735_828_200 * 1_000_000_000


def make_ndjson(lines: int) -> bytes:
    """Return a realistic mix: submit, ack, two partial fills, a mark, per order."""
    out: list[bytes] = []
    ts = START_NS
    enc = msgspec.json.encode
    for i in range(lines // 5 + 1):
        oid = f"ord-{i}"
        sym = ("AAPL", "MSFT", "NVDA", "BTC-USD")[i % 4]
        side = "buy" if i % 2 else "sell"
        rows = [
            {
                "type": "order_submitted",
                "order_id": oid,
                "symbol": sym,
                "side": side,
                "quantity": 100,
                "order_type": "limit",
                "limit_price": 101.25,
                "arrival_price": 101.2,
                "strategy": "mean_rev",
            },
            {"type": "order_acknowledged", "order_id": oid, "broker_order_id": f"b{i}"},
            {
                "type": "order_filled",
                "order_id": oid,
                "fill_id": f"{oid}-1",
                "quantity": 40,
                "price": 101.21,
                "fee": 0.2,
                "liquidity": "maker",
            },
            {
                "type": "order_filled",
                "order_id": oid,
                "fill_id": f"{oid}-2",
                "quantity": 60,
                "price": 101.23,
                "fee": 0.3,
            },
            {"type": "mark", "symbol": sym, "price": 101.3, "bid": 101.29, "ask": 101.31},
        ]
        for row in rows:
            ts += 1_234_567  # distinct timestamps, ~1.2 ms apart
            row["ts"] = format_timestamp(ts)
            row["event_id"] = f"e{ts}"
            out.append(enc(row))
    return b"\n".join(out[:lines]) + b"\n"


def timed(fn, *args):  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 lines")
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    n = 100_000 if args.quick else args.lines
    data = make_ndjson(n)
    lines = data.splitlines()

    t_ours, result = timed(decode_batch, data)
    if not result.ok or len(result.events) != n:
        raise SystemExit(f"decoding failed: {result.errors[:3]}")
    t_json, _ = timed(lambda: [json.loads(line) for line in lines])
    dec = msgspec.json.Decoder()
    t_msgspec, _ = timed(lambda: [dec.decode(line) for line in lines])

    print(f"events decoded: {n:,} NDJSON lines ({len(data) / 1e6:.1f} MB), best of 3")
    print(f"{'decoder':<44}{'events/s':>14}{'ratio':>10}")
    for name, t in [
        ("algowatch decode_batch (typed, validated)", t_ours),
        ("json.loads per line (dicts, no validation)", t_json),
        ("msgspec untyped per line (dicts, no checks)", t_msgspec),
    ]:
        print(f"{name:<44}{n / t:>14,.0f}{t / t_ours:>10.2f}")
    goal = 300_000
    print(f"goal >= {goal:,}/s: {'met' if n / t_ours >= goal else 'NOT met'}")


if __name__ == "__main__":
    main()
