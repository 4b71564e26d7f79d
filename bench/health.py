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

On a small machine the httpx client is itself the bottleneck, so the same server is
then loaded by an independent generator, ``wrk`` (C, epoll, separate process; Debian
package ``wrk``, installed by ``scripts/bench``), with 10, 100 and 1,000 connections
per route (closed loop: each connection sends its next request when the previous
answer arrives). Goal: /health p99 < 20 ms under 1,000 concurrent requests with one
dependency hung. Without wrk on the PATH, that part is skipped with a note.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import shlex
import shutil
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

    from algowatch.health import HealthRunner  # noqa: PLC0415
    from algowatch.server.routes import health_router as router  # noqa: PLC0415
    from algowatch.settings import HealthCheckSettings, HealthSettings  # noqa: PLC0415

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft != resource.RLIM_INFINITY and soft < want:  # room for 1,000 wrk connections
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
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
    codes: dict[str, dict[int, int]] = {}  # path -> status -> count
    failures: dict[str, str] = {}  # path -> first error body since the last read

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

    @app.get("/bench/codes")
    async def read_codes() -> dict[str, Any]:
        out = {"codes": {path: dict(per) for path, per in codes.items()}, "failures": {**failures}}
        codes.clear()
        failures.clear()
        return out

    async def timed(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = scope["path"]
        status = 0

        async def watch(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif status >= 400 and path not in failures:
                failures[path] = bytes(message.get("body", b""))[:4000].decode(errors="replace")
            await send(message)

        started = time.perf_counter()
        await app(scope, receive, watch)
        timings.setdefault(path, []).append(time.perf_counter() - started)
        per = codes.setdefault(path, {})
        per[status] = per.get(status, 0) + 1

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


# ----------------------------------------------------------------------------- wrk

GOAL_P99_MS = 20.0
WRK_INSTALL = "apt-get install -y --no-install-recommends wrk"
_WRK_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _parse_wrk(out: str) -> dict[str, float]:
    """Return p50 and p99 (ms), req/s, requests and error counts from wrk --latency output."""
    found: dict[str, float] = {}
    for q in ("50", "99"):
        match = re.search(rf"^\s*{q}(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", out, re.M)
        if match is None:
            raise ValueError(f"no {q}% line in the wrk output:\n{out}")
        found[f"p{q}"] = float(match[1]) * _WRK_UNITS_MS[match[2]]
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    total = re.search(r"^\s*(\d+) requests in", out, re.M)
    if rate is None or total is None:
        raise ValueError(f"no Requests/sec or request count in the wrk output:\n{out}")
    found["rps"] = float(rate[1])
    found["requests"] = float(total[1])
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    found["socket_errors"] = float(sum(map(int, sockets.groups()))) if sockets else 0.0
    found["timeouts"] = float(sockets[4]) if sockets else 0.0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    found["non2xx"] = float(non2xx[1]) if non2xx else 0.0
    return found


def _wrk(url: str, connections: int, seconds: int) -> dict[str, float]:
    # Raise the open-file limit for the 1,000 sockets; --timeout 10s so slow answers stay
    # in the latency histogram (wrk drops samples above its timeout, default 2 s).
    command = (
        'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; '
        f"exec wrk -c {connections} -t {min(2, connections)} -d {seconds}s "
        f"--timeout 10s --latency {shlex.quote(url)}"
    )
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return _parse_wrk(done.stdout)


def _server_side(client: httpx.Client, path: str) -> tuple[list[float], dict[str, int], str]:
    """Return (and reset) the in-app times, status counts and first error body for ``path``."""
    seen = client.get("/bench/codes").json()
    times = list(client.get("/bench/timings").json().get(path, []))
    return times, seen["codes"].get(path, {}), seen["failures"].get(path, "")


def _failure_summary(body: str) -> str:
    try:
        report = json.loads(body)
        checks = report["checks"]
    except (ValueError, KeyError, TypeError):
        return body[:300]
    parts = []
    for name, check in checks.items():
        error = f" ({check['error']})" if check.get("error") else ""
        parts.append(f"{name}={check.get('status')}{error}")
    return f"status {report.get('status')}: " + "; ".join(parts)


def _run_wrk(base: str, quick: bool) -> None:
    print()
    if shutil.which("wrk") is None:
        print(
            f"wrk not found on the PATH: skipping the independent load generator; install it "
            f"with `{WRK_INSTALL}` (sudo when not root; scripts/bench does it) and rerun"
        )
        return
    paths = ("/baseline", "/live", "/health")
    levels = (10, 100, 1000)
    short, long_, warm = (3, 3, 1) if quick else (5, 10, 2)
    rows: list[tuple[int, str, dict[str, float], list[float], dict[str, int], str]] = []
    with httpx.Client(base_url=base, timeout=30.0) as client:
        _wrk(f"{base}/live", 100, warm)  # warm-up
        for connections in levels:
            seconds = long_ if connections >= 1000 else short
            for path in paths:
                if connections >= 1000:
                    _wrk(f"{base}{path}", connections, warm)  # warm-up at the same load
                _server_side(client, path)  # reset
                stats = _wrk(f"{base}{path}", connections, seconds)
                rows.append((connections, path, stats, *_server_side(client, path)))
        health = client.get("/health").json()
    broker = health["checks"]["broker"]
    print(
        f"wrk {'/'.join(map(str, levels))} connections, 2 threads, {short}s per run "
        f"({long_}s at 1,000, after a {warm}s warm-up), closed loop, loopback; status after: "
        f"{health['status']}, hung broker check: {broker['status']} ({broker['error']})"
    )
    header = (
        f"{'route':<10} {'conns':>5} {'req/s':>7} {'p50':>8} {'p99':>8} "
        f"{'server p50':>11} {'server p99':>11} {'p99/base':>9} {'non-2xx':>8} {'sock err':>9}  "
        f"{'server status codes':<20}"
    )
    print(header + "   (ms)")
    print("-" * len(header))
    base_p99: dict[int, float] = {}
    for connections, path, stats, server, seen, _ in rows:
        base_p99.setdefault(connections, stats["p99"])
        server_p50 = _quantile(server, 0.5) * 1e3 if server else float("nan")
        server_p99 = _quantile(server, 0.99) * 1e3 if server else float("nan")
        print(
            f"{path:<10} {connections:>5} {stats['rps']:>7,.0f} "
            f"{stats['p50']:>8.2f} {stats['p99']:>8.2f} "
            f"{server_p50:>11.3f} {server_p99:>11.3f} "
            f"{stats['p99'] / base_p99[connections]:>9.2f} "
            f"{stats['non2xx']:>8,.0f} {stats['socket_errors']:>9,.0f}  "
            + ",".join(f"{code}:{n}" for code, n in sorted(seen.items()))
        )
    for connections, path, _, _, _, failure in rows:
        if failure:
            print(f"first error answer of {path} at {connections}: {_failure_summary(failure)}")
    health_p99 = next(r[2]["p99"] for r in rows if r[0] == 1000 and r[1] == "/health")
    verdict = "met" if health_p99 < GOAL_P99_MS else "NOT met"
    print()
    print(
        f"goal: p99 < {GOAL_P99_MS:.0f} ms under 1,000 concurrent requests with one dependency "
        f"hung -> /health p99 at 1,000 connections = {health_p99:.2f} ms: {verdict} "
        f"(p99/base = ratio to /baseline p99 at the same connection count)"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average after wrk: {load}; wrk and uvicorn share the same {os.cpu_count()} CPUs")


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 requests, 1 round; 3 s wrk runs")
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
        _run_wrk(base, args.quick)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
