"""Ingest benchmarks: HTTP throughput, single-event latency, and the SDK's cost to the caller.

    .venv/bin/python bench/ingest.py [--quick]

The service runs as a subprocess (``python -m algowatch serve`` on a free loopback port,
SQLite journal in group commit); the clients run in this process. Measured:

- events/s with batches of 1,000 NDJSON events from several concurrent clients
  (goal >= 50,000/s), against in-process baselines on the same events: decoding alone,
  decoding + journal append + engine apply (the service's work without HTTP);
- latency of a single-event post, one client, p50 / p99;
- the SDK's cost to the caller per event (``Client.mark``), against building the event
  struct alone (goal <= 5 us).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from algowatch.client import Client
from algowatch.events import Event, Mark, decode_batch, encode_events
from algowatch.journal import open_journal
from algowatch.monitor import Monitor
from algowatch.settings import JournalSettings
from algowatch.testing import EventFactory

SYMBOLS = tuple(f"SYM{i}" for i in range(20))
NDJSON = {"content-type": "application/x-ndjson"}


def make_events(count: int, seed: int) -> list[Event]:
    """Return a realistic mix: marks, orders with acks and fills, signals (unique ids)."""
    rng = random.Random(seed)
    factory = EventFactory(step_seconds=0.001)
    prices = dict.fromkeys(SYMBOLS, 100.0)
    events: list[Event] = []
    order = 0
    while len(events) < count:
        symbol = rng.choice(SYMBOLS)
        prices[symbol] *= 1 + rng.gauss(0, 0.001)
        price = round(prices[symbol], 2)
        roll = rng.random()
        if roll < 0.5:
            events.append(factory.mark(symbol, price, bid=price - 0.01, ask=price + 0.01))
        elif roll < 0.6:
            events.append(factory.signal(f"s{seed}-{len(events)}", symbol, "long"))
        else:
            order += 1
            oid = f"o{seed}-{order}"
            side = "buy" if rng.random() < 0.5 else "sell"
            events.append(factory.submitted(oid, symbol, side, 10, arrival_price=price))
            events.append(factory.acknowledged(oid))
            events.append(factory.filled(oid, 10, price))
    # ids must be unique across seeds: the factory numbers from 1
    return [
        e.__class__(**{**_fields(e), "event_id": f"{seed}-{e.event_id}"}) for e in events[:count]
    ]


def _fields(event: Event) -> dict[str, object]:
    return {name: getattr(event, name) for name in event.__struct_fields__}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_service(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ALGOWATCH_HEALTH__SYSTEM_METRICS": "false"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "algowatch",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/live", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the service did not start")


def baseline_service_work(bodies: list[bytes], data_dir: Path) -> float:
    """Return events/s for decode + journal append + apply, without HTTP."""
    monitor = Monitor()
    count = 0
    with open_journal(JournalSettings(), data_dir) as journal:
        started = time.perf_counter()
        for body in bodies:
            events = decode_batch(body).events
            for event, new in zip(events, journal.append(events), strict=True):
                if new:
                    monitor.apply(event)
            count += len(events)
        elapsed = time.perf_counter() - started
    return count / elapsed


def baseline_decode(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    count = sum(len(decode_batch(body).events) for body in bodies)
    return count / (time.perf_counter() - started)


async def http_throughput(url: str, bodies: list[bytes], clients: int) -> float:
    """Post every body once from ``clients`` concurrent connections; return events/s."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    total = sum(body.count(b"\n") for body in bodies)

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            while not queue.empty():
                body = queue.get_nowait()
                while True:
                    response = await http.post("/api/v1/events", content=body, headers=NDJSON)
                    if response.status_code == 202:
                        break
                    if response.status_code != 503:
                        raise SystemExit(f"unexpected {response.status_code}: {response.text}")
                    await asyncio.sleep(0.01)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return total / (time.perf_counter() - started)


def single_event_latency(url: str, events: list[Event]) -> tuple[float, float]:
    """Return (p50, p99) seconds of posting one event per request, sequentially."""
    latencies = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for event in events:
            body = encode_events([event])
            started = time.perf_counter()
            response = http.post("/api/v1/events", content=body, headers=NDJSON)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 202, response.text
    quantiles = statistics.quantiles(latencies, n=100)
    return statistics.median(latencies), quantiles[98]


def sdk_cost(url: str, count: int) -> tuple[float, float, int]:
    """Return (seconds per Client.mark call, seconds per bare Mark struct, events sent)."""
    started = time.perf_counter()
    for i in range(count):
        Mark(ts=i, symbol="AAPL", price=100.0 + i % 7)
    bare = (time.perf_counter() - started) / count
    with Client(url, max_buffer_events=count + 1) as client:
        started = time.perf_counter()
        for i in range(count):
            client.mark("AAPL", 100.0 + i % 7)
        per_call = (time.perf_counter() - started) / count
        client.flush(timeout=120)
        sent = client.stats().sent
    return per_call, bare, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    batches = 40 if args.quick else 200
    singles = 300 if args.quick else 2000
    sdk_events = 20_000 if args.quick else 200_000

    bodies = [encode_events(make_events(1000, seed)) for seed in range(batches)]
    baseline_bodies = [encode_events(make_events(1000, 10_000 + s)) for s in range(batches // 4)]
    with tempfile.TemporaryDirectory() as tmp:
        decode_rate = baseline_decode(baseline_bodies)
        service_rate = baseline_service_work(baseline_bodies, Path(tmp) / "baseline")
        port = free_port()
        process = start_service(Path(tmp) / "service", port)
        url = f"http://127.0.0.1:{port}"
        try:
            http_rate = asyncio.run(http_throughput(url, bodies, args.clients))
            p50, p99 = single_event_latency(url, make_events(singles, 99_999))
            per_call, bare, sent = sdk_cost(url, sdk_events)
        finally:
            process.terminate()
            process.wait(30)

    print(
        f"algowatch ingest benchmark ({'quick' if args.quick else 'full'}; "
        f"{os.cpu_count()} CPUs, shared machine: figures are noisy, ratios are the signal)"
    )
    rows = [
        ("decode only (in process)", f"{decode_rate:,.0f} ev/s", "baseline"),
        (
            "decode + journal + apply (in process)",
            f"{service_rate:,.0f} ev/s",
            f"{service_rate / decode_rate:.2f}x decode",
        ),
        (
            f"HTTP, batches of 1,000, {args.clients} clients",
            f"{http_rate:,.0f} ev/s",
            f"{http_rate / service_rate:.2f}x in-process (goal >= 50,000 ev/s)",
        ),
        ("single-event post p50", f"{p50 * 1e3:.2f} ms", ""),
        ("single-event post p99", f"{p99 * 1e3:.2f} ms", f"{p99 / p50:.1f}x p50"),
        (
            "SDK Client.mark cost to caller",
            f"{per_call * 1e6:.2f} us/event",
            f"{per_call / bare:.1f}x bare struct (goal <= 5 us)",
        ),
        ("bare Mark struct", f"{bare * 1e6:.2f} us/event", "baseline"),
        ("SDK events delivered", f"{sent:,} / {sdk_events:,}", ""),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, ratio in rows:
        print(f"  {name:<{width}}  {value:>18}  {ratio}")


if __name__ == "__main__":
    main()
