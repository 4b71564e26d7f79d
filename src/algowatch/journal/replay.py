"""Feed event files through an engine, optionally journaling them first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from algowatch.errors import InvalidEventError
from algowatch.events import Event
from algowatch.journal._base import Journal
from algowatch.journal.files import EventFile

__all__ = ["EventSink", "ReplayReport", "replay_files"]

_BATCH: Final = 1000
_PROGRESS_EVERY: Final = 4096


class EventSink(Protocol):
    """What a replay feeds: anything with ``apply(event) -> bool`` (a ``Monitor``)."""

    def apply(self, event: Event, /) -> bool:
        """Apply ``event``; return False when it was ignored as a duplicate."""
        ...


@dataclass(slots=True)
class ReplayReport:
    """What a replay did.

    Attributes
    ----------
    files
        Files read (completely, or up to the bad line under ``strict``).
    records
        Records read, valid or not.
    applied
        Events the sink applied.
    duplicates
        Valid events ignored as duplicates (by ``event_id``, by the journal or the sink).
    invalid
        Records rejected as invalid.
    stopped
        Whether ``strict`` stopped the replay at the first invalid record.
    """

    files: int = 0
    records: int = 0
    applied: int = 0
    duplicates: int = 0
    invalid: int = 0
    stopped: bool = False


def replay_files(
    paths: Iterable[str | Path],
    sink: EventSink,
    *,
    journal: Journal | None = None,
    strict: bool = False,
    on_invalid: Callable[[Path, InvalidEventError], None] | None = None,
    on_progress: Callable[[EventFile], None] | None = None,
) -> ReplayReport:
    """Apply every valid event of ``paths`` to ``sink``, in file order.

    Parameters
    ----------
    paths
        Event files (see :mod:`algowatch.journal.files` for the formats).
    sink
        The engine to feed, usually a ``Monitor`` without a clock (so "now" is the time
        of the latest event, and replaying yesterday's file gives yesterday's numbers).
    journal
        When given, events are appended to it (in batches) before they are applied; an
        event the journal already holds is a duplicate and is not applied.
    strict
        Stop at the first invalid record.
    on_invalid
        Called with the file and the error of each invalid record (which carries the
        line number and every bad field).
    on_progress
        Called with the open file every few thousand records and when it is finished.

    Raises
    ------
    DataFileError
        If a file cannot be read.
    JournalError
        If the journal cannot be written.
    """
    report = ReplayReport()
    pending: list[Event] = []

    def apply(event: Event) -> None:
        if sink.apply(event):
            report.applied += 1
        else:
            report.duplicates += 1

    def flush() -> None:
        if journal is None or not pending:
            return
        for event, new in zip(pending, journal.append(pending), strict=True):
            if new:
                apply(event)
            else:
                report.duplicates += 1
        pending.clear()

    for path in paths:
        with EventFile(path) as file:
            for _line, item in file:
                report.records += 1
                if isinstance(item, InvalidEventError):
                    report.invalid += 1
                    if on_invalid is not None:
                        on_invalid(file.path, item)
                    if strict:
                        flush()
                        report.stopped = True
                        report.files += 1
                        return report
                elif journal is None:
                    apply(item)
                else:
                    pending.append(item)
                    if len(pending) >= _BATCH:
                        flush()
                if on_progress is not None and report.records % _PROGRESS_EVERY == 0:
                    on_progress(file)
            flush()
            report.files += 1
            if on_progress is not None:
                on_progress(file)
    return report
