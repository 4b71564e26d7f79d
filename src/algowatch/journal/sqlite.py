"""The embedded journal: one SQLite file in WAL mode under the data folder."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final, Literal

from algowatch.errors import JournalError
from algowatch.journal._base import Journal, JournalRow, dedupe

__all__ = ["SQLITE_FILE_NAME", "SqliteJournal"]

SQLITE_FILE_NAME: Final = "journal.sqlite3"
_SCHEMA_VERSION: Final = 1
_COLUMNS: Final = ("seq", "event_id", "type", "ts", "payload")
# SQLite's default limit on bound parameters in one statement is 32766 since 3.32; stay
# well below it so a lookup never fails on an older library.
_LOOKUP_CHUNK: Final = 500

_INSERT: Final = "INSERT INTO events (event_id, type, ts, payload) VALUES (?, ?, ?, ?)"
_INSERT_OR_IGNORE: Final = (
    "INSERT OR IGNORE INTO events (event_id, type, ts, payload) VALUES (?, ?, ?, ?)"
)
# only "?" placeholders are formatted in, never values
_SELECT_IDS: Final = "SELECT event_id FROM events WHERE event_id IN ({marks})"
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT UNIQUE,
    type TEXT NOT NULL,
    ts INTEGER NOT NULL,
    payload BLOB NOT NULL
)
"""


class SqliteJournal(Journal):
    """A journal in ``<data_dir>/journal.sqlite3`` (WAL mode, ``synchronous=FULL``).

    Every commit is fsynced before :meth:`append` returns, in both durability modes:
    ``"event"`` commits each call on its own, ``"group"`` shares one commit between the
    calls of concurrent appenders.

    Examples
    --------
    >>> import tempfile
    >>> from algowatch.testing import EventFactory
    >>> events = EventFactory()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with SqliteJournal(Path(tmp) / "journal.sqlite3") as journal:
    ...         journal.append([events.heartbeat(event_id="a"), events.heartbeat(event_id="a")])
    ...         [e.event_id for e in journal.replay()]
    [True, False]
    ['a']

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        path: Path,
        *,
        durability: Literal["event", "group"] = "group",
        group_commit_max_delay_seconds: float = 0.002,
        group_commit_max_events: int = 1000,
    ) -> None:
        self.path = path
        super().__init__(
            durability=durability,
            group_commit_max_delay_seconds=group_commit_max_delay_seconds,
            group_commit_max_events=group_commit_max_events,
        )
        self._db = _connect(path)

    @property
    def location(self) -> str:
        """Return the journal file's path."""
        return str(self.path)

    def _insert(self, rows: list[JournalRow]) -> list[bool]:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                # Fast path: duplicates of journaled events are rare, so insert and count.
                # If any row was ignored, undo and take the slow path that finds which.
                flags, new_rows = dedupe(rows, set())
                before = db.total_changes
                db.executemany(_INSERT_OR_IGNORE, new_rows)
                if db.total_changes - before != len(new_rows):
                    db.execute("ROLLBACK")
                    db.execute("BEGIN IMMEDIATE")
                    flags, new_rows = dedupe(rows, self._journaled_ids(rows))
                    db.executemany(_INSERT, new_rows)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            msg = f"cannot append {len(rows)} events to journal {self.path}: {exc}"
            raise JournalError(msg) from exc
        return flags

    def _journaled_ids(self, rows: list[JournalRow]) -> set[str]:
        ids = list({row[0] for row in rows if row[0] is not None})
        found: set[str] = set()
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            chunk = ids[start : start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            query = _SELECT_IDS.format(marks=marks)
            found.update(r[0] for r in self._db.execute(query, chunk))
        return found

    def _page(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
        try:
            return self._db.execute(
                "SELECT seq, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        except sqlite3.Error as exc:
            msg = f"cannot read journal {self.path}: {exc}"
            raise JournalError(msg) from exc

    def _count(self) -> int:
        try:
            row = self._db.execute("SELECT count(*) FROM events").fetchone()
        except sqlite3.Error as exc:
            msg = f"cannot read journal {self.path}: {exc}"
            raise JournalError(msg) from exc
        return int(row[0])

    def _close(self) -> None:
        self._db.close()


def _connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the journal folder {str(path.parent)!r}: {exc.strerror or exc}"
        raise JournalError(msg) from exc
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        msg = f"cannot open journal {str(path)!r}: {exc}"
        raise JournalError(msg) from exc
    try:
        _prepare(db, path)
    except sqlite3.DatabaseError as exc:
        db.close()
        msg = f"journal {str(path)!r} is not a readable SQLite journal: {exc}"
        raise JournalError(msg) from exc
    except BaseException:
        db.close()
        raise
    return db


def _prepare(db: sqlite3.Connection, path: Path) -> None:
    db.execute("PRAGMA busy_timeout = 10000")
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        msg = f"journal {str(path)!r} could not switch to WAL mode, SQLite answered {mode!r}"
        raise JournalError(msg)
    # FULL: the WAL is fsynced at every commit, so a committed append survives power loss
    db.execute("PRAGMA synchronous = FULL")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version not in (0, _SCHEMA_VERSION):
        msg = (
            f"journal {str(path)!r} has schema version {version!r}, "
            f"expected {_SCHEMA_VERSION} (written by another algowatch version?)"
        )
        raise JournalError(msg)
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(_SCHEMA)
        _check_columns(db, path)
        db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _check_columns(db: sqlite3.Connection, path: Path) -> None:
    columns = tuple(r[1] for r in db.execute("PRAGMA table_info(events)"))
    if columns != _COLUMNS:
        msg = (
            f"journal {str(path)!r} has an events table with columns {columns!r}, "
            f"expected {_COLUMNS!r}"
        )
        raise JournalError(msg)
