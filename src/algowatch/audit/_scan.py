"""Scan a segment: verify its chain, accept fences, classify a bad tail.

Shared by the writer (recovery at start and under the lock) and by ``verify``,
so both apply the same rules (AUDIT.md 5.5):

* a bad line immediately followed by a ``recovery`` record whose ``torn``
  offset, length and SHA-256 match its bytes is a *fence* and is accepted;
* a bad region that could only come from an interrupted write is a *torn tail*:
  its first line is unterminated or holds NUL bytes (unwritten pages), or it
  does not parse and no complete JSON line follows it;
* anything else is *corruption*: a tear never yields a complete JSON line with a
  wrong hash, and never leaves valid records after it.

It also names and lists segments, finds the chain state a segment continues from
and checks the checkpoint watermark of the writer's recovery.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from algowatch.audit._format import SEGMENT_RE, Chain, check_line, genesis_head, parse_line
from algowatch.errors import AuditCorruptionError

if TYPE_CHECKING:
    from algowatch.audit._checkpoint import Checkpoint


@dataclass(frozen=True, slots=True)
class Fence:
    """One accepted fence: the torn bytes and the recovery record after them."""

    offset: int
    length: int
    recovery_seq: int


@dataclass(frozen=True, slots=True)
class Problem:
    """Corruption found by a scan."""

    offset: int
    seq: int
    reason: str


@dataclass(slots=True)
class SegmentScan:
    """What a scan found in one segment (offsets are absolute in the file)."""

    first_seq: int | None = None
    last_seq: int | None = None
    records: int = 0
    head: bytes = b""
    next_seq: int = 0
    end_offset: int = 0
    sealed: bool = False
    tail: str = "clean"  # clean | torn | corrupt
    problem: Problem | None = None
    fences: list[Fence] = field(default_factory=list)
    # (seq, end offset, raw head) for every valid record
    heads: list[tuple[int, int, bytes]] = field(default_factory=list)
    first_kind: str | None = None


def _parses(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def _fenceable(data: bytes, pos: int) -> bool:
    nl = data.find(b"\n", pos)
    if nl == -1:
        return True
    line = data[pos : nl + 1]
    if b"\0" in line:
        return True
    if _parses(line):
        return False
    start = nl + 1
    while start < len(data):
        nl = data.find(b"\n", start)
        if nl == -1:
            return True
        if _parses(data[start : nl + 1]):
            return False
        start = nl + 1
    return True


def _find_fence(
    chain: Chain, data: bytes, pos: int, *, base: int, prev_h: bytes, expect_seq: int
) -> tuple[int, bytes, int] | None:
    needle = b'\n{"seq":%d,' % expect_seq
    search = pos
    while True:
        idx = data.find(needle, search)
        if idx == -1:
            return None
        start = idx + 1
        nl = data.find(b"\n", start)
        end = len(data) if nl == -1 else nl + 1
        line = data[start:end]
        check = check_line(chain, line, prev_h, expect_seq)
        if check.ok and check.kind == "recovery":
            torn: Any = parse_line(line).get("torn")
            if (
                isinstance(torn, dict)
                and torn.get("offset") == base + pos
                and torn.get("length") == start - pos
                and torn.get("sha256") == hashlib.sha256(data[pos:start]).hexdigest()
            ):
                return end, check.h, start - pos
        search = start


def scan(
    chain: Chain,
    data: bytes,
    prev_h: bytes,
    expect_seq: int,
    *,
    base: int = 0,
    scan_result: SegmentScan | None = None,
) -> SegmentScan:
    """Scan ``data`` (the file's bytes from offset ``base``) continuing a chain."""
    out = scan_result if scan_result is not None else SegmentScan()
    out.head, out.next_seq = prev_h, expect_seq
    out.end_offset = base
    pos, size = 0, len(data)
    while pos < size:
        nl = data.find(b"\n", pos)
        end = size if nl == -1 else nl + 1
        check = check_line(chain, data[pos:end], out.head, out.next_seq)
        if check.ok:
            assert check.seq is not None
            if out.first_seq is None:
                out.first_seq = check.seq
                out.first_kind = check.kind
            out.last_seq, out.head, out.next_seq = check.seq, check.h, check.seq + 1
            out.records += 1
            out.sealed = check.kind == "segment_end"
            out.heads.append((check.seq, base + end, check.h))
            out.end_offset = base + end
            pos = end
            continue
        fence = _find_fence(chain, data, pos, base=base, prev_h=out.head, expect_seq=out.next_seq)
        if fence is not None:
            fence_end, h, torn_length = fence
            out.fences.append(Fence(base + pos, torn_length, out.next_seq))
            if out.first_seq is None:
                out.first_seq = out.next_seq
                out.first_kind = "recovery"
            out.last_seq, out.head = out.next_seq, h
            out.next_seq += 1
            out.records += 1
            out.sealed = False
            out.heads.append((out.last_seq, base + fence_end, h))
            out.end_offset = base + fence_end
            pos = fence_end
            continue
        if _fenceable(data, pos):
            out.tail = "torn"
        else:
            out.tail = "corrupt"
            seq = check.seq if check.seq is not None else out.next_seq
            out.problem = Problem(base + pos, seq, check.reason)
        break
    return out


def segment_name(day: str, number: int) -> str:
    """Return the file name of segment ``number`` opened on UTC ``day`` (``YYYYMMDD``)."""
    return f"audit-{day}-{number:06d}.jsonl"


def list_segments(directory: Path) -> list[str]:
    """Return the segment file names of ``directory`` in chain order."""
    names = [n for n in os.listdir(directory) if SEGMENT_RE.match(n)]
    return sorted(names, key=lambda n: int(n[15:21]))


def starts_cleanly(path: Path) -> bool:
    """Return whether the segment at ``path`` opens with a ``segment_start`` record."""
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        return bool(parse_line(first).get("kind") == "segment_start")
    except orjson.JSONDecodeError:
        return False


def chain_start(
    directory: Path, chain: Chain, instance_id: str, segments: list[str], index: int
) -> tuple[bytes, int]:
    """Return ``(prev_h, seq)`` the segment at ``index`` (negative: from the end) continues."""
    index = range(len(segments))[index]
    with (directory / segments[index]).open("rb") as fh:
        first = fh.readline()
    try:
        obj = parse_line(first)
        if obj.get("kind") == "segment_start":
            return bytes.fromhex(str(obj["prev_head"])), int(obj["seq"])
    except (orjson.JSONDecodeError, KeyError, ValueError, TypeError):
        pass  # torn or absent segment_start: continue from the previous segment
    if index == 0:
        return genesis_head(instance_id), 0
    prev = scan_segment(directory, chain, instance_id, segments, index - 1)
    return prev.head, prev.next_seq


def scan_segment(
    directory: Path, chain: Chain, instance_id: str, segments: list[str], index: int
) -> SegmentScan:
    """Scan the segment at ``index`` (negative: from the end) from the chain it continues."""
    index = range(len(segments))[index]
    prev_h, seq = chain_start(directory, chain, instance_id, segments, index)
    return scan(chain, (directory / segments[index]).read_bytes(), prev_h, seq)


def check_watermark(name: str, result: SegmentScan, checkpoints: list[Checkpoint]) -> None:
    """Raise unless the latest checkpoint of segment ``name`` lies on its verified chain.

    Raises
    ------
    AuditCorruptionError
        Damage before the watermark: the writer must refuse to start (AUDIT.md 5.5).
    """
    marks = [c for c in checkpoints if c.segment == name]
    if not marks:
        return
    mark = marks[-1]
    covered = any(end == mark.offset and h == mark.head for _seq, end, h in result.heads)
    if not covered:
        where = result.problem.offset if result.problem else result.end_offset
        msg = (
            f"CORRUPTION {name} @{where}: damage before the checkpoint watermark "
            f"(offset {mark.offset}, size {mark.size}); refusing to start, nothing was changed"
        )
        raise AuditCorruptionError(msg)
