"""The ingest pipeline: bounded queue -> journal (one writer thread) -> Monitor (one place).

Two policies live here, one home each:

- **Isolation** (:func:`store_unavailable`): a journal failure that means "the store is
  unavailable right now" fails the batches it concerns with 503; any other failure of a
  group commit is retried batch by batch, so only the batch that cannot be stored fails.
- **Engine errors** (:func:`apply_event`): an event the engine raises on is quarantined
  the same way live and at replay, so a restart reaches the state the live service had.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from algowatch.errors import JournalError, ServiceUnavailableError
from algowatch.events import Event

if TYPE_CHECKING:
    from algowatch.monitor import MonitorFigures, OrderFigures, TradeFigures

__all__ = [
    "ENGINE_ERROR",
    "IngestPipeline",
    "IngestResult",
    "JournalLike",
    "MonitorLike",
    "apply_event",
    "store_unavailable",
]

_log = logging.getLogger("algowatch.server")

# Events applied to the Monitor between two yields to the event loop (about 1-2 ms of
# work), so that a large group does not stall reads and health probes.
_APPLY_CHUNK = 256

ENGINE_ERROR = "engine_error"
"""The anomaly kind counting events the engine raised on (quarantined)."""


class JournalLike(Protocol):
    """What the service needs of :class:`algowatch.journal.Journal`."""

    def append(
        self, events: Sequence[Event], payloads: Sequence[bytes | None] | None = None
    ) -> list[bool]:
        """Store ``events`` durably (``payloads``: their received JSON); True per new event."""
        ...

    def replay(self) -> Iterator[Event]:
        """Yield every stored event in journal order."""
        ...

    def close(self) -> None:
        """Flush and close the journal."""
        ...


class MonitorLike(Protocol):
    """What the service needs of :class:`algowatch.monitor.Monitor`."""

    def apply(self, event: Event) -> bool:
        """Apply one event; return False for a duplicate ``event_id``."""
        ...

    def record_anomaly(self, kind: str) -> None:
        """Count one anomaly of ``kind``."""
        ...

    def figures(self) -> MonitorFigures:
        """Return the state as frozen, typed figures (rendered by ``_render``)."""
        ...

    def trade_figures(self, *, offset: int = 0, limit: int = 100) -> list[TradeFigures]:
        """Return closed round trips, newest first."""
        ...

    def order_figures(self, *, offset: int = 0, limit: int = 100) -> list[OrderFigures]:
        """Return open and recently finished orders, newest submission first."""
        ...


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The outcome of one accepted batch.

    Attributes
    ----------
    received
        Number of events in the batch.
    accepted
        Number of events that were new (journaled and applied).
    duplicates
        The ``event_id`` of every event that was already known, in batch order.
    """

    received: int
    accepted: int
    duplicates: list[str]


@dataclass(slots=True)
class _Batch:
    events: Sequence[Event]
    payloads: Sequence[bytes | None] | None
    future: asyncio.Future[IngestResult]


# per batch of a group: its journal flags, or the error that kept it out of the journal
_Outcome = list[bool] | Exception
# per batch of a group: its events and their payloads, as the writer thread gets them
_Stored = tuple[Sequence[Event], Sequence[bytes | None] | None]


@dataclass(slots=True)
class _Inflight:
    group: list[_Batch]
    events: int
    outcomes: asyncio.Future[list[_Outcome]]


@dataclass(slots=True)
class _Stats:
    batches: int = 0
    events: int = 0
    duplicates: int = 0
    rejected_busy: int = 0
    journal_failures: int = 0
    isolated_groups: int = 0
    apply_failures: int = 0
    groups: int = 0
    largest_group: int = 0


class IngestPipeline:
    """Serialise accepted batches through the journal and into the Monitor.

    Batches wait in a bounded queue (``max_pending_events`` events in total; a batch
    that does not fit is refused with :class:`~algowatch.errors.ServiceUnavailableError`
    so the caller can answer 503). One task drains the queue: it groups the waiting
    batches (group commit, at most ``max_group_events`` events), appends the group to
    the journal on a dedicated writer thread, then applies the new events to the
    Monitor on the event loop, in journal order. A batch's future resolves only after
    its events are durable, so a 202 always means "in the journal".
    """

    def __init__(
        self,
        journal: JournalLike,
        monitor: MonitorLike,
        *,
        max_pending_events: int,
        max_group_events: int = 10_000,
        on_applied: Callable[[int], None] | None = None,
    ) -> None:
        self._journal = journal
        self._monitor = monitor
        self._max_pending = max_pending_events
        self._max_group = max(1, max_group_events)
        self._on_applied = on_applied
        self._queue: deque[_Batch] = deque()
        self._pending = 0
        self._wakeup = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="algowatch-journal")
        self.stats = _Stats()

    @property
    def pending_events(self) -> int:
        """Return the number of events accepted for processing but not yet journaled."""
        return self._pending

    def start(self) -> None:
        """Start the writer task on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="algowatch-ingest")

    async def submit(
        self, events: Sequence[Event], payloads: Sequence[bytes | None] | None = None
    ) -> IngestResult:
        """Journal and apply ``events`` as one unit; return once they are durable.

        ``payloads`` (one per event, or ``None``) are the JSON the events were decoded
        from, which the journal stores as they are (see
        :meth:`algowatch.journal.Journal.append`); ``None`` for an event re-encodes it.

        Raises
        ------
        ServiceUnavailableError
            When the queue is full (the journal is behind), the service is stopping,
            or the journal is unavailable (:func:`store_unavailable`); retry later.
            Nothing of the batch was applied.
        JournalError
            When the journal refused this batch for another reason (its group's other
            batches are stored without it); resending it unchanged fails again.
        """
        if self._closing:
            msg = "the service is shutting down; retry against the restarted service"
            raise ServiceUnavailableError(msg)
        if self._pending and self._pending + len(events) > self._max_pending:
            self.stats.rejected_busy += 1
            msg = (
                f"the journal is behind: {self._pending} events pending, "
                f"limit {self._max_pending}; retry later"
            )
            raise ServiceUnavailableError(msg)
        future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        if payloads is not None and len(payloads) != len(events):
            msg = f"payloads must be one per event ({len(events)}), received {len(payloads)}"
            raise ValueError(msg)
        self._queue.append(_Batch(events, payloads, future))
        self._pending += len(events)
        self._wakeup.set()
        # The batch is processed even if this request is cancelled (client gone): its
        # events are then durable, and a retry with the same event_ids is a no-op.
        return await asyncio.shield(future)

    async def stop(self) -> None:
        """Refuse new batches, finish the queued ones, and stop the writer thread."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        # Two groups overlap: while the writer thread appends group N+1 to the journal,
        # the loop applies group N to the Monitor. The executor has one thread, so the
        # journal order is the submission order, and groups are applied in that order.
        inflight: _Inflight | None = None
        while True:
            if inflight is None and not self._queue:
                if self._closing:
                    return
                await self._wakeup.wait()
                self._wakeup.clear()
                continue
            started = self._start(self._take_group()) if self._queue else None
            if inflight is not None:
                await self._finish_safely(inflight)
            inflight = started

    def _take_group(self) -> list[_Batch]:
        group = [self._queue.popleft()]
        size = len(group[0].events)
        while self._queue and size + len(self._queue[0].events) <= self._max_group:
            batch = self._queue.popleft()
            size += len(batch.events)
            group.append(batch)
        return group

    def _start(self, group: list[_Batch]) -> _Inflight:
        size = sum(len(batch.events) for batch in group)
        self.stats.groups += 1
        self.stats.largest_group = max(self.stats.largest_group, size)
        loop = asyncio.get_running_loop()
        batches = [(batch.events, batch.payloads) for batch in group]
        outcomes = loop.run_in_executor(self._executor, self._store, batches)
        return _Inflight(group, size, outcomes)

    def _store(self, batches: list[_Stored]) -> list[_Outcome]:
        # On the writer thread. A group that fails for a reason other than "the store is
        # unavailable" is retried batch by batch, in order and in this same job (so the
        # journal order stays the apply order): only the batch the journal refuses fails.
        events = [e for batch, _ in batches for e in batch]
        payloads: list[bytes | None] | None = None
        if any(p is not None for _, p in batches):
            payloads = []
            for batch, batch_payloads in batches:
                payloads.extend([None] * len(batch) if batch_payloads is None else batch_payloads)
        try:
            flags = self._journal.append(events, payloads)
        except Exception as exc:
            if len(batches) == 1 or store_unavailable(exc):
                return [exc] * len(batches)
            _log.warning(
                "journal append of a group of %d batches failed (%r); storing them one by one",
                len(batches),
                exc,
            )
            self.stats.isolated_groups += 1
            outcomes: list[_Outcome] = []
            for batch, batch_payloads in batches:
                try:
                    outcomes.append(self._journal.append(batch, batch_payloads))
                except Exception as batch_exc:
                    outcomes.append(batch_exc)
            return outcomes
        result: list[_Outcome] = []
        start = 0
        for batch, _ in batches:
            result.append(flags[start : start + len(batch)])
            start += len(batch)
        return result

    async def _finish_safely(self, inflight: _Inflight) -> None:
        try:
            await self._finish(inflight)
        except Exception as exc:  # the writer must outlive any one group
            _log.exception("ingest of %d batches failed", len(inflight.group))
            msg = f"the service could not process the batch ({exc!r}); retry later"
            for batch in inflight.group:
                if not batch.future.done():
                    batch.future.set_exception(ServiceUnavailableError(msg))

    async def _finish(self, inflight: _Inflight) -> None:
        group = inflight.group
        try:
            outcomes = await inflight.outcomes
        finally:
            self._pending -= inflight.events
        applied = 0
        for batch, outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, Exception):
                self.stats.journal_failures += 1
                if not batch.future.done():
                    batch.future.set_exception(_store_error(outcome, len(batch.events)))
                continue
            fresh: Sequence[Event] = batch.events
            duplicates: list[str] = []
            if not all(outcome):  # only events with an event_id can be duplicates
                pairs = list(zip(batch.events, outcome, strict=True))
                fresh = [e for e, new in pairs if new]
                duplicates = [e.event_id for e, new in pairs if not new and e.event_id is not None]
            accepted = len(fresh)
            for start in range(0, accepted, _APPLY_CHUNK):
                if applied:  # let reads and probes in between two chunks
                    await asyncio.sleep(0)
                self._apply_chunk(fresh[start : start + _APPLY_CHUNK])
                applied += min(_APPLY_CHUNK, accepted - start)
            self.stats.batches += 1
            self.stats.events += accepted
            self.stats.duplicates += len(duplicates)
            if not batch.future.done():
                batch.future.set_result(IngestResult(len(batch.events), accepted, duplicates))
        if applied and self._on_applied is not None:
            self._on_applied(applied)

    def _apply_chunk(self, events: Sequence[Event]) -> None:
        monitor = self._monitor
        for event in events:
            if apply_event(monitor, event) is None:
                self.stats.apply_failures += 1


def _store_error(exc: Exception, size: int) -> Exception:
    if store_unavailable(exc):
        _log.error("journal unavailable, a batch of %d events was not stored: %r", size, exc)
        msg = f"the journal is unavailable ({exc}); retry later"
        return ServiceUnavailableError(msg)
    _log.error("the journal refused a batch of %d events: %r", size, exc)
    msg = (
        f"the journal refused this batch ({exc!r}); nothing of it was stored or applied, "
        "and resending it unchanged will fail again"
    )
    return JournalError(msg)


def store_unavailable(exc: BaseException) -> bool:
    """Return whether a journal failure means "the store is unavailable right now".

    True for :class:`~algowatch.errors.ServiceUnavailableError`, for a
    :class:`~algowatch.errors.JournalError` raised without a driver error (a closed
    journal), and for driver errors about the connection or the storage rather than the
    data: ``OSError``, SQLite's and psycopg's ``OperationalError`` (locked, disk full,
    connection lost) and psycopg's ``InterfaceError``. Anything else (an integrity or data
    error, an unencodable value) is about the batch, and retrying it will not help.
    """
    if isinstance(exc, ServiceUnavailableError):
        return True
    cause = exc.__cause__ if isinstance(exc, JournalError) else exc
    if cause is None:
        return True
    if isinstance(cause, OSError | sqlite3.OperationalError):
        return True
    if type(cause).__module__.partition(".")[0] != "psycopg":
        return False
    names = {cls.__name__ for cls in type(cause).__mro__}
    return not names.isdisjoint({"OperationalError", "InterfaceError"})


def apply_event(monitor: MonitorLike, event: Event) -> bool | None:
    """Apply ``event`` to ``monitor`` under the service's one engine-error policy.

    The live pipeline and the journal replay at start both apply events through this
    function, so they treat an event the engine raises on alike: the event stays in the
    journal, is counted as an anomaly of kind :data:`ENGINE_ERROR`
    (``algowatch_anomalies_total{kind="engine_error"}``), is logged once with its type and
    ``event_id``, and the service keeps running. The engine is deterministic, so a restart
    that replays the journal reaches the state the live service had.

    Returns
    -------
    bool or None
        True when applied, False for a duplicate ``event_id``, None when quarantined.
    """
    try:
        return monitor.apply(event)
    except Exception as exc:  # the policy: quarantine, count, log, keep running
        monitor.record_anomaly(ENGINE_ERROR)
        _log.error(
            "event quarantined: the engine raised %r applying %s event %r (counted as anomaly %s)",
            exc,
            event.__struct_config__.tag,
            event.event_id,
            ENGINE_ERROR,
            exc_info=exc,
        )
        return None
