"""The SDK's bounded buffer, shared by the caller and the sending thread or task."""

from __future__ import annotations

import threading
from collections import deque
from typing import Literal

from algowatch import events as ev
from algowatch._client_stats import ClientStats, FlushResult, _Counts
from algowatch.errors import AlgowatchError

__all__ = ["BufferFullError", "ClientClosedError", "EventBuffer", "OverflowPolicy"]

OverflowPolicy = Literal["drop_oldest", "raise"]


class BufferFullError(AlgowatchError, BufferError):
    """The SDK's buffer is full and its overflow policy is ``"raise"``.

    Raised by an event helper when ``max_buffer_events`` events are waiting (the
    service is down or slow) and no room appeared within ``block_seconds``.
    """


class ClientClosedError(AlgowatchError, RuntimeError):
    """An event helper was called after the client was closed."""


class EventBuffer:
    """A bounded FIFO of events shared by the caller and the sending thread or task."""

    def __init__(self, max_events: int, policy: OverflowPolicy, block_seconds: float) -> None:
        if max_events < 1:
            msg = f"max_buffer_events must be >= 1, received {max_events!r}"
            raise ValueError(msg)
        if policy not in ("drop_oldest", "raise"):
            msg = f"overflow must be 'drop_oldest' or 'raise', received {policy!r}"
            raise ValueError(msg)
        self.max_events = max_events
        self.policy = policy
        self.block_seconds = max(0.0, block_seconds)
        self.items: deque[ev.Event] = deque()
        self.lock = threading.Lock()
        self.space = threading.Condition(self.lock)
        self.done = threading.Condition(self.lock)
        self.counts = _Counts()
        # ``counts.enqueued`` when the latest flush was asked for: until the events enqueued
        # before it have left the buffer, the sender posts without lingering
        self._flush_target = 0
        # (sent, rejected, dropped, failed) when the previous flush returned
        self._flushed = (0, 0, 0, 0)

    def put(self, event: ev.Event, *, may_block: bool) -> int:
        """Append ``event`` (applying the overflow policy); return the buffer's length."""
        # acquire/release, not ``with``: a with statement on a lock costs a helper call
        # three times the lock itself, and every event of a bot comes through here
        lock = self.lock
        lock.acquire()
        try:
            items = self.items
            if len(items) >= self.max_events:
                self._make_room(may_block=may_block)
            items.append(event)
            self.counts.enqueued += 1
            return len(items)
        finally:
            lock.release()

    def _make_room(self, *, may_block: bool) -> None:
        if may_block and self.block_seconds > 0:
            self.space.wait_for(lambda: len(self.items) < self.max_events, self.block_seconds)
            if len(self.items) < self.max_events:
                return
        if self.policy == "raise":
            msg = (
                f"the algowatch client buffer is full ({self.max_events} events waiting); "
                "the service is down or slower than the event rate"
            )
            raise BufferFullError(msg)
        self.items.popleft()
        self.counts.dropped += 1

    def take(self, limit: int) -> list[ev.Event]:
        """Remove and return up to ``limit`` events, oldest first."""
        with self.lock:
            count = min(limit, len(self.items))
            batch = [self.items.popleft() for _ in range(count)]
            if count:
                self.space.notify_all()
            return batch

    def request_flush(self) -> int:
        """Mark every event enqueued so far as due now; return how many were enqueued."""
        with self.lock:
            self._flush_target = self.counts.enqueued
            return self._flush_target

    def urgent(self, batch_size: int) -> bool:
        """Return whether a full batch waits, or an event a flush is waiting for."""
        with self.lock:
            waiting = len(self.items)
            # the events that left the buffer (taken or dropped) are the oldest ones
            return waiting >= batch_size or self.counts.enqueued - waiting < self._flush_target

    def __len__(self) -> int:
        return len(self.items)

    def stats(self) -> ClientStats:
        """Return a consistent copy of the counters."""
        with self.lock:
            c = self.counts
            return ClientStats(
                enqueued=c.enqueued,
                sent=c.sent,
                duplicates=c.duplicates,
                dropped=c.dropped,
                rejected=c.rejected,
                failed=c.failed,
                retries=c.retries,
                buffered=len(self.items),
                refused=c.refused,
                sender_errors=c.sender_errors,
            )

    def flush_result(self, settled: bool) -> FlushResult:
        """Return the outcome of a flush: what was settled since the previous one."""
        with self.lock:
            c = self.counts
            now = (c.sent, c.rejected, c.dropped, c.failed)
            before, self._flushed = self._flushed, now
        sent, rejected, dropped, failed = (a - b for a, b in zip(now, before, strict=True))
        return FlushResult(settled, sent=sent, rejected=rejected, dropped=dropped, failed=failed)
