"""The server journal: one table in PostgreSQL, through psycopg (the ``postgres`` extra).

A lost connection (the server restarted, ``pg_terminate_backend``, a network cut) fails
the call that finds it with :class:`~algowatch.errors.JournalUnavailableError`; the next
call reconnects, at once after a loss and then with capped exponential backoff and
jitter while the server stays away. A commit whose outcome the loss hid is resolved on
the new connection with ``pg_xact_status``, so a retried batch is neither lost nor
stored twice (docs/journal.md, "Connection loss").
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from algowatch.errors import JournalError, JournalUnavailableError, MissingDependencyError
from algowatch.events import decode_stored, encode_event
from algowatch.journal._base import Journal, JournalRow, JournalState, dedupe

if TYPE_CHECKING:
    import psycopg

__all__ = ["POSTGRES_TABLE", "PostgresJournal", "redact_dsn"]

POSTGRES_TABLE: Final = "algowatch_journal"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS algowatch_journal (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id TEXT UNIQUE,
    type TEXT NOT NULL,
    ts BIGINT NOT NULL,
    payload BYTEA NOT NULL
)
"""
_COLUMNS: Final = ("seq", "event_id", "type", "ts", "payload")
# Writers take this lock for the whole transaction, so sequence numbers are handed out in
# commit order even with several writer processes, and a paging reader never skips a row
# that commits later with a smaller seq. It does not block readers.
_LOCK: Final = "LOCK TABLE algowatch_journal IN SHARE ROW EXCLUSIVE MODE"
_EXISTING: Final = "SELECT event_id FROM algowatch_journal WHERE event_id = ANY(%s)"
_INSERT: Final = """
INSERT INTO algowatch_journal (event_id, type, ts, payload)
SELECT event_id, type, ts, payload
FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::bytea[])
    WITH ORDINALITY AS rows (event_id, type, ts, payload, position)
ORDER BY position
"""
_PAGE: Final = "SELECT seq, payload FROM algowatch_journal WHERE seq > %s ORDER BY seq LIMIT %s"
_COUNT: Final = "SELECT count(*) FROM algowatch_journal"
# The transaction's id, read before COMMIT: if the connection drops while COMMIT is in
# flight, pg_xact_status tells on the next connection whether it committed.
_XID: Final = "SELECT pg_current_xact_id()::text"
_XID_STATUS: Final = "SELECT pg_xact_status(%s::xid8)"
_PING: Final = "SELECT 1"
# Rows of commits that were in doubt, resolved as committed, and not yet handed back to a
# caller; past this many the oldest are forgotten (they are journaled: a restart's replay
# applies them), so memory stays bounded whatever the outage pattern.
_MAX_UNREPORTED: Final = 100_000

_log = logging.getLogger("algowatch.journal")


def _import_psycopg() -> Any:
    try:
        import psycopg  # noqa: PLC0415 - optional extra, imported only when configured
    except ImportError as exc:
        msg = (
            "the PostgreSQL journal (journal.backend = 'postgres') needs psycopg; "
            "install it with: pip install 'algowatch[postgres]'"
        )
        raise MissingDependencyError(msg) from exc
    return psycopg


def _conninfo(dsn: str) -> dict[str, Any]:
    try:
        from psycopg.conninfo import conninfo_to_dict  # noqa: PLC0415 - optional extra

        return conninfo_to_dict(dsn)
    except Exception:  # any parse failure means "unknown"
        return {}


def redact_dsn(dsn: str) -> str:
    """Return ``dsn`` without its password, for messages and logs.

    Examples
    --------
    >>> redact_dsn("postgresql://trader:secret@db.example.com:5432/algowatch")
    'host=db.example.com port=5432 dbname=algowatch user=trader'
    """
    parts = _conninfo(dsn)
    if not parts:
        return "<unparsable dsn>"  # an unparsable DSN must not leak its text either
    keys = ("host", "port", "dbname", "user")
    return " ".join(f"{k}={parts[k]}" for k in keys if parts.get(k) is not None)


@dataclass(frozen=True, slots=True)
class _InDoubt:
    # a transaction whose COMMIT was sent when the connection dropped
    xid: str
    rows: list[JournalRow]


class _Backoff:
    # Capped exponential backoff with "equal jitter": after a loss the first attempt is
    # immediate; the n-th failed attempt waits min(maximum, initial * 2**(n-1)) scaled by
    # a random factor in [0.5, 1], so replicas do not reconnect in lockstep and the wait
    # never exceeds `maximum`.

    def __init__(
        self,
        initial: float,
        maximum: float,
        *,
        monotonic: Callable[[], float],
        uniform: Callable[[float, float], float],
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self._monotonic = monotonic
        self._uniform = uniform
        self.attempts = 0
        self._next_at = 0.0

    def remaining(self) -> float:
        return max(0.0, self._next_at - self._monotonic())

    def failed(self) -> float:
        self.attempts += 1
        delay = min(self.maximum, self.initial * 2.0 ** min(self.attempts - 1, 62))
        delay *= self._uniform(0.5, 1.0)
        self._next_at = self._monotonic() + delay
        return delay

    def reset(self) -> None:
        self.attempts = 0
        self._next_at = 0.0


class PostgresJournal(Journal):
    """A journal in the ``algowatch_journal`` table of a PostgreSQL database.

    The table is created if absent, in the first schema of the connection's
    ``search_path``. Commits use the server's ``synchronous_commit`` setting (``on`` by
    default: durable when the commit returns).

    The server must answer when the journal is opened. Later, a lost connection fails
    the call that meets it with :class:`~algowatch.errors.JournalUnavailableError` (a
    :class:`~algowatch.errors.ServiceUnavailableError`: the service answers 503) and the
    next call reconnects: at once, then after ``reconnect_initial_delay_seconds``,
    doubling up to ``reconnect_max_delay_seconds`` (each wait scaled by a random factor
    in [0.5, 1]); calls in between fail at once without touching the network. An append
    is acknowledged only after its commit: when the connection drops during ``COMMIT``,
    the call fails, and the outcome is read with ``pg_xact_status`` on the next
    connection. If it committed, a retry of the same events reports them as new without
    storing them again (matched by ``event_id``, or by identical content for events
    without one), so the caller applies them exactly once.

    Parameters
    ----------
    dsn
        A libpq connection string or URI.
    durability, group_commit_max_delay_seconds, group_commit_max_events
        As for :class:`~algowatch.journal.Journal`.
    connect_timeout_seconds
        libpq's ``connect_timeout`` for every connection attempt, unless the DSN sets one.
    reconnect_initial_delay_seconds, reconnect_max_delay_seconds
        The backoff between failed reconnect attempts.
    monotonic, uniform
        The clock and random source of the backoff (for tests).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       Reconnects by itself after a lost connection; ``ping``, ``state`` and the
       ``reconnect_*`` parameters.
    """

    def __init__(
        self,
        dsn: str,
        *,
        durability: Literal["event", "group"] = "group",
        group_commit_max_delay_seconds: float = 0.002,
        group_commit_max_events: int = 1000,
        connect_timeout_seconds: float = 10.0,
        reconnect_initial_delay_seconds: float = 0.1,
        reconnect_max_delay_seconds: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        psycopg_module = _import_psycopg()
        self._where = redact_dsn(dsn)
        if not reconnect_initial_delay_seconds > 0:
            msg = (
                "reconnect_initial_delay_seconds must be > 0, "
                f"received {reconnect_initial_delay_seconds!r}"
            )
            raise JournalError(msg)
        if not reconnect_max_delay_seconds >= reconnect_initial_delay_seconds:
            msg = (
                "reconnect_max_delay_seconds must be >= reconnect_initial_delay_seconds "
                f"({reconnect_initial_delay_seconds!r}), received {reconnect_max_delay_seconds!r}"
            )
            raise JournalError(msg)
        super().__init__(
            durability=durability,
            group_commit_max_delay_seconds=group_commit_max_delay_seconds,
            group_commit_max_events=group_commit_max_events,
        )
        self._psycopg = psycopg_module
        self._dsn = dsn
        self._options: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in _conninfo(dsn):
            self._options["connect_timeout"] = max(1, round(connect_timeout_seconds))
        self._backoff = _Backoff(
            reconnect_initial_delay_seconds,
            reconnect_max_delay_seconds,
            monotonic=monotonic,
            uniform=uniform,
        )
        self._monotonic = monotonic
        self._failures = 0
        self._reconnects = 0
        self._last_error: str | None = None
        self._down_since: float | None = None
        self._in_doubt: _InDoubt | None = None
        self._unreported_ids: dict[str, JournalRow] = {}
        self._unreported_anonymous: Counter[JournalRow] = Counter()
        try:
            self._db: psycopg.Connection[Any] | None = psycopg_module.connect(dsn, **self._options)
        except psycopg_module.Error as exc:
            msg = f"cannot connect to the PostgreSQL journal at {self._where}: {exc}"
            raise JournalUnavailableError(msg) from exc
        try:
            self._prepare(self._db)
        except BaseException:
            self._db.close()
            raise

    @property
    def location(self) -> str:
        """Return the database's address, without the password."""
        return f"postgresql {self._where}".rstrip()

    def state(self) -> JournalState:
        """Return whether the connection is usable, and the failure and reconnect counts."""
        db = self._db
        up = not self._closed and db is not None and not db.closed and not db.broken
        return JournalState(
            up=up,
            failures=self._failures,
            reconnects=self._reconnects,
            last_error=self._last_error,
        )

    def _prepare(self, db: psycopg.Connection[Any]) -> None:
        try:
            with db.transaction():
                # two processes creating the table at once would race on the catalog
                db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (POSTGRES_TABLE,))
                db.execute(_SCHEMA)
            rows = db.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = %s AND table_schema = current_schema() "
                "ORDER BY ordinal_position",
                (POSTGRES_TABLE,),
            ).fetchall()
        except self._psycopg.Error as exc:
            msg = f"cannot prepare the PostgreSQL journal at {self._where}: {exc}"
            raise JournalError(msg) from exc
        columns = tuple(r[0] for r in rows)
        if columns != _COLUMNS:
            msg = (
                f"table {POSTGRES_TABLE} at {self._where} has columns {columns!r}, "
                f"expected {_COLUMNS!r}"
            )
            raise JournalError(msg)

    # ------------------------------------------------------------------ connection

    def _connection(self) -> psycopg.Connection[Any]:
        # called with the lock held: the live connection, or a new one when the backoff
        # allows an attempt; a commit left in doubt is resolved before anything else
        db = self._db
        if db is None or db.closed or db.broken:
            db = self._reconnect()
        if self._in_doubt is not None:
            self._resolve_in_doubt(db)
        return db

    def _reconnect(self) -> psycopg.Connection[Any]:
        self._drop()
        wait = self._backoff.remaining()
        if wait > 0:
            msg = (
                f"the PostgreSQL journal at {self._where} is unavailable "
                f"({self._last_error}); next reconnect attempt in {wait:.2f} s"
            )
            raise JournalUnavailableError(msg)
        try:
            db: psycopg.Connection[Any] = self._psycopg.connect(self._dsn, **self._options)
        except self._psycopg.Error as exc:
            self._failures += 1
            self._last_error = _first_line(exc)
            delay = self._backoff.failed()
            msg = (
                f"cannot reconnect to the PostgreSQL journal at {self._where} "
                f"({self._last_error}); next attempt in {delay:.2f} s"
            )
            raise JournalUnavailableError(msg) from exc
        down = None if self._down_since is None else self._monotonic() - self._down_since
        self._db = db
        self._down_since = None
        self._reconnects += 1
        self._backoff.reset()
        _log.warning(
            "reconnected to the PostgreSQL journal at %s after %s s",
            self._where,
            "?" if down is None else f"{down:.2f}",
        )
        return db

    def _drop(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            try:
                db.close()
            except Exception as exc:  # a broken socket may fail to close; it is gone anyway
                _log.debug("closing the lost journal connection failed: %r", exc)
        if self._down_since is None:
            self._down_since = self._monotonic()

    def _failed(self, exc: Exception, doing: str) -> JournalError:
        # Classify a driver error: a lost connection or an operational error (server
        # shutting down, out of disk, too many clients) means "unavailable, retry";
        # anything else is a plain JournalError.
        db = self._db
        lost = db is None or db.closed or db.broken or _ends_session(exc)
        if lost:
            self._drop()
        if not (lost or isinstance(exc, self._psycopg.OperationalError)):
            msg = f"cannot {doing} the PostgreSQL journal at {self._where}: {exc}"
            return JournalError(msg)
        self._failures += 1
        self._last_error = _first_line(exc)
        if lost:
            _log.warning(
                "lost the connection to the PostgreSQL journal at %s: %s",
                self._where,
                self._last_error,
            )
        msg = (
            f"the PostgreSQL journal at {self._where} is unavailable "
            f"(cannot {doing} it: {self._last_error}); retry later"
        )
        return JournalUnavailableError(msg)

    def _resolve_in_doubt(self, db: psycopg.Connection[Any]) -> None:
        doubt = self._in_doubt
        assert doubt is not None
        try:
            row = db.execute(_XID_STATUS, (doubt.xid,)).fetchone()
            status = None if row is None else row[0]
            if status is None:
                # the server does not know the id (another cluster, or it wrapped
                # around): rows whose event_id is present did commit
                ids = [r[0] for r in doubt.rows if r[0] is not None]
                found = {r[0] for r in db.execute(_EXISTING, (ids,))} if ids else set()
        except self._psycopg.Error as exc:
            raise self._failed(exc, "resolve the commit in doubt of") from exc
        if status == "in progress":
            msg = (
                f"the outcome of the commit in doubt at {self._where} is not known yet "
                f"(transaction {doubt.xid} is still in progress); retry later"
            )
            raise JournalUnavailableError(msg)
        self._in_doubt = None
        if status == "committed":
            committed = doubt.rows
        elif status is None:
            committed = [r for r in doubt.rows if r[0] is not None and r[0] in found]
        else:
            committed = []
        _log.warning(
            "the commit in doubt at %s (transaction %s, %d events) was %s; %d events "
            "are journaled and wait for their sender's retry",
            self._where,
            doubt.xid,
            len(doubt.rows),
            status or "not found",
            len(committed),
        )
        for r in committed:
            if r[0] is not None:
                self._unreported_ids[r[0]] = r
            else:
                self._unreported_anonymous[_canonical(r)] += 1
        self._trim_unreported()

    def _trim_unreported(self) -> None:
        excess = len(self._unreported_ids) + self._unreported_anonymous.total() - _MAX_UNREPORTED
        if excess <= 0:
            return
        _log.warning(
            "forgetting %d journaled events of commits in doubt that no retry claimed "
            "(a restart's replay applies them)",
            excess,
        )
        for event_id in list(self._unreported_ids)[:excess]:
            del self._unreported_ids[event_id]
            excess -= 1
        while excess > 0 and self._unreported_anonymous:
            del self._unreported_anonymous[next(iter(self._unreported_anonymous))]
            excess = (
                len(self._unreported_ids) + self._unreported_anonymous.total() - _MAX_UNREPORTED
            )

    def _claim(self, rows: list[JournalRow]) -> tuple[dict[int, JournalRow], set[str]]:
        # Rows of this call that are journaled rows of a commit in doubt: positions and
        # their event ids. Tentative: they are forgotten only once this call succeeds.
        if not self._unreported_ids and not self._unreported_anonymous:
            return {}, set()
        claimed: dict[int, JournalRow] = {}
        ids: set[str] = set()
        taken: Counter[JournalRow] = Counter()
        for position, row in enumerate(rows):
            event_id = row[0]
            if event_id is not None:
                if event_id in self._unreported_ids and event_id not in ids:
                    claimed[position] = row
                    ids.add(event_id)
            elif self._unreported_anonymous:
                key = _canonical(row)
                if taken[key] < self._unreported_anonymous.get(key, 0):
                    claimed[position] = row
                    taken[key] += 1
        return claimed, ids

    def _settle(self, claimed: dict[int, JournalRow]) -> None:
        for row in claimed.values():
            if row[0] is not None:
                self._unreported_ids.pop(row[0], None)
            else:
                key = _canonical(row)
                self._unreported_anonymous[key] -= 1
                if self._unreported_anonymous[key] <= 0:
                    del self._unreported_anonymous[key]

    # ------------------------------------------------------------------ backend hooks

    def _insert(self, rows: list[JournalRow]) -> list[bool]:
        db = self._connection()
        claimed, claimed_ids = self._claim(rows)
        rest = [row for position, row in enumerate(rows) if position not in claimed]
        xid: str | None = None
        new_rows: list[JournalRow] = []
        committing = False
        try:
            with db.transaction():
                db.execute(_LOCK)
                xid_row = db.execute(_XID).fetchone()
                xid = None if xid_row is None else str(xid_row[0])
                ids = list({row[0] for row in rest if row[0] is not None})
                existing: set[str] = set(claimed_ids)
                if ids:
                    existing |= {r[0] for r in db.execute(_EXISTING, (ids,))}
                rest_flags, new_rows = dedupe(rest, existing)
                if new_rows:
                    columns = list(zip(*new_rows, strict=True))
                    db.execute(_INSERT, [list(c) for c in columns])
                committing = True
        except self._psycopg.Error as exc:
            error = self._failed(exc, f"append {len(rows)} events to")
            if committing and new_rows and xid is not None and self._db is None:
                # COMMIT was sent and the answer lost: it may have committed
                self._in_doubt = _InDoubt(xid, new_rows)
            raise error from exc
        self._settle(claimed)
        rest_iter = iter(rest_flags)
        return [True if position in claimed else next(rest_iter) for position in range(len(rows))]

    def _ping(self) -> None:
        db = self._connection()
        try:
            db.execute(_PING).fetchone()
        except self._psycopg.Error as exc:
            raise self._failed(exc, "ping") from exc

    def _page(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
        db = self._connection()
        try:
            rows = db.execute(_PAGE, (after_seq, limit)).fetchall()
        except self._psycopg.Error as exc:
            raise self._failed(exc, "read") from exc
        return [(int(seq), bytes(payload)) for seq, payload in rows]

    def _count(self) -> int:
        db = self._connection()
        try:
            row = db.execute(_COUNT).fetchone()
        except self._psycopg.Error as exc:
            raise self._failed(exc, "read") from exc
        assert row is not None
        return int(row[0])

    def _close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()


def _canonical(row: JournalRow) -> JournalRow:
    # An event without event_id is matched by its content: a retry may carry the same event
    # as other bytes (a payload as received, or re-encoded), so compare the encoded event.
    return (row[0], row[1], row[2], encode_event(decode_stored(row[3])))


def _ends_session(exc: Exception) -> bool:
    # The server said the session is over (class 08, connection exception; 57P01-57P03,
    # shut down by an administrator or a crash): the connection is lost even when the driver
    # has not marked it broken yet, as happens when pg_terminate_backend races a rollback.
    state = getattr(exc, "sqlstate", None) or ""
    return state.startswith(("08", "57P"))


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
