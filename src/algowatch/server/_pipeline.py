"""The ingest pipeline: bounded queue -> journal (one writer thread) -> Monitor (one place)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from algowatch.errors import ServiceUnavailableError
from algowatch.events import Event

__all__ = ["IngestPipeline", "IngestResult", "JournalLike", "MonitorLike"]

_log = logging.getLogger("algowatch.server")

# Events applied to the Monitor between two yields to the event loop, so that a large group
# does not stall reads and health probes for long.
_APPLY_CHUNK = 2000


class JournalLike(Protocol):
    """What the service needs of :class:`algowatch.journal.Journal`."""

    def append(self, events: Sequence[Event]) -> list[bool]:
        """Store ``events`` durably; return True per new event, False per duplicate."""
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

    def snapshot(self) -> dict[str, Any]:
        """Return the JSON-ready state."""
        ...

    def positions(self) -> list[dict[str, Any]]:
        """Return the open positions."""
        ...

    def trades(self, *, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Return closed trades, newest first."""
        ...

    def orders(self, *, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Return orders, newest first."""
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
    future: asyncio.Future[IngestResult]


@dataclass(slots=True)
class _Inflight:
    group: list[_Batch]
    events: list[Event]
    flags: asyncio.Future[list[bool]]


@dataclass(slots=True)
class _Stats:
    batches: int = 0
    events: int = 0
    duplicates: int = 0
    rejected_busy: int = 0
    journal_failures: int = 0
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

    async def submit(self, events: Sequence[Event]) -> IngestResult:
        """Journal and apply ``events`` as one unit; return once they are durable.

        Raises
        ------
        ServiceUnavailableError
            When the queue is full (the journal is behind), the service is stopping,
            or the journal failed to store the batch; nothing of the batch was applied.
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
        self._queue.append(_Batch(events, future))
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
        events: list[Event] = [e for batch in group for e in batch.events]
        self.stats.groups += 1
        self.stats.largest_group = max(self.stats.largest_group, len(events))
        loop = asyncio.get_running_loop()
        flags = loop.run_in_executor(self._executor, self._journal.append, events)
        return _Inflight(group, events, flags)

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
        group, events = inflight.group, inflight.events
        try:
            flags = await inflight.flags
        except Exception as exc:  # any journal failure becomes a 503, never a crash
            self._pending -= len(events)
            self.stats.journal_failures += 1
            _log.error("journal append of %d events failed: %r", len(events), exc)
            msg = f"the journal could not store the batch ({exc}); retry later"
            for batch in group:
                if not batch.future.done():
                    batch.future.set_exception(ServiceUnavailableError(msg))
            return
        self._pending -= len(events)
        position = 0
        applied = 0
        for batch in group:
            accepted = 0
            duplicates: list[str] = []
            for event in batch.events:
                if flags[position]:
                    accepted += 1
                    applied += 1
                    self._apply(event)
                    if applied % _APPLY_CHUNK == 0:
                        await asyncio.sleep(0)
                elif event.event_id is not None:
                    duplicates.append(event.event_id)
                position += 1
            self.stats.batches += 1
            self.stats.events += accepted
            self.stats.duplicates += len(duplicates)
            if not batch.future.done():
                batch.future.set_result(IngestResult(len(batch.events), accepted, duplicates))
        if applied and self._on_applied is not None:
            self._on_applied(applied)

    def _apply(self, event: Event) -> None:
        try:
            self._monitor.apply(event)
        except Exception as exc:
            self.stats.apply_failures += 1
            _log.error("applying event %r failed: %r", event.event_id, exc)
