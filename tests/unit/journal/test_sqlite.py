"""The SQLite journal: durability, idempotency, order, concurrency and error messages."""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import algowatch.journal as journal_package
from algowatch.errors import ConfigError, JournalError, MissingDependencyError
from algowatch.events import Event, encode_event
from algowatch.journal import Journal, SqliteJournal, open_journal
from algowatch.settings import JournalSettings
from algowatch.testing import EventFactory


def every_kind(factory: EventFactory) -> list[Event]:
    return [
        factory.submitted("o1", "AAPL", "buy", 10, limit_price=101.5, arrival_price=101.0),
        factory.acknowledged("o1", broker_order_id="b-1"),
        factory.filled("o1", 4, 101.25, fee=0.35, liquidity="maker"),
        factory.filled("o1", 6, 101.5),
        factory.submitted("o2", "MSFT", "sell", 3, order_type="limit"),
        factory.rejected("o2", "insufficient buying power"),
        factory.submitted("o3", "MSFT", "sell", 3),
        factory.canceled("o3", reason="user"),
        factory.signal("s1", "AAPL", "long", confidence=0.7, generation_seconds=0.004),
        factory.outcome("s1", "long", pnl=12.5, bars_to_profit=2, bars_held=5),
        factory.mark("AAPL", 102.0, bid=101.9, ask=102.1, exchange_ts=1_735_828_200_000_000_000),
        factory.account_snapshot(100_050.0, cash=50_000.0, buying_power=200_000.0),
        factory.error("timeout", "broker", message="no answer"),
        factory.heartbeat("engine", extra={"host": "box-1", "n": 3}),
        factory.heartbeat("feed", event_id=None),
    ]


@pytest.fixture(params=["event", "group"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Journal]:
    with open_journal(JournalSettings(durability=request.param), tmp_path / "data") as opened:
        yield opened


def stored_rows(path: Path) -> list[tuple[int, str | None, str, int]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT seq, event_id, type, ts FROM events ORDER BY seq").fetchall()


def test_exports_match_public_names() -> None:
    """The package's ``__all__`` lists exactly its public names, sorted."""
    public = {
        name
        for name in vars(journal_package)
        if not name.startswith("_")
        and name not in {"annotations", "files", "postgres", "replay", "sqlite"}
    }
    assert journal_package.__all__ == sorted(public)


def test_append_given_nothing_returns_empty_list(journal: Journal) -> None:
    """An empty append stores nothing."""
    assert journal.append([]) == []
    assert journal.count() == 0
    assert list(journal.replay()) == []


def test_replay_returns_every_kind_of_event_unchanged(
    journal: Journal, factory: EventFactory
) -> None:
    """Every event type, with optional fields and extras, survives the round trip exactly."""
    events = every_kind(factory)
    assert journal.append(events) == [True] * len(events)
    assert list(journal.replay()) == events
    assert journal.count() == len(events)


def received_forms(events: list[Event]) -> list[bytes | None]:
    """Each event as a client might have sent it (spaced out), every third one left None."""
    return [
        None if i % 3 == 0 else b" " + encode_event(e).replace(b'":', b'" :  ') + b"\r"
        for i, e in enumerate(events)
    ]


def test_append_given_payloads_stores_them_as_received_and_replays_their_events(
    journal: Journal, tmp_path: Path, factory: EventFactory
) -> None:
    """A payload is stored byte for byte in place of the encoded event; None encodes it."""
    events = every_kind(factory)
    payloads = received_forms(events)
    assert journal.append(events, payloads) == [True] * len(events)
    assert journal.append([events[1], events[2]], [b"{}", None]) == [False, False]
    assert list(journal.replay()) == events
    with sqlite3.connect(tmp_path / "data" / "journal.sqlite3") as db:
        stored = [r[0] for r in db.execute("SELECT payload FROM events ORDER BY seq")]
    assert stored == [
        encode_event(e) if p is None else p for e, p in zip(events, payloads, strict=True)
    ]


def test_append_given_payloads_not_one_per_event_raises_and_stores_nothing(
    journal: Journal, factory: EventFactory
) -> None:
    """Payloads must pair with the events one to one."""
    events = [factory.heartbeat(), factory.heartbeat()]
    with pytest.raises(ValueError, match=r"^payloads must be one per event \(2\), received 1$"):
        journal.append(events, [None])
    assert journal.count() == 0


def test_append_given_known_event_id_returns_false_and_stores_once(
    journal: Journal, factory: EventFactory
) -> None:
    """Duplicates by event_id, across calls and inside one call, are stored once."""
    first = factory.heartbeat(event_id="a")
    second = factory.heartbeat(event_id="b")
    anonymous = factory.heartbeat(event_id=None)
    assert journal.append([first, second]) == [True, True]
    again = factory.heartbeat(event_id="a")  # same id, other content: still a duplicate
    third = factory.heartbeat(event_id="c")
    assert journal.append([again, third, third, anonymous, anonymous]) == [
        False,
        True,
        False,
        True,
        True,
    ]
    assert list(journal.replay()) == [first, second, third, anonymous, anonymous]


def test_reopen_replays_what_was_appended_before_close(
    tmp_path: Path, factory: EventFactory
) -> None:
    """The journal file outlives the process: a new instance replays it and still dedupes."""
    events = every_kind(factory)
    with open_journal(JournalSettings(), tmp_path) as first:
        first.append(events)
    assert (tmp_path / "journal.sqlite3").exists()
    with open_journal(JournalSettings(durability="event"), tmp_path) as second:
        assert list(second.replay()) == events
        assert second.append(events[:3]) == [False, False, False]
        assert second.count() == len(events)


def test_replay_given_many_pages_keeps_append_order(tmp_path: Path) -> None:
    """Replay streams page after page in the order of the appends, not by timestamp."""
    factory = EventFactory(step_seconds=-0.001)  # timestamps decrease: order must be seq
    events = [factory.heartbeat(f"c{i}") for i in range(12_345)]
    with SqliteJournal(tmp_path / "j.sqlite3", group_commit_max_events=500) as journal:
        for start in range(0, len(events), 1000):
            journal.append(events[start : start + 1000])
        replayed = journal.replay()
        assert next(replayed) == events[0]
        assert list(replayed) == events[1:]


def test_journal_file_is_in_wal_mode_with_one_row_per_event(
    tmp_path: Path, factory: EventFactory
) -> None:
    """The on-disk layout is the documented one: WAL, table ``events``, contiguous seq."""
    with open_journal(JournalSettings(), tmp_path) as journal:
        journal.append([factory.heartbeat(event_id="x"), factory.mark("AAPL", 1.5)])
        with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = stored_rows(tmp_path / "journal.sqlite3")
    assert [(seq, event_id, kind) for seq, event_id, kind, _ts in rows] == [
        (1, "x", "heartbeat"),
        (2, "evt-2", "mark"),
    ]


@pytest.mark.parametrize("durability", ["event", "group"])
def test_concurrent_appenders_each_acknowledged_event_is_stored_exactly_once(
    tmp_path: Path, durability: str
) -> None:
    """Threads appending at once (with overlapping ids) give a contiguous journal.

    Every event acknowledged as new is stored exactly once, every duplicate is refused,
    and each thread's events keep their relative order.
    """
    threads_n, calls_n = 8, 60
    settings = JournalSettings(durability=durability)  # type: ignore[arg-type]
    acknowledged: dict[int, list[tuple[str, bool]]] = {}
    with open_journal(settings, tmp_path) as journal:
        barrier = threading.Barrier(threads_n)

        def appender(worker: int) -> None:
            factory = EventFactory(step_seconds=0.0)
            results: list[tuple[str, bool]] = []
            barrier.wait()
            for call in range(calls_n):
                # ids shared between neighbouring workers: both send "shared-k-call"
                own = factory.heartbeat(f"w{worker}", event_id=f"w{worker}-{call}")
                shared_id = f"shared-{worker // 2}-{call}"
                shared = factory.heartbeat(f"w{worker}", event_id=shared_id)
                flags = journal.append([own, shared])
                results.extend(zip([own.event_id, shared_id], flags, strict=True))  # type: ignore[list-item]
            acknowledged[worker] = results

        workers = [threading.Thread(target=appender, args=(w,)) for w in range(threads_n)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        replayed = [e.event_id for e in journal.replay()]
        if durability == "group":
            committer = journal._committer  # the batching is what is tested
            assert committer is not None
            assert committer.batches < threads_n * calls_n, "no commit was shared"
        rows = stored_rows(tmp_path / "journal.sqlite3")
    new_ids = [i for results in acknowledged.values() for i, new in results if new]
    assert sorted(map(str, new_ids)) == sorted(map(str, replayed))
    assert len(set(replayed)) == len(replayed) == threads_n * calls_n + threads_n // 2 * calls_n
    assert [row[0] for row in rows] == list(range(1, len(replayed) + 1))
    for worker in range(threads_n):
        own = [i for i in replayed if i is not None and i.startswith(f"w{worker}-")]
        assert own == [f"w{worker}-{call}" for call in range(calls_n)]


def test_group_commit_given_failing_write_raises_for_every_caller_of_the_batch(
    tmp_path: Path, factory: EventFactory
) -> None:
    """A failed commit is reported to its callers and stores nothing of theirs."""
    with SqliteJournal(tmp_path / "j.sqlite3") as journal:
        journal.append([factory.heartbeat(event_id="kept")])
        with sqlite3.connect(tmp_path / "j.sqlite3") as db:
            db.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN "
                "SELECT RAISE(ABORT, 'disk says no'); END"
            )
        with pytest.raises(JournalError, match=r"cannot append 2 events to journal .*disk says no"):
            journal.append([factory.heartbeat(event_id="lost"), factory.heartbeat()])
        assert [e.event_id for e in journal.replay()] == ["kept"]


def test_open_given_corrupt_file_raises_journal_error_naming_it(tmp_path: Path) -> None:
    """A file that is not SQLite is refused with its path and SQLite's reason."""
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    with pytest.raises(
        JournalError,
        match=rf"^journal '{path}' is not a readable SQLite journal: file is not a database$",
    ):
        open_journal(JournalSettings(), tmp_path)


def test_open_given_directory_in_place_of_file_raises_journal_error(tmp_path: Path) -> None:
    """An unopenable journal path is reported with the path."""
    (tmp_path / "journal.sqlite3").mkdir()
    with pytest.raises(JournalError, match=r"journal.sqlite3'.*unable to open database file"):
        open_journal(JournalSettings(), tmp_path)


def test_open_given_file_in_place_of_data_dir_raises_journal_error(tmp_path: Path) -> None:
    """A data folder that cannot be created is reported with its path."""
    (tmp_path / "data").write_text("a file")
    with pytest.raises(JournalError, match=r"^cannot create the journal folder '.*data': "):
        open_journal(JournalSettings(), tmp_path / "data")


def test_open_given_foreign_events_table_raises_journal_error(tmp_path: Path) -> None:
    """A database with another ``events`` table is not mistaken for a journal."""
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        db.execute("CREATE TABLE events (id INTEGER, body TEXT)")
    with pytest.raises(
        JournalError,
        match=r"has an events table with columns \('id', 'body'\), expected \('seq', ",
    ):
        open_journal(JournalSettings(), tmp_path)
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0  # left as it was


def test_open_given_newer_schema_version_raises_journal_error(tmp_path: Path) -> None:
    """A journal written by an incompatible version is refused, not reinterpreted."""
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        db.execute("PRAGMA user_version = 7")
    with pytest.raises(JournalError, match=r"has schema version 7, expected 1"):
        open_journal(JournalSettings(), tmp_path)


def test_closed_journal_refuses_every_call(tmp_path: Path, factory: EventFactory) -> None:
    """After close, append, replay and count raise; close itself is idempotent."""
    journal = open_journal(JournalSettings(), tmp_path)
    journal.close()
    journal.close()
    assert journal.closed
    message = rf"^journal {tmp_path / 'journal.sqlite3'} is closed$"
    with pytest.raises(JournalError, match=message):
        journal.append([factory.heartbeat()])
    with pytest.raises(JournalError, match=message):
        list(journal.replay())
    with pytest.raises(JournalError, match=message):
        journal.count()


def test_open_given_postgres_without_dsn_raises_config_error(tmp_path: Path) -> None:
    """The PostgreSQL backend needs a DSN."""
    with pytest.raises(
        ConfigError,
        match=r"^journal.dsn is required when journal.backend is 'postgres', received None$",
    ):
        open_journal(JournalSettings(backend="postgres"), tmp_path)


def test_open_given_dsn_with_sqlite_backend_raises_config_error(tmp_path: Path) -> None:
    """A DSN is never silently ignored."""
    with pytest.raises(ConfigError, match=r"journal.dsn is set but journal.backend is 'sqlite'"):
        open_journal(JournalSettings(dsn="postgresql://127.0.0.1/x"), tmp_path)


def test_open_given_postgres_without_psycopg_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without psycopg installed, the error says which extra to install."""
    monkeypatch.setitem(sys.modules, "psycopg", None)  # makes `import psycopg` fail
    with pytest.raises(
        MissingDependencyError, match=r"install it with: pip install 'algowatch\[postgres\]'"
    ):
        open_journal(JournalSettings(backend="postgres", dsn="postgresql://127.0.0.1/x"), tmp_path)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("group_commit_max_events", 0, r"group_commit_max_events must be >= 1, received 0"),
        (
            "group_commit_max_delay_seconds",
            -1.0,
            r"group_commit_max_delay_seconds must be >= 0, received -1.0",
        ),
    ],
)
def test_open_given_invalid_group_commit_setting_raises(
    tmp_path: Path, key: str, value: float, message: str
) -> None:
    """Group commit bounds are validated when the journal opens."""
    settings = JournalSettings(**{key: value})  # type: ignore[arg-type]
    with pytest.raises(JournalError, match=message):
        open_journal(settings, tmp_path)
