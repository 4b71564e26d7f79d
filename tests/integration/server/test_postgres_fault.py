"""``algowatch serve`` on a PostgreSQL journal survives a killed backend and a server restart.

The test starts a PostgreSQL server of its own (``initdb`` + ``pg_ctl`` in a temporary
folder, on a free loopback port; the shared server on 5432 is never touched) and the real
service as a subprocess with ``journal.backend = "postgres"``, connected through a loopback
relay (``tests/integration/journal/fault_proxy.py``). A client streams batches of events
continuously, resending a batch until it gets a 2xx, while the test cuts the connection
right after a ``COMMIT`` reached the server (the outcome is hidden from the service), kills
the service's backend with ``pg_terminate_backend``, then stops and restarts the server. It
asserts what a user relies on: ingest comes back by itself within 5 s of the server being
back; ``/ready`` is 503 and ``/health`` degraded while the store is down, 200 and healthy
after; every acknowledged event is in the journal (SQL) and counted by the engine (API)
exactly once; the failure counter rose.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ... import serve_kit

pytestmark = pytest.mark.integration

APPLICATION = "algowatch-fault-test"
BATCH = 10
RECOVERY_SECONDS = 5.0
# bound of the waits between the faults (the service's reaction to each, not a figure the
# test asserts): wide, so a loaded CI machine cannot fail the test on its scheduling
STEP_SECONDS = 15.0


def _load_fault_proxy() -> ModuleType:
    path = Path(__file__).parents[1] / "journal" / "fault_proxy.py"
    spec = importlib.util.spec_from_file_location("algowatch_fault_proxy_service", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FaultProxy = _load_fault_proxy().FaultProxy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    assert pg_ctl is not None, "PostgreSQL server binaries are needed (scripts/bootstrap)"
    return Path(pg_ctl).parent


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


class PrivatePostgres:
    """A PostgreSQL server of the test's own, which the test may stop and start."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.port = free_port()
        # initdb and postgres refuse to run as root: run them as the postgres user, in a
        # folder of its own (pytest's tmp_path under root's 0700 folder is out of its reach)
        self.as_user: list[str] = []
        self.root = Path(tempfile.mkdtemp(prefix="algowatch-pgfault-"))
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, user="postgres")
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run([*self.as_user, *args], check=True, timeout=timeout, capture_output=True)

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            "-c unix_socket_directories='' -c max_connections=20"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def cleanup(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def sql(self, query: str, *params: object) -> list[tuple[object, ...]]:
        with psycopg.connect(self.dsn, autocommit=True, connect_timeout=5) as db:
            return db.execute(query, params).fetchall()


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.cleanup()


class Service:
    """``python -m algowatch serve`` on the private server's journal."""

    def __init__(self, folder: Path, dsn: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = folder / "algowatch.toml"
        self.config.write_text(
            "[journal]\n"
            'backend = "postgres"\n'
            f'dsn = "{dsn} application_name={APPLICATION}"\n'
            "[health]\n"
            "system_metrics = false\n",
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
                    "--log-level", "warning",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        serve_kit.wait_until_up(self.process, self.url, self.log, path="/ready")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=5)

    def metric(self, name: str) -> float:
        text = self.get("/metrics").text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name:
                    return float(sample.value)
        pytest.fail(f"{name} is not in /metrics")


@pytest.fixture
def proxy(postgres: PrivatePostgres) -> Iterator[Any]:
    """A relay between the service and the private server, to cut a COMMIT in flight."""
    relay = FaultProxy(server_port=postgres.port)
    try:
        yield relay
    finally:
        relay.close()


@pytest.fixture
def service(proxy: Any, tmp_path: Path) -> Iterator[Service]:
    running = Service(tmp_path, f"host=127.0.0.1 port={proxy.port} user=postgres dbname=postgres")
    try:
        running.start()
        yield running
    finally:
        running.stop()


@dataclass
class Stream:
    """A client that posts batches continuously and resends each until it is acknowledged."""

    url: str
    acknowledged: list[str] = field(default_factory=list)
    attempts: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, status)
    stop: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def batch(self, number: int) -> list[dict[str, object]]:
        events: list[dict[str, object]] = []
        for i in range(number * BATCH, (number + 1) * BATCH):
            if i % 2 == 0:
                events.append(
                    {"type": "order_submitted", "event_id": f"e{i}", "order_id": f"o{i}",
                     "symbol": "AAPL", "side": "buy", "quantity": 1, "order_type": "market"}
                )  # fmt: skip
            else:
                events.append(
                    {"type": "order_filled", "event_id": f"e{i}", "order_id": f"o{i - 1}",
                     "fill_id": f"f{i}", "quantity": 1, "price": 100.0 + i % 7}
                )  # fmt: skip
        return events

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.url, timeout=10) as client:
                number = 0
                while not self.stop.is_set():
                    self._deliver(client, self.batch(number))
                    number += 1
        except BaseException as exc:  # surfaced by the test thread
            self.error = exc

    def _deliver(self, client: httpx.Client, events: list[dict[str, object]]) -> None:
        deadline = time.monotonic() + 60  # one batch may wait out the whole outage
        while time.monotonic() < deadline:
            try:
                status = client.post("/api/v1/events", json=events).status_code
            except httpx.TransportError:
                status = 0
            self.attempts.append((time.monotonic(), status))
            if 200 <= status < 300:
                self.acknowledged.extend(str(e["event_id"]) for e in events)
                return
            assert status in (0, 503), f"unexpected status {status}"
            time.sleep(0.02)
        msg = "a batch was not acknowledged within 60 s"
        raise AssertionError(msg)

    def first_ack_after(self, moment: float) -> float | None:
        return next((t for t, s in list(self.attempts) if t >= moment and 200 <= s < 300), None)


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> float:
    """Poll ``condition`` every 50 ms; return when it held, or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {seconds} s")


def degraded_and_not_ready(service: Service) -> bool:
    health = service.get("/health")
    journal = health.json()["checks"]["journal"]
    return (
        service.get("/ready").status_code == 503
        and health.status_code == 200
        and health.json()["status"] == "degraded"
        and journal["status"] == "disconnected"
        and journal["error"] is not None
    )


def healthy_and_ready(service: Service) -> bool:
    health = service.get("/health")
    return (
        service.get("/ready").status_code == 200
        and health.json()["status"] == "healthy"
        and health.json()["checks"]["journal"]["status"] == "connected"
    )


def test_lost_commit_killed_backend_and_server_restart_lose_no_acknowledged_event(
    postgres: PrivatePostgres, proxy: Any, service: Service
) -> None:
    """Ingest recovers by itself, health tells the truth, and every 2xx event counts once."""
    assert healthy_and_ready(service)
    stream = Stream(service.url)
    thread = threading.Thread(target=stream.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(stream.acknowledged) >= 20 * BATCH, 30, "a first 200 events")

        # (0) the connection drops while a group's COMMIT is in flight, after the server got
        # it: those batches are answered 503, resent, and must be applied once
        proxy.cut_at_commit("forward")
        cut = time.monotonic()
        wait_for(
            lambda: any(t > cut and code == 503 for t, code in list(stream.attempts)), 10, "a 503"
        )
        wait_for(
            lambda: stream.first_ack_after(cut + 0.01) is not None,
            STEP_SECONDS,
            "an ack after the cut",
        )
        wait_for(lambda: "was committed" in service.log.read_text(), STEP_SECONDS, "the resolution")

        # (1) the service's backend is killed: the journal reconnects at once
        killed = postgres.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            APPLICATION,
        )
        assert killed == [(True,)]
        terminated = time.monotonic()
        wait_for(
            lambda: stream.first_ack_after(terminated) is not None,
            STEP_SECONDS,
            "an ack after kill",
        )
        wait_for(
            lambda: service.metric("algowatch_journal_reconnects_total") >= 1,
            STEP_SECONDS,
            "reconnect",
        )

        # (2) the server stops: not ready, degraded, ingest refused
        postgres.stop("fast")
        stopped = time.monotonic()
        wait_for(
            lambda: degraded_and_not_ready(service), STEP_SECONDS, "/ready 503 and /health degraded"
        )
        assert service.metric("algowatch_journal_up") == 0
        during = len(stream.acknowledged)
        time.sleep(1.0)
        # the server is gone: no new acknowledgement (beyond a response already on its way)
        assert len(stream.acknowledged) <= during + BATCH
        refused = [code for t, code in list(stream.attempts) if t > stopped + 0.5]
        assert refused
        assert set(refused) <= {503}

        # ... and comes back: ingest, readiness and health recover by themselves
        postgres.start()
        back = time.monotonic()
        acked = wait_for(
            lambda: stream.first_ack_after(back) is not None, RECOVERY_SECONDS, "ingest recovery"
        )
        ready = wait_for(lambda: healthy_and_ready(service), RECOVERY_SECONDS, "ready again")
        print(  # the measured recovery, shown with -s
            f"recovery after the server was back: ingest {acked - back:.2f} s, "
            f"ready {ready - back:.2f} s"
        )
        count = len(stream.acknowledged)
        wait_for(lambda: len(stream.acknowledged) >= count + 20 * BATCH, 30, "200 more events")
    finally:
        stream.stop.set()
        thread.join(timeout=90)
    assert not thread.is_alive()
    assert stream.error is None, repr(stream.error)

    acknowledged = stream.acknowledged
    assert len(acknowledged) == len(set(acknowledged))
    # Besides the stream's events, the service journals its risk guard's alerts (error
    # events without an event_id): the buys' unrealized P&L swings with the fill prices, and
    # whether it reaches the daily loss warning depends on how many events the stream sent.
    # They are published after the group that caused them, so wait for the journal and the
    # engine to settle before comparing them.
    rows: list[tuple[Any, ...]] = []
    snapshot: dict[str, Any] = {}

    def settled() -> bool:
        rows[:] = postgres.sql("SELECT event_id, payload FROM algowatch_journal ORDER BY seq")
        snapshot.update(service.get("/api/v1/snapshot").json())
        return bool(snapshot["events_applied"] == len(rows))

    wait_for(settled, STEP_SECONDS, "the engine to have applied every journaled event")
    guard = [json.loads(bytes(row[1])) for row in rows if row[0] is None]
    assert all(e["type"] == "error" and e["error_type"] == "risk_alert" for e in guard), guard
    journaled = [row[0] for row in rows if row[0] is not None]
    assert len(journaled) == len(set(journaled))  # stored once each
    assert set(journaled) == set(acknowledged)  # 0 acknowledged events lost, none extra
    assert snapshot["events_applied"] == len(acknowledged) + len(guard)  # counted once each
    assert snapshot["execution"]["orders_submitted"] == len(acknowledged) // 2
    assert service.metric("algowatch_journal_failures_total") >= 2
    assert service.metric("algowatch_journal_reconnects_total") >= 2
    assert service.metric("algowatch_journal_up") == 1
    assert service.metric("algowatch_ingest_journal_failures_total") >= 2
