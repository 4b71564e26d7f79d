"""The audit writer: hash-chained, fsynced, locked, self-recovering (AUDIT.md 5.1-5.7).

The append path, locking and failing closed live here; recovery and tail refresh in
``_recovery``, segment rotation in ``_rotation``, checkpoint writing in ``_checkpoint``
and group commit in ``_group``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from algowatch._ulid import UlidGenerator
from algowatch.audit._checkpoint import (
    Anchor,
    Checkpoint,
    checkpoint_due,
    load_signing_key,
    write_checkpoint,
)
from algowatch.audit._format import (
    APPENDABLE_KINDS,
    Chain,
    check_record,
    encode_line,
    format_ts,
    utc_day,
)
from algowatch.audit._group import GroupCommit, Pending
from algowatch.audit._recovery import recover, refresh
from algowatch.audit._rotation import rotate, rotation_due
from algowatch.audit._scan import list_segments, starts_cleanly
from algowatch.audit._state import StateCapture, StateProvider, clock_sync_state
from algowatch.clock import Clock, SystemClock
from algowatch.errors import AuditError, AuditWriterFailedError
from algowatch.settings import AuditSettings

__all__ = ["APPENDABLE_KINDS", "AuditWriter", "Durability", "list_segments"]

Durability = Literal["sync", "group", "async"]
LockMode = Literal["append", "owner"]
_STATE_KINDS = frozenset({"decision", "override", "kill_switch", "limit_change"})
_LOG = logging.getLogger("algowatch.audit")


class AuditWriter:
    """Append records to a tamper-evident audit trail.

    Each record is one JSON line chained to the previous one by SHA-256 (or
    HMAC-SHA-256 with ``hmac_key``); it is durable when :meth:`append` returns
    in ``sync`` and ``group`` modes. A failed fsync fails the writer closed: it
    enters state ``"failed"``, calls ``kill_switch`` and refuses every later
    append with :class:`~algowatch.errors.AuditWriterFailedError`.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    directory
        The audit directory (created if missing).
    durability
        ``"sync"`` (fsync per record, the default), ``"group"`` (a flusher thread
        writes the records chained by all callers at once and covers them with one
        fsync; each caller waits for it) or ``"async"`` (fsync in the background;
        not for regulated records).
    clock
        Time source for ``ts``, ``mono_ns``, rotation and checkpoints.
    instance_id
        Names the deployment; the genesis hash is derived from it.
    hmac_key
        Optional key for HMAC-SHA-256 chaining (keep it off the writer host).
    signing_key
        Ed25519 key for checkpoints; ``None`` writes unsigned checkpoints.
    anchor
        Called with every checkpoint, to ship it outside the host.
    kill_switch
        Called once, with the error, when the writer fails closed.
    lock_mode
        ``"append"`` takes ``flock`` per append (several writer processes);
        ``"owner"`` holds it for the writer's lifetime and fails fast if another
        process owns it.
    state_providers
        Named callables whose values go into ``system_state`` of decision,
        override, kill-switch and limit-change records, each within
        ``provider_budget_seconds``. ``None`` (the default) captures the clock
        sync state (adjtimex) only; ``{}`` captures nothing.

    Examples
    --------
    >>> import tempfile
    >>> from algowatch.testing import FakeClock
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with AuditWriter(tmp, clock=FakeClock(), state_providers={}) as writer:
    ...         writer.append("decision", decision_type="order_submit", decision="BUY 1 AAPL")
    1
    """

    def __init__(  # noqa: PLR0915 - all of the writer's state is set up in one place
        self,
        directory: str | os.PathLike[str],
        *,
        durability: Durability = "sync",
        clock: Clock | None = None,
        instance_id: str = "default",
        hmac_key: bytes | None = None,
        signing_key: Ed25519PrivateKey | None = None,
        key_name: str = "algowatch-audit",
        anchor: Anchor | None = None,
        kill_switch: Callable[[BaseException], None] | None = None,
        lock_mode: LockMode = "append",
        rotate_bytes: int = 64 * 1024 * 1024,
        checkpoint_every_records: int = 1000,
        checkpoint_every_seconds: float = 60.0,
        retention_days: int = 6 * 366,
        state_providers: Mapping[str, StateProvider] | None = None,
        provider_budget_seconds: float = 0.002,
        host: str | None = None,
        flush_interval_seconds: float = 0.001,
        flush_max_records: int = 100,
    ) -> None:
        if durability not in ("sync", "group", "async"):
            msg = f"durability must be 'sync', 'group' or 'async', received {durability!r}"
            raise ValueError(msg)
        if lock_mode not in ("append", "owner"):
            msg = f"lock_mode must be 'append' or 'owner', received {lock_mode!r}"
            raise ValueError(msg)
        self.directory = Path(directory)
        self.durability: Durability = durability
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.instance_id = instance_id
        self.origin = f"algowatch/audit/{instance_id}/v1"
        self._chain = Chain(hmac_key)
        self._record_ids = UlidGenerator()
        self._signing_key = signing_key
        self._key_name = key_name
        self._anchor = anchor
        self._kill_switch = kill_switch
        self._lock_mode: LockMode = lock_mode
        self.rotate_bytes = rotate_bytes
        self.checkpoint_every_records = checkpoint_every_records
        self.checkpoint_every_seconds = checkpoint_every_seconds
        self.retention_days = retention_days
        providers = (
            dict(state_providers) if state_providers is not None else {"clock": clock_sync_state}
        )
        self._state_capture = (
            StateCapture(providers, budget_seconds=provider_budget_seconds) if providers else None
        )
        start = format_ts(self.clock.time_ns())
        self._writer_json = orjson.dumps(
            {"host": host or socket.gethostname(), "pid": os.getpid(), "start": start}
        )
        self._state = "ok"
        self._failure: BaseException | None = None
        self._mutex = threading.RLock()
        self._fsync_lock = threading.Lock()
        self._commit = GroupCommit()
        self._fail_lock = threading.Lock()
        self._after_step: Callable[[str], None] | None = None  # test seam for crash points
        self._fd = -1
        self._segment = ""
        self._size = 0
        self._head = b""
        self._next_seq = 0
        self._segment_first_seq = 0
        self._checkpointed_seq = 0
        self._sealed_head = b""
        self._last_checkpoint_mono = self.clock.monotonic_ns()
        self.anchor_errors = 0

        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if lock_mode == "owner":
                try:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    msg = (
                        f"audit directory {os.fspath(self.directory)!r} is owned by another writer"
                    )
                    raise AuditError(msg) from None
            with self._flock():
                recover(self)
        except BaseException:
            os.close(self._lock_fd)
            if self._fd >= 0:
                os.close(self._fd)
            raise
        if durability != "sync":
            self._commit.start(
                self._write_staged,
                self._sync_written,
                self._fail,
                interval=flush_interval_seconds,
                max_records=flush_max_records,
                linger=durability == "group",
            )

    @classmethod
    def from_settings(
        cls,
        settings: AuditSettings,
        *,
        data_dir: str | os.PathLike[str] = ".",
        clock: Clock | None = None,
        anchor: Anchor | None = None,
        kill_switch: Callable[[BaseException], None] | None = None,
        state_providers: Mapping[str, StateProvider] | None = None,
    ) -> AuditWriter:
        """Return a writer configured by the ``[audit]`` settings section."""
        directory = Path(settings.directory) if settings.directory else Path(data_dir) / "audit"
        hmac_key = Path(settings.hmac_key_file).read_bytes() if settings.hmac_key_file else None
        signing_key = (
            load_signing_key(settings.signing_key_file) if settings.signing_key_file else None
        )
        return cls(
            directory,
            durability=settings.durability,
            clock=clock,
            instance_id=settings.instance_id,
            hmac_key=hmac_key,
            signing_key=signing_key,
            key_name=settings.key_name,
            anchor=anchor,
            kill_switch=kill_switch,
            lock_mode=settings.lock_mode,
            rotate_bytes=settings.rotate_bytes,
            checkpoint_every_records=settings.checkpoint_every_records,
            checkpoint_every_seconds=settings.checkpoint_every_seconds,
            retention_days=settings.retention_days,
            state_providers=state_providers,
            provider_budget_seconds=settings.provider_budget_seconds,
        )

    # -- public API ---------------------------------------------------------------------

    @property
    def state(self) -> str:
        """Return ``"ok"``, ``"failed"`` (failed closed) or ``"closed"``."""
        return self._state

    @property
    def failure(self) -> BaseException | None:
        """Return the error that failed the writer, if any."""
        return self._failure

    @property
    def next_seq(self) -> int:
        """Return the seq the next record written by this process would get (cached)."""
        return self._next_seq

    @property
    def segment(self) -> str:
        """Return the file name of the active segment."""
        return self._segment

    def append(self, kind: str, /, **fields: Any) -> int:
        """Append one record and return its seq once it is durable (per the mode).

        Raises
        ------
        AuditWriterFailedError
            The writer has failed closed (now or earlier).
        ValueError
            ``kind`` is not appendable or a field name is reserved.
        """
        return self._append_records([self._checked(kind, fields)])[0]

    def append_many(self, records: Iterable[tuple[str, Mapping[str, Any]]]) -> list[int]:
        """Append ``(kind, fields)`` records in order; return their seqs once all are durable.

        The records are chained one after the other and made durable together: one fsync
        in ``sync`` mode, one group commit in ``group`` mode. Every record is checked
        before any is written. A ``correction`` needs ``supersedes``, ``reason`` and ``by``
        in its fields.

        Raises
        ------
        AuditWriterFailedError
            The writer has failed closed (now or earlier).
        ValueError
            A kind is not appendable or a field is reserved or missing, naming the record.
        """
        checked = []
        for index, (kind, fields) in enumerate(records):
            try:
                checked.append(self._checked(kind, dict(fields), corrections=True))
            except ValueError as exc:
                msg = f"record {index}: {exc}"
                raise ValueError(msg) from None
        return self._append_records(checked) if checked else []

    def correct(self, supersedes: int, *, reason: str, by: str, **fields: Any) -> int:
        """Append a ``correction`` that supersedes record ``supersedes``; return its seq."""
        fields = {"supersedes": supersedes, "reason": reason, "by": by, **fields}
        return self._append_records([self._checked("correction", fields, corrections=True)])[0]

    def apply_retention(self) -> list[str]:
        """Delete sealed segments older than ``retention_days``; return their names.

        A ``retention_delete`` record naming them is made durable first.
        """
        cutoff = utc_day(self.clock.time_ns() - self.retention_days * 86_400 * 1_000_000_000)
        with self._mutex, self._flock():
            self._check_ok()
            refresh(self)
            segments = list_segments(self.directory)
            old = [n for n in segments if n != self._segment and n[6:14] < cutoff]
            # verify starts at the oldest retained segment_start: keep segments until one has it
            while old and not starts_cleanly(self.directory / segments[len(old)]):
                old.pop()
            if not old:
                return []
            self._write_record(
                "retention_delete",
                {"segments": old, "retention_days": self.retention_days, "before": cutoff},
                self.clock.time_ns(),
            )
            self._sync_now()
            for name in old:
                (self.directory / name).unlink()
            self._fsync_dir()
            return old

    def checkpoint(self) -> Checkpoint:
        """Make every record durable, then write, sign and anchor a checkpoint."""
        with self._mutex, self._flock():
            self._check_ok()
            refresh(self)
            self._sync_now()
            return write_checkpoint(self)

    def status(self) -> dict[str, Any]:
        """Return a JSON-ready summary for health checks."""
        return {
            "state": self._state,
            "durability": self.durability,
            "segment": self._segment,
            "next_seq": self._next_seq,
            "error": None if self._failure is None else str(self._failure),
        }

    def close(self) -> None:
        """Flush, write a final checkpoint and release the files (idempotent)."""
        # outside the mutex: the flusher takes it to write what is staged
        self._commit.stop()
        with self._mutex:
            if self._state == "closed":
                return
            if self._state == "ok":
                try:
                    with self._flock():
                        refresh(self)
                        self._sync_now()
                        if self._next_seq > self._checkpointed_seq:
                            write_checkpoint(self)
                except AuditError:
                    _LOG.exception("audit writer could not close cleanly")
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            os.close(self._lock_fd)
            if self._state_capture is not None:
                self._state_capture.close()
            if self._state == "ok":
                self._state = "closed"

    def __enter__(self) -> AuditWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- append path --------------------------------------------------------------------

    def _checked(
        self, kind: str, fields: dict[str, Any], *, corrections: bool = False
    ) -> tuple[str, dict[str, Any]]:
        check_record(kind, fields, next_seq=self._next_seq, corrections=corrections)
        return kind, fields

    def _append_records(self, records: list[tuple[str, dict[str, Any]]]) -> list[int]:
        # records are checked; chain them in order and return once durable per the mode
        self._check_ok()
        if self._state_capture is not None:
            records = [
                (kind, {**fields, "system_state": self._state_capture.capture()})
                if kind in _STATE_KINDS and "system_state" not in fields
                else (kind, fields)
                for kind, fields in records
            ]
        group = self.durability == "group"
        self._record_ids.refill()
        pending: list[Pending] = []
        seqs: list[int] = []
        with self._mutex:
            self._check_ok()
            for index, (kind, fields) in enumerate(records):
                now = self.clock.time_ns()
                if group and not rotation_due(self, now):
                    staged = self._stage(kind, fields, now)
                else:
                    fsync = self.durability == "sync" and index == len(records) - 1
                    seq, staged = self._write_now(kind, fields, fsync=fsync)
                    seqs.append(seq)
                if group:
                    if staged is None:
                        break
                    pending.append(staged)
            if not group:
                return seqs
        if len(pending) == len(records):
            self._commit.wait(pending[-1])  # tickets are in order: the last one covers all
            if self._commit.durable >= pending[-1].ticket:
                return [record.seq for record in pending]
        msg = f"audit fsync failed ({self._failure}); the record is not durable"
        raise AuditWriterFailedError(msg) from self._failure

    def _stage(self, kind: str, fields: dict[str, Any], now: int) -> Pending | None:
        # group mode: the flusher writes and fsyncs it; a record chained on a stale tail
        # (another process appended meanwhile) is chained again there, under the lock
        base = (self._head, self._next_seq)
        seq, line = self._encode(kind, fields, now)
        staged = self._commit.stage(line, (seq, kind, fields), base)
        if staged is not None and checkpoint_due(self):
            with self._flock():
                self._sync_now()
                write_checkpoint(self)
        return staged

    def _write_now(
        self, kind: str, fields: dict[str, Any], *, fsync: bool
    ) -> tuple[int, Pending | None]:
        # under the mutex: write the record itself (sync, async, or group at a rotation)
        with self._flock():
            refresh(self)
            now = self.clock.time_ns()  # read under the lock: ts rises with seq
            if rotation_due(self, now):
                rotate(self, now)
            seq = self._write_record(kind, fields, now)
            if fsync:
                self._fsync(self._fd)  # the last record of a call: one fsync covers them all
            wrote = self._commit.wrote((seq, kind, fields) if self.durability == "group" else None)
            if checkpoint_due(self):
                self._sync_now()
                write_checkpoint(self)
        return seq, wrote

    def _write_record(self, kind: str, fields: dict[str, Any], now: int) -> int:
        seq, line = self._encode(kind, fields, now)
        self._write_bytes(line)
        return seq

    def _encode(self, kind: str, fields: dict[str, Any], now: int) -> tuple[int, bytes]:
        seq = self._next_seq
        line, h = encode_line(
            self._chain,
            self._head,
            seq=seq,
            ts=format_ts(now),
            mono_ns=self.clock.monotonic_ns(),
            kind=kind,
            record_id=self._record_ids(now),
            writer=self._writer_json,
            fields=fields,
        )
        self._head = h
        self._next_seq = seq + 1
        return seq, line

    def _drain(self) -> None:
        # under the mutex and the flock: write the staged records in one go, in ticket order
        batch = self._commit.take()
        if batch is None:
            return
        if self._lock_mode == "append" and os.fstat(self._fd).st_size != self._size:
            # another process appended since the batch was chained: chain it after those
            self._head, self._next_seq = batch.head, batch.seq
            refresh(self)
            for record in batch.records:
                now = self.clock.time_ns()  # as in the slow path: not older than its records
                if rotation_due(self, now):
                    rotate(self, now)
                record.seq = self._write_record(record.kind, record.fields, now)
                self._commit.mark_written(record.ticket)
            return
        self._write_bytes(batch.data)
        self._commit.mark_written(batch.last_ticket)

    def _write_bytes(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
                self._size += written
        except OSError as exc:
            self._fail(exc)
            msg = f"audit write to {self._segment!r} failed: {exc}; the writer failed closed"
            raise AuditWriterFailedError(msg) from exc

    def _fsync(self, fd: int) -> None:
        try:
            os.fsync(fd)
        except OSError as exc:
            self._fail(exc)
            msg = f"audit fsync of {self._segment!r} failed: {exc}; the writer failed closed"
            raise AuditWriterFailedError(msg) from exc

    def _sync_now(self) -> None:
        self._drain()
        target = self._commit.written
        with self._fsync_lock:
            self._fsync(self._fd)
        self._commit.mark_durable(target)

    def _fsync_dir(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            self._fsync(fd)
        finally:
            os.close(fd)

    def _check_ok(self) -> None:
        if self._state == "failed":
            msg = f"audit writer failed closed earlier ({self._failure}); appends are refused"
            raise AuditWriterFailedError(msg)
        if self._state == "closed":
            msg = "audit writer is closed"
            raise AuditError(msg)

    def _fail(self, exc: BaseException) -> None:
        with self._fail_lock:
            if self._state == "failed":
                return
            self._state = "failed"
            self._failure = exc
        _LOG.critical("audit writer failed closed: %s", exc)
        # the kill switch runs before any waiting caller is told, so trading stops first
        if self._kill_switch is not None:
            try:
                self._kill_switch(exc)
            except Exception:
                _LOG.exception("audit kill-switch callback raised")
        self._commit.fail()

    @contextmanager
    def _flock(self) -> Iterator[None]:
        if self._lock_mode == "owner":
            yield
            return
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    # -- group and async ----------------------------------------------------------------

    def _write_staged(self) -> None:
        # the flusher writes what is staged, then fsyncs (_sync_written) without the mutex
        self._check_ok()
        if self._commit.staged_bytes:
            with self._mutex:
                self._check_ok()
                with self._flock():
                    self._drain()

    def _sync_written(self) -> int:
        target = self._commit.written
        with self._fsync_lock:
            self._fsync(self._fd)
        return target

    def _step(self, name: str) -> None:
        # rotation and recovery mark each step here; tests crash the writer at one
        if self._after_step is not None:
            self._after_step(name)
