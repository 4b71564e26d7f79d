"""The journal interface and the machinery its backends share: dedupe and group commit."""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final, Literal, Self

from algowatch.errors import JournalError
from algowatch.events import Event, decode_stored, encode_event

__all__ = ["Journal", "JournalRow", "JournalState"]

# (event_id, type, ts, payload) as stored
JournalRow = tuple[str | None, str, int, bytes]

_PAGE_SIZE: Final = 5000


@dataclass(frozen=True, slots=True)
class JournalState:
    """The journal's view of its store, for health checks and metrics.

    Attributes
    ----------
    up
        Whether the store is usable as far as the journal knows: open and, for
        PostgreSQL, holding a connection that has not failed.
    failures
        Connection losses, failed reconnect attempts and operational errors of the
        store (server shutting down, disk full), since the journal was opened. Calls
        refused at once while waiting to reconnect are not counted.
    reconnects
        Connections re-established after a loss, since the journal was opened.
    last_error
        The latest such failure, or ``None``.

    .. versionadded:: 0.2.0
    """

    up: bool
    failures: int = 0
    reconnects: int = 0
    last_error: str | None = None


def _tag(event: Event) -> str:
    return str(event.__struct_config__.tag)


def _row(event: Event) -> JournalRow:
    return (event.event_id, _tag(event), event.ts, encode_event(event))


class Journal(abc.ABC):
    """A durable, append-only, idempotent store of events, written before they are applied.

    Use :func:`~algowatch.journal.open_journal` to get one. ``append`` is thread-safe and
    returns only once the events are durable; ``replay`` yields them back in journal order.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        *,
        durability: Literal["event", "group"],
        group_commit_max_delay_seconds: float,
        group_commit_max_events: int,
    ) -> None:
        self.durability = durability
        self._lock = threading.Lock()
        self._closed = False
        self._committer = (
            _GroupCommitter(
                self._write_locked,
                max_delay_seconds=group_commit_max_delay_seconds,
                max_events=group_commit_max_events,
            )
            if durability == "group"
            else None
        )

    # ------------------------------------------------------------------ backend hooks

    @abc.abstractmethod
    def _insert(self, rows: list[JournalRow]) -> list[bool]:
        """Insert ``rows`` in one transaction; return per row whether it was new."""

    @abc.abstractmethod
    def _page(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
        """Return up to ``limit`` ``(seq, payload)`` rows with ``seq > after_seq``, in order."""

    @abc.abstractmethod
    def _count(self) -> int:
        """Return the number of journaled events."""

    @abc.abstractmethod
    def _close(self) -> None:
        """Release the backend's connection."""

    def _ping(self) -> None:  # noqa: B027 - optional hook, SQLite has nothing to ping
        """Prove the store answers (called with the lock held); nothing to do by default."""

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """Return where the journal lives (a file path or a redacted DSN), for messages."""

    # ------------------------------------------------------------------ public API

    def append(
        self, events: Sequence[Event], payloads: Sequence[bytes | None] | None = None
    ) -> list[bool]:
        """Journal ``events`` durably, in order, and return per event whether it was new.

        An event whose ``event_id`` is already journaled (or appears earlier in the same
        call) is not stored again and gets ``False``. Events without an ``event_id`` are
        always new. The call returns after the commit covering its events.

        Parameters
        ----------
        events
            The events, in order.
        payloads
            Per event, the JSON it was decoded from, stored as it is instead of the event
            re-encoded (which costs more than the rest of an append), or ``None`` to
            encode that event. The caller vouches that
            :func:`~algowatch.events.decode_stored` of a payload gives back exactly its
            event (:func:`~algowatch._codec.decode_batch_payloads` gives such payloads);
            the journal does not check it.

        Raises
        ------
        JournalError
            If the journal is closed or the backend fails; nothing of the call is stored.
        ValueError
            If ``payloads`` is not one per event.

        .. versionchanged:: 0.2.0
           ``payloads``.
        """
        if not events:
            return []
        if payloads is None:
            rows = [_row(e) for e in events]
        else:
            if len(payloads) != len(events):
                msg = f"payloads must be one per event ({len(events)}), received {len(payloads)}"
                raise ValueError(msg)
            rows = [
                _row(e) if p is None else (e.event_id, _tag(e), e.ts, p)
                for e, p in zip(events, payloads, strict=True)
            ]
        if self._committer is not None:
            return self._committer.submit(rows)
        return self._write_locked(rows)

    def replay(self) -> Iterator[Event]:
        """Yield every journaled event in journal order, a page at a time (bounded memory).

        Events appended while the iteration runs may be included.
        """
        after = 0
        while True:
            with self._lock:
                self._check_open()
                page = self._page(after, _PAGE_SIZE)
            for _seq, payload in page:
                yield decode_stored(payload)
            if len(page) < _PAGE_SIZE:
                return
            after = page[-1][0]

    def count(self) -> int:
        """Return the number of events in the journal."""
        with self._lock:
            self._check_open()
            return self._count()

    def ping(self) -> None:
        """Check that the store answers, reconnecting first if the backend lost it.

        The embedded SQLite journal only checks that it is open; PostgreSQL runs
        ``SELECT 1`` on the journal's own connection.

        Raises
        ------
        JournalError
            If the journal is closed or the store fails
            (:class:`~algowatch.errors.JournalUnavailableError` when it is unreachable).

        .. versionadded:: 0.2.0
        """
        with self._lock:
            self._check_open()
            self._ping()

    def state(self) -> JournalState:
        """Return whether the store is up and how often it failed (never blocks).

        .. versionadded:: 0.2.0
        """
        return JournalState(up=not self._closed)

    def close(self) -> None:
        """Close the journal; later calls raise :class:`~algowatch.errors.JournalError`."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._close()

    @property
    def closed(self) -> bool:
        """Return whether :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r}, durability={self.durability!r})"

    # ------------------------------------------------------------------ helpers

    def _check_open(self) -> None:
        if self._closed:
            msg = f"journal {self.location} is closed"
            raise JournalError(msg)

    def _write_locked(self, rows: list[JournalRow]) -> list[bool]:
        with self._lock:
            self._check_open()
            return self._insert(rows)


def dedupe(rows: list[JournalRow], existing: set[str]) -> tuple[list[bool], list[JournalRow]]:
    """Return per row whether it is new, and the new rows in order.

    A row is a duplicate when its ``event_id`` is in ``existing`` or on an earlier row.
    """
    flags: list[bool] = []
    new_rows: list[JournalRow] = []
    seen = set(existing)
    for row in rows:
        event_id = row[0]
        if event_id is not None:
            if event_id in seen:
                flags.append(False)
                continue
            seen.add(event_id)
        flags.append(True)
        new_rows.append(row)
    return flags, new_rows


@dataclass(slots=True, eq=False)
class _Request:
    rows: list[JournalRow]
    done: bool = False
    result: list[bool] = field(default_factory=list)
    error: BaseException | None = None


class _GroupCommitter:
    # Leader/follower group commit: the first appender to find no commit in progress
    # becomes the leader, gathers every queued request (whole requests, at most
    # `max_events` events unless a single request is larger) and writes them in one
    # transaction while later appenders queue behind it. When the previous commit held
    # several requests (concurrent appenders), the leader waits up to `max_delay_seconds`
    # for as many to queue again; a lone appender never waits.

    def __init__(
        self,
        write: Callable[[list[JournalRow]], list[bool]],
        *,
        max_delay_seconds: float,
        max_events: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_events < 1:
            msg = f"journal.group_commit_max_events must be >= 1, received {max_events!r}"
            raise JournalError(msg)
        if max_delay_seconds < 0:
            msg = (
                "journal.group_commit_max_delay_seconds must be >= 0, "
                f"received {max_delay_seconds!r}"
            )
            raise JournalError(msg)
        self._write = write
        self._max_delay = max_delay_seconds
        self._max_events = max_events
        self._monotonic = monotonic
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[_Request] = []
        self._leader_active = False
        self._appenders = 0
        self._previous_batch_requests = 1
        self.batches = 0

    def submit(self, rows: list[JournalRow]) -> list[bool]:
        request = _Request(rows)
        with self._cond:
            self._appenders += 1
            self._queue.append(request)
            self._cond.notify_all()
            try:
                while not request.done:
                    if self._leader_active:
                        self._cond.wait()
                    else:
                        self._lead()
            finally:
                self._appenders -= 1
                self._cond.notify_all()
        if request.error is not None:
            raise request.error
        return request.result

    def _lead(self) -> None:
        # called with the condition held; returns with it held
        self._leader_active = True
        try:
            batch = self._gather()
            rows = [row for request in batch for row in request.rows]
            self._cond.release()
            try:
                flags: list[bool] = []
                error: BaseException | None = None
                try:
                    flags = self._write(rows)
                except BaseException as exc:  # handed to every caller of the batch
                    error = exc
            finally:
                self._cond.acquire()
            start = 0
            for request in batch:
                end = start + len(request.rows)
                request.result, request.error = flags[start:end], error
                request.done = True
                start = end
            self._previous_batch_requests = len(batch)
            self.batches += 1
        finally:
            self._leader_active = False
            self._cond.notify_all()

    def _gather(self) -> list[_Request]:
        target = min(self._previous_batch_requests, max(self._appenders, 1))
        deadline = self._monotonic() + self._max_delay
        while len(self._queue) < target:
            if sum(len(r.rows) for r in self._queue) >= self._max_events:
                break
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
        batch: list[_Request] = []
        total = 0
        while self._queue:
            size = len(self._queue[0].rows)
            if batch and total + size > self._max_events:
                break
            batch.append(self._queue.pop(0))
            total += size
        return batch
