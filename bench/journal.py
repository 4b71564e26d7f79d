"""Journal benchmarks: replay throughput with the journal, and append throughput per mode.

    .venv/bin/python bench/journal.py [--quick] [--no-postgres]

Measures, in one process on the same data (so ratios are meaningful on a shared machine):

- replay of an NDJSON file: decode only; decode + engine (baseline); decode + SQLite
  journal in group commit, without and with the engine (goal >= 100,000 events/s);
- rebuilding an engine from the SQLite journal (restart time);
- append throughput per durability mode: SQLite ``event`` and ``group`` with one or
  eight threads appending one event per call, and in batches of 1,000; the same for
  PostgreSQL in a temporary database on 127.0.0.1:5432 (dropped afterwards).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from algowatch.events import Event, encode_events
from algowatch.journal import Journal, open_journal, read_event_file, replay_files
from algowatch.monitor import Monitor
from algowatch.settings import JournalSettings
from algowatch.testing import EventFactory

SYMBOLS = tuple(f"SYM{i}" for i in range(20))


def make_events(count: int, seed: int = 1) -> list[Event]:
    """Return a realistic mix: marks, orders with acks and (partial) fills, signals."""
    rng = random.Random(seed)
    factory = EventFactory(step_seconds=0.01)
    prices = dict.fromkeys(SYMBOLS, 100.0)
    events: list[Event] = []
    order = 0
    while len(events) < count:
        symbol = rng.choice(SYMBOLS)
        prices[symbol] *= 1 + rng.gauss(0, 0.001)
        price = round(prices[symbol], 2)
        roll = rng.random()
        if roll < 0.5:
            events.append(factory.mark(symbol, price, bid=price - 0.01, ask=price + 0.01))
        elif roll < 0.6:
            events.append(factory.signal(f"s{len(events)}", symbol, "long", confidence=0.6))
        else:
            order += 1
            oid = f"o{order}"
            quantity = rng.randint(1, 100)
            side: Literal["buy", "sell"] = "buy" if rng.random() < 0.5 else "sell"
            events.append(factory.submitted(oid, symbol, side, quantity, arrival_price=price))
            events.append(factory.acknowledged(oid))
            half = quantity // 2
            if half:
                events.append(factory.filled(oid, half, price, fee=0.01))
            events.append(factory.filled(oid, quantity - half, price + 0.01, fee=0.01))
    return events[:count]


@contextmanager
def temporary_postgres() -> Iterator[str]:
    import psycopg  # noqa: PLC0415 - optional: the benchmark runs without PostgreSQL

    server = "host=127.0.0.1 port=5432 user=postgres connect_timeout=3"
    name = f"algowatch_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server} dbname={name}"
    finally:
        with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def psycopg_connect(dsn: str) -> Any:
    import psycopg  # noqa: PLC0415 - optional: the benchmark runs without PostgreSQL

    return psycopg.connect(dsn, autocommit=True)


def timed(run: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    count = run()
    return time.perf_counter() - start, count


def append_rate(journal: Journal, events: list[Event], *, threads: int, batch: int) -> float:
    """Return events/s of ``threads`` threads appending ``events`` in calls of ``batch``."""
    share = len(events) // threads
    barrier = threading.Barrier(threads + 1)

    def worker(part: list[Event]) -> None:
        barrier.wait()
        for start in range(0, len(part), batch):
            journal.append(part[start : start + batch])

    workers = [
        threading.Thread(target=worker, args=(events[i * share : (i + 1) * share],))
        for i in range(threads)
    ]
    for thread in workers:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in workers:
        thread.join()
    return share * threads / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer repeats")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args()
    total = 50_000 if args.quick else 300_000
    single = 1_000 if args.quick else 4_000
    repeats = 1 if args.quick else 3
    events = make_events(total)
    rows: list[tuple[str, float, str]] = []

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.ndjson"
        path.write_bytes(encode_events(events))

        seconds, count = timed(lambda: sum(1 for _ in read_event_file(path)))
        rows.append(("replay: decode NDJSON only", count / seconds, ""))

        def engine_only() -> int:
            return replay_files([path], Monitor()).applied

        seconds, count = timed(engine_only)
        baseline = count / seconds
        rows.append(("replay: decode + engine (baseline)", baseline, "1.00x"))

        class Discard:
            def apply(self, event: Event) -> bool:
                return True

        def journal_only() -> int:
            with open_journal(JournalSettings(durability="group"), Path(tmp) / "j0") as journal:
                return replay_files([path], Discard(), journal=journal).applied

        seconds, count = timed(journal_only)
        rows.append(("replay: decode + sqlite group journal, no engine", count / seconds, ""))

        def with_journal() -> int:
            with open_journal(JournalSettings(durability="group"), Path(tmp) / "j") as journal:
                return replay_files([path], Monitor(), journal=journal).applied

        seconds, count = timed(with_journal)
        rate = count / seconds
        verdict = "goal >= 100,000/s: " + ("met" if rate >= 100_000 else "NOT met")
        rows.append(("replay: decode + sqlite group journal + engine", rate, verdict))

        def rebuild() -> int:
            with open_journal(JournalSettings(), Path(tmp) / "j") as journal:
                return Monitor().apply_many(journal.replay())

        seconds, count = timed(rebuild)
        rows.append(("restart: rebuild engine from sqlite journal", count / seconds, ""))

        sample = events[: single * 8]
        modes = [("event", 1, 1), ("group", 1, 1), ("event", 8, 1), ("group", 8, 1)]
        modes.append(("group", 1, 1000))
        best: dict[tuple[str, int, int], float] = {}
        # modes interleaved, best of `repeats`: fsync times on a shared disk swing widely
        for attempt in range(repeats):
            for durability, threads, batch in modes:
                data = Path(tmp) / f"append-{durability}-{threads}-{batch}-{attempt}"
                settings = JournalSettings(durability=durability)  # type: ignore[arg-type]
                with open_journal(settings, data) as journal:
                    n = single * threads if batch == 1 else len(sample)
                    rate = append_rate(journal, sample[:n], threads=threads, batch=batch)
                key = (durability, threads, batch)
                best[key] = max(best.get(key, 0.0), rate)
        for (durability, threads, batch), rate in best.items():
            label = f"append: sqlite {durability}, {threads} thread(s), {batch}/call"
            rows.append((label, rate, ""))

    if not args.no_postgres:
        try:
            with temporary_postgres() as dsn:
                modes = [("event", 8, 1), ("group", 8, 1), ("group", 1, 1000)]
                best = {}
                for attempt in range(repeats):
                    for durability, threads, batch in modes:
                        schema = f"run_{durability}_{threads}_{batch}_{attempt}"
                        with psycopg_connect(dsn) as db:
                            db.execute(f"CREATE SCHEMA {schema}")
                        settings = JournalSettings(
                            backend="postgres",
                            dsn=f"{dsn} options='-c search_path={schema}'",
                            durability=durability,  # type: ignore[arg-type]
                        )
                        n = single * threads // 4 if batch == 1 else len(sample)
                        with open_journal(settings, Path(".")) as journal:
                            rate = append_rate(journal, sample[:n], threads=threads, batch=batch)
                        key = (durability, threads, batch)
                        best[key] = max(best.get(key, 0.0), rate)
                for (durability, threads, batch), rate in best.items():
                    label = f"append: postgres {durability}, {threads} thread(s), {batch}/call"
                    rows.append((label, rate, ""))
        except Exception as exc:  # the server is optional for this benchmark
            rows.append((f"postgres skipped: {exc}", 0.0, ""))

    width = max(len(label) for label, _rate, _note in rows)
    print(f"journal benchmark, {total:,} events (shared 2-core machine: compare ratios)")
    print(f"{'measure'.ljust(width)}  {'events/s':>12}  {'vs baseline':>11}  note")
    for label, rate, note in rows:
        ratio = f"{rate / baseline:.2f}x" if rate else ""
        print(f"{label.ljust(width)}  {rate:>12,.0f}  {ratio:>11}  {note}")


if __name__ == "__main__":
    main()
