"""Rotation of the audit writer: seal a segment, open the next, checkpoint the sealed one.

A segment ends with a ``segment_end`` record at a new UTC day or past ``rotate_bytes``; the
next one opens with a ``segment_start`` naming it and the chain head it continues from, and a
checkpoint commits to the sealed segment's bytes (AUDIT.md 5.7). ``writer._step`` marks each
step for the crash tests.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

from algowatch.audit._checkpoint import Checkpoint, write_checkpoint
from algowatch.audit._format import utc_day
from algowatch.audit._scan import SegmentScan, scan_segment, segment_name

if TYPE_CHECKING:
    from algowatch.audit.writer import AuditWriter


def rotation_due(writer: AuditWriter, now: int) -> bool:
    """Return whether a record written at ``now`` must go to a new segment (new UTC day or size)."""
    size = writer._size + writer._commit.staged_bytes
    return utc_day(now) != writer._segment[6:14] or size >= writer.rotate_bytes


def rotate(writer: AuditWriter, now: int) -> None:
    """Seal the active segment, open the next one and checkpoint the sealed one."""
    sealed, sealed_size = writer._segment, 0
    first = writer._segment_first_seq
    writer._write_record(
        "segment_end",
        {"records": writer._next_seq + 1 - first, "first_seq": first, "last_seq": writer._next_seq},
        now,
    )
    writer._sync_now()
    sealed_size = writer._size
    writer._step("segment_end")
    number = int(sealed[15:21]) + 1
    create_segment(
        writer,
        segment_name(utc_day(now), number),
        prev_segment=sealed,
        prev_head=writer._head,
        seq=writer._next_seq,
    )
    seal_checkpoint(writer, sealed, sealed_size, writer._segment_first_seq, writer._sealed_head)


def open_next(writer: AuditWriter, sealed_scan: SegmentScan, segments: list[str]) -> None:
    """Open the segment after the sealed one found at recovery; checkpoint the sealed one."""
    sealed = segments[-1]
    number = int(sealed[15:21]) + 1
    create_segment(
        writer,
        segment_name(utc_day(writer.clock.time_ns()), number),
        prev_segment=sealed,
        prev_head=sealed_scan.head,
        seq=sealed_scan.next_seq,
    )
    seal_checkpoint(writer, sealed, sealed_scan.end_offset, sealed_scan.next_seq, sealed_scan.head)


def seal_checkpoint(
    writer: AuditWriter, sealed: str, sealed_size: int, size: int, head: bytes
) -> None:
    """Write the checkpoint that commits to the sealed segment's bytes (``segment_sha256``)."""
    data = (writer.directory / sealed).read_bytes()[:sealed_size]
    write_checkpoint(
        writer,
        segment=sealed,
        size=size,
        head=head,
        offset=sealed_size,
        segment_sha256=hashlib.sha256(data).hexdigest(),
    )
    writer._step("checkpoint")


def ensure_sealed_checkpoint(
    writer: AuditWriter, segments: list[str], checkpoints: list[Checkpoint]
) -> None:
    """Write the sealed segment's checkpoint if a crash after rotation left it unwritten."""
    sealed = segments[-2]
    if any(c.segment == sealed and c.segment_sha256 for c in checkpoints):
        return
    result = scan_segment(writer.directory, writer._chain, writer.instance_id, segments, -2)
    if result.sealed:
        seal_checkpoint(writer, sealed, result.end_offset, result.next_seq, result.head)


def create_segment(
    writer: AuditWriter, name: str, *, prev_segment: str | None, prev_head: bytes, seq: int
) -> None:
    """Create segment ``name``, make it the active one and write its ``segment_start``."""
    path = writer.directory / name
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o644)
    writer._sealed_head = prev_head
    with writer._fsync_lock:
        if writer._fd >= 0:
            os.close(writer._fd)
        writer._fd, writer._segment, writer._size = fd, name, 0
    writer._head, writer._next_seq = prev_head, seq
    writer._step("segment_created")
    write_segment_start(writer, prev_segment=prev_segment)


def write_segment_start(writer: AuditWriter, *, prev_segment: str | None) -> None:
    """Write the active segment's ``segment_start`` record and make it and its name durable."""
    writer._segment_first_seq = writer._next_seq
    writer._write_record(
        "segment_start",
        {
            "segment": writer._segment,
            "prev_segment": prev_segment,
            "prev_head": writer._head.hex(),
            "instance": writer.instance_id,
            "mac": "hmac-sha256" if writer._chain.keyed else "sha256",
        },
        writer.clock.time_ns(),
    )
    writer._step("segment_start")
    writer._sync_now()
    writer._fsync_dir()
    writer._step("fsynced")
