"""Sustained consume throughput of one ``algowatch serve`` replica from NATS JetStream.

A private ``nats-server -js`` (free port, temporary store) gets a stream pre-loaded with
N events (``bench/replay_command.py``'s seeded mix of marks and order lifecycles, one
event per message, ``Nats-Msg-Id`` = ``event_id``). Then ``algowatch serve`` starts with
``[sources.nats]`` and the SQLite journal; the clock runs from the first moment its
``/health`` answers until the consumer has applied all N (``/health`` ->
``checks.nats.details.applied_sequence``). Goal: >= 80,000 events/s.

Baseline, same run, same events: ``algowatch replay --journal DIR FILE`` (decode, journal
in SQLite, apply; no network), timed from spawn to exit minus its fixed cost (the same
command on a one-event file). The ratio consume / replay is the figure to compare across
machines; the machine may be shared, so wall-clock numbers are noisy.

Usage: python bench/nats_consume.py [--events N] [--batch B] [--profile FILE]
(``--profile`` runs the service under cProfile and writes its stats to FILE.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replay_command import _child_env, _command, write_stream

STREAM = "ALGOWATCH"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def preload(url: str, path: Path) -> int:
    """Publish every line of ``path`` into the stream (core publish, then wait for the store)."""
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    await js.add_stream(name=STREAM, subjects=["algowatch.events.>"])
    count = 0
    for line in path.read_bytes().splitlines():
        event = json.loads(line)
        subject = f"algowatch.events.{event.get('account', 'default')}.bot-{count % 20:02d}"
        await nc.publish(subject, line, headers={"Nats-Msg-Id": event["event_id"]})
        count += 1
        if count % 20_000 == 0:
            await nc.flush()
    await nc.flush()
    deadline = time.monotonic() + 120
    while (await js.stream_info(STREAM)).state.messages < count:
        if time.monotonic() > deadline:
            msg = "the stream did not store every message"
            raise RuntimeError(msg)
        await asyncio.sleep(0.1)
    await nc.close()
    return count


def _cpu_seconds(pid: int) -> float:
    # utime + stime of the process (fields 14 and 15 of /proc/<pid>/stat, in clock ticks)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def consume(
    url: str, folder: Path, events: int, batch: int, profile: str | None
) -> tuple[float, float]:
    """Start serve on the pre-loaded stream; return (wall, CPU) seconds to apply ``events``."""
    port = free_port()
    config = folder / "algowatch.toml"
    config.write_text(
        "[health]\nsystem_metrics = false\n[risk]\nenabled = false\n"
        f'[sources.nats]\nservers = ["{url}"]\nbatch_size = {batch}\n',
        encoding="utf-8",
    )
    command = [*_command(), "serve"]
    if profile:
        command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "algowatch", "serve"]
    args = ["--port", str(port), "--data-dir", str(folder / "data"), "--config", str(config)]
    log = (folder / "serve.log").open("wb")
    child = subprocess.Popen(
        [*command, *args, "--log-level", "warning"], stdout=log, stderr=log, env=_child_env()
    )
    base = f"http://127.0.0.1:{port}"
    try:
        start = None
        first = 0
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if child.poll() is not None:
                msg = f"serve exited: {(folder / 'serve.log').read_text()[-2000:]}"
                raise RuntimeError(msg)
            try:
                check = httpx.get(f"{base}/health", timeout=2).json()["checks"]["nats"]
            except (httpx.HTTPError, KeyError):
                time.sleep(0.02)
                continue
            applied = int(check["details"]["applied_sequence"])
            now = time.perf_counter()
            if start is None:
                start, first, cpu = now, applied, _cpu_seconds(child.pid)
            if applied >= events:
                if applied == first:
                    msg = "the consumer finished before the first poll; use more --events"
                    raise RuntimeError(msg)
                scale = events / (events - first)
                return (now - start) * scale, (_cpu_seconds(child.pid) - cpu) * scale
            time.sleep(0.02)
        msg = "the consumer did not apply every event in time"
        raise RuntimeError(msg)
    finally:
        child.send_signal(2)
        try:
            child.wait(60)
        except subprocess.TimeoutExpired:
            child.kill()
        log.close()


def replay(path: Path, folder: Path, run: int) -> tuple[float, float]:
    """Return (wall, CPU) seconds of ``algowatch replay --journal`` on ``path``."""
    journal = folder / f"journal-{path.stem}-{run}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [*_command(), "replay", "--journal", str(journal), str(path)],
        check=True,
        capture_output=True,
        env=_child_env(),
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - start, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--profile", default=None)
    options = parser.parse_args()
    server = shutil.which("nats-server")
    if server is None:
        sys.exit("nats-server is not installed (scripts/bootstrap --system)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        stream = folder / "events.ndjson"
        write_stream(stream, options.events)
        one = folder / "one.ndjson"
        write_stream(one, 1)
        port = free_port()
        nats_log = (folder / "nats.log").open("wb")
        node = subprocess.Popen(
            [server, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(folder / "store")],
            stdout=nats_log,
            stderr=nats_log,
        )
        url = f"nats://127.0.0.1:{port}"
        try:
            time.sleep(0.5)
            loaded = asyncio.run(preload(url, stream))
            seconds, cpu = consume(url, folder, loaded, options.batch, options.profile)
        finally:
            node.terminate()
            node.wait(10)
            nats_log.close()
        replay(one, folder, 0)  # bytecode caches
        fixed = min((replay(one, folder, run) for run in (1, 2)), key=lambda r: r[0])
        whole = replay(stream, folder, 3)
    replay_wall, replay_cpu = whole[0] - fixed[0], whole[1] - fixed[1]
    print(f"events: {loaded:,}, batch_size: {options.batch}")
    print("                                       events/s (wall)   events per CPU second")
    print(
        f"NATS consume (serve, SQLite journal): {loaded / seconds:12,.0f}      "
        f"{loaded / cpu:12,.0f}   (goal >= 80,000 events/s)"
    )
    print(
        f"baseline: algowatch replay --journal: {loaded / replay_wall:12,.0f}      "
        f"{loaded / replay_cpu:12,.0f}"
    )
    print(f"ratio consume / replay: wall {replay_wall / seconds:.2f}, CPU {replay_cpu / cpu:.2f}")


if __name__ == "__main__":
    main()
