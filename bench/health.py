"""Latency of /live and /health under concurrent load, with one dependency hung.

Run: ``.venv/bin/python bench/health.py [--quick]``.

A uvicorn server runs in a subprocess with a HealthRunner whose ``broker`` check
points at a loopback server that accepts connections and never answers (timeout
600 s, so the probe is in flight for the whole run), plus the real Redis and the
clock and audit checks. The client (httpx.AsyncClient, in this process) fires
batches of N concurrent requests; latencies are measured per request, client side
(includes queueing in the client pool and the server) and server side (inside the
ASGI app, around the route). The baseline is a constant route of the same app
(``/baseline``), measured in the same run, so ratios hold on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ----------------------------------------------------------------------------- server side


def _black_hole() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            conn, _ = sock.accept()
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return int(sock.getsockname()[1])


def serve(port: int) -> None:
    """Run the benchmark app (subprocess entry point)."""
    import uvicorn  # noqa: PLC0415
    from fastapi import FastAPI, Response  # noqa: PLC0415

    from algowatch.health import HealthRunner, router  # noqa: PLC0415
    from algowatch.settings import HealthCheckSettings, HealthSettings  # noqa: PLC0415

    hole = _black_hole()
    settings = HealthSettings(
        startup_grace_seconds=0.0,
        checks=(
            HealthCheckSettings(
                name="broker", kind="broker_http", target=f"http://127.0.0.1:{hole}/account",
                timeout_seconds=600.0,
            ),
            HealthCheckSettings(name="cache", kind="redis", target="redis://127.0.0.1:6379/0",
                                interval_seconds=1.0),
            HealthCheckSettings(name="ntp", kind="clock", critical=False),
            HealthCheckSettings(name="audit", kind="audit", interval_seconds=1.0),
        ),
    )  # fmt: skip
    runner = HealthRunner(settings, audit_state=lambda: "ok")
    timings: dict[str, list[float]] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runner.start()
        yield
        await runner.stop()

    app = FastAPI(lifespan=lifespan)
    app.include_router(router(runner))

    @app.get("/baseline")
    async def baseline() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get("/bench/timings")
    async def read_timings() -> dict[str, Any]:
        out = {path: list(values) for path, values in timings.items()}
        timings.clear()
        return out

    async def timed(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        await app(scope, receive, send)
        timings.setdefault(scope["path"], []).append(time.perf_counter() - started)

    uvicorn.run(timed, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ----------------------------------------------------------------------------- client side


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _batch(
    client: httpx.AsyncClient, path: str, n: int, in_flight: int
) -> tuple[list[float], set[int], float]:
    codes: set[int] = set()
    gate = asyncio.Semaphore(in_flight)

    async def one() -> float:
        async with gate:
            sent = time.perf_counter()
            response = await client.get(path)
            codes.add(response.status_code)
            return time.perf_counter() - sent

    started = time.perf_counter()
    latencies = await asyncio.gather(*(one() for _ in range(n)))
    return list(latencies), codes, n / (time.perf_counter() - started)


async def _run(base: str, requests: int, rounds: int) -> None:
    paths = ("/baseline", "/live", "/health")
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60.0) as client:
        health = (await client.get("/health")).json()
        broker = health["checks"]["broker"]
        print(f"overall status during the run: {health['status']}; hung broker check: "
              f"{broker['status']} ({broker['error']})")  # fmt: skip
        await _batch(client, "/live", requests, requests)  # open the connections
        await client.get("/bench/timings")
        rows = []
        for path in paths:
            burst: list[float] = []
            rates: list[float] = []
            for _ in range(rounds):
                latencies, codes, rate = await _batch(client, path, requests, requests)
                burst.extend(latencies)
                rates.append(rate)
            server = (await client.get("/bench/timings")).json().get(path, [])
            moderate, _, _ = await _batch(client, path, requests, 10)
            single, _, _ = await _batch(client, path, min(requests, 300), 1)
            await client.get("/bench/timings")
            rows.append((path, codes, burst, moderate, single, server, statistics.fmean(rates)))
    print()
    print(f"{requests} requests per round, {rounds} round(s) per route: 'burst' = all "
          f"{requests} in flight at once, 'c10' = 10 in flight, 'c1' = one at a time")  # fmt: skip
    header = (
        f"{'route':<10} {'codes':<6} {'burst p50':>10} {'burst p99':>10} {'req/s':>7} "
        f"{'c10 p50':>8} {'c10 p99':>8} {'c1 p50':>7} {'c1 p99':>7} "
        f"{'server p50':>11} {'server p99':>11} "
        f"{'p99/base':>9}"
    )
    print(header + "   (ms)")
    print("-" * len(header))
    base_p99 = _quantile(rows[0][2], 0.99)
    for path, codes, burst, moderate, single, server, rate in rows:
        print(
            f"{path:<10} {','.join(map(str, sorted(codes))):<6} "
            f"{_quantile(burst, 0.5) * 1e3:>10.2f} {_quantile(burst, 0.99) * 1e3:>10.2f} "
            f"{rate:>7,.0f} "
            f"{_quantile(moderate, 0.5) * 1e3:>8.2f} {_quantile(moderate, 0.99) * 1e3:>8.2f} "
            f"{_quantile(single, 0.5) * 1e3:>7.2f} {_quantile(single, 0.99) * 1e3:>7.2f} "
            f"{_quantile(server, 0.5) * 1e3:>11.3f} {_quantile(server, 0.99) * 1e3:>11.3f} "
            f"{_quantile(burst, 0.99) / base_p99:>9.2f}"
        )
    print()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end: {load}")
    print(
        f"machine: {os.cpu_count()} CPUs shared with other jobs; client (httpx) in this "
        "process, uvicorn (h11, asyncio) in a subprocess; 'server' = time inside the ASGI app"
    )


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 requests, 1 round")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/live", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        time.sleep(1.5)  # let the first round of checks finish (the broker keeps hanging)
        requests, rounds = (200, 1) if args.quick else (1000, 2)
        print("load average at the start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
        asyncio.run(_run(base, requests, rounds))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
