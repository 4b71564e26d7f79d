"""1,100 trickling connections against ``algowatch serve`` at ``ulimit -n 1024``.

Before the header deadline and the connection cap, this flood exhausted the
service's file descriptors: ``/health`` stopped answering and asyncio logged
``socket.accept() out of system resource`` 143,196 times in 33 s (78 MB). Now the
oldest waiting connections are shed, the rest are closed at the header deadline, a
probe on a fresh connection keeps its latency, and the log stays small.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .. import serve_kit

pytestmark = pytest.mark.e2e

TRICKLERS = 1100
DESCRIPTOR_LIMIT = 1024
TRICKLE_SECONDS = 14
HEADER_TIMEOUT_SECONDS = 10
MAX_LOG_BYTES = 32 * 1024

# a separate process: 1,100 asyncio connections, each sending a request line and then
# one header byte a second; it reports how its connections ended
TRICKLER = """
import asyncio, json, resource, sys

host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 256), hard))
ended = {"connected": 0, "failed": 0, "closed_by_server": 0, "still_open": 0}

async def trickle(i):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
    except (OSError, asyncio.TimeoutError):
        ended["failed"] += 1
        return
    ended["connected"] += 1
    try:
        writer.write(b"GET /live HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nX-Slow: ")
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

async def main():
    # opened in steps of 50 every 0.125 s (400 a second), as a flood from one host arrives
    tasks = []
    for start in range(0, count, 50):
        tasks += [asyncio.create_task(trickle(i)) for i in range(start, min(start + 50, count))]
        await asyncio.sleep(0.125)
    await asyncio.gather(*tasks)

asyncio.run(main())
print(json.dumps(ended))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _limit_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTOR_LIMIT, DESCRIPTOR_LIMIT))


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``algowatch serve`` with ``ulimit -n 1024``, its output in a log file."""
    port = _free_port()
    log = tmp_path / "service.log"
    env = {
        **os.environ,
        "ALGOWATCH_SERVER__HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT_SECONDS),
        "ALGOWATCH_HEALTH__STARTUP_GRACE_SECONDS": "0",
    }
    command = [sys.executable, "-m", "algowatch", "serve", "--port", str(port)]
    command += ["--data-dir", str(tmp_path / "data")]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_limit_descriptors,  # noqa: PLW1509 - no threads in the parent yet matter
        )
    url = f"http://127.0.0.1:{port}"
    try:
        serve_kit.wait_until_up(process, url, log, timeout=30.0)
        yield url, log
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _probe(client: httpx.Client, url: str) -> float:
    # a fresh connection per probe (no keep-alive), as a load balancer's health check makes
    started = time.perf_counter()
    response = client.get(f"{url}/health", headers={"connection": "close"})
    elapsed = time.perf_counter() - started
    assert response.status_code in {200, 503}
    assert response.json()["status"] in {"healthy", "degraded", "unhealthy"}
    return elapsed


def test_trickling_connections_leave_health_fast_and_the_log_small(
    service: tuple[str, Path], tmp_path: Path
) -> None:
    """p99 of /health under 100 ms during the flood, log under 32 KiB, reachable after."""
    url, log = service
    script = tmp_path / "trickler.py"
    script.write_text(TRICKLER)
    port = url.rsplit(":", 1)[1]
    trickler = subprocess.Popen(
        [sys.executable, str(script), "127.0.0.1", port, str(TRICKLERS), str(TRICKLE_SECONDS)],
        stdout=subprocess.PIPE,
    )
    latencies: list[float] = []
    client = httpx.Client(timeout=5, limits=httpx.Limits(max_keepalive_connections=0))
    try:
        time.sleep(0.5)  # the first connections are open; the rest arrive while we probe
        while trickler.poll() is None and len(latencies) < 400:
            latencies.append(_probe(client, url))
            time.sleep(0.03)
        stdout, _ = trickler.communicate(timeout=30)
        assert _probe(client, url) < 1.0
    finally:
        client.close()
        if trickler.poll() is None:
            trickler.kill()
            trickler.wait()
    ended = json.loads(stdout)
    assert ended["connected"] >= 1000, ended
    # none outlived the header deadline: shed over the cap or closed at the deadline
    assert ended["still_open"] == 0, ended
    assert ended["closed_by_server"] == ended["connected"], ended

    assert len(latencies) >= 100
    p99 = statistics.quantiles(latencies, n=100)[98]
    assert p99 < 0.100, f"p99 {p99 * 1000:.1f} ms over {len(latencies)} probes"

    metrics = httpx.get(f"{url}/metrics", timeout=5).text
    closed = {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "algowatch_http_closed_connections_total"
    }
    assert closed["header_timeout"] + closed["connection_limit"] >= ended["closed_by_server"]
    assert closed["connection_limit"] >= TRICKLERS - 768
    size = log.stat().st_size
    assert size < MAX_LOG_BYTES, log.read_text()[-4000:]
    assert "out of system resource" not in log.read_text()
