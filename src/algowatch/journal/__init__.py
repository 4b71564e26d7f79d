"""The durable event journal, written before events are applied, and event files.

- :func:`open_journal` opens the configured backend: :class:`SqliteJournal` (embedded
  default, ``<data_dir>/journal.sqlite3``) or :class:`PostgresJournal` (when
  ``journal.backend = "postgres"`` and a ``dsn`` are configured).
- :class:`Journal` is their common interface: ``append`` (durable, idempotent by
  ``event_id``, thread-safe), ``replay`` (journal order), ``count``, ``ping``,
  ``state`` (a :class:`JournalState`, for health checks and metrics) and ``close``.
- :func:`read_event_file` and :class:`EventFile` read NDJSON, JSON-array and CSV event
  files, gzip too, reporting each bad record with its line number (record by record, or in
  :class:`EventBatch` es); :func:`replay_files` feeds them through an engine in batches.

.. versionadded:: 0.1.0
"""

from algowatch.journal._base import Journal, JournalState
from algowatch.journal._open import open_journal
from algowatch.journal.files import EventBatch, EventFile, EventFileFormat, read_event_file
from algowatch.journal.postgres import PostgresJournal
from algowatch.journal.replay import EventSink, ReplayReport, replay_files
from algowatch.journal.sqlite import SqliteJournal

__all__ = [
    "EventBatch",
    "EventFile",
    "EventFileFormat",
    "EventSink",
    "Journal",
    "JournalState",
    "PostgresJournal",
    "ReplayReport",
    "SqliteJournal",
    "open_journal",
    "read_event_file",
    "replay_files",
]
