"""Choose and open the configured journal backend."""

from __future__ import annotations

from pathlib import Path

from algowatch.errors import ConfigError
from algowatch.journal._base import Journal
from algowatch.journal.postgres import PostgresJournal
from algowatch.journal.sqlite import SQLITE_FILE_NAME, SqliteJournal
from algowatch.settings import JournalSettings

__all__ = ["open_journal"]


def open_journal(settings: JournalSettings, data_dir: Path) -> Journal:
    """Open (creating if needed) the journal that ``settings`` describe.

    Parameters
    ----------
    settings
        The ``[journal]`` section: ``backend = "sqlite"`` (default) keeps the journal in
        ``<data_dir>/journal.sqlite3``; ``backend = "postgres"`` uses the database at
        ``dsn``. ``durability`` is ``"event"`` (one commit per :meth:`Journal.append`
        call) or ``"group"`` (concurrent calls share a commit).
    data_dir
        The data folder, created if absent (used by the SQLite backend).

    Raises
    ------
    ConfigError
        If ``backend`` and ``dsn`` disagree (PostgreSQL without a DSN, or a DSN given to
        the SQLite backend).
    JournalError
        If the journal cannot be opened or is not a journal.
    MissingDependencyError
        If the PostgreSQL backend is chosen without the ``algowatch[postgres]`` extra.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with open_journal(JournalSettings(), Path(tmp)) as journal:
    ...         journal.count()
    0
    >>> open_journal(JournalSettings(backend="postgres"), Path("."))
    Traceback (most recent call last):
    ...
    algowatch.errors.ConfigError: journal.dsn is required when journal.backend is 'postgres', \
received None
    """
    if settings.backend == "postgres":
        if not settings.dsn:
            msg = (
                "journal.dsn is required when journal.backend is 'postgres', "
                f"received {settings.dsn!r}"
            )
            raise ConfigError(msg)
        return PostgresJournal(
            settings.dsn,
            durability=settings.durability,
            group_commit_max_delay_seconds=settings.group_commit_max_delay_seconds,
            group_commit_max_events=settings.group_commit_max_events,
        )
    if settings.dsn:
        msg = (
            "journal.dsn is set but journal.backend is 'sqlite'; "
            "set journal.backend = 'postgres' to use the database"
        )
        raise ConfigError(msg)
    return SqliteJournal(
        Path(data_dir) / SQLITE_FILE_NAME,
        durability=settings.durability,
        group_commit_max_delay_seconds=settings.group_commit_max_delay_seconds,
        group_commit_max_events=settings.group_commit_max_events,
    )
