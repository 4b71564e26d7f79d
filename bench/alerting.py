"""Time to alert with the rendered configuration as shipped: guard webhook, page, resolved.

Run: ``.venv/bin/python bench/alerting.py [--cycles N]`` (default 20 cycles).

``algowatch serve``, real Prometheus and real Alertmanager (Debian packages, installed by
``scripts/bootstrap --system``) run on free loopback ports with the files ``algowatch config
render`` writes from the *default* settings. Only the targets and the receivers are pointed
at this process: ``[alerts]`` targets, one ``[[alerts.receivers]]`` webhook for critical
alerts, the dead man's switch URL, and ``[risk] webhooks`` for the guard's own webhook.
Prometheus gets the flags the rendered compose file passes (``prometheus_flags``).

Each cycle waits a random 0-2 s (so the breach lands at a random point of the 1 s scrape and
evaluation cycles and of Alertmanager's 5 s group interval), posts a mark that draws the
portfolio down 20 % (limit 15 %), and measures from the 202 acknowledgement:

* guard: the risk guard's webhook (``max_drawdown`` at ``flatten``);
* page: Alertmanager's webhook with ``MaxDrawdownExceeded`` firing;

then posts the recovery mark and measures recovery -> ``resolved``; then resets the guard.
It prints p50/p99/max of each, and the start -> first Watchdog delay (the dead man's
switch's start-up grace must exceed it). Goals (issue 14): guard <= 0.1 s p99, page <= 5 s
p99, resolved <= 15 s. Absolute times on a shared 2-core machine: other work adds noise,
mostly to the guard path (milliseconds).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from algowatch.deploy import write_rendered
from algowatch.deploy.render import prometheus_flags
from algowatch.settings import AlertSettings, ReceiverSettings

ALERT = "MaxDrawdownExceeded"
GOALS = {"guard": 0.1, "page": 5.0, "resolved": 15.0}


def free_port() -> int:
    """Return a free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Receiver:
    """Webhook receiver recording ``(monotonic time, path, payload)`` per POST."""

    posts: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def first(self, match: Callable[[str, dict[str, Any]], bool], after: float) -> float | None:
        """Return the time of the first POST after ``after`` that ``match`` accepts."""
        with self.lock:
            for at, path, payload in self.posts:
                if at >= after and match(path, payload):
                    return at
        return None


def alert_status(status: str) -> Callable[[str, dict[str, Any]], bool]:
    """Match an Alertmanager notification whose MaxDrawdownExceeded alerts all have ``status``."""

    def match(path: str, payload: dict[str, Any]) -> bool:
        if path != "/am":
            return False
        alerts = [a for a in payload["alerts"] if a["labels"]["alertname"] == ALERT]
        return bool(alerts) and all(a["status"] == status for a in alerts)

    return match


def guard_flatten(path: str, payload: dict[str, Any]) -> bool:
    """Match the risk guard's webhook for the drawdown limit reaching flatten."""
    return path == "/guard" and payload["limit"] == "max_drawdown" and payload["level"] == "flatten"


@contextmanager
def receiver() -> Iterator[Receiver]:
    """Run a webhook receiver in a thread."""
    record = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with record.lock:
                record.posts.append((time.monotonic(), self.path, json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    record.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield record
    finally:
        server.shutdown()
        server.server_close()


class Stack:
    """``algowatch serve``, Prometheus and Alertmanager on the rendered default configuration."""

    def __init__(self, workdir: Path, hook: Receiver) -> None:
        self.workdir = workdir
        self.hook = hook
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []
        app_port, prom_port, am_port = free_port(), free_port(), free_port()
        self.app_url = f"http://127.0.0.1:{app_port}"
        self.prom_url = f"http://127.0.0.1:{prom_port}"
        hook_url = f"http://127.0.0.1:{hook.port}"
        # the defaults, with only the targets and receivers pointed at this process
        self.settings = AlertSettings(
            target=f"127.0.0.1:{app_port}",
            prometheus_target=f"127.0.0.1:{prom_port}",
            alertmanager_target=f"127.0.0.1:{am_port}",
            node_exporter_target="127.0.0.1:1",
            postgres_exporter_target="127.0.0.1:1",
            deadmans_switch_url=f"{hook_url}/watchdog",
            receivers=(ReceiverSettings(kind="webhook", route="critical", url=f"{hook_url}/am"),),
        )
        write_rendered(workdir / "deploy", self.settings)
        self.ports = (app_port, prom_port, am_port)
        self.prometheus_started = 0.0

    def _start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        self.processes.append((process, log))

    def check_alive(self) -> None:
        """Raise with the log tail of a process that exited."""
        for process, log in self.processes:
            if process.poll() is not None:
                msg = f"{log.name} exited: {log.read_text()[-3000:]}"
                raise RuntimeError(msg)

    def start(self) -> None:
        """Start the three processes and wait until Prometheus scrapes and found Alertmanager."""
        app_port, prom_port, am_port = self.ports
        env = {
            **os.environ,
            "ALGOWATCH_HEALTH__SYSTEM_METRICS": "false",
            "ALGOWATCH_RISK__WEBHOOKS": f'["http://127.0.0.1:{self.hook.port}/guard"]',
        }
        data = self.workdir / "data"
        self._start(
            "algowatch",
            [
                sys.executable,
                "-m",
                "algowatch",
                "serve",
                "--port",
                str(app_port),
                "--data-dir",
                str(data),
                "--log-level",
                "warning",
            ],
            env=env,
        )
        self._start(
            "alertmanager",
            [
                "prometheus-alertmanager",
                f"--config.file={self.workdir / 'deploy/alertmanager/alertmanager.yml'}",
                f"--storage.path={self.workdir / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
        )
        self.prometheus_started = time.monotonic()
        self._start(
            "prometheus",
            [
                "prometheus",
                f"--config.file={self.workdir / 'deploy/prometheus/prometheus.yml'}",
                f"--storage.tsdb.path={self.workdir / 'prom-data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                *prometheus_flags(self.settings),
            ],
        )

        def target_up() -> bool:
            targets = httpx.get(f"{self.prom_url}/api/v1/targets", timeout=2).json()["data"]
            return any(
                t["labels"]["job"] == self.settings.job and t["health"] == "up"
                for t in targets["activeTargets"]
            )

        self.wait("the trading target to be up", target_up, 60)

    def wait(self, what: str, predicate: Callable[[], Any], timeout: float) -> Any:
        """Poll ``predicate`` every 10 ms until it is truthy; raise after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                value = predicate()
            except (httpx.HTTPError, ValueError):
                value = None  # not up yet (refused, or Prometheus's plain-text 503)
            if value:
                return value
            time.sleep(0.01)
        msg = f"timed out after {timeout}s waiting for {what}"
        raise TimeoutError(msg)

    def post(self, path: str, body: Any) -> float:
        """POST JSON to the service; return the monotonic time of the acknowledgement."""
        response = httpx.post(f"{self.app_url}{path}", json=body, timeout=10)
        acked = time.monotonic()
        if response.status_code not in (200, 202):
            msg = f"{path}: HTTP {response.status_code} {response.text}"
            raise RuntimeError(msg)
        return acked

    def stop(self) -> None:
        """Stop the processes (SIGTERM, then SIGKILL)."""
        for process, _log in self.processes:
            process.terminate()
        for process, _log in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def mark(price: float) -> list[dict[str, Any]]:
    """One AAPL mark."""
    return [{"type": "mark", "symbol": "AAPL", "price": price}]


def measure(stack: Stack, cycles: int, *, seed: int = 7) -> dict[str, list[float]]:
    """Run ``cycles`` breach/recovery cycles; return the latencies (seconds) per path."""
    rng = random.Random(seed)
    hook = stack.hook
    # 500 AAPL at 100 = 50,000 of 100,000: a mark at 60 loses 20,000 = 20 % of the HWM
    stack.post(
        "/api/v1/events",
        [
            *mark(100.0),
            {
                "type": "order_submitted",
                "order_id": "o1",
                "symbol": "AAPL",
                "side": "buy",
                "quantity": 500,
                "order_type": "market",
                "arrival_price": 100.0,
            },
            {
                "type": "order_filled",
                "order_id": "o1",
                "fill_id": "f1",
                "quantity": 500,
                "price": 100.0,
            },
        ],
    )
    out: dict[str, list[float]] = {"guard": [], "page": [], "resolved": []}
    for _ in range(cycles):
        time.sleep(rng.uniform(0.0, 2.0))
        # the guard may act before the client has read the 202 (it runs as soon as the
        # event is applied): match from the send, measure from the acknowledgement, >= 0
        sent = time.monotonic()
        breach = stack.post("/api/v1/events", mark(60.0))
        guard = stack.wait("the guard's webhook", lambda s=sent: hook.first(guard_flatten, s), 10)
        page = stack.wait(
            "the firing page", lambda s=sent: hook.first(alert_status("firing"), s), 60
        )
        out["guard"].append(max(0.0, guard - breach))
        out["page"].append(max(0.0, page - breach))
        sent = time.monotonic()
        recovery = stack.post("/api/v1/events", mark(100.0))
        resolved = stack.wait(
            "the resolved notification",
            lambda s=sent: hook.first(alert_status("resolved"), s),
            60,
        )
        out["resolved"].append(max(0.0, resolved - recovery))
        stack.post("/api/v1/risk/reset", {"by": "bench", "reason": "next cycle"})
    return out


def first_watchdog(stack: Stack) -> float:
    """Return seconds from Prometheus's start to the first Watchdog at the dead man's switch."""
    at = stack.wait(
        "the first Watchdog",
        lambda: stack.hook.first(lambda path, _p: path == "/watchdog", 0.0),
        180,
    )
    return float(at - stack.prometheus_started)


def quantile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile (inclusive method; the maximum for small samples at 0.99)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


@contextmanager
def running_stack(workdir: Path) -> Iterator[Stack]:
    """Yield a started :class:`Stack` with its receiver; stop both at the end."""
    with receiver() as hook:
        stack = Stack(workdir, hook)
        try:
            stack.start()
            yield stack
        finally:
            stack.stop()


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("prometheus") is None or shutil.which("prometheus-alertmanager") is None:
        print(
            "bench/alerting.py needs prometheus and prometheus-alertmanager "
            "(scripts/bootstrap --system)"
        )
        return 0
    with (
        tempfile.TemporaryDirectory(prefix="algowatch-alerting-") as tmp,
        running_stack(Path(tmp)) as stack,
    ):
        latencies = measure(stack, args.cycles)
        watchdog = first_watchdog(stack)
    print(f"time to alert, rendered defaults, {args.cycles} breaches at random points")
    print(f"{'path':<10}{'p50 s':>9}{'p99 s':>9}{'max s':>9}{'goal s':>9}")
    for name, values in latencies.items():
        print(
            f"{name:<10}{statistics.median(values):>9.3f}{quantile(values, 0.99):>9.3f}"
            f"{max(values):>9.3f}{GOALS[name]:>9.1f}"
        )
    print(f"Prometheus start -> first Watchdog: {watchdog:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
