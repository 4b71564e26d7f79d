"""Ingest benchmarks: sustained HTTP load with /health probes, single-event latency, SDK cost.

    .venv/bin/python bench/ingest.py [--quick] [--seconds 60] [--clients 4]

The service runs as a subprocess (``python -m algowatch serve`` on a free loopback port,
SQLite journal in group commit, ``synchronous = FULL``). Measured:

- **sustained load**: ``--clients`` client *processes* (4 by default) each post 1,000-event
  NDJSON batches back to back on one keep-alive connection for ``--seconds`` (60 s; 15 s with
  ``--quick``); the bodies are encoded before the clock starts (every batch gets fresh ids by
  rewriting a fixed-width token, so nothing is a duplicate), the clients use ``http.client``
  to stay cheap. Meanwhile this process probes ``GET /health`` every 20 ms on a fresh
  connection. Printed: events/s (goal >= 60,000), /health p50/p99 (goal p99 <= 50 ms) against
  the same probes on the idle service, the server's and the clients' CPU seconds per 1,000
  events, and the ratio to the in-process baselines on the same events (decoding alone;
  decoding + journal append + engine apply, the service's work without HTTP);
- latency of a single-event post, one client, p50 / p99;
- the SDK's cost to the caller per event (``Client.mark``), against building the event
  struct alone (goal <= 5 us).

Profiling the server: ``BENCH_SERVER_PERF=<file>`` attaches ``perf record`` to it during the
load only (``perf report -i <file> --sort comm,dso``: the event loop is ``python``, the journal
writer ``algowatch-journ``); ``BENCH_SERVER_PROFILE=<file>`` runs it under cProfile (event-loop
thread CPU time, start-up included); ``BENCH_SERVER_PREFIX`` wraps its command.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import random
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from algowatch._codec import decode_batch_payloads
from algowatch.client import Client
from algowatch.events import Event, Mark, decode_batch, encode_event, encode_events
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
    args = ["serve", "--port", str(port), "--data-dir", str(data_dir), "--log-level", "warning"]
    profile = os.environ.get("BENCH_SERVER_PROFILE")
    if profile:
        # thread CPU time, not wall time: a shared machine's waits do not show as cost
        code = (
            "import cProfile, sys, time; from algowatch.cli import run; "
            f"sys.argv = ['algowatch', *{args!r}]; p = cProfile.Profile(time.thread_time); "
            f"\ntry:\n    p.runcall(run)\nfinally:\n    p.dump_stats({profile!r})"
        )
        command = [sys.executable, "-c", code]
    else:
        command = [sys.executable, "-m", "algowatch", *args]
    prefix = shlex.split(os.environ.get("BENCH_SERVER_PREFIX", ""))
    process = subprocess.Popen(
        [*prefix, *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
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


# --------------------------------------------------------------------------- sustained load

_HEADERS = {"Content-Type": "application/x-ndjson", "Host": "127.0.0.1"}
_TOKEN = b"@@@@@@@@@"  # in every id of a template body; rewritten per batch (same width)


def template_body(client: int, variant: int) -> bytes:
    """Return 1,000 events as NDJSON whose ids all hold ``_TOKEN`` (rewritten per batch)."""
    events = make_events(1000, 1_000 * client + variant)
    body = encode_events(events)
    # make_events names ids after the seed: give every id of this body the token instead
    seed = str(1_000 * client + variant).encode()
    tagged = (
        body.replace(b'"event_id":"' + seed + b"-", b'"event_id":"' + _TOKEN + b"-")
        .replace(b'"order_id":"o' + seed + b"-", b'"order_id":"o' + _TOKEN + b"-")
        .replace(b'"signal_id":"s' + seed + b"-", b'"signal_id":"s' + _TOKEN + b"-")
    )
    assert tagged.count(_TOKEN) >= 1000, "every event must carry the token"
    return tagged


def client_process(
    port: int, client: int, seconds: float, ready: object, go: object, results: object
) -> None:
    """Post 1,000-event batches back to back until ``seconds`` pass; report counts."""
    templates = [template_body(client, v) for v in range(4)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    ready.release()  # type: ignore[attr-defined]
    go.wait()  # type: ignore[attr-defined]
    sent = busy = batches = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        body = templates[batches % len(templates)].replace(_TOKEN, b"c%dn%06d" % (client, batches))
        conn.request("POST", "/api/v1/events", body=body, headers=_HEADERS)
        response = conn.getresponse()
        response.read()
        if response.status == 202:
            sent += 1000
            batches += 1
        elif response.status == 503:
            busy += 1
            time.sleep(0.005)
        else:
            raise SystemExit(f"unexpected {response.status}")
    elapsed = time.perf_counter() - started
    conn.close()
    cpu = time.process_time() - cpu_started
    results.put((sent, busy, elapsed, cpu))  # type: ignore[attr-defined]


def _probe(port: int) -> float:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/health", headers={"Host": "127.0.0.1", "Connection": "close"})
    conn.getresponse().read()
    conn.close()
    return time.perf_counter() - started


def probe_health(port: int, stop: threading.Event, interval: float = 0.02) -> list[float]:
    """Probe ``/health`` every ``interval`` seconds on a fresh connection until ``stop``."""
    latencies: list[float] = []
    while not stop.is_set():
        latencies.append(_probe(port))
        time.sleep(interval)
    return latencies


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sustained_load(port: int, pid: int, clients: int, seconds: float) -> dict[str, float]:
    """Run ``clients`` client processes for ``seconds``; return rate, probes and CPU figures."""
    ctx = mp.get_context("spawn")
    ready, go, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=client_process, args=(port, i, seconds, ready, go, results))
        for i in range(clients)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.acquire()
    # one batch first: the journal's writer thread exists before any profiler attaches
    warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    warm.request("POST", "/api/v1/events", body=template_body(9, 9), headers=_HEADERS)
    assert warm.getresponse().status == 202
    warm.close()
    idle = []
    for _ in range(100):
        idle.append(_probe(port))
        time.sleep(0.02)
    stop = threading.Event()
    probes: list[float] = []
    prober = threading.Thread(target=lambda: probes.extend(probe_health(port, stop)))
    perf_file = os.environ.get("BENCH_SERVER_PERF")
    perf = (
        subprocess.Popen(["perf", "record", "-F", "999", "-p", str(pid), "-o", perf_file])
        if perf_file
        else None
    )
    cpu_before = _cpu_seconds(pid)
    go.set()
    prober.start()
    reports = [results.get(timeout=seconds + 120) for _ in procs]
    stop.set()
    prober.join()
    server_cpu = _cpu_seconds(pid) - cpu_before
    if perf is not None:
        perf.send_signal(signal.SIGINT)
        perf.wait(60)
    for proc in procs:
        proc.join(30)
    events = sum(r[0] for r in reports)
    elapsed = max(r[2] for r in reports)
    idle_cuts = statistics.quantiles(idle, n=100)
    cuts = statistics.quantiles(probes, n=100)
    return {
        "rate": events / elapsed,
        "events": events,
        "busy": sum(r[1] for r in reports),
        "idle_p50": statistics.median(idle),
        "idle_p99": idle_cuts[98],
        "p50": statistics.median(probes),
        "p99": cuts[98],
        "probes": len(probes),
        "server_cpu_per_k": server_cpu / events * 1000,
        "client_cpu_per_k": sum(r[3] for r in reports) / events * 1000,
        "server_cores": server_cpu / elapsed,
    }


def baseline_service_work(bodies: list[bytes], data_dir: Path) -> float:
    """Return events/s for decode + journal append + apply, without HTTP."""
    monitor = Monitor()
    count = 0
    with open_journal(JournalSettings(), data_dir) as journal:
        started = time.perf_counter()
        for body in bodies:
            batch, payloads = decode_batch_payloads(body)
            events = batch.events
            for event, new in zip(events, journal.append(events, payloads), strict=True):
                if new:
                    monitor.apply(event)
            count += len(events)
        elapsed = time.perf_counter() - started
    return count / elapsed


def stage_costs(bodies: list[bytes], data_dir: Path) -> dict[str, float]:
    """Return the CPU seconds per event of each stage of the service's work, in process.

    Thread CPU time, not wall time, so a busy machine inflates these less than rates.
    ``decode`` gives each event its line as received (the service's decode);
    ``journal`` is ``Journal.append`` with those payloads (its rows, the encoding of the
    events without a payload, SQLite insert and commit); ``sqlite`` is that minus the
    encoding (SQLite runs without the GIL).
    """
    count = sum(body.count(b"\n") for body in bodies)
    started = time.thread_time()
    decoded = [decode_batch_payloads(body) for body in bodies]
    decode = time.thread_time() - started
    batches = [batch.events for batch, _ in decoded]
    started = time.thread_time()
    for batch, payloads in decoded:
        for event, payload in zip(batch.events, payloads, strict=True):
            if payload is None:
                encode_event(event)
    encode = time.thread_time() - started
    with open_journal(JournalSettings(), data_dir) as journal:
        started = time.thread_time()
        for batch, payloads in decoded:
            journal.append(batch.events, payloads)
        append = time.thread_time() - started
    monitor = Monitor()
    started = time.thread_time()
    for events in batches:
        for event in events:
            monitor.apply(event)
    apply = time.thread_time() - started
    return {
        "decode": decode / count,
        "encode": encode / count,
        "journal": append / count,
        "sqlite": max(0.0, append - encode) / count,
        "apply": apply / count,
    }


def baseline_decode(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    count = sum(len(decode_batch(body).events) for body in bodies)
    return count / (time.perf_counter() - started)


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


def stage_rows(stages: dict[str, float], server: float) -> list[tuple[str, str, str]]:
    """Return the server's CPU per event by stage; the rest is HTTP, asyncio and the service."""
    known = stages["decode"] + stages["journal"] + stages["apply"]
    rows = [
        ("decode (msgspec + validation)", stages["decode"]),
        ("journal rows: encode_event (events without payload)", stages["encode"]),
        ("journal: SQLite insert + commit", stages["sqlite"]),
        ("engine apply", stages["apply"]),
        ("rest: HTTP, asyncio, threads, risk checks", server - known),
    ]
    return [
        (f"    {name}", f"{cost * 1e6:.1f} us/event", f"{cost / server:.0%} of server CPU")
        for name, cost in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument("--clients", type=int, default=4, help="client processes (< 10)")
    parser.add_argument("--seconds", type=float, help="length of the sustained load")
    parser.add_argument("--load-only", action="store_true", help="skip latency and SDK runs")
    args = parser.parse_args()
    seconds = args.seconds or (15.0 if args.quick else 60.0)
    baseline_batches = 10 if args.quick else 50
    singles = 300 if args.quick else 2000
    sdk_events = 20_000 if args.quick else 200_000

    baseline_bodies = [
        encode_events(make_events(1000, 10_000 + s)) for s in range(baseline_batches)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        decode_rate = baseline_decode(baseline_bodies)
        service_rate = baseline_service_work(baseline_bodies, Path(tmp) / "baseline")
        stages = stage_costs(baseline_bodies, Path(tmp) / "stages")
        port = free_port()
        process = start_service(Path(tmp) / "service", port)
        url = f"http://127.0.0.1:{port}"
        try:
            load = sustained_load(port, process.pid, args.clients, seconds)
            if not args.load_only:
                p50, p99 = single_event_latency(url, make_events(singles, 99_999))
                per_call, bare, sent = sdk_cost(url, sdk_events)
        finally:
            process.terminate()
            process.wait(60)

    print(
        f"algowatch ingest benchmark ({'quick' if args.quick else 'full'}; "
        f"{os.cpu_count()} CPUs, shared machine: figures are noisy, ratios are the signal)"
    )
    rate = load["rate"]
    rows = [
        ("decode only (in process)", f"{decode_rate:,.0f} ev/s", "baseline"),
        (
            "decode + journal + apply (in process)",
            f"{service_rate:,.0f} ev/s",
            f"{service_rate / decode_rate:.2f}x decode",
        ),
        (
            f"HTTP, {args.clients} client processes x 1,000-event batches, {seconds:.0f} s",
            f"{rate:,.0f} ev/s",
            f"{rate / service_rate:.2f}x in-process (goal >= 60,000 ev/s)",
        ),
        ("  events accepted / 503 answers", f"{load['events']:,.0f} / {load['busy']:,.0f}", ""),
        (
            "  server CPU per 1,000 events",
            f"{load['server_cpu_per_k'] * 1e3:.1f} ms",
            f"{load['server_cores']:.2f} cores busy; in-process work {1e6 / service_rate:.1f} ms",
        ),
        ("  client CPU per 1,000 events", f"{load['client_cpu_per_k'] * 1e3:.1f} ms", ""),
        *stage_rows(stages, load["server_cpu_per_k"] / 1000),
        (
            "/health idle p50 / p99",
            f"{load['idle_p50'] * 1e3:.1f} / {load['idle_p99'] * 1e3:.1f} ms",
            "baseline",
        ),
        (
            "/health under load p50 / p99",
            f"{load['p50'] * 1e3:.1f} / {load['p99'] * 1e3:.1f} ms",
            f"p99 {load['p99'] / load['idle_p99']:.1f}x idle, {load['probes']:.0f} probes "
            "(goal p99 <= 50 ms)",
        ),
    ]
    if not args.load_only:
        rows += [
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
