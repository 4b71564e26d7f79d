"""The whole ``algowatch replay`` command on a 1,000,000-event mixed stream.

A seeded NDJSON file of marks, order submissions, acknowledgements, partial and complete
fills, rejections and cancellations over 50 symbols is written to a temporary folder. Then,
interleaved and best of ``--repeat``:

1. the user's command, ``algowatch replay FILE``, as a subprocess, timed wall-clock from
   spawn to exit (interpreter start, imports, reading, decoding, the engine, the summary);
2. the baseline in this process: the file's bytes -> ``decode_batch`` ->
   ``Monitor.apply_many`` (``bench/engine.py``'s replay figure), from bytes already read.

It prints events/s for both, the ratio command / baseline, and the command's fixed cost
(the same command on a one-event file). Goal: the command at >= 250,000 events/s. The
command runs with bytecode caches, as installed (PYTHONDONTWRITEBYTECODE is dropped for
it). A last ``algowatch replay --json`` run is checked against the baseline's snapshot
(the same numbers, or the bench fails). The command's peak RSS is reported too: it
streams the file, so it should not grow with the file.

Usage: python bench/replay_command.py [--quick] [--events N] [--repeat R] [--keep DIR]
The machine may be shared: compare the ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import numpy as np

from algowatch.events import decode_batch, format_timestamp
from algowatch.monitor import Monitor
from algowatch.server import render_snapshot

START_NS = 1_735_828_200 * 1_000_000_000
SYMBOLS = tuple(f"SYM{i:02d}" for i in range(50))
SEED = 20261203


def write_stream(path: Path, n: int, seed: int = SEED) -> None:
    """Write ``n`` NDJSON events to ``path``: a seeded mix of marks and order lifecycles.

    Per step one symbol gets a mark (about half of the events); an order on it is
    submitted, acknowledged, then filled in one or two fills, rejected (about 5%) or
    canceled after a partial fill (about 5%). Orders overlap: each step advances the
    lifecycles of the orders still open.
    """
    rng = np.random.default_rng(seed)
    enc = msgspec.json.Encoder().encode
    prices = 100.0 + rng.random(len(SYMBOLS)) * 50.0
    ts = START_NS
    count = 0
    order = 0
    open_orders: list[list[object]] = []  # [order_id, symbol, quantity, filled, stage, fate]
    with path.open("wb") as fh:
        buffer: list[bytes] = []

        def emit(row: dict[str, object]) -> None:
            nonlocal ts, count
            ts += int(rng.integers(100_000, 2_000_000))
            row["ts"] = format_timestamp(ts)
            row["event_id"] = f"e{count}"
            buffer.append(enc(row))
            count += 1

        while count < n:
            s = int(rng.integers(len(SYMBOLS)))
            symbol = SYMBOLS[s]
            prices[s] *= 1.0 + rng.normal(0.0, 0.0005)
            price = round(float(prices[s]), 2)
            emit(
                {
                    "type": "mark",
                    "symbol": symbol,
                    "price": price,
                    "bid": round(price - 0.01, 2),
                    "ask": round(price + 0.01, 2),
                    "exchange_ts": format_timestamp(ts - 1_500_000),
                }
            )
            if rng.random() < 0.35:
                oid = f"o{order}"
                order += 1
                quantity = float(rng.integers(1, 20) * 10)
                fate = rng.random()
                emit(
                    {
                        "type": "order_submitted",
                        "order_id": oid,
                        "symbol": symbol,
                        "side": "buy" if rng.random() < 0.5 else "sell",
                        "quantity": quantity,
                        "order_type": "limit",
                        "limit_price": price,
                        "arrival_price": price,
                        "strategy": ("alpha", "beta", "gamma")[order % 3],
                    }
                )
                open_orders.append([oid, symbol, quantity, 0.0, 0, fate])
            still_open = []
            for entry in open_orders:
                oid, symbol, quantity, filled, stage, fate = entry
                assert isinstance(quantity, float)
                assert isinstance(filled, float)
                if stage == 0 and fate < 0.05:
                    emit({"type": "order_rejected", "order_id": oid, "reason": "risk limit"})
                    continue
                if stage == 0:
                    emit({"type": "order_acknowledged", "order_id": oid, "broker_order_id": oid})
                elif stage == 1 or (stage == 2 and fate >= 0.10):
                    part = quantity - filled if stage == 2 or fate >= 0.55 else quantity / 2
                    fill_price = round(float(prices[SYMBOLS.index(str(symbol))]), 2)
                    emit(
                        {
                            "type": "order_filled",
                            "order_id": oid,
                            "fill_id": f"{oid}-{stage}",
                            "quantity": part,
                            "price": fill_price,
                            "fee": round(part * 0.001, 4),
                            "liquidity": "maker" if stage == 1 else "taker",
                        }
                    )
                    entry[3] = filled + part
                    if filled + part >= quantity:
                        continue
                else:
                    emit({"type": "order_canceled", "order_id": oid, "reason": "timeout"})
                    continue
                entry[4] = stage + 1
                still_open.append(entry)
            open_orders = still_open
            if len(buffer) >= 10_000:
                fh.write(b"\n".join(buffer) + b"\n")
                buffer.clear()
        fh.write(b"\n".join(buffer) + b"\n")
    # the last step may overshoot n: trim to exactly n lines
    with path.open("r+b") as fh:
        data = fh.read()
        cut = -1
        for _ in range(n):
            cut = data.index(b"\n", cut + 1)
        fh.truncate(cut + 1)


def _command() -> list[str]:
    script = Path(sys.executable).with_name("algowatch")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "algowatch"]


def _child_env() -> dict[str, str]:
    # As a user runs it: with bytecode caches (a first, untimed run writes them). An
    # environment with PYTHONDONTWRITEBYTECODE=1 would recompile ~200 modules per run.
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _peak_rss_mb(pid: int) -> float:
    # VmHWM of the command itself: the rusage of a child also counts the parent's pages it
    # inherited before exec. It only grows, so its last reading before exit is the peak.
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_command(path: Path, *extra: str) -> tuple[float, float, str]:
    """Run ``algowatch replay`` on ``path``; return (wall seconds, peak RSS MB, stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(
            [*_command(), "replay", str(path), *extra], stdout=out, stderr=err, env=_child_env()
        )
        peak = 0.0
        while child.poll() is None:
            peak = max(peak, _peak_rss_mb(child.pid))
            time.sleep(0.01)
        elapsed = time.perf_counter() - start
        if child.returncode != 0:
            err.seek(0)
            msg = f"algowatch replay exited with {child.returncode}: {err.read()[-2000:]!r}"
            raise RuntimeError(msg)
        out.seek(0)
        return elapsed, peak, out.read().decode()


def run_baseline(path: Path) -> tuple[float, Monitor]:
    """Return (seconds, monitor) for bytes -> decode_batch -> Monitor.apply_many."""
    data = path.read_bytes()
    gc.collect()
    start = time.perf_counter()
    monitor = Monitor()
    result = decode_batch(data)
    monitor.apply_many(result.events)
    elapsed = time.perf_counter() - start
    if result.errors:
        msg = f"the generated stream has {len(result.errors)} invalid lines"
        raise RuntimeError(msg)
    return elapsed, monitor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200,000 events, 2 repeats")
    parser.add_argument("--events", type=int, help="events in the stream (default 1,000,000)")
    parser.add_argument("--repeat", type=int, help="interleaved runs, best kept (default 3)")
    parser.add_argument("--keep", type=Path, help="write the stream into this folder and keep it")
    args = parser.parse_args()
    n = args.events or (200_000 if args.quick else 1_000_000)
    repeat = args.repeat or (2 if args.quick else 3)

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"mixed-{n}.ndjson"
        if not path.exists():
            write_stream(path, n)
        size_mb = path.stat().st_size / 1e6

        tiny = folder / "one-event.ndjson"
        tiny.write_bytes(b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"bench"}\n')
        run_command(tiny)  # untimed: writes the bytecode caches
        startup = min(run_command(tiny)[0] for _ in range(3))

        command_runs: list[float] = []
        baseline_runs: list[float] = []
        rss_mb = 0.0
        for _ in range(repeat):
            seconds, rss, _ = run_command(path)
            command_runs.append(seconds)
            rss_mb = max(rss_mb, rss)
            baseline_runs.append(run_baseline(path)[0])

        # the command's numbers are the baseline's numbers
        _, _, out = run_command(path, "--json")
        _, monitor = run_baseline(path)
        expected = json.loads(json.dumps(render_snapshot(monitor.figures()), allow_nan=False))
        if json.loads(out) != expected:
            msg = "algowatch replay --json differs from the in-process baseline's snapshot"
            raise RuntimeError(msg)
        applied = expected["events_applied"]

    command_rate = n / min(command_runs)
    baseline_rate = n / min(baseline_runs)
    rows = [
        ("algowatch replay FILE, whole command (events/s)", f"{command_rate:,.0f}", ">= 250,000"),
        ("  runs (s)", " ".join(f"{s:.2f}" for s in command_runs), ""),
        ("baseline: bytes -> decode_batch -> apply_many (events/s)", f"{baseline_rate:,.0f}", ""),
        ("  runs (s)", " ".join(f"{s:.2f}" for s in baseline_runs), ""),
        ("ratio command / baseline", f"{command_rate / baseline_rate:.2f}", ""),
        ("command on a one-event file: start-up + imports (s)", f"{startup:.2f}", ""),
        ("command peak RSS (MB)", f"{rss_mb:.0f}", "flat"),
    ]
    print(f"{'figure':<58} {'value':>16} {'goal':>11}")
    for name, value, goal in rows:
        print(f"{name:<58} {value:>16} {goal:>11}")
    print(
        f"stream: {n:,} events ({applied:,} applied, {size_mb:.0f} MB NDJSON, 50 symbols, "
        f"seed {SEED}); best of {repeat} interleaved runs; the --json output matched the "
        "baseline's snapshot. The machine may be shared: compare the ratio."
    )


if __name__ == "__main__":
    main()
