"""``algowatch serve`` follows hummingbot's MQTT bridge on a real Mosquitto broker.

The session replayed (examples/hummingbot/session.jsonl, published by the example's own
replay script) follows hummingbot's published bridge schema. Hand-worked figures, BTC-USDT,
fees in USDT (``percent x price x amount`` plus flat fees, as hummingbot's
``TradeFeeBase.fee_amount_in_token`` counts them):

- buy-1 (limit 0.5): fills 0.2 @ 40000 (fee 8.00) and 0.3 @ 40000 (fee 12.00)
- sell-2 (limit maker 0.4): fills 0.4 @ 41000 (fee 16.40)
- sell-3: canceled; sell-4: created then failed (rejected)
- buy-5 (market 0.1): fills 0.1 @ 40500, flat fee 0.0001 BTC = 4.05 USDT

FIFO: sell-2 closes the 0.2 lot (basis fee 8) and 0.2 of the 0.3 lot (basis fee 8 of 12):
realized = (41000 - 40000) x 0.4 - 8 - 8 - 16.40 = 367.60. Fees = 8 + 12 + 16.40 + 4.05 =
40.45. Open: 0.1 @ 40000 (+4 fee) and 0.1 @ 40500 (+4.05 fee): 0.2 BTC, average cost
8058.05 / 0.2 = 40290.25, marked at the last fill 40500: unrealized = 8100 - 8058.05 = 41.95.
Orders: 5 submitted, 3 filled, 1 canceled, 1 rejected, none open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
REPLAY = ROOT / "examples" / "hummingbot" / "replay.py"
SESSION = ROOT / "examples" / "hummingbot" / "session.jsonl"
SHARED_BROKER_PORT = 1883
SESSION_EVENTS = 19  # 5 x (submitted + acknowledged), 4 fills, 1 cancel, 1 rejection, 3 heartbeats


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if predicate():
                return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def publish(port: int, topic: str, payload: bytes | str) -> None:
    async def send() -> None:
        async with aiomqtt.Client("127.0.0.1", port) as client:
            await client.publish(topic, payload, qos=1)

    asyncio.run(send())


def replay(port: int, namespace: str, instance: str, session: Path = SESSION) -> None:
    subprocess.run(
        [
            sys.executable, str(REPLAY), str(session), "--port", str(port),
            "--namespace", namespace, "--instance", instance, "--keep-times",
        ],
        check=True, timeout=60, capture_output=True,
    )  # fmt: skip


class Serve:
    """``python -m algowatch serve`` with ``[sources.hummingbot]`` on a given broker."""

    def __init__(self, folder: Path, broker_port: int, namespace: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = folder / "algowatch.toml"
        self.config.write_text(
            "[health]\n"
            "system_metrics = false\n"
            "[risk]\n"
            "enabled = false\n"
            "[sources.hummingbot]\n"
            "enabled = true\n"
            f"port = {broker_port}\n"
            f'namespace = "{namespace}"\n'
            "reconnect_min_seconds = 0.2\n"
            "reconnect_max_seconds = 1.0\n",
            encoding="utf-8",
        )
        self.data = folder / "data"
        self.log = folder / "service.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "algowatch", "serve", "--port", str(self.port),
                    "--data-dir", str(self.data), "--config", str(self.config),
                    "--log-level", "info",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        process = self.process

        def ready() -> bool:
            assert process.poll() is None, self.log.read_text()
            return httpx.get(f"{self.url}/ready", timeout=1).status_code == 200

        wait_for("the service to be ready", ready, timeout=90)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def get(self, path: str) -> Any:
        return httpx.get(f"{self.url}{path}", timeout=5).json()

    def source(self) -> dict[str, Any]:
        check: dict[str, Any] = self.get("/health")["checks"]["hummingbot"]
        return check

    def connected(self, connections: int = 1) -> bool:
        details = self.source()["details"]
        return bool(details["connected"]) and details["connections"] >= connections

    def events_applied(self) -> int:
        return int(self.get("/api/v1/snapshot")["events_applied"])

    def metric(self, name: str) -> float:
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name:
                    return float(sample.value)
        pytest.fail(f"{name} is not in /metrics")


@pytest.fixture
def namespace() -> str:
    # a topic prefix of this test's own on the shared broker
    return f"algowatch-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def serve(tmp_path: Path, namespace: str) -> Iterator[Serve]:
    service = Serve(tmp_path, SHARED_BROKER_PORT, namespace)
    try:
        service.start()
        wait_for("the MQTT subscription", service.connected)
        yield service
    finally:
        service.stop()


def assert_session_figures(snapshot: dict[str, Any], instance: str) -> None:
    trading = snapshot["trading"]
    execution = snapshot["execution"]
    assert trading["realized_pnl"] == pytest.approx(367.60, abs=1e-9)
    assert trading["fees"] == pytest.approx(40.45, abs=1e-9)
    assert trading["unrealized_pnl"] == pytest.approx(41.95, abs=1e-9)
    (position,) = snapshot["positions"]
    assert position["account"] == instance
    assert position["symbol"] == "BTC-USDT"
    assert position["quantity"] == pytest.approx(0.2, abs=1e-12)
    assert position["average_cost"] == pytest.approx(40290.25, abs=1e-6)
    assert position["mark"] == 40500.0
    orders = {k: v for k, v in execution.items() if k.startswith("orders_")}
    assert orders == {
        "orders_submitted": 5,
        "orders_filled": 3,
        "orders_partially_filled": 0,
        "orders_rejected": 1,
        "orders_canceled": 1,
        "orders_open": 0,
    }
    assert set(snapshot["by_account"]) == {instance}
    assert set(snapshot["by_strategy"]) == {"hummingbot"}


def test_replayed_session_gives_the_hand_worked_figures(serve: Serve, namespace: str) -> None:
    """Orders, fills with fees, cancel and failure become the hand-worked figures."""
    instance = f"bot-{uuid.uuid4().hex[:8]}"
    replay(SHARED_BROKER_PORT, namespace, instance)
    wait_for("the session's events", lambda: serve.events_applied() == SESSION_EVENTS)
    snapshot = serve.get("/api/v1/snapshot")
    assert_session_figures(snapshot, instance)
    assert snapshot["anomalies"] == {}

    # /health serves the check's result of its last run (every second)
    def counted() -> tuple[int, int, int]:
        details = serve.source()["details"]
        return details["messages"], details["events"], details["ignored_messages"]

    wait_for("the source's counters in /health", lambda: counted() == (17, 19, 3), timeout=5.0)
    assert serve.metric("algowatch_ingest_events_total") == SESSION_EVENTS


def test_redelivered_session_is_not_counted_twice(serve: Serve, namespace: str) -> None:
    """Every order and fill carries a deterministic event_id: a second delivery is ignored."""
    instance = f"bot-{uuid.uuid4().hex[:8]}"
    replay(SHARED_BROKER_PORT, namespace, instance)
    wait_for("the session's events", lambda: serve.events_applied() == SESSION_EVENTS)
    replay(SHARED_BROKER_PORT, namespace, instance)
    # the 3 heartbeats (no event_id) are applied again, the 16 order events are duplicates
    duplicates = "algowatch_ingest_duplicate_events_total"
    wait_for("the duplicates", lambda: serve.metric(duplicates) == 16)
    assert serve.events_applied() == SESSION_EVENTS + 3
    assert_session_figures(serve.get("/api/v1/snapshot"), instance)


def test_malformed_message_is_rejected_logged_and_not_journaled(
    serve: Serve, namespace: str
) -> None:
    """A bad field is logged by name, counted as rejected, and the subscriber goes on."""
    topic = f"{namespace}/bot-x/events"
    bad = {
        "timestamp": 1_780_000_000,
        "type": "OrderFilled",
        "data": {"order_id": "o1", "trading_pair": "BTC-USDT", "trade_type": "TradeType.BUY",
                 "order_type": "OrderType.LIMIT", "price": "abc", "amount": 0.1,
                 "trade_fee": {"fee_type": "AddedToCost", "percent": "0", "flat_fees": []}},
    }  # fmt: skip
    publish(SHARED_BROKER_PORT, topic, json.dumps(bad))
    publish(SHARED_BROKER_PORT, topic, b"\xff not json")
    wait_for(
        "two rejections",
        lambda: serve.metric("algowatch_ingest_rejected_batches_total") == 2,
    )
    log = serve.log.read_text()
    assert "hummingbot.OrderFilled.data.price must be a finite number > 0, received 'abc'" in log
    assert "hummingbot.events must be a JSON object, received invalid JSON" in log
    assert serve.events_applied() == 0
    assert serve.metric("algowatch_ingest_events_total") == 0
    # still subscribed: the next good message is stored
    publish(SHARED_BROKER_PORT, f"{namespace}/bot-x/hb", b'{"ts": 1780000001500000}')
    wait_for("the heartbeat after the bad messages", lambda: serve.events_applied() == 1)
    wait_for(
        "the rejections in /health",
        lambda: serve.source()["details"]["rejected_messages"] == 2,
        timeout=5.0,
    )


class Mosquitto:
    """A Mosquitto broker of the test's own, on a free loopback port, that it may stop."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n",
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        pytest.fail("the private mosquitto did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_broker_outage_is_reported_and_the_source_reconnects(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """The broker goes away mid-session: /health says so; once it is back, the rest arrives."""
    namespace, instance = "hbot", "bot-outage"
    lines = SESSION.read_text().splitlines()
    first, rest = tmp_path / "first.jsonl", tmp_path / "rest.jsonl"
    first.write_text("\n".join(lines[:6]) + "\n")  # heartbeats, buy-1 and its two fills
    rest.write_text("\n".join(lines[6:]) + "\n")
    service = Serve(tmp_path, broker.port, namespace)
    try:
        service.start()
        wait_for("the MQTT subscription", service.connected)
        replay(broker.port, namespace, instance, first)
        wait_for("the first part", lambda: service.events_applied() == 6)

        broker.stop()
        wait_for("the outage in /health", lambda: service.source()["status"] == "disconnected")
        health = service.get("/health")
        assert health["status"] == "degraded"  # not critical: HTTP ingest goes on
        assert health["checks"]["hummingbot"]["error"]
        assert service.get("/api/v1/snapshot")["trading"]["fees"] == pytest.approx(20.0)

        broker.start()
        wait_for("the reconnection", lambda: service.connected(connections=2), timeout=30)
        replay(broker.port, namespace, instance, rest)
        wait_for("the rest", lambda: service.events_applied() == SESSION_EVENTS)
        assert_session_figures(service.get("/api/v1/snapshot"), instance)
        details = service.source()["details"]
        assert details["disconnections"] == 1
        assert "MQTT broker" in service.log.read_text()
    finally:
        service.stop()
