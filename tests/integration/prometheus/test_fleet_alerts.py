"""Real Prometheus and Alertmanager on the rendered fleet configuration: one alert for N replicas.

Two replicas (two loopback ``/metrics`` endpoints, as two agreeing replicas would serve) both
hold the drawdown limit at flatten and each lags its own consumer. Prometheus, with the
``prometheus.yml`` and rules ``algowatch config render`` writes for ``[[alerts.replicas]]``,
fires ``MaxDrawdownExceeded`` once per replica; Alertmanager must hold it once (the labels
that told the replicas apart are dropped before sending), while ``NatsConsumerLagging`` stays
one alert per consumer (it names the lagging replica).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from algowatch.deploy import alert_rules, alertmanager_config, prometheus_config
from algowatch.deploy.configs import RULES_FILE
from algowatch.settings import AlertSettings, ReceiverSettings, ReplicaSettings

from ...nats_kit import free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("prometheus") is None or shutil.which("prometheus-alertmanager") is None,
        reason="needs the Debian prometheus and prometheus-alertmanager packages "
        "(scripts/bootstrap --system)",
    ),
]


def _replica_metrics(consumer: str) -> bytes:
    return (
        "# TYPE trading_risk_limit_level gauge\n"
        'trading_risk_limit_level{limit="max_drawdown"} 3\n'
        "# TYPE algowatch_nats_consumer_lag_events gauge\n"
        f'algowatch_nats_consumer_lag_events{{stream="ALGOWATCH",consumer="{consumer}"}} 50000\n'
    ).encode()


@contextlib.contextmanager
def _replica(consumer: str) -> Iterator[str]:
    body = _replica_metrics(consumer)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _wait(what: str, predicate: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            value = predicate()
            if value:
                return value
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def test_replicas_fire_once_in_alertmanager_and_lag_names_the_replica(tmp_path: Path) -> None:
    prom_port, am_port, sink = free_port(), free_port(), free_port()
    with _replica("replica-a") as a, _replica("replica-b") as b:
        settings = AlertSettings(
            replicas=(
                ReplicaSettings(target=a, name="a"),
                ReplicaSettings(target=b, name="b"),
            ),
            alertmanager_target=f"127.0.0.1:{am_port}",
            prometheus_target=f"127.0.0.1:{prom_port}",
            deadmans_switch_url=f"http://127.0.0.1:{sink}/watchdog",
            receivers=(
                ReceiverSettings(kind="webhook", route="all", url=f"http://127.0.0.1:{sink}/am"),
            ),
            nats_lag_for_seconds=0,
        )
        deploy = tmp_path / "deploy"
        (deploy / "rules").mkdir(parents=True)
        (deploy / "prometheus.yml").write_text(yaml.safe_dump(prometheus_config(settings)))
        (deploy / RULES_FILE).write_text(yaml.safe_dump(alert_rules(settings)))
        (deploy / "alertmanager.yml").write_text(yaml.safe_dump(alertmanager_config(settings)))
        logs = [(tmp_path / name).open("wb") for name in ("alertmanager.log", "prometheus.log")]
        processes = [
            subprocess.Popen(
                [
                    "prometheus-alertmanager",
                    f"--config.file={deploy / 'alertmanager.yml'}",
                    f"--storage.path={tmp_path / 'am-data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                stdout=subprocess.DEVNULL,
                stderr=logs[0],
            ),
            subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={deploy / 'prometheus.yml'}",
                    f"--storage.tsdb.path={tmp_path / 'prom-data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--rules.alert.resend-delay=1s",
                ],
                stdout=subprocess.DEVNULL,
                stderr=logs[1],
            ),
        ]
        try:

            def prometheus_alerts() -> list[dict[str, Any]]:
                url = f"http://127.0.0.1:{prom_port}/api/v1/alerts"
                alerts: list[dict[str, Any]] = httpx.get(url, timeout=2).json()["data"]["alerts"]
                return alerts

            def held(name: str) -> list[dict[str, Any]]:
                url = f"http://127.0.0.1:{am_port}/api/v2/alerts"
                alerts = httpx.get(url, params={"filter": f'alertname="{name}"'}, timeout=2)
                return list(alerts.json())

            firing = _wait(
                "both replicas firing in Prometheus",
                lambda: (
                    len(
                        [
                            x
                            for x in prometheus_alerts()
                            if x["labels"]["alertname"] == "MaxDrawdownExceeded"
                            and x["state"] == "firing"
                        ]
                    )
                    == 2
                    and prometheus_alerts()
                ),
                60,
            )
            drawdown = _wait(
                "the drawdown alert in Alertmanager", lambda: held("MaxDrawdownExceeded"), 30
            )
            lagging = _wait(
                "both lag alerts in Alertmanager",
                lambda: len(held("NatsConsumerLagging")) == 2 and held("NatsConsumerLagging"),
                30,
            )
            time.sleep(2)  # a few more evaluations and sends: still one
            drawdown = held("MaxDrawdownExceeded")
        finally:
            for process in processes:
                process.terminate()
                process.wait(20)
            for log in logs:
                log.close()

    replicas = {
        x["labels"]["replica"] for x in firing if x["labels"]["alertname"] == "MaxDrawdownExceeded"
    }
    assert replicas == {"a", "b"}
    assert len(drawdown) == 1
    labels = drawdown[0]["labels"]
    assert "replica" not in labels
    assert "instance" not in labels
    assert labels["job"] == "trading-engine"
    assert labels["shard"] == "all"
    assert sorted(x["labels"]["consumer"] for x in lagging) == ["replica-a", "replica-b"]
