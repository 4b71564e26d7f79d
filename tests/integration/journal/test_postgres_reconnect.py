"""The PostgreSQL journal loses its connection and comes back: real server, real network cuts.

The server is the shared one on 127.0.0.1:5432 (only this run's database is touched: the
backends killed are this test's own). Cuts that a server restart cannot make precisely
(the connection dropping while ``COMMIT`` is in flight) go through :class:`FaultProxy`, a
loopback TCP relay between the journal and the server that can cut, refuse, or cut at
the ``COMMIT`` message, before or after handing it to the server.
"""

from __future__ import annotations

import importlib.util
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import psycopg
import pytest

from algowatch.errors import JournalUnavailableError, ServiceUnavailableError
from algowatch.events import Event, encode_event
from algowatch.journal import PostgresJournal
from algowatch.monitor import Monitor
from algowatch.testing import EventFactory

pytestmark = pytest.mark.integration

SERVER_HOST, SERVER_PORT = "127.0.0.1", 5432
SERVER = f"host={SERVER_HOST} port={SERVER_PORT} user=postgres"


def _load_fault_proxy() -> ModuleType:
    path = Path(__file__).with_name("fault_proxy.py")
    spec = importlib.util.spec_from_file_location("algowatch_fault_proxy", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_faults = _load_fault_proxy()
FaultProxy = _faults.FaultProxy
CommitFault = Literal["forward", "drop"]


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    name = f"algowatch_reconnect_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def schema(database: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{SERVER} dbname={database}", autocommit=True) as db:
        db.execute(f'CREATE SCHEMA "{name}"')
    return name


@pytest.fixture
def proxy() -> Iterator[Any]:
    relay = FaultProxy()
    yield relay
    relay.close()


def dsn(database: str, schema: str, *, port: int = SERVER_PORT, app: str = "aw") -> str:
    return (
        f"host=127.0.0.1 port={port} user=postgres dbname={database} "
        f"application_name={app} options='-c search_path={schema}'"
    )


def rows_in_table(database: str, schema: str) -> list[tuple[str | None, bytes]]:
    with psycopg.connect(f"{SERVER} dbname={database}", autocommit=True) as db:
        rows = db.execute(
            f'SELECT event_id, payload FROM "{schema}".algowatch_journal ORDER BY seq'
        ).fetchall()
    return [(r[0], bytes(r[1])) for r in rows]


def batch(factory: EventFactory, prefix: str) -> list[Event]:
    return [
        factory.submitted(f"{prefix}-o1", "AAPL", "buy", 10, event_id=f"{prefix}-1"),
        factory.filled(f"{prefix}-o1", 10, 101.0, event_id=f"{prefix}-2"),
        factory.heartbeat("engine", event_id=None),  # no id: matched by content on a retry
    ]


def retry(call: Callable[[], list[bool]], *, attempts: int = 200) -> list[bool]:
    """Call until it stops raising JournalUnavailableError (at most ``attempts`` times)."""
    for _ in range(attempts):
        try:
            return call()
        except JournalUnavailableError:
            time.sleep(0.02)
    pytest.fail(f"still unavailable after {attempts} attempts")


def test_terminated_backend_fails_one_append_then_the_next_reconnects(
    database: str, schema: str
) -> None:
    """pg_terminate_backend: the append that meets it is unavailable (503); the next one works."""
    app = f"aw-{uuid.uuid4().hex[:8]}"
    factory = EventFactory()
    with PostgresJournal(dsn(database, schema, app=app), durability="event") as journal:
        first = batch(factory, "a")
        assert journal.append(first) == [True, True, True]
        with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
            # the function in the select list runs only for the rows the WHERE keeps
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (app,),
            ).fetchall()
        assert killed == [(True,)]
        second = batch(factory, "b")
        with pytest.raises(JournalUnavailableError, match="unavailable") as caught:
            journal.append(second)
        assert isinstance(caught.value, ServiceUnavailableError)
        state = journal.state()
        assert (state.up, state.failures, state.reconnects) == (False, 1, 0)
        assert state.last_error is not None
        assert "terminat" in state.last_error or "closed" in state.last_error
        assert journal.append(second) == [True, True, True]
        state = journal.state()
        assert (state.up, state.failures, state.reconnects) == (True, 1, 1)
        assert journal.count() == 6
    assert len(rows_in_table(database, schema)) == 6


@pytest.mark.parametrize(("fault", "outcome"), [("forward", "committed"), ("drop", "aborted")])
def test_connection_lost_during_commit_is_stored_and_applied_exactly_once(
    database: str,
    schema: str,
    proxy: Any,
    fault: CommitFault,
    outcome: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """COMMIT relayed (committed) or dropped (aborted): the retry is new once, one row each.

    The engine applies what ``append`` reports new, as the service does; it ends with
    exactly one applied event per journaled row.
    """
    factory = EventFactory()
    monitor = Monitor()

    def ingest(events: list[Event]) -> list[bool]:
        flags = journal.append(events)
        for event, new in zip(events, flags, strict=True):
            if new:
                monitor.apply(event)
        return flags

    with PostgresJournal(dsn(database, schema, port=proxy.port), durability="event") as journal:
        events = batch(factory, "c")
        proxy.cut_at_commit(fault)
        with caplog.at_level(logging.WARNING, logger="algowatch.journal"):
            with pytest.raises(JournalUnavailableError):
                ingest(events)
            assert monitor.figures().events_applied == 0  # nothing acknowledged
            assert retry(lambda: ingest(events)) == [True, True, True]
        assert f"was {outcome}" in caplog.text  # the path this case is about was taken
        stored = rows_in_table(database, schema)
        assert [r[0] for r in stored] == ["c-1", "c-2", None]
        # a second resend: the ids are known; an event without an id is new by contract
        assert ingest(events) == [False, False, True]
        assert len(rows_in_table(database, schema)) == 4
        assert monitor.figures().events_applied == 4


def test_a_commit_in_doubt_is_resolved_before_the_next_write(
    database: str, schema: str, proxy: Any
) -> None:
    """Other events after a lost COMMIT are stored; the retry of the lost batch is still exact."""
    factory = EventFactory()
    with PostgresJournal(dsn(database, schema, port=proxy.port), durability="event") as journal:
        lost = batch(factory, "d")
        proxy.cut_at_commit("forward")
        with pytest.raises(JournalUnavailableError):
            journal.append(lost)
        other = batch(factory, "e")
        assert retry(lambda: journal.append(other)) == [True, True, True]
        # the retry mixes the lost batch with an event seen for the first time
        fresh = factory.heartbeat("feed", event_id="f-1")
        assert journal.append([*lost, fresh, lost[0]]) == [True, True, True, True, False]
        ids = [r[0] for r in rows_in_table(database, schema)]
        assert sorted(i for i in ids if i) == ["d-1", "d-2", "e-1", "e-2", "f-1"]
        assert ids.count(None) == 2


def test_a_retry_in_other_bytes_is_matched_to_the_commit_in_doubt_by_content(
    database: str, schema: str, proxy: Any
) -> None:
    """Stored as received, then retried re-encoded: an event without id still counts once."""
    factory = EventFactory()
    with PostgresJournal(dsn(database, schema, port=proxy.port), durability="event") as journal:
        events = batch(factory, "r")
        received = [b" " + encode_event(e).replace(b'":', b'" : ') for e in events]
        proxy.cut_at_commit("forward")
        with pytest.raises(JournalUnavailableError):
            journal.append(events, received)
        assert retry(lambda: journal.append(events)) == [True, True, True]
        assert [r[1] for r in rows_in_table(database, schema)] == received
        # the in-doubt event was claimed once: the next copy without an id is new
        assert journal.append(events, received) == [False, False, True]
        assert len(rows_in_table(database, schema)) == 4


def test_unreachable_server_fails_fast_during_backoff_and_recovers_by_itself(
    database: str, schema: str, proxy: Any
) -> None:
    """While refused, attempts are spaced by the capped backoff; recovery needs no restart."""
    factory = EventFactory()
    journal = PostgresJournal(
        dsn(database, schema, port=proxy.port),
        durability="group",
        reconnect_initial_delay_seconds=0.2,
        reconnect_max_delay_seconds=0.4,
        uniform=lambda low, high: high,  # the longest wait the jitter allows
    )
    with journal:
        assert journal.append(batch(factory, "g")) == [True, True, True]
        proxy.refuse(True)
        proxy.cut()
        with pytest.raises(JournalUnavailableError, match="cannot ping"):
            journal.ping()
        accepted = proxy.accepted
        with pytest.raises(JournalUnavailableError, match="cannot reconnect"):
            journal.append(batch(factory, "h"))  # first attempt after a loss: immediate
        assert proxy.accepted == accepted + 1
        with pytest.raises(JournalUnavailableError, match=r"next reconnect attempt in 0\.[12]"):
            journal.append(batch(factory, "h"))  # inside the 0.2 s wait: no network
        assert proxy.accepted == accepted + 1
        time.sleep(0.25)
        with pytest.raises(JournalUnavailableError, match=r"next attempt in 0\.40"):
            journal.append(batch(factory, "h"))  # second failure: doubled
        assert proxy.accepted == accepted + 2
        time.sleep(0.45)
        with pytest.raises(JournalUnavailableError, match=r"next attempt in 0\.40"):
            journal.append(batch(factory, "h"))  # third failure: capped
        assert journal.state().up is False
        proxy.refuse(False)
        back = time.monotonic()
        assert retry(lambda: journal.append(batch(factory, "h"))) == [True, True, True]
        assert time.monotonic() - back <= 0.4 + 0.5
        state = journal.state()
        assert (state.up, state.failures, state.reconnects) == (True, 4, 1)
    assert len(rows_in_table(database, schema)) == 6


def test_unreachable_server_at_open_is_unavailable_and_names_no_password() -> None:
    """Opening against a closed loopback port is JournalUnavailableError (a 503)."""
    with pytest.raises(JournalUnavailableError) as caught:
        PostgresJournal("postgresql://trader:secret@127.0.0.1:1/db?connect_timeout=1")
    assert isinstance(caught.value, ServiceUnavailableError)
    assert "secret" not in str(caught.value)
    assert "host=127.0.0.1 port=1 dbname=db user=trader" in str(caught.value)
