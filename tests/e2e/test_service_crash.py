"""kill -9 of ``algowatch serve`` during a stream of SDK posts loses nothing and counts once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from algowatch.client import Client

from .. import serve_kit

pytestmark = pytest.mark.e2e

EVENTS = 3000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Service:
    """``python -m algowatch serve`` as a subprocess on a fixed port and data folder."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / "service.log"

    def start(self) -> None:
        env = {**os.environ, "ALGOWATCH_HEALTH__SYSTEM_METRICS": "false"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "algowatch",
                    "serve",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                    "--log-level",
                    "warning",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        serve_kit.wait_until_up(self.process, self.url, self.log)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)

    def snapshot(self) -> dict:  # type: ignore[type-arg]
        response = httpx.get(f"{self.url}/api/v1/snapshot", timeout=10)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    running = Service(tmp_path / "data", _free_port())
    running.start()
    yield running
    if running.process is not None and running.process.poll() is None:
        running.process.kill()
        running.process.wait(10)


def test_kill_9_during_posts_loses_no_accepted_event(service: Service) -> None:
    """Every event answered 202 is in the snapshot after restart, exactly once."""
    client = Client(
        service.url,
        batch_size=50,
        flush_interval_seconds=0.01,
        backoff_initial_seconds=0.02,
        backoff_max_seconds=0.25,
    )
    emitted = threading.Event()

    def bot() -> None:
        for i in range(EVENTS):
            if i % 3 == 0:
                client.order_submitted(f"o{i}", "AAPL", "buy", 1)
            elif i % 3 == 1:
                client.order_filled(f"o{i - 1}", f"f{i}", 1, 100.0 + i % 7)
            else:
                client.mark("AAPL", 100.0 + i % 5)
            time.sleep(0.0005)
        emitted.set()

    thread = threading.Thread(target=bot)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while service.snapshot()["events_applied"] < EVENTS // 4:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        service.kill()
        killed_at = client.stats()
        time.sleep(0.3)  # the SDK keeps buffering and retrying while the service is down
        service.start()
        thread.join(60)
        assert emitted.is_set()
        assert client.flush(timeout=60), client.last_error
    finally:
        client.close(timeout=5)
    stats = client.stats()
    assert killed_at.sent < EVENTS
    assert stats.retries > 0
    assert (stats.enqueued, stats.sent, stats.dropped, stats.rejected, stats.failed) == (
        EVENTS,
        EVENTS,
        0,
        0,
        0,
    )
    snapshot = service.snapshot()
    assert snapshot["events_applied"] == EVENTS
    assert snapshot["execution"]["orders_submitted"] == EVENTS // 3
    assert snapshot["execution"]["orders_filled"] == EVENTS // 3
    assert service.terminate() in (0, -signal.SIGTERM)
    assert "service stopped: " in service.log.read_text()
