"""Feed event files through an engine, optionally journaling them first."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from algowatch.errors import InvalidEventError
from algowatch.events import Event
from algowatch.journal._base import Journal
from algowatch.journal.files import EventFile

__all__ = ["EventSink", "ReplayReport", "replay_files"]

# events journaled per append (at least; a file's batch goes in whole)
_BATCH: Final = 1000


class EventSink(Protocol):
    """What a replay feeds: anything with ``apply(event) -> bool`` (a ``Monitor``).

    A sink that also has ``apply_many(events) -> int`` (the number applied, duplicates
    excluded), as ``Monitor`` does, is fed a batch at a time.
    """

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
        Called with the open file after each batch (a few thousand records) and when it
        is finished.

    Raises
    ------
    DataFileError
        If a file cannot be read.
    JournalError
        If the journal cannot be written.
    """
    report = ReplayReport()
    pending: list[Event] = []
    apply_many = _batch_applier(sink)

    def apply(events: Sequence[Event]) -> None:
        applied = apply_many(events)
        report.applied += applied
        report.duplicates += len(events) - applied

    def flush() -> None:
        if journal is None or not pending:
            return
        news = journal.append(pending)
        fresh = [event for event, new in zip(pending, news, strict=True) if new]
        report.duplicates += len(pending) - len(fresh)
        apply(fresh)
        pending.clear()

    def take(events: list[Event]) -> None:
        if journal is None:
            apply(events)
            return
        pending.extend(events)
        if len(pending) >= _BATCH:
            flush()

    for path in paths:
        with EventFile(path) as file:
            for batch in file.batches():
                if not batch.errors:
                    report.records += len(batch.events)
                    take(batch.events)
                else:
                    # file order: the events before a bad record apply before it is reported
                    run: list[Event] = []
                    for item in batch:
                        report.records += 1
                        if not isinstance(item, InvalidEventError):
                            run.append(item)
                            continue
                        take(run)
                        run = []
                        report.invalid += 1
                        if on_invalid is not None:
                            on_invalid(file.path, item)
                        if strict:
                            flush()
                            report.stopped = True
                            report.files += 1
                            return report
                    take(run)
                if on_progress is not None:
                    on_progress(file)
            flush()
            report.files += 1
            if on_progress is not None:
                on_progress(file)
    return report


def _batch_applier(sink: EventSink) -> Callable[[Sequence[Event]], int]:
    # a sink's own apply_many when it has one (Monitor's is compiled), else one by one
    apply_many: Callable[[Sequence[Event]], int] | None = getattr(sink, "apply_many", None)
    if callable(apply_many):
        return apply_many
    apply = sink.apply

    def one_by_one(events: Sequence[Event]) -> int:
        return sum(1 for event in events if apply(event))

    return one_by_one
