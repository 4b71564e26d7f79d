"""The server journal: one table in PostgreSQL, through psycopg (the ``postgres`` extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal

from algowatch.errors import JournalError, MissingDependencyError
from algowatch.journal._base import Journal, JournalRow, dedupe

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


class PostgresJournal(Journal):
    """A journal in the ``algowatch_journal`` table of a PostgreSQL database.

    The table is created if absent, in the first schema of the connection's
    ``search_path``. Commits use the server's ``synchronous_commit`` setting (``on`` by
    default: durable when the commit returns).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        dsn: str,
        *,
        durability: Literal["event", "group"] = "group",
        group_commit_max_delay_seconds: float = 0.002,
        group_commit_max_events: int = 1000,
        connect_timeout_seconds: float = 10.0,
    ) -> None:
        psycopg_module = _import_psycopg()
        self._where = redact_dsn(dsn)
        super().__init__(
            durability=durability,
            group_commit_max_delay_seconds=group_commit_max_delay_seconds,
            group_commit_max_events=group_commit_max_events,
        )
        self._psycopg = psycopg_module
        options: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in _conninfo(dsn):
            options["connect_timeout"] = max(1, round(connect_timeout_seconds))
        try:
            self._db: psycopg.Connection[Any] = psycopg_module.connect(dsn, **options)
        except psycopg_module.Error as exc:
            msg = f"cannot connect to the PostgreSQL journal at {self._where}: {exc}"
            raise JournalError(msg) from exc
        try:
            self._prepare()
        except BaseException:
            self._db.close()
            raise

    @property
    def location(self) -> str:
        """Return the database's address, without the password."""
        return f"postgresql {self._where}".rstrip()

    def _prepare(self) -> None:
        try:
            with self._db.transaction():
                # two processes creating the table at once would race on the catalog
                self._db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (POSTGRES_TABLE,))
                self._db.execute(_SCHEMA)
            rows = self._db.execute(
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

    def _insert(self, rows: list[JournalRow]) -> list[bool]:
        try:
            with self._db.transaction():
                self._db.execute(_LOCK)
                ids = list({row[0] for row in rows if row[0] is not None})
                existing: set[str] = set()
                if ids:
                    existing = {r[0] for r in self._db.execute(_EXISTING, (ids,))}
                flags, new_rows = dedupe(rows, existing)
                if new_rows:
                    columns = list(zip(*new_rows, strict=True))
                    self._db.execute(_INSERT, [list(c) for c in columns])
        except self._psycopg.Error as exc:
            msg = (
                f"cannot append {len(rows)} events to the PostgreSQL journal "
                f"at {self._where}: {exc}"
            )
            raise JournalError(msg) from exc
        return flags

    def _page(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
        try:
            rows = self._db.execute(_PAGE, (after_seq, limit)).fetchall()
        except self._psycopg.Error as exc:
            msg = f"cannot read the PostgreSQL journal at {self._where}: {exc}"
            raise JournalError(msg) from exc
        return [(int(seq), bytes(payload)) for seq, payload in rows]

    def _count(self) -> int:
        try:
            row = self._db.execute(_COUNT).fetchone()
        except self._psycopg.Error as exc:
            msg = f"cannot read the PostgreSQL journal at {self._where}: {exc}"
            raise JournalError(msg) from exc
        assert row is not None
        return int(row[0])

    def _close(self) -> None:
        self._db.close()
