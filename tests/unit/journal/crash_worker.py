"""Crash-test kit: a deterministic event stream, an ingesting worker process, the driver.

The worker (a forked child process) opens the journal, rebuilds a Monitor by replaying
it, says ``ready <snapshot>``, then for each batch from ``resume`` on appends it to the
journal, applies the new events and only then says ``ack <batch>``; at the end it says
``done <snapshot>``. The driver kills it with SIGKILL at random points.

Imported by path by the tests: :func:`make_stream` and :func:`run_crash_rounds`.
"""

from __future__ import annotations

import functools
import json
import os
import random
import select
import signal
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from algowatch.events import Event
from algowatch.journal import Journal, open_journal
from algowatch.monitor import Monitor
from algowatch.server import render_snapshot
from algowatch.settings import JournalSettings
from algowatch.testing import EventFactory

SYMBOLS = ("AAPL", "MSFT", "TSLA")


def make_stream(seed: int, count: int) -> list[Event]:
    """Return ``count`` events of a plausible trading day (orders, fills, marks, signals)."""
    rng = random.Random(seed)
    factory = EventFactory(step_seconds=0.25, strategy="crash")
    prices = {symbol: 100.0 + 10 * i for i, symbol in enumerate(SYMBOLS)}
    events: list[Event] = []
    order = 0
    while len(events) < count:
        symbol = rng.choice(SYMBOLS)
        prices[symbol] = max(1.0, prices[symbol] * (1 + rng.gauss(0, 0.002)))
        price = round(prices[symbol], 2)
        roll = rng.random()
        if roll < 0.35:
            events.append(factory.mark(symbol, price))
        elif roll < 0.45:
            signal_id = f"s{len(events)}"
            events.append(factory.signal(signal_id, symbol, rng.choice(["long", "short"])))
            events.append(factory.outcome(signal_id, rng.choice(["long", "short", "flat"])))
        elif roll < 0.5:
            events.append(factory.heartbeat("engine"))
        else:
            order += 1
            order_id = f"o{order}"
            quantity = rng.randint(1, 20)
            side = rng.choice(["buy", "sell"])
            events.append(
                factory.submitted(order_id, symbol, side, quantity, arrival_price=price)  # type: ignore[arg-type]
            )
            fate = rng.random()
            if fate < 0.1:
                events.append(factory.rejected(order_id, "risk"))
                continue
            events.append(factory.acknowledged(order_id))
            first = quantity if fate < 0.8 else max(1, quantity // 2)
            events.append(factory.filled(order_id, first, price, fee=0.01 * first))
            if first < quantity:
                if fate < 0.9:
                    events.append(factory.canceled(order_id))
                else:
                    rest = quantity - first
                    events.append(factory.filled(order_id, rest, price + 0.01, fee=0.01 * rest))
    return events[:count]


def comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Return ``snapshot`` without ``as_of``."""
    return {key: value for key, value in snapshot.items() if key != "as_of"}


def snapshot_of(events: list[Event]) -> dict[str, Any]:
    """Return the comparable snapshot of one uninterrupted pass over ``events``."""
    monitor = Monitor()
    monitor.apply_many(events)
    normalized: dict[str, Any] = json.loads(
        json.dumps(comparable(render_snapshot(monitor.figures())))
    )
    return normalized


def _ingest(
    settings: JournalSettings,
    data_dir: Path,
    stream: list[Event],
    batch: int,
    resume: int,
    say: Callable[[str], None],
) -> None:
    journal = open_journal(settings, data_dir)
    monitor = Monitor()
    monitor.apply_many(journal.replay())
    say("ready " + json.dumps(comparable(render_snapshot(monitor.figures()))))
    for number in range(resume, -(-len(stream) // batch)):
        part = stream[number * batch : (number + 1) * batch]
        for event, new in zip(part, journal.append(part), strict=True):
            if new:
                monitor.apply(event)
        say(f"ack {number}")  # only after the journal returned: the events are durable
    say("done " + json.dumps(comparable(render_snapshot(monitor.figures()))))
    journal.close()


def _start_worker(run: Callable[[Callable[[str], None]], None]) -> tuple[int, BinaryIO]:
    # A forked child starts in milliseconds (a fresh interpreter would import numpy
    # again each round); it dies by SIGKILL like any process, and its journal is on disk.
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns when forking a process that has threads (other tests may
        # have left some); the child only opens its own journal connection and never
        # takes a lock those threads could hold.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which never returns
        code = 0
        try:
            os.close(read_fd)

            def say(line: str) -> None:
                data = (line + "\n").encode()
                while data:
                    data = data[os.write(write_fd, data) :]

            run(say)
        except BaseException:
            os.write(write_fd, ("error " + repr(traceback.format_exc()) + "\n").encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, os.fdopen(read_fd, "rb")


def _read_line(stream: BinaryIO, deadline: float) -> str:
    ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
    if not ready:
        msg = "the crash worker did not answer in time"
        raise TimeoutError(msg)
    return stream.readline().decode()


def run_crash_rounds(
    *,
    data_dir: Path,
    open_for_check: Callable[[], Journal],
    rounds: int,
    seed: int,
    dsn: str | None = None,
    durability: str = "event",
    events: int = 8000,
    batch: int = 2,
    max_kill_delay_seconds: float = 0.03,
) -> int:
    """Kill the worker ``rounds`` times, checking the journal after each kill; return kills.

    After every kill the journal is exactly a prefix of the stream (in order, nothing
    twice) holding every acknowledged batch, and the next worker's Monitor, rebuilt from
    it, equals one uninterrupted pass over that prefix. Finally a worker runs to the end
    (after resending some acknowledged batches) and its snapshot equals one pass over the
    whole stream.
    """
    stream = make_stream(seed, events)
    rng = random.Random(seed)
    acknowledged = 0  # batches acknowledged so far (all of 0 .. acknowledged - 1)
    journaled_count = 0
    kills = 0
    settings = JournalSettings(
        backend="postgres" if dsn else "sqlite",
        dsn=dsn,
        durability=durability,  # type: ignore[arg-type]
    )
    for round_number in range(rounds + 1):
        final = round_number == rounds
        # a client resends from its last acknowledgement, sometimes a little before it
        resume = max(0, acknowledged - rng.randint(0, 3))
        pid, output = _start_worker(
            functools.partial(_ingest, settings, data_dir, stream, batch, resume)
        )
        with output:
            try:
                first = _read_line(output, time.monotonic() + 60)
                if not final:
                    time.sleep(rng.uniform(0, max_kill_delay_seconds))
                    os.kill(pid, signal.SIGKILL)
                # read through the same buffered reader as the first line: it may hold more
                rest = output.read().decode()
            except BaseException:
                os.kill(pid, signal.SIGKILL)
                raise
            finally:
                _, status = os.waitpid(pid, 0)
        assert first.startswith("ready "), first + rest
        # the Monitor the worker rebuilt from the journal equals one uninterrupted pass
        assert json.loads(first[6:]) == snapshot_of(stream[:journaled_count])
        lines = rest.splitlines()
        acks = [int(line.split()[1]) for line in lines if line.startswith("ack ")]
        if acks:
            assert acks == list(range(resume, acks[-1] + 1))
            acknowledged = max(acknowledged, acks[-1] + 1)
        if final:
            assert os.waitstatus_to_exitcode(status) == 0, rest
            done = [line for line in lines if line.startswith("done ")]
            assert json.loads(done[0][5:]) == snapshot_of(stream)
        elif os.waitstatus_to_exitcode(status) == -signal.SIGKILL:
            kills += 1
        with open_for_check() as journal:
            journaled = list(journal.replay())
        journaled_count = len(journaled)
        # in order, nothing twice (a prefix of the stream), nothing acknowledged lost
        assert journaled == stream[:journaled_count], "the journal is not a prefix of the stream"
        assert journaled_count >= min(acknowledged * batch, len(stream)), "acknowledged lost"
    return kills
