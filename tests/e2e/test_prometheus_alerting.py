"""Real Prometheus and Alertmanager page on a drawdown breach of a running algowatch, then resolve.

``algowatch serve`` runs on a free loopback port; Prometheus (scrape and evaluation every
second, the rendered rules with ``for: 1s`` on the risk group) scrapes it; Alertmanager
forwards to a webhook receiver in this process. The test posts a stream that draws the
portfolio down 20% (limit 15%), waits for ``MaxDrawdownExceeded`` at the receiver, recovers
the price and waits for the resolved notification. Breach-to-notification time is printed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from algowatch.deploy import write_rendered
from algowatch.settings import AlertSettings

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("prometheus") is None or shutil.which("prometheus-alertmanager") is None,
        reason="needs the Debian prometheus and prometheus-alertmanager packages "
        "(scripts/bootstrap --system)",
    ),
]

ALERT = "MaxDrawdownExceeded"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Receiver:
    """A webhook receiver recording (monotonic time, payload) per notification."""

    notifications: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def first(self, status: str, after: float = 0.0) -> float | None:
        with self.lock:
            for at, payload in self.notifications:
                alerts = [a for a in payload["alerts"] if a["labels"]["alertname"] == ALERT]
                if at >= after and alerts and all(a["status"] == status for a in alerts):
                    return at
        return None


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, int]]:
    """A running webhook receiver and its port."""
    record = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with record.lock:
                record.notifications.append((time.monotonic(), json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield record, server.server_address[1]
    server.shutdown()
    server.server_close()


class Processes:
    """Start subprocesses and stop them (SIGTERM, then SIGKILL) when the test ends."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        self.running.append((process, log))

    def check_alive(self) -> None:
        for process, log in self.running:
            assert process.poll() is None, log.read_text()[-3000:]

    def stop(self) -> None:
        for process, _log in self.running:
            process.terminate()
        for process, _log in self.running:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    """The subprocesses of one test, stopped at its end."""
    running = Processes(tmp_path)
    yield running
    running.stop()


def _wait(what: str, predicate: Any, timeout: float, processes: Processes) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processes.check_alive()
        try:
            value = predicate()
        except (httpx.HTTPError, ValueError):
            # not up yet: refused connections, or Prometheus's plain-text 503 body
            # ("Service Unavailable") while its TSDB starts, which is not JSON
            value = None
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def _post(url: str, events: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{url}/api/v1/events", json=events, timeout=10)
    assert response.status_code in (200, 202), response.text


def test_drawdown_breach_pages_and_resolves(
    tmp_path: Path, receiver: tuple[Receiver, int], processes: Processes
) -> None:
    """A 20% drawdown reaches the webhook as firing, and as resolved after the price recovers."""
    record, hook_port = receiver
    app_port, prom_port, am_port = _free_port(), _free_port(), _free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    prom_url = f"http://127.0.0.1:{prom_port}"

    settings = AlertSettings(
        target=f"127.0.0.1:{app_port}",
        prometheus_target=f"127.0.0.1:{prom_port}",
        alertmanager_target=f"127.0.0.1:{am_port}",
        node_exporter_target="127.0.0.1:1",
        postgres_exporter_target="127.0.0.1:1",
        scrape_interval_seconds=1.0,
        evaluation_interval_seconds=1.0,
        risk_for_seconds=1.0,
    )
    write_rendered(tmp_path / "deploy", settings)
    am_config = {
        "route": {
            "receiver": "hook",
            "group_by": ["alertname", "job"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "hook",
                "webhook_configs": [
                    {"url": f"http://127.0.0.1:{hook_port}/hook", "send_resolved": True}
                ],
            }
        ],
    }
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(am_config))

    env = {**os.environ, "ALGOWATCH_HEALTH__SYSTEM_METRICS": "false"}
    processes.start(
        "algowatch",
        [
            sys.executable,
            "-m",
            "algowatch",
            "serve",
            "--port",
            str(app_port),
            "--data-dir",
            str(tmp_path / "data"),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    processes.start(
        "alertmanager",
        [
            "prometheus-alertmanager",
            f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",
        ],
    )
    processes.start(
        "prometheus",
        [
            "prometheus",
            f"--config.file={tmp_path / 'deploy/prometheus/prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            "--rules.alert.resend-delay=1s",
        ],
    )

    def target_up() -> bool:
        targets = httpx.get(f"{prom_url}/api/v1/targets", timeout=2).json()["data"]
        return any(
            t["labels"]["job"] == "trading-engine" and t["health"] == "up"
            for t in targets["activeTargets"]
        )

    def alertmanager_found() -> bool:
        data = httpx.get(f"{prom_url}/api/v1/alertmanagers", timeout=2).json()["data"]
        return bool(data["activeAlertmanagers"])

    _wait("the trading target to be up", target_up, 40, processes)
    _wait("Prometheus to find Alertmanager", alertmanager_found, 20, processes)

    # 500 AAPL at 100 = 50,000 of 100,000: a fall to 60 loses 20,000 = 20% of the high-water mark
    _post(
        app_url,
        [
            {"type": "mark", "symbol": "AAPL", "price": 100.0},
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
    time.sleep(2.0)  # a few quiet evaluations first: drawdown 0 must not page
    assert record.first("firing") is None

    _post(app_url, [{"type": "mark", "symbol": "AAPL", "price": 60.0}])
    breach = time.monotonic()
    fired = _wait("the firing notification", lambda: record.first("firing"), 30, processes)
    print(f"\nbreach -> firing notification: {fired - breach:.2f} s")

    _post(app_url, [{"type": "mark", "symbol": "AAPL", "price": 100.0}])
    recovery = time.monotonic()
    resolved = _wait(
        "the resolved notification", lambda: record.first("resolved", after=recovery), 30, processes
    )
    print(f"recovery -> resolved notification: {resolved - recovery:.2f} s")

    # the alert carried the corrected annotations
    payload = next(p for at, p in record.notifications if at == fired)
    alert = next(a for a in payload["alerts"] if a["labels"]["alertname"] == ALERT)
    assert alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["description"].endswith(
        "is 20% of the high-water mark, above the 15% limit."
    )
    assert fired - breach < 15

    # the meta alerts' metrics exist in the real self-scrapes, and no *_created series came in
    def names() -> set[str]:
        response = httpx.get(f"{prom_url}/api/v1/label/__name__/values", timeout=2)
        return set(response.json()["data"])

    meta = {"prometheus_rule_evaluation_failures_total", "alertmanager_notifications_failed_total"}
    present = _wait("the self-scrapes", lambda: meta <= (seen := names()) and seen, 30, processes)
    assert not [n for n in present if n.startswith("trading_") and n.endswith("_created")]
