"""Fleet benchmark: end-to-end lag of N bots x R events/s publishing to NATS JetStream.

    .venv/bin/python bench/fleet.py [--bots 100] [--rate 200] [--processes 4] [--seconds 20]
                                    [--mode both|baseline|service] [--nats-url nats://...]

The bots are the demo's simulated trading system (one account and one SDK client per
bot, ``Client("nats://...")``, as in ``algowatch sim``), split over ``--processes``
worker processes. Each bot's events are recorded from its simulation before the clock
starts (the simulator costs about 0.1 ms an event, more than the SDK: live, it would
bound the rate, not the transport) and handed to its client at ``--rate`` events per
second, ``ts`` set to the wall time of the hand-over. Every bot also sends a *probe*, a
``heartbeat`` whose component is ``lag-<bot>``, every 100 ms; its ``ts`` is the wall
time at which the bot handed it to the SDK. Lag is measured on the probes only (the
same events in both modes), so both lines compare like with like.

``baseline``: publish -> stream. A plain nats-py ordered consumer on the stream (no
algowatch service) receives every message after JetStream stored it; lag = receipt
time - ``ts``. This is the floor that the SDK, the network and JetStream cost.

``service``: publish -> applied. One ``algowatch serve`` with ``[sources.nats]``
(stream ALGOWATCH, durable ``bench``) consumes the stream. The service gives the
event time of each component's last heartbeat applied in ``GET /api/v1/last-seen``
(the figure ``trading_last_heartbeat_timestamp_seconds{component="lag-<bot>"}`` of
``/metrics`` holds, without building the other series: with 100 bots a ``/metrics``
read took a median 56 ms, this one 4 ms, on a 2-vCPU machine); the bench reads it in a
loop, and when a bot's value moves to a new probe ``ts`` in the answer received at
time T, that probe was applied before T: its lag is at most T - ``ts``. The figures
are upper bounds, with the poll interval (printed) as their resolution. Needs the NATS
source of ``algowatch serve`` (``[sources.nats]``); without it the mode says so and is
skipped.

``http`` (not part of ``both``): the same bots post to one ``algowatch serve`` over HTTP
and the lag is read from ``/api/v1/last-seen`` as in ``service``: a comparison, and a
check of the measurement itself that needs no NATS source.

The goal (issue 17): p99 <= 250 ms for 100 bots x 200 events/s. The machine is shared
(2 cores): the bench prints the rate the bots reached, which is the first thing to check.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import nats
from nats.js.api import StreamConfig

from algowatch.client import Client
from algowatch.events import Event, decode_event, parse_timestamp
from algowatch.sim.fleet import bot_name
from algowatch.sim.simulation import Simulation

ROOT = Path(__file__).resolve().parents[1]
PROBE_SECONDS = 0.1
# The probes' account: their own subjects (algowatch.events.lag-probes.<bot>), so that the
# baseline's consumer reads the probes alone and keeps up.
PROBE_ACCOUNT = "lag-probes"
STREAM = "ALGOWATCH"
SUBJECTS = ["algowatch.events.>"]
NS = 1_000_000_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# ----------------------------------------------------------------------------- workers


def record(index: int, count: int) -> list[Event]:
    """The first ``count`` events of bot ``index``'s simulation (seed 42 + index)."""
    out: list[Event] = []
    simulation = Simulation(
        "normal",
        seed=42 + index,
        start_ns=1_700_000_000 * NS,
        sink=out.append,
        account=bot_name(index),
    )
    while len(out) < count:
        simulation.run_bars(50)
    return out[:count]


def worker(args: argparse.Namespace) -> None:
    """Replay bots ``first_bot ..`` at ``rate`` events/s for ``seconds``; print counters (JSON).

    Each bot's events are its simulation's, recorded before the clock starts (the
    simulator costs about 0.1 ms per event, more than the SDK), then handed to its SDK
    client at the target rate with ``ts`` set to the wall time of the hand-over.
    """
    count = int(args.rate * args.seconds) + 1
    names = [bot_name(i) for i in range(args.first_bot, args.first_bot + args.bots)]
    recordings = [record(i, count) for i in range(args.first_bot, args.first_bot + args.bots)]
    clients = [
        Client(
            args.url,
            bot=name if args.url.startswith("nats://") else None,
            account=name,
            flush_interval_seconds=args.flush_interval,
        )
        for name in names
    ]
    sent = [0] * len(clients)
    started = time.monotonic()
    next_probe = started
    while (elapsed := time.monotonic() - started) < args.seconds:
        due = min(count, int(elapsed * args.rate))
        for k, client in enumerate(clients):
            for event in recordings[k][sent[k] : due]:
                client.emit(msgspec.structs.replace(event, ts=time.time_ns()))
            sent[k] = max(sent[k], due)
        if time.monotonic() >= next_probe:
            next_probe += PROBE_SECONDS
            for name, client in zip(names, clients, strict=True):
                client.heartbeat(f"lag-{name}", account=PROBE_ACCOUNT)
        time.sleep(0.005)
    elapsed = time.monotonic() - started
    in_window = [c.stats() for c in clients]
    totals = dict.fromkeys(("enqueued", "sent", "dropped", "failed", "retries"), 0)
    totals["sent_in_window"] = sum(s.sent for s in in_window)
    totals["enqueued_in_window"] = sum(s.enqueued for s in in_window)
    draining = time.monotonic()
    deadline = time.monotonic() + 60
    settled = [bool(c.flush(max(0.0, deadline - time.monotonic()))) for c in clients]
    delivered = all(settled)
    for client in clients:
        client.close(timeout=0)
        stats = client.stats()
        for key in ("enqueued", "sent", "dropped", "failed", "retries"):
            totals[key] += getattr(stats, key)
    drain = time.monotonic() - draining
    print(
        json.dumps(totals | {"seconds": elapsed, "drain": drain, "delivered": delivered}),
        flush=True,
    )


def start_workers(args: argparse.Namespace, url: str) -> list[subprocess.Popen[str]]:
    per = -(-args.bots // args.processes)
    workers = []
    for first in range(0, args.bots, per):
        command = [
            sys.executable,
            __file__,
            "--worker",
            "--url",
            url,
            "--first-bot",
            str(first),
            "--bots",
            str(min(per, args.bots - first)),
            "--rate",
            str(args.rate),
            "--seconds",
            str(args.seconds),
            "--flush-interval",
            str(args.flush_interval),
        ]
        workers.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True))
    return workers


def collect(workers: list[subprocess.Popen[str]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for process in workers:
        out, _ = process.communicate(timeout=300)
        if process.returncode != 0:
            sys.exit(f"a bot worker failed (exit {process.returncode})")
        report = json.loads(out.strip().splitlines()[-1])
        for key, value in report.items():
            if key in ("seconds", "drain"):
                totals[key] = max(totals.get(key, 0.0), value)
            else:
                totals[key] = totals.get(key, 0) + value
    return totals


# ----------------------------------------------------------------------------- infrastructure


class NatsServer:
    def __init__(self, store: Path) -> None:
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        command = ["nats-server", "-js", "-a", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "-sd", str(store)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        sys.exit("nats-server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


async def _reset_stream(url: str) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    with contextlib.suppress(Exception):
        await js.delete_stream(STREAM)
    await js.add_stream(StreamConfig(name=STREAM, subjects=SUBJECTS))
    await nc.close()


def reset_stream(url: str) -> None:
    asyncio.run(_reset_stream(url))


# ----------------------------------------------------------------------------- measurements


class StreamProbeReader:
    """An ordered consumer on the stream that times each probe on receipt (baseline)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.lags: list[float] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> StreamProbeReader:
        self._thread.start()
        self._ready.wait(15)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(15)

    async def _run(self) -> None:
        nc = await nats.connect(self.url)
        js = nc.jetstream()

        async def on_message(msg: Any) -> None:
            received = time.time_ns()
            self.lags.append((received - decode_event(msg.data).ts) / NS)

        sub = await js.subscribe(
            f"algowatch.events.{PROBE_ACCOUNT}.>", cb=on_message, ordered_consumer=True
        )
        self._ready.set()
        while not self._stop.is_set():
            await asyncio.sleep(0.05)
        await sub.unsubscribe()
        await nc.close()


class ProbeReader:
    """Poll the service's /api/v1/last-seen; time each bot's newest applied probe."""

    def __init__(self, base_url: str, pause_seconds: float) -> None:
        self.base_url = base_url
        self.pause_seconds = pause_seconds
        self.lags: list[float] = []
        self.polls = 0
        self.poll_seconds: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ProbeReader:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(15)

    def _run(self) -> None:
        last: dict[str, float] = {}
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            while not self._stop.is_set():
                started = time.time()
                try:
                    heartbeats = client.get("/api/v1/last-seen").json()["heartbeats"]
                except (httpx.HTTPError, ValueError, KeyError):
                    continue
                answered = time.time()
                self.polls += 1
                self.poll_seconds.append(answered - started)
                for component, text in heartbeats.items():
                    if not component.startswith("lag-"):
                        continue
                    ts = parse_timestamp(text) / 1e9
                    if ts > last.get(component, 0.0):
                        if component in last:  # the first value may predate the run
                            self.lags.append(answered - ts)
                        last[component] = ts
                self._stop.wait(self.pause_seconds)


def start_service(
    url: str | None, folder: Path
) -> tuple[subprocess.Popen[bytes], str, Path] | None:
    """Start ``algowatch serve``, consuming the NATS stream at ``url`` (HTTP only if None)."""
    port = free_port()
    config = folder / "algowatch.toml"
    source = (
        "[sources.nats]\n"
        f"servers = [{url!r}]\n"
        f'stream = "{STREAM}"\n'
        'subjects = ["algowatch.events.>"]\n'
        'durable = "bench"\n'
        if url is not None
        else ""
    )
    shutil.rmtree(folder / "data", ignore_errors=True)
    config.write_text(
        f"data_dir = {str(folder / 'data')!r}\n"
        "[server]\n"
        f"port = {port}\n"
        "[monitor]\n"
        "max_accounts = 1000\n"
        "max_symbols = 1000\n" + source
    )
    log = folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "algowatch"), "serve", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/live", timeout=1).status_code == 200:
                return process, base, log
        time.sleep(0.1)
    process.terminate()
    return None


def report(name: str, lags: list[float], totals: dict[str, float], extra: str = "") -> None:
    seconds = totals["seconds"]
    print(
        f"{name:<30} probes {len(lags):>6}  lag p50 {percentile(lags, 50) * 1e3:7.1f} ms  "
        f"p99 {percentile(lags, 99) * 1e3:7.1f} ms  "
        f"max {max(lags, default=float('nan')) * 1e3:7.1f} ms\n"
        f"{'':<30} bots handed {totals['enqueued_in_window'] / seconds:,.0f} events/s to the "
        f"SDK, {totals['sent_in_window'] / seconds:,.0f}/s acknowledged in the "
        f"{seconds:.1f} s window; {totals['sent']:.0f} sent in all after "
        f"{totals['drain']:.1f} s of draining, dropped {totals['dropped']:.0f}, failed "
        f"{totals['failed']:.0f}{extra}"
    )


def run_baseline(args: argparse.Namespace, url: str) -> None:
    reset_stream(url)
    with StreamProbeReader(url) as reader:
        totals = collect(start_workers(args, url))
        time.sleep(1.0)
    report("baseline: publish -> stream", reader.lags, totals)


def run_service(args: argparse.Namespace, url: str | None, folder: Path) -> None:
    """Bots -> NATS -> serve with [sources.nats]; or, with ``url`` None, bots -> HTTP -> serve."""
    name = "service: publish -> applied" if url else "http: post -> applied"
    if url is not None:
        reset_stream(url)
    started = start_service(url, folder)
    if started is None:
        print(
            f"{name:<30} skipped: `algowatch serve` did not start with [sources.nats] "
            f"(the NATS source is not in this build?); see {folder / 'serve.log'}"
        )
        return
    process, base, _ = started
    try:
        with ProbeReader(base, args.poll_pause) as reader:
            totals = collect(start_workers(args, url or base))
            time.sleep(2.0)
        poll = percentile(reader.poll_seconds, 50) * 1e3
        report(
            name,
            reader.lags,
            totals,
            f", /api/v1/last-seen polls {reader.polls} (median {poll:.0f} ms, then a "
            f"{args.poll_pause * 1e3:.0f} ms pause: the resolution)",
        )
    finally:
        process.terminate()
        process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=100)
    parser.add_argument("--rate", type=float, default=200.0, help="events/s per bot")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--flush-interval", type=float, default=0.02)
    parser.add_argument(
        "--poll-pause",
        type=float,
        default=0.02,
        help="seconds between two /api/v1/last-seen reads in service/http mode (each costs the "
        "service CPU: a coarser resolution leaves it more for the events)",
    )
    parser.add_argument(
        "--mode",
        choices=["both", "baseline", "service", "http"],
        default="both",
        help="both = baseline + service; http: the same bots over HTTP to one service",
    )
    parser.add_argument("--nats-url", default=None, help="use this server [default: our own]")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--first-bot", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.nats_url is None and shutil.which("nats-server") is None:
        sys.exit("nats-server is not installed; pass --nats-url")
    print(
        f"fleet: {args.bots} bots x {args.rate:g} events/s in {args.processes} processes, "
        f"{args.seconds:g} s, flush_interval_seconds={args.flush_interval:g}, probe every "
        f"{PROBE_SECONDS * 1e3:.0f} ms per bot; {os.cpu_count()} CPUs (shared)"
    )
    with tempfile.TemporaryDirectory(prefix="algowatch-fleet-") as tmp:
        folder = Path(tmp)
        server = None if args.nats_url else NatsServer(folder / "jetstream")
        url = args.nats_url or server.url  # type: ignore[union-attr]
        try:
            if args.mode in ("both", "baseline"):
                run_baseline(args, url)
            if args.mode in ("both", "service"):
                run_service(args, url, folder)
            if args.mode == "http":
                run_service(args, None, folder)
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
