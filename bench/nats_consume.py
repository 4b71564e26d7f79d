"""Sustained consume throughput of one ``algowatch serve`` replica from NATS JetStream.

A private ``nats-server -js`` (free port, temporary store) gets a stream pre-loaded with
N events (``bench/replay_command.py``'s seeded mix of marks and order lifecycles, one
event per message, ``Nats-Msg-Id`` = ``event_id``). Then ``algowatch serve`` starts with
``[sources.nats]`` and the SQLite journal, and ``/metrics`` is read every 50 ms for the
live ``algowatch_nats_applied_sequence``. Sustained throughput is the rate between the first
reading that shows events applied and the last one that shows some still to apply: events
applied in between over the time in between (and the service's CPU time over the same
readings). Goal: >= 80,000 events/s. The time from the first ``/metrics`` answer to the first
events applied (connecting, creating the durable consumer, the first pull) is printed apart.
(``/health``'s NATS check, which an earlier version of this bench read, refreshes once a
second: on a run of a few seconds its staleness moved the figure by a quarter.)

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
import re
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


APPLIED = re.compile(rb"^algowatch_nats_applied_sequence\{[^}]*\} ([0-9.e+]+)$", re.M)


def consume(
    url: str, folder: Path, events: int, batch: int, profile: str | None
) -> tuple[float, float, float]:
    """Start serve on the pre-loaded stream; return (events/s, events per CPU s, start-up s)."""
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
    # (time, applied sequence, CPU seconds of the service) at each reading
    readings: list[tuple[float, int, float]] = []
    up = None
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if child.poll() is not None:
                msg = f"serve exited: {(folder / 'serve.log').read_text()[-2000:]}"
                raise RuntimeError(msg)
            try:
                text = httpx.get(f"{base}/metrics", timeout=2).content
            except httpx.HTTPError:
                time.sleep(0.02)
                continue
            now = time.perf_counter()
            up = now if up is None else up
            found = APPLIED.search(text)
            applied = int(float(found.group(1))) if found else 0
            readings.append((now, applied, _cpu_seconds(child.pid)))
            if applied >= events:
                break
            time.sleep(0.05)
        else:
            msg = "the consumer did not apply every event in time"
            raise RuntimeError(msg)
    finally:
        child.send_signal(2)
        try:
            child.wait(60)
        except subprocess.TimeoutExpired:
            child.kill()
        log.close()
    busy = [r for r in readings if 0 < r[1] < events]
    if len(busy) < 2:
        msg = "too few readings while the consumer was busy; use more --events"
        raise RuntimeError(msg)
    (t0, a0, c0), (t1, a1, c1) = busy[0], busy[-1]
    assert up is not None
    return (a1 - a0) / (t1 - t0), (a1 - a0) / (c1 - c0), t0 - up


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
            rate, cpu_rate, startup = consume(url, folder, loaded, options.batch, options.profile)
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
        f"NATS consume (serve, SQLite journal): {rate:12,.0f}      "
        f"{cpu_rate:12,.0f}   (goal >= 80,000 events/s)"
    )
    print(
        f"baseline: algowatch replay --journal: {loaded / replay_wall:12,.0f}      "
        f"{loaded / replay_cpu:12,.0f}"
    )
    wall_ratio, cpu_ratio = rate * replay_wall / loaded, cpu_rate * replay_cpu / loaded
    print(f"ratio consume / replay: wall {wall_ratio:.2f}, CPU {cpu_ratio:.2f}")
    print(f"start-up (first /metrics answer -> first events applied): {startup:.2f} s")


if __name__ == "__main__":
    main()
