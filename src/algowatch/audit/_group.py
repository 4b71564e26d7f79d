"""Group commit of the audit writer: staged records, tickets and the flusher thread.

In ``group`` mode a caller chains its record under the writer's mutex and stages
the bytes here; the flusher thread writes every staged record with one
``os.write`` and covers them with one fsync, then wakes exactly the callers whose
records that fsync covered. Producers never wait for an fsync in flight before
they can chain the next record, so each fsync covers what arrived meanwhile.

Tickets number the records in the order their bytes reach the file (staged or
written directly); ``written`` and ``durable`` are ticket counts.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["Batch", "GroupCommit", "Pending"]


class Pending:
    """One record handed to the group commit; its caller waits on it."""

    __slots__ = ("fields", "kind", "seq", "ticket", "wake")

    def __init__(self, ticket: int, seq: int, kind: str, fields: dict[str, Any]) -> None:
        self.ticket = ticket
        self.seq = seq
        self.kind = kind
        self.fields = fields
        # held until the covering fsync (or the failure) releases it: one waiter, one wake-up
        self.wake = threading.Lock()
        self.wake.acquire()


class Batch:
    """Staged records taken for writing: their bytes and the chain state they follow."""

    __slots__ = ("data", "head", "last_ticket", "records", "seq")

    def __init__(self, data: bytes, records: list[Pending], head: bytes, seq: int) -> None:
        self.data = data
        self.records = records
        self.head = head
        self.seq = seq
        self.last_ticket = records[-1].ticket


class GroupCommit:
    """Stage records, count tickets and wake callers once their records are durable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._lines: list[bytes] = []
        self._staged: list[Pending] = []
        self._base = (b"", 0)
        self._waiting: deque[Pending] = deque()
        self.staged_bytes = 0
        self.issued = 0
        self.written = 0
        self.durable = 0
        self.failed = False
        self._woken = 1  # callers the last fsync woke: as many are expected back
        self._want = sys.maxsize  # pending records that wake the waiting flusher
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._flusher: tuple[Callable[[], None], Callable[[], int], Callable[[BaseException], None]]
        self._pacing: tuple[float, int, bool] = (0.0, 1, False)

    # -- producers (under the writer's mutex) ---------------------------------------------

    def stage(
        self, line: bytes, record: tuple[int, str, dict[str, Any]], base: tuple[bytes, int]
    ) -> Pending | None:
        """Stage ``line`` for the flusher; return ``None`` if the writer has failed.

        ``record`` is ``(seq, kind, fields)`` and ``base`` the chain state
        ``(head, seq)`` before ``line``, needed to chain the records again.
        """
        with self._lock:
            if self.failed:
                return None
            self.issued += 1
            pending = Pending(self.issued, *record)
            if not self._staged:
                self._base = base
            if self.issued - self.durable >= self._want:
                self._work.notify()
            self._lines.append(line)
            self._staged.append(pending)
            self._waiting.append(pending)
            self.staged_bytes += len(line)
            return pending

    def wrote(self, record: tuple[int, str, dict[str, Any]] | None = None) -> Pending | None:
        """Count a record written directly; with ``record``, return a :class:`Pending` for it."""
        with self._lock:
            self.issued += 1
            self.written = self.issued
            if self.issued - self.durable >= self._want:
                self._work.notify()
            if record is None or self.failed:
                return None
            pending = Pending(self.issued, *record)
            self._waiting.append(pending)
            return pending

    def take(self) -> Batch | None:
        """Return the staged records (to be written now, in order) and unstage them."""
        with self._lock:
            if not self._staged:
                return None
            batch = Batch(b"".join(self._lines), self._staged, *self._base)
            self._lines, self._staged, self.staged_bytes = [], [], 0
            return batch

    def mark_written(self, ticket: int) -> None:
        """Record that every ticket up to ``ticket`` is in the file."""
        with self._lock:
            self.written = max(self.written, ticket)

    # -- durability ---------------------------------------------------------------------

    def mark_durable(self, ticket: int) -> None:
        """Record that an fsync covered every ticket up to ``ticket``; wake their callers."""
        with self._lock:
            self.durable = max(self.durable, ticket)
            self._wake()

    def _wake(self) -> None:
        # under the lock: release the callers of every durable ticket
        waiting = self._waiting
        woken = 0
        while waiting and waiting[0].ticket <= self.durable:
            waiting.popleft().wake.release()
            woken += 1
        if woken:
            self._woken = woken

    def fail(self) -> None:
        """Refuse further staging and wake every waiting caller (their records are not durable)."""
        with self._lock:
            self.failed = True
            self._lines, self._staged, self.staged_bytes = [], [], 0
            while self._waiting:
                self._waiting.popleft().wake.release()
            self._work.notify_all()

    @staticmethod
    def wait(pending: Pending) -> None:
        """Block until ``pending`` is durable or the writer has failed."""
        pending.wake.acquire()

    # -- flusher ------------------------------------------------------------------------

    def start(
        self,
        write: Callable[[], None],
        sync: Callable[[], int],
        fail: Callable[[BaseException], None],
        *,
        interval: float,
        max_records: int,
        linger: bool,
    ) -> None:
        """Start the flusher thread: it writes what is staged and fsyncs, over and over.

        ``write`` writes the staged records; ``sync`` fsyncs and returns the
        ticket it covered. Records gather for up to ``interval`` seconds or
        ``max_records`` records. With ``linger`` (group mode) the flusher waits
        only while fewer records are pending than the callers its last fsync woke:
        they are expected back, and one fsync for all of them beats one for the
        first few. ``write`` or ``sync`` raising stops it, after calling ``fail``
        with the error (the writer fails closed and tells every waiting caller).
        """
        self._flusher = (write, sync, fail)
        self._pacing = (interval, max_records, linger)
        thread = threading.Thread(target=self._run, name="audit-flusher")
        thread.daemon = True
        self._thread = thread
        thread.start()

    def stop(self) -> None:
        """Let the flusher make the records it knows of durable, then join it."""
        with self._lock:
            self._stopping = True
            self._work.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        write, sync, fail = self._flusher
        while True:
            with self._lock:
                go = self._gather(*self._pacing)
                last = self._stopping  # whatever arrives after stop() is left to the closer
            if not go:
                return
            try:
                write()
                with self._lock:
                    # the callers of the last fsync run once this batch is written: the
                    # write does not wait for the GIL behind all of them
                    self._wake()
                covered = sync()
            except BaseException as exc:
                fail(exc)  # has failed closed already, unless the error is unexpected
                return
            with self._lock:
                self.durable = max(self.durable, covered)
                if last:
                    self._wake()
                    return

    def _gather(self, interval: float, max_records: int, linger: bool) -> bool:
        # under the lock: wait until a batch is due; False when the flusher should stop
        want = min(self._woken, max_records) if linger else max_records
        if self.issued - self.durable >= want and not self.failed:
            return True  # enough for the next batch: write it before waking anybody
        self._wake()
        self._want = 1
        while not self._stopping and not self.failed and self.issued == self.durable:
            self._work.wait()
        if self.failed or self.issued == self.durable:
            return False
        self._want = min(self._woken, max_records) if linger else max_records
        deadline = time.monotonic() + interval
        while not self._stopping and not self.failed:
            remaining = deadline - time.monotonic()
            if self.issued - self.durable >= self._want or remaining <= 0:
                break
            self._work.wait(remaining)
        self._want = sys.maxsize  # producers only notify a waiting flusher
        return True
