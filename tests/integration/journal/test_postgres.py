"""The PostgreSQL journal against the real server on 127.0.0.1:5432.

Each test run creates its own database (``algowatch_journal_test_<random>``) and each test
its own schema in it; the database is dropped at the end, so no one else's data is touched.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

from algowatch.errors import JournalError
from algowatch.events import Event, encode_event
from algowatch.journal import Journal, PostgresJournal, open_journal
from algowatch.settings import JournalSettings
from algowatch.testing import EventFactory

pytestmark = pytest.mark.integration


def journal_settings(dsn: str, durability: str = "group") -> JournalSettings:
    return JournalSettings(backend="postgres", dsn=dsn, durability=durability)  # type: ignore[arg-type]


def load_crash_kit() -> ModuleType:
    path = Path(__file__).parents[2] / "unit" / "journal" / "crash_worker.py"
    spec = importlib.util.spec_from_file_location("algowatch_crash_worker_pg", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample(factory: EventFactory) -> list[Event]:
    return [
        factory.submitted("o1", "AAPL", "buy", 10, limit_price=101.5, arrival_price=101.0),
        factory.acknowledged("o1", broker_order_id="b-1"),
        factory.filled("o1", 10, 101.25, fee=0.35, liquidity="maker"),
        factory.signal("s1", "AAPL", "long", confidence=0.7),
        factory.outcome("s1", "long", pnl=12.5, bars_to_profit=2),
        factory.mark("AAPL", 102.0, exchange_ts=1_735_828_200_000_000_000),
        factory.account_snapshot(100_050.0, cash=50_000.0),
        factory.error("timeout", "broker", message="no answer"),
        factory.heartbeat("engine", extra={"host": "box-1"}),
        factory.heartbeat("feed", event_id=None),
    ]


@pytest.mark.parametrize("durability", ["event", "group"])
def test_round_trip_and_duplicates(
    dsn: str, tmp_path: Path, factory: EventFactory, durability: str
) -> None:
    """Events come back unchanged and in order; known event ids are refused across reopen."""
    events = sample(factory)
    with open_journal(journal_settings(dsn, durability), tmp_path) as journal:
        assert isinstance(journal, PostgresJournal)
        assert journal.append(events) == [True] * len(events)
        assert journal.append([events[0], events[0], events[-1]]) == [False, False, True]
    with open_journal(journal_settings(dsn, durability), tmp_path) as journal:
        assert list(journal.replay()) == [*events, events[-1]]
        assert journal.count() == len(events) + 1
    assert not (tmp_path / "journal.sqlite3").exists()


def test_append_given_payloads_stores_them_as_received_and_replays_their_events(
    dsn: str, tmp_path: Path, factory: EventFactory
) -> None:
    """A payload is stored byte for byte in place of the encoded event; None encodes it."""
    events = sample(factory)
    payloads = [
        None if i % 3 == 0 else b" " + encode_event(e).replace(b'":', b'" :  ') + b"\r"
        for i, e in enumerate(events)
    ]
    with open_journal(journal_settings(dsn), tmp_path) as journal:
        assert journal.append(events, payloads) == [True] * len(events)
        assert journal.append([events[1], events[2]], [b"{}", None]) == [False, False]
        assert list(journal.replay()) == events
    with psycopg.connect(dsn, autocommit=True) as db:
        rows = db.execute("SELECT payload FROM algowatch_journal ORDER BY seq").fetchall()
    stored = [bytes(r[0]) for r in rows]
    assert stored == [
        encode_event(e) if p is None else p for e, p in zip(events, payloads, strict=True)
    ]


def test_replay_given_many_pages_keeps_append_order(dsn: str, tmp_path: Path) -> None:
    """Replay pages through the table in append order."""
    factory = EventFactory(step_seconds=-0.001)
    events = [factory.heartbeat(f"c{i}") for i in range(11_000)]
    with open_journal(journal_settings(dsn), tmp_path) as journal:
        for start in range(0, len(events), 2000):
            journal.append(events[start : start + 2000])
        assert [e.event_id for e in journal.replay()] == [e.event_id for e in events]


def test_two_writers_share_one_journal_without_duplicates(dsn: str, tmp_path: Path) -> None:
    """Two connections (like two processes) appending overlapping ids store each id once.

    Sequence numbers are contiguous and each writer's acknowledged events are stored.
    """
    first = open_journal(journal_settings(dsn), tmp_path)
    second = open_journal(journal_settings(dsn, "event"), tmp_path)
    acknowledged: list[str] = []
    lock = threading.Lock()

    def writer(journal: Journal, name: str) -> None:
        factory = EventFactory(step_seconds=0.0)
        for call in range(80):
            events = [
                factory.heartbeat(name, event_id=f"{name}-{call}"),
                factory.heartbeat(name, event_id=f"shared-{call}"),
            ]
            flags = journal.append(events)
            with lock:
                acknowledged.extend(
                    str(e.event_id) for e, new in zip(events, flags, strict=True) if new
                )

    threads = [
        threading.Thread(target=writer, args=(first, "a")),
        threading.Thread(target=writer, args=(second, "b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    replayed = [e.event_id for e in first.replay()]
    first.close()
    second.close()
    assert sorted(map(str, replayed)) == sorted(acknowledged)
    assert len(replayed) == len(set(replayed)) == 240
    with psycopg.connect(dsn) as db:
        seqs = [row[0] for row in db.execute("SELECT seq FROM algowatch_journal ORDER BY seq")]
    assert seqs == list(range(1, 241))


def test_open_given_foreign_table_raises_journal_error(dsn: str, tmp_path: Path) -> None:
    """A table of the same name with other columns is not mistaken for a journal."""
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute("CREATE TABLE algowatch_journal (id INTEGER)")
    with pytest.raises(JournalError, match=r"has columns \('id',\), expected \('seq', "):
        open_journal(journal_settings(dsn), tmp_path)


def test_open_given_unreachable_server_raises_without_leaking_password(tmp_path: Path) -> None:
    """A connection failure names the server but never the password."""
    dsn = "postgresql://trader:s3cret-pw@127.0.0.1:1/algowatch?connect_timeout=2"
    with pytest.raises(JournalError) as caught:
        open_journal(journal_settings(dsn), tmp_path)
    message = str(caught.value)
    assert message.startswith(
        "cannot connect to the PostgreSQL journal at "
        "host=127.0.0.1 port=1 dbname=algowatch user=trader: "
    )
    assert "s3cret-pw" not in message


def test_sigkill_at_random_points_loses_nothing_with_postgres(dsn: str, tmp_path: Path) -> None:
    """The crash test of the SQLite journal, against PostgreSQL: 20 kills, checked each time."""
    kit = load_crash_kit()
    kills = kit.run_crash_rounds(
        data_dir=tmp_path,
        dsn=dsn,
        open_for_check=lambda: open_journal(journal_settings(dsn), tmp_path),
        rounds=20,
        seed=11,
        events=3000,
        max_kill_delay_seconds=0.05,
    )
    assert kills == 20
