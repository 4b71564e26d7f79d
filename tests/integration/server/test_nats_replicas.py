"""Two ``algowatch serve`` replicas consume one R3 JetStream stream and agree, through crashes.

A three-node NATS cluster (its own ports and store folders) holds the stream, replicated
R3. Twenty bots publish 30,000 events with ``Nats-Msg-Id`` = ``event_id`` (some published
twice, a few invalid). Midway one NATS node and one replica are killed with SIGKILL; the
replica restarts with the same data folder and durable. At the end both replicas have
applied every unique valid event exactly once, and their snapshots equal each other's and
that of a plain ``algowatch replay`` of the stream's messages in stream order (the
independent reference: the file replay shares no code with the consumer).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ... import serve_kit
from ...nats_kit import NatsNode, fleet_events, free_port, start_cluster

nats = pytest.importorskip("nats")

pytestmark = pytest.mark.integration

EVENTS = 30_000
BOTS = 20
STREAM = "ALGOWATCH"
BAD = [
    b'{"type":"order_filled","order_id":"x","event_id":"bad-1"}',  # no fill_id, quantity, price
    b"not json",
    b'{"type":"mark","symbol":"SYM00","price":-1,"event_id":"bad-3"}',
    b'{"type":"mark","symbol":"SYM00","price":101.5}',  # no event_id: refused on NATS
]


def wait_for(what: str, predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if predicate():
                return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


class Replica:
    """``python -m algowatch serve`` with ``[sources.nats]`` on the cluster."""

    def __init__(self, folder: Path, servers: list[str], durable: str) -> None:
        folder.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = folder / "algowatch.toml"
        listed = ", ".join(f'"{s}"' for s in servers)
        self.config.write_text(
            "[health]\nsystem_metrics = false\n[risk]\nenabled = false\n"
            f"[sources.nats]\nservers = [{listed}]\n"
            f'stream = "{STREAM}"\ndurable = "{durable}"\nreplicas = 3\n'
            "reconnect_seconds = 0.2\nfetch_timeout_seconds = 0.5\nack_wait_seconds = 5\n",
            encoding="utf-8",
        )
        self.data = folder / "data"
        self.log = folder / "service.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.spawn()
        self.wait()

    def spawn(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "algowatch", "serve", "--port", str(self.port),
                    "--data-dir", str(self.data), "--config", str(self.config),
                    "--log-level", "warning",
                ],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait(self) -> None:
        assert self.process is not None
        serve_kit.wait_until_up(self.process, self.url, self.log, timeout=30)

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def get(self, path: str) -> Any:
        return httpx.get(f"{self.url}{path}", timeout=5).json()

    def nats(self) -> dict[str, Any]:
        details: dict[str, Any] = self.get("/health")["checks"]["nats"]["details"]
        return details

    def applied(self) -> int:
        return int(self.get("/api/v1/snapshot")["events_applied"])


async def _create_stream(servers: list[str]) -> None:
    # the first replica would create it too; here it exists before the bots publish
    deadline = time.monotonic() + 20
    while True:
        try:
            nc = await nats.connect(servers=servers, connect_timeout=1)
            try:
                await nc.jetstream(timeout=2).add_stream(
                    name=STREAM, subjects=["algowatch.events.>"], num_replicas=3
                )
            finally:
                await nc.close()
            return
        except Exception:  # JetStream has no meta leader yet
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def _publish(servers: list[str], progress: list[int]) -> int:
    """Publish the fleet (20 bots in parallel, each in order); return re-publishes."""
    # event times end a minute before now: "today" is the same day for the live replicas
    # (wall clock) and for the replay (event time)
    events = fleet_events(EVENTS, BOTS, start_ns=time.time_ns() - 120 * 10**9)
    per_bot: dict[str, list[tuple[str, bytes, str]]] = {}
    for subject, row in events:
        per_bot.setdefault(subject, []).append((subject, json.dumps(row).encode(), row["event_id"]))
    nc = await nats.connect(servers=servers, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
    js = nc.jetstream(timeout=2)
    republished = 0

    async def send(subject: str, body: bytes, msg_id: str | None) -> None:
        headers = None if msg_id is None else {"Nats-Msg-Id": msg_id}
        for _attempt in range(40):  # a node may be down: retry, the msg id de-duplicates
            try:
                await js.publish(subject, body, headers=headers)
                return
            except Exception:
                await asyncio.sleep(0.2)
        raise AssertionError(f"could not publish {msg_id} on {subject}")

    async def bot(messages: list[tuple[str, bytes, str]]) -> None:
        nonlocal republished
        for index, (subject, body, event_id) in enumerate(messages):
            await send(subject, body, event_id)
            progress[0] += 1
            if index % 97 == 0:  # a bot retrying a publish whose ack it lost
                await send(subject, body, event_id)
                republished += 1

    try:
        await asyncio.gather(*(bot(m) for m in per_bot.values()))
        for index, body in enumerate(BAD):
            await send(f"algowatch.events.acct-1.bot-{index:02d}", body, f"bad-msg-{index}")
    finally:
        await nc.close()
    return republished


async def _stream_bodies(servers: list[str]) -> list[bytes]:
    """Return every message of the stream in stream order, read by sequence.

    No consumer: while the killed node still counts as a peer (until the cluster marks it
    offline), creating one can be placed on it and time out; a get goes to the stream's
    leader.
    """
    nc = await nats.connect(servers=servers)
    try:
        js = nc.jetstream(timeout=20)  # a cluster that lost a node may answer slowly
        state = (await js.stream_info(STREAM)).state
        assert state.messages == state.last_seq - state.first_seq + 1  # nothing deleted
        window = asyncio.Semaphore(256)

        async def get(sequence: int) -> bytes:
            async with window:
                message = await js.get_msg(STREAM, sequence)
            assert message.data is not None
            return bytes(message.data)

        sequences = range(state.first_seq, state.last_seq + 1)
        return list(await asyncio.gather(*(get(sequence) for sequence in sequences)))
    finally:
        await nc.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[NatsNode]]:
    nodes = start_cluster(tmp_path / "nats")
    try:
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in snapshot.items() if k not in ("as_of",)}


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Return the paths where two JSON documents differ (for a readable failure)."""
    if isinstance(left, dict) and isinstance(right, dict):
        out: list[str] = []
        for key in sorted(set(left) | set(right)):
            out += differences(left.get(key), right.get(key), f"{path}.{key}")
        return out
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [
            d
            for i, (a, b) in enumerate(zip(left, right, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    return [] if left == right else [f"{path}: {left!r} != {right!r}"]


def test_two_replicas_agree_through_a_node_and_a_replica_crash(
    cluster: list[NatsNode], tmp_path: Path
) -> None:
    servers = [node.url for node in cluster]
    asyncio.run(_create_stream(servers))
    replicas = [
        Replica(tmp_path / "a", servers, "replica-a"),
        Replica(tmp_path / "b", servers, "replica-b"),
    ]
    progress = [0]
    outcome: dict[str, Any] = {}

    def publisher() -> None:
        try:
            outcome["republished"] = asyncio.run(_publish(servers, progress))
        except BaseException as exc:
            outcome["error"] = exc

    try:
        for replica in replicas:  # both start at once: a start is mostly imports
            replica.spawn()
        for replica in replicas:
            replica.wait()
        thread = threading.Thread(target=publisher, daemon=True)
        thread.start()
        # midway: one NATS node and replica a die without warning
        wait_for("half of the events published", lambda: progress[0] >= EVENTS // 2, 40)
        wait_for("replica a applying", lambda: replicas[0].applied() > 1_000, 20)
        cluster[2].kill()
        replicas[0].kill()
        replicas[0].start()
        thread.join(60)
        assert not thread.is_alive(), "the bots did not finish publishing"
        assert "error" not in outcome, outcome.get("error")
        assert outcome["republished"] > 0
        for replica in replicas:
            wait_for(
                f"{replica.url} to apply every event",
                lambda r=replica: r.applied() >= EVENTS,  # type: ignore[misc]
                40,
            )
            wait_for(
                f"{replica.url} ready",
                lambda r=replica: httpx.get(f"{r.url}/ready", timeout=2).status_code == 200,  # type: ignore[misc]
                20,
            )
        wait_for(
            "the survivor to refuse the invalid messages",
            lambda: replicas[1].nats()["rejected_messages"] == len(BAD),
            20,
        )
        snapshots = [comparable(replica.get("/api/v1/snapshot")) for replica in replicas]
        survivor = replicas[1].nats()
        metrics = httpx.get(f"{replicas[1].url}/metrics", timeout=5).text
    finally:
        for replica in replicas:
            replica.stop()

    # exactly once: every unique valid event, the re-publishes and redeliveries ignored
    assert [s["events_applied"] for s in snapshots] == [EVENTS, EVENTS]
    assert differences(snapshots[0], snapshots[1]) == []
    # the survivor refused each invalid message once (republished to the dead letters)
    assert survivor["rejected_messages"] == len(BAD)
    assert survivor["lag_events"] == 0
    assert (
        'algowatch_nats_consumer_lag_events{consumer="replica-b",stream="ALGOWATCH"} 0.0' in metrics
    )

    # the independent reference: the stream's messages in stream order through `algowatch replay`
    bodies = asyncio.run(_stream_bodies(servers[:2]))
    assert len(bodies) == EVENTS + len(BAD)  # the stream de-duplicated the re-publishes
    stream_file = tmp_path / "stream.ndjson"
    stream_file.write_bytes(b"\n".join(b for b in bodies if b not in BAD) + b"\n")
    replayed = subprocess.run(
        [sys.executable, "-m", "algowatch", "replay", "--json", str(stream_file)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    reference = comparable(json.loads(replayed.stdout))
    assert reference["events_applied"] == EVENTS
    assert differences(snapshots[0], reference) == []
