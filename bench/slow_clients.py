"""/health latency of ``algowatch serve`` at ``ulimit -n 1024``: idle, and under 1,100 slow clients.

Run: ``.venv/bin/python bench/slow_clients.py [--quick]``; ``BENCH_DEBUG=1`` also lists the
slowest probes and when they happened.

The service runs as a subprocess with a descriptor limit of 1,024. A second process opens
1,100 connections, 400 a second, that each send a request line and then one header byte a
second (slowloris). This process probes ``GET /health`` on a fresh connection every 30 ms,
first with the service idle (the baseline, same run), then during the flood, and prints
p50/p99 of both, their ratio, how the server closed the slow connections
(``algowatch_http_closed_connections_total``) and the size of the service's log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

DESCRIPTOR_LIMIT = 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _trickle_all(host: str, port: int, count: int, seconds: int) -> dict[str, int]:
    ended = {"connected": 0, "failed": 0, "closed_by_server": 0, "still_open": 0}

    async def trickle() -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        except (OSError, TimeoutError):
            ended["failed"] += 1
            return
        ended["connected"] += 1
        try:
            writer.write(b"GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            for _ in range(seconds):
                await asyncio.sleep(1)
                if reader.at_eof():
                    raise ConnectionResetError
                writer.write(b"x")
                await writer.drain()
            ended["still_open"] += 1
        except OSError:
            ended["closed_by_server"] += 1
        finally:
            writer.close()

    # opened in steps of 50 every 0.125 s (400 a second), as a flood from one host arrives
    tasks = []
    for start in range(0, count, 50):
        tasks += [asyncio.create_task(trickle()) for _ in range(min(50, count - start))]
        await asyncio.sleep(0.125)
    await asyncio.gather(*tasks)
    return ended


def _trickler_main(host: str, port: int, count: int, seconds: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 256), hard))
    print(json.dumps(asyncio.run(_trickle_all(host, port, count, seconds))))


def _limit_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTOR_LIMIT, DESCRIPTOR_LIMIT))


def _probe(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    client.get(f"{url}/health", headers={"connection": "close"})
    return time.perf_counter() - started


def _summary(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 slow clients, 12 s")
    parser.add_argument("--trickle", nargs=4, metavar=("HOST", "PORT", "COUNT", "SECONDS"))
    args = parser.parse_args()
    if args.trickle:
        host, port, count, seconds = args.trickle
        _trickler_main(host, int(port), int(count), int(seconds))
        return
    count, seconds = (300, 12) if args.quick else (1100, 14)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "service.log"
        env = {**os.environ, "ALGOWATCH_HEALTH__STARTUP_GRACE_SECONDS": "0"}
        command = [sys.executable, "-m", "algowatch", "serve", "--port", str(port)]
        with log.open("wb") as out:
            service = subprocess.Popen(
                [*command, "--data-dir", str(Path(tmp) / "data")],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_limit_descriptors,  # noqa: PLW1509 - single-threaded here
            )
        client = httpx.Client(timeout=5, limits=httpx.Limits(max_keepalive_connections=0))
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.get(f"{url}/live")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            idle = []
            for _ in range(150):
                idle.append(_probe(client, url))
                time.sleep(0.03)
            trickler = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--trickle",
                    "127.0.0.1",
                    *map(str, (port, count, seconds)),
                ],
                stdout=subprocess.PIPE,
            )
            flood_started = time.monotonic()
            time.sleep(0.5)
            flood = []
            when = []
            while trickler.poll() is None and len(flood) < 400:
                when.append(time.monotonic() - flood_started)
                flood.append(_probe(client, url))
                time.sleep(0.03)
            if os.environ.get("BENCH_DEBUG"):
                worst = sorted(zip(flood, when, strict=True), reverse=True)[:8]
                print("  worst:", [(round(v * 1000), round(t, 2)) for v, t in worst])
            ended = json.loads(trickler.communicate(timeout=60)[0])
            metrics = client.get(f"{url}/metrics").text
        finally:
            client.close()
            service.terminate()
            service.wait(15)
        closed = [line for line in metrics.splitlines() if line.startswith("algowatch_http_closed")]
        idle_p50, idle_p99 = _summary(idle)
        flood_p50, flood_p99 = _summary(flood)
        print(f"slow clients: {count} x 1 header byte/s for {seconds} s, ulimit -n 1024")
        print(f"  trickler: {ended}")
        print(
            f"  /health idle   p50 {idle_p50:6.1f} ms  p99 {idle_p99:6.1f} ms  ({len(idle)} probes)"
        )
        print(f"  /health flood  p50 {flood_p50:6.1f} ms  p99 {flood_p99:6.1f} ms  ({len(flood)})")
        print(f"  p99 flood/idle {flood_p99 / idle_p99:.2f}  (goal: flood p99 < 100 ms)")
        print("  " + "\n  ".join(closed))
        print(f"  service log: {log.stat().st_size} bytes")


if __name__ == "__main__":
    main()
