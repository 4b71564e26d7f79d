"""SDK benchmark: what a helper call costs the caller, how much of it is validation, and
what the sender's preparation of a batch (ids, JSON) costs per event.

    .venv/bin/python bench/sdk.py [--quick]

No service is needed: the client's batches are never due during the measurement (the
batch size and flush interval are larger than the run), so only the caller's work is
timed. Each figure is the best of several rounds in this process; the baseline is building
the bare event struct, so compare ratios, not microseconds, on a shared machine. The
sender's figures set the former way (python-ulid's ``ULID``, one ``encode_event`` per
event) against the current one (``UlidGenerator``, one ``encode_lines`` per batch) in the
same run: the sender runs in the bot's process, so its CPU (and GIL) is the bot's too.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable

from ulid import ULID

import algowatch.client
from algowatch._client_check import check_event
from algowatch._client_delivery import encode_lines
from algowatch._ulid import UlidGenerator
from algowatch.client import Client
from algowatch.clock import SystemClock
from algowatch.errors import InvalidEventError
from algowatch.events import Mark, OrderFilled, encode_event


def best_seconds(run: Callable[[int], None], count: int, rounds: int) -> float:
    """Return the best per-call seconds of ``run(count)`` over ``rounds`` rounds."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        run(count)
        best = min(best, (time.perf_counter() - started) / count)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    count, rounds = (5_000, 5) if args.quick else (50_000, 9)
    clock = SystemClock()
    client = Client(
        "http://127.0.0.1:9",
        batch_size=count + 1,
        max_buffer_events=count + 1,
        flush_interval_seconds=3600,
    )

    def bare(n: int) -> None:
        for i in range(n):
            Mark(ts=clock.time_ns(), symbol="AAPL", price=100.0 + i % 7)

    def checked(n: int) -> None:
        for i in range(n):
            check_event(Mark(ts=clock.time_ns(), symbol="AAPL", price=100.0 + i % 7))

    def helper(n: int) -> None:
        for i in range(n):
            client.mark("AAPL", 100.0 + i % 7)
        client._buffer.items.clear()  # keep the buffer from filling across rounds

    def refused(n: int) -> None:
        for _ in range(n):
            with contextlib.suppress(InvalidEventError):
                client.mark("AAPL", -1.0)

    def unchecked(n: int) -> None:
        for i in range(n):
            client.emit(
                Mark(ts=clock.time_ns(), symbol="AAPL", price=100.0 + i % 7), validate=False
            )
        client._buffer.items.clear()

    now = clock.time_ns()
    batch = [
        event
        for i in range(500)
        for event in (
            Mark(ts=now + i * 1000, symbol="AAPL", price=100.0 + i % 7),
            OrderFilled(
                ts=now + i * 1000, order_id=f"o{i}", fill_id=f"f{i}", quantity=10, price=99.5
            ),
        )
    ]

    def ulid_python(n: int) -> None:
        for _ in range(n // len(batch)):
            for event in batch:
                str(ULID.from_timestamp(event.ts / 1e9))

    def ulid_generator(n: int) -> None:
        ids = UlidGenerator()
        for _ in range(n // len(batch)):
            ids.refill()
            for event in batch:
                ids(event.ts)

    def encode_each(n: int) -> None:
        for _ in range(n // len(batch)):
            b"".join([encode_event(event) + b"\n" for event in batch])

    def encode_batch(n: int) -> None:
        for _ in range(n // len(batch)):
            b"".join([line + b"\n" for line in encode_lines(batch)])

    figures = {
        "bare Mark struct": best_seconds(bare, count, rounds),
        "Mark + check_event": best_seconds(checked, count, rounds),
        "Client.mark (valid)": best_seconds(helper, count, rounds),
        "Client.mark (invalid, raises)": best_seconds(refused, count // 10, rounds),
        "Client.emit(Mark, validate=False)": best_seconds(unchecked, count, rounds),
        "sender: id, python-ulid (before)": best_seconds(ulid_python, count, rounds),
        "sender: id, UlidGenerator (after)": best_seconds(ulid_generator, count, rounds),
        "sender: JSON, encode_event each (before)": best_seconds(encode_each, count, rounds),
        "sender: JSON, encode_lines batch (after)": best_seconds(encode_batch, count, rounds),
    }
    # the same helper with the call-site check bypassed: what validation adds to a call
    algowatch.client.check_event = lambda event: event  # type: ignore[assignment]
    figures["Client.mark, check bypassed"] = best_seconds(helper, count, rounds)
    algowatch.client.check_event = check_event
    client.close(timeout=0)
    base = figures["bare Mark struct"]
    print(
        f"algowatch SDK caller cost ({'quick' if args.quick else 'full'}; {os.cpu_count()} CPUs, "
        "best of rounds; shared machine: figures are noisy, ratios are the signal)"
    )
    width = max(len(name) for name in figures)
    for name, seconds in figures.items():
        ratio = "baseline" if seconds is base else f"{seconds / base:.1f}x bare struct"
        print(f"  {name:<{width}}  {seconds * 1e6:8.2f} us/call  {ratio}")


if __name__ == "__main__":
    main()
