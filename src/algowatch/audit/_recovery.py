"""Recovery of the audit writer: open the trail, fence a torn tail, follow other writers.

At start the writer continues the last segment: it checks the chain and the checkpoint
watermark, refuses corruption, fences a torn tail with a ``recovery`` record and finishes a
rotation a crash interrupted. Under the lock (``lock_mode="append"``) it catches up with the
records other processes appended, following their rotations (AUDIT.md 5.3, 5.5).
"""

from __future__ import annotations

import hashlib
import logging
import os
from typing import TYPE_CHECKING

from algowatch.audit._checkpoint import load_checkpoints
from algowatch.audit._format import check_line, genesis_head, utc_day
from algowatch.audit._rotation import (
    create_segment,
    ensure_sealed_checkpoint,
    open_next,
    write_segment_start,
)
from algowatch.audit._scan import chain_start, check_watermark, list_segments, scan, segment_name
from algowatch.errors import AuditCorruptionError

if TYPE_CHECKING:
    from algowatch.audit.writer import AuditWriter

_LOG = logging.getLogger("algowatch.audit")


def recover(writer: AuditWriter) -> None:
    """Open the trail: create it, or continue its last segment after a crash."""
    segments = list_segments(writer.directory)
    if not segments:
        create_segment(
            writer,
            segment_name(utc_day(writer.clock.time_ns()), 1),
            prev_segment=None,
            prev_head=genesis_head(writer.instance_id),
            seq=0,
        )
        return
    name = segments[-1]
    path = writer.directory / name
    prev_h, seq = chain_start(writer.directory, writer._chain, writer.instance_id, segments, -1)
    data = path.read_bytes()
    result = scan(writer._chain, data, prev_h, seq)
    checkpoints = load_checkpoints(writer.directory / "checkpoints.jsonl")
    check_watermark(name, result, checkpoints)
    if result.tail == "corrupt":
        assert result.problem is not None
        msg = (
            f"CORRUPTION {name} @{result.problem.offset} seq {result.problem.seq}: "
            f"{result.problem.reason}; refusing to start"
        )
        raise AuditCorruptionError(msg)
    writer._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    writer._segment, writer._size = name, len(data)
    writer._head, writer._next_seq = result.head, result.next_seq
    writer._segment_first_seq = result.first_seq if result.first_seq is not None else seq
    writer._checkpointed_seq = max((c.size for c in checkpoints), default=0)
    if not data:
        write_segment_start(writer, prev_segment=segments[-2] if len(segments) > 1 else None)
    elif result.tail == "torn":
        fence(writer, result.end_offset, data[result.end_offset :])
    if result.sealed:
        open_next(writer, result, segments)
    elif len(segments) > 1:
        ensure_sealed_checkpoint(writer, segments, checkpoints)
    # whatever a crash left in the page cache is made durable, entries and names alike
    writer._sync_now()
    writer._fsync_dir()


def fence(writer: AuditWriter, offset: int, region: bytes) -> None:
    """Fence the torn bytes ``region`` at ``offset`` with a ``recovery`` record."""
    if b"\n" not in region:
        # a record complete but for its newline is the writer's own bytes: finish it
        check = check_line(writer._chain, region + b"\n", writer._head, writer._next_seq)
        if check.ok:
            writer._write_bytes(b"\n")
            writer._fsync(writer._fd)
            writer._head, writer._next_seq = check.h, writer._next_seq + 1
            return
    torn = region if region.endswith(b"\n") else region + b"\n"
    if torn is not region:
        writer._write_bytes(b"\n")
    fields = {
        "torn": {
            "offset": offset,
            "length": len(torn),
            "sha256": hashlib.sha256(torn).hexdigest(),
        }
    }
    writer._write_record("recovery", fields, writer.clock.time_ns())
    writer._fsync(writer._fd)
    _LOG.warning(
        "audit: fenced a torn tail of %d bytes at %s @%d", len(torn), writer._segment, offset
    )


def refresh(writer: AuditWriter) -> None:
    """Write what is staged, then catch up with records other processes appended to the segment."""
    writer._drain()
    if writer._lock_mode == "owner":
        return
    size = os.fstat(writer._fd).st_size
    if size == writer._size:
        return
    with (writer.directory / writer._segment).open("rb") as fh:
        fh.seek(writer._size)
        data = fh.read(size - writer._size)
    result = scan(writer._chain, data, writer._head, writer._next_seq, base=writer._size)
    if result.tail == "corrupt":
        assert result.problem is not None
        exc = AuditCorruptionError(
            f"CORRUPTION {writer._segment} @{result.problem.offset} seq {result.problem.seq}: "
            f"{result.problem.reason}"
        )
        writer._fail(exc)
        raise exc
    start = writer._size
    writer._size = start + len(data)
    writer._head, writer._next_seq = result.head, result.next_seq
    if result.tail == "torn":
        fence(writer, result.end_offset, data[result.end_offset - start :])
    if result.sealed:
        follow_rotation(writer)


def follow_rotation(writer: AuditWriter) -> None:
    """Move to the segment that another process opened after sealing the active one."""
    segments = list_segments(writer.directory)
    later = segments[segments.index(writer._segment) + 1 :]
    if not later:
        return
    with writer._fsync_lock:
        os.close(writer._fd)
        writer._segment, writer._size = later[0], 0
        writer._fd = os.open(writer.directory / later[0], os.O_WRONLY | os.O_APPEND)
    writer._segment_first_seq = writer._next_seq
    refresh(writer)
    if writer._size == 0:
        write_segment_start(writer, prev_segment=segments[segments.index(later[0]) - 1])
