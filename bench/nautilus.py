"""NautilusTrader bench: what AlgowatchActor adds to a backtest's wall time (target: <= 10 %).

    .venv-nautilus/bin/python bench/nautilus.py [--quick] [--url URL]

The demo backtest (examples/nautilus_backtest.py: synthetic one-minute bars, a strategy
that trades on about half of them) runs in this process with and without the actor,
alternating, a fresh engine each round; each figure is the best ``engine.run()`` of its
rounds. The actor sends every order event, account state and a mark per bar (the
throttle's interval is one bar) to a live ``algowatch serve`` (started here from .venv on
a free port unless ``--url`` is given); its stop-time flush, which waits for the
service to take every event, is inside the timed run. A shared 2-core machine is noisy:
compare the ratio, not the seconds. The process's CPU time (the
actor's sender thread included) is printed too: it is less sensitive to the machine's load.

Each run starts after a full garbage collection, so the previous engine's garbage is not
collected inside the next run's window. Besides the ratio of the bests, the median of the
rounds' own ratios (each actor run against the plain run just before it) is printed: on a
2-core machine the plain backtest moves by more than the actor's whole cost from run to run,
and the median of many pairs is the steadier figure (``--rounds 15`` or more).
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
warnings.simplefilter("ignore")

import nautilus_backtest  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_service(data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    python = ROOT / ".venv" / "bin" / "python"
    process = subprocess.Popen(
        [
            str(python),
            "-m",
            "algowatch",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            data_dir,
            "--log-level",
            "warning",
        ],
        env={**os.environ, "ALGOWATCH_HEALTH__SYSTEM_METRICS": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/live", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("algowatch serve did not start")


def timed_run(bars: int, url: str | None) -> tuple[float, float, int]:
    engine = nautilus_backtest.build_engine(
        seed=3, bar_count=bars, url=url, mark_interval_seconds=60.0
    )
    gc.collect()  # the previous engine's garbage is not this run's cost
    started, cpu = time.perf_counter(), time.process_time()
    engine.run()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    sent = 0
    for actor in engine.trader.actors():
        client = getattr(actor, "client", None)
        if client is not None:
            sent = client.stats().sent
    engine.dispose()
    return elapsed, cpu, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer bars and rounds")
    parser.add_argument("--url", help="a running algowatch service")
    parser.add_argument("--bars", type=int)
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    bars = args.bars or (1000 if args.quick else 4000)
    rounds = args.rounds or (3 if args.quick else 5)
    with tempfile.TemporaryDirectory() as data_dir:
        process, url = (None, args.url) if args.url else start_service(data_dir)
        try:
            timed_run(200, url)  # warm-up: imports, first connection
            plain, watched, plain_cpu, watched_cpu, events = [], [], [], [], 0
            for _ in range(rounds):
                seconds, cpu, _ = timed_run(bars, None)
                plain.append(seconds)
                plain_cpu.append(cpu)
                seconds, cpu, events = timed_run(bars, url)
                watched.append(seconds)
                watched_cpu.append(cpu)
        finally:
            if process is not None:
                process.terminate()
                process.wait(30)
    base, with_actor = min(plain), min(watched)
    print(f"bars per run: {bars}, rounds: {rounds}, events sent per run: {events}")
    print(f"backtest alone:          {base:8.3f} s  (best of {rounds})")
    print(f"backtest + AlgowatchActor: {with_actor:6.3f} s  (best of {rounds})")
    print(f"ratio: {with_actor / base:.3f}  (target <= 1.10)")
    pairs = [w / p for w, p in zip(watched, plain, strict=True)]
    print(
        f"median of the {rounds} rounds' ratios: {statistics.median(pairs):.3f} "
        f"(min {min(pairs):.3f}, max {max(pairs):.3f})"
    )
    print(
        f"CPU time of this process (sender thread included): {min(plain_cpu):.3f} s alone, "
        f"{min(watched_cpu):.3f} s with the actor, ratio {min(watched_cpu) / min(plain_cpu):.3f}"
    )


if __name__ == "__main__":
    main()
