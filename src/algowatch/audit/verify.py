"""Verify and export an audit directory without taking its lock (AUDIT.md 5.8)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from algowatch.audit._checkpoint import Checkpoint, load_checkpoints
from algowatch.audit._format import Chain, genesis_head, parse_line
from algowatch.audit._scan import scan
from algowatch.audit.writer import list_segments
from algowatch.clock import Clock, SystemClock
from algowatch.errors import AuditError

__all__ = [
    "EXIT_ALTERED",
    "EXIT_BAD_CHECKPOINT",
    "EXIT_CORRUPTION",
    "EXIT_OK",
    "EXIT_TORN_TAIL",
    "EXIT_USAGE",
    "SegmentReport",
    "VerifyReport",
    "export_json",
    "export_text",
    "read_records",
    "verify",
]

EXIT_OK = 0
EXIT_CORRUPTION = 1
EXIT_ALTERED = 2
EXIT_TORN_TAIL = 3
EXIT_BAD_CHECKPOINT = 4
EXIT_USAGE = 64
# when several problems are found, the exit code is the first of this order
_PRIORITY = (EXIT_USAGE, EXIT_CORRUPTION, EXIT_ALTERED, EXIT_BAD_CHECKPOINT, EXIT_TORN_TAIL)
_RESULT = {
    EXIT_OK: "OK",
    EXIT_CORRUPTION: "CORRUPTION",
    EXIT_ALTERED: "ALTERED",
    EXIT_TORN_TAIL: "TORN TAIL",
    EXIT_BAD_CHECKPOINT: "BAD CHECKPOINT",
    EXIT_USAGE: "ERROR",
}


def _short(hex_digest: str) -> str:
    return f"{hex_digest[:4]}\u2026{hex_digest[-2:]}"


@dataclass(slots=True)
class SegmentReport:
    """What ``verify`` found in one segment."""

    name: str
    first_seq: int | None
    last_seq: int | None
    records: int
    sealed: bool
    sha256: str | None
    tail: str
    status: str

    def line(self) -> str:
        """Return the segment's line of the text report."""
        span = f"seq {self.first_seq}..{self.last_seq}" if self.records else "seq -"
        state = "sealed" if self.sealed else "active"
        detail = (
            f"sha256={_short(self.sha256)}" if self.sealed and self.sha256 else f"tail={self.tail}"
        )
        return (
            f"{self.name}  {span:<17} {self.records:>7} rec  {state}  {detail:<16}  {self.status}"
        )


@dataclass(slots=True)
class VerifyReport:
    """The outcome of :func:`verify`; :attr:`exit_code` follows AUDIT.md 5.8.

    .. versionadded:: 0.1.0
    """

    directory: str
    exit_code: int = EXIT_OK
    records: int = 0
    segments: list[SegmentReport] = field(default_factory=list)
    fences: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    checkpoint: dict[str, Any] | None = None
    anchor: dict[str, Any] | None = None
    unanchored: tuple[int, int] | None = None
    elapsed_seconds: float = 0.0
    first_problem_seq: int | None = None
    _codes: list[int] = field(default_factory=list, repr=False)

    @property
    def result(self) -> str:
        """Return ``"OK"`` or the name of the most severe finding."""
        return _RESULT[self.exit_code]

    @property
    def ok(self) -> bool:
        """Return whether the trail verified (exit code 0)."""
        return self.exit_code == EXIT_OK

    def add(self, code: int, message: str, seq: int | None = None) -> None:
        """Record a finding with its exit code."""
        self.problems.append(message)
        self._codes.append(code)
        if seq is not None and self.first_problem_seq is None:
            self.first_problem_seq = seq
        self.exit_code = next(c for c in _PRIORITY if c in self._codes)

    def to_text(self) -> str:
        """Return the fixed text report."""
        lines = [s.line() for s in self.segments]
        fences = "; ".join(
            f"{f['segment']} @{f['offset']}, {f['length']} B, recovery seq {f['recovery_seq']}"
            for f in self.fences
        )
        lines.append(f"fences: {len(self.fences)}" + (f"  ({fences})" if fences else ""))
        if self.checkpoint is not None:
            c = self.checkpoint
            lines.append(
                f"checkpoint: size={c['size']} head={_short(c['head'])} ts={c['ts']} "
                f"key={c['key']}  signature {c['signature']}, {c['consistency']}"
            )
        else:
            lines.append("checkpoint: none")
        if self.anchor is not None:
            a = self.anchor
            lines.append(f"anchor: external checkpoint size={a['size']} {a['status']}")
        else:
            lines.append("anchor: none given")
        if self.unanchored is not None:
            lo, hi = self.unanchored
            count = hi - lo + 1 if hi >= lo else 0
            span = f" (seq {lo}..{hi})" if count else ""
            lines.append(f"unanchored: {count} records{span}")
        lines.extend(self.problems)
        lines.append(
            f"RESULT: {self.result}  records={self.records} segments={len(self.segments)} "
            f"fences={len(self.fences)}  verified in {self.elapsed_seconds:.2f} s"
        )
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dictionary."""
        return {
            "directory": self.directory,
            "result": self.result,
            "exit_code": self.exit_code,
            "records": self.records,
            "segments": [asdict(s) for s in self.segments],
            "fences": self.fences,
            "checkpoint": self.checkpoint,
            "anchor": self.anchor,
            "unanchored": None
            if self.unanchored is None
            else {
                "records": max(0, self.unanchored[1] - self.unanchored[0] + 1),
                "first_seq": self.unanchored[0],
                "last_seq": self.unanchored[1],
            },
            "problems": self.problems,
            "first_problem_seq": self.first_problem_seq,
            "elapsed_seconds": self.elapsed_seconds,
        }


def _first_record(path: Path) -> dict[str, Any] | None:
    with path.open("rb") as fh:
        line = fh.readline()
    try:
        return parse_line(line)
    except orjson.JSONDecodeError:
        return None


def verify(
    directory: str | os.PathLike[str],
    *,
    public_key: bytes | None = None,
    hmac_key: bytes | None = None,
    anchor: str | os.PathLike[str] | None = None,
    instance_id: str | None = None,
    clock: Clock | None = None,
) -> VerifyReport:
    """Verify every retained segment, the fences and the checkpoints of ``directory``.

    Takes no lock: the data is append-only and a torn tail is recognised.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    directory
        The audit directory.
    public_key
        Raw Ed25519 public key to pin; without it the key embedded in each
        checkpoint is used (which proves integrity, not authorship).
    hmac_key
        The chain's HMAC key, if the writer used one.
    anchor
        A checkpoints file kept outside the host (written by
        :class:`~algowatch.audit.FileAnchor`).
    instance_id
        Expected instance; defaults to the one named by the first segment.
    """
    mono = (clock or SystemClock()).monotonic_ns
    started = mono()
    root = Path(directory)
    report = VerifyReport(directory=os.fspath(root))
    if not root.is_dir():
        report.add(EXIT_USAGE, f"ERROR: {os.fspath(root)!r} is not a directory")
        return report
    segments = list_segments(root)
    if not segments:
        report.add(EXIT_USAGE, f"ERROR: {os.fspath(root)!r} holds no audit segments")
        return report
    first = _first_record(root / segments[0]) or {}
    instance = instance_id if instance_id is not None else str(first.get("instance", "default"))
    if first.get("mac") == "hmac-sha256" and hmac_key is None:
        report.add(EXIT_USAGE, "ERROR: the chain is keyed (HMAC); pass the HMAC key")
        return report
    if int(segments[0][15:21]) == 1 or first.get("kind") != "segment_start":
        prev_h, seq = genesis_head(instance), 0
    else:
        prev_h, seq = bytes.fromhex(str(first["prev_head"])), int(first["seq"])
    first_seq = seq
    heads: dict[int, bytes] = {}
    total = _verify_segments(report, root, segments, Chain(hmac_key), prev_h, seq, heads)
    _check_checkpoints(
        report, root=root, heads=heads, first_seq=first_seq, total=total, public_key=public_key
    )
    if anchor is not None:
        _check_anchor(
            report,
            path=Path(anchor),
            heads=heads,
            first_seq=first_seq,
            total=total,
            public_key=public_key,
        )
    covered = (
        report.anchor["size"]
        if report.anchor
        else (report.checkpoint["size"] if report.checkpoint else first_seq)
    )
    report.unanchored = (covered, total - 1)
    report.elapsed_seconds = (mono() - started) / 1e9
    return report


def _verify_segments(  # noqa: PLR0917 - private helper of verify()
    report: VerifyReport,
    root: Path,
    segments: list[str],
    chain: Chain,
    prev_h: bytes,
    seq: int,
    heads: dict[int, bytes],
) -> int:
    """Scan every segment in order; fill ``report`` and ``heads``; return the record count."""
    broken = False
    for index, name in enumerate(segments):
        data = (root / name).read_bytes()
        result = scan(chain, data, prev_h, seq)
        heads.update({s: h for s, _end, h in result.heads})
        last = index == len(segments) - 1
        status = "OK"
        if result.tail == "corrupt":
            assert result.problem is not None
            p = result.problem
            report.add(
                EXIT_CORRUPTION, f"CORRUPTION {name} @{p.offset} seq {p.seq}: {p.reason}", p.seq
            )
            status, broken = "CORRUPTION", True
        elif result.tail == "torn" and last:
            report.add(
                EXIT_TORN_TAIL,
                f"TORN TAIL {name} @{result.end_offset} seq {result.next_seq}: "
                "unfenced torn tail (the writer has not recovered yet)",
                result.next_seq,
            )
            status = "TORN"
        elif result.tail == "torn" or (not last and not result.sealed):
            report.add(
                EXIT_CORRUPTION,
                f"CORRUPTION {name} @{result.end_offset} seq {result.next_seq}: "
                "sealed segment does not end with segment_end",
                result.next_seq,
            )
            status, broken = "CORRUPTION", True
        for f in result.fences:
            report.fences.append(
                {
                    "segment": name,
                    "offset": f.offset,
                    "length": f.length,
                    "recovery_seq": f.recovery_seq,
                }
            )
        report.segments.append(
            SegmentReport(
                name=name,
                first_seq=result.first_seq,
                last_seq=result.last_seq,
                records=result.records,
                sealed=result.sealed,
                sha256=hashlib.sha256(data).hexdigest() if result.sealed else None,
                tail=result.tail,
                status=status,
            )
        )
        report.records += result.records
        prev_h, seq = result.head, result.next_seq
        if broken:
            break
    return seq


def _signature_status(cp: Checkpoint, public_key: bytes | None) -> str:
    if cp.key is None:
        return "unsigned"
    if cp.signature_ok(public_key):
        return "OK" if public_key is not None else "OK (key not pinned)"
    return "BAD"


def _check_checkpoints(
    report: VerifyReport,
    *,
    root: Path,
    heads: dict[int, bytes],
    first_seq: int,
    total: int,
    public_key: bytes | None,
) -> None:
    checkpoints = load_checkpoints(root / "checkpoints.jsonl")
    previous: Checkpoint | None = None
    for cp in checkpoints:
        sig = _signature_status(cp, public_key)
        if sig == "BAD" or (sig == "unsigned" and public_key is not None):
            report.add(
                EXIT_BAD_CHECKPOINT,
                f"BAD SIGNATURE: checkpoint size={cp.size} ts={cp.ts} signature {sig}",
                cp.size - 1,
            )
        if previous is not None and cp.size < previous.size:
            report.add(
                EXIT_BAD_CHECKPOINT,
                f"INCONSISTENT: checkpoint size={cp.size} is older than "
                f"previous size={previous.size}",
                cp.size - 1,
            )
        if sig != "BAD":  # a forged checkpoint is no evidence about the chain
            _check_head(
                report, cp=cp, heads=heads, first_seq=first_seq, total=total, what="checkpoint"
            )
        consistency = (
            "first checkpoint"
            if previous is None
            else (
                f"consistent with previous (size {previous.size})"
                if cp.size >= previous.size
                else f"INCONSISTENT with previous (size {previous.size})"
            )
        )
        report.checkpoint = {
            "size": cp.size,
            "head": cp.head.hex(),
            "ts": cp.ts,
            "key": cp.key,
            "signature": sig,
            "consistency": consistency,
        }
        if previous is None or cp.size >= previous.size:
            previous = cp


def _check_head(
    report: VerifyReport,
    *,
    cp: Checkpoint,
    heads: dict[int, bytes],
    first_seq: int,
    total: int,
    what: str,
) -> bool:
    if cp.size > total:
        report.add(EXIT_ALTERED, f"TRUNCATED: {total} records < {what} {cp.size}", total)
        return False
    if cp.size - 1 < first_seq:
        return True  # covers only segments removed by retention
    head = heads.get(cp.size - 1)
    if head is None:
        return True  # beyond a corruption already reported
    if head != cp.head:
        report.add(EXIT_ALTERED, f"ALTERED: head at {cp.size} != {what}", cp.size - 1)
        return False
    return True


def _check_anchor(
    report: VerifyReport,
    *,
    path: Path,
    heads: dict[int, bytes],
    first_seq: int,
    total: int,
    public_key: bytes | None,
) -> None:
    anchored = load_checkpoints(path)
    if not anchored:
        msg = f"anchor file {os.fspath(path)!r} holds no checkpoint"
        raise AuditError(msg)
    for cp in anchored:
        if _signature_status(cp, public_key) == "BAD":
            report.add(
                EXIT_BAD_CHECKPOINT,
                f"BAD SIGNATURE: anchored checkpoint size={cp.size} ts={cp.ts}",
                cp.size - 1,
            )
    latest = max(anchored, key=lambda c: c.size)
    matches = _check_head(
        report, cp=latest, heads=heads, first_seq=first_seq, total=total, what="anchored"
    )
    if matches:
        matches = all(
            _check_head(
                report, cp=cp, heads=heads, first_seq=first_seq, total=total, what="anchored"
            )
            for cp in anchored
        )
    report.anchor = {
        "size": latest.size,
        "head": latest.head.hex(),
        "status": "head matches" if matches else "MISMATCH",
    }


def read_records(directory: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield every record of ``directory`` in seq order (torn bytes skipped; not verified)."""
    root = Path(directory)
    for name in list_segments(root):
        with (root / name).open("rb") as fh:
            for line in fh:
                if not line.endswith(b"\n"):
                    continue
                try:
                    obj = parse_line(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(obj, dict) and "seq" in obj and "h" in obj:
                    yield obj


_ENVELOPE = ("seq", "ts", "mono_ns", "kind", "id", "writer", "h")


def _summary(record: dict[str, Any]) -> str:
    parts = []
    for key, value in record.items():
        if key in _ENVELOPE:
            continue
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        parts.append(f"{key}={text}")
    return "  ".join(parts)


def _corrections(records: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for r in records:
        if r.get("kind") == "correction" and isinstance(r.get("supersedes"), int):
            out.setdefault(r["supersedes"], []).append(r)
    return out


def export_text(directory: str | os.PathLike[str]) -> str:
    """Return a human-readable listing; corrections are shown with their originals.

    .. versionadded:: 0.1.0
    """
    records = list(read_records(directory))
    by_seq = {r["seq"]: r for r in records}
    corrections = _corrections(records)
    lines: list[str] = []
    for r in records:
        lines.append(f"{r['seq']:>8}  {r['ts']}  {r['kind']:<16}  {_summary(r)}")
        lines.extend(
            f"{'':>8}  superseded by seq {c['seq']} at {c['ts']}: "
            f"{c.get('reason')} (by {c.get('by')})"
            for c in corrections.get(r["seq"], [])
        )
        if r["kind"] == "correction":
            original = by_seq.get(r["supersedes"])
            shown = f"{original['kind']}  {_summary(original)}" if original else "(not retained)"
            lines.append(f"{'':>8}  corrects seq {r['supersedes']}: {shown}")
    return "\n".join(lines) + ("\n" if lines else "")


def export_json(directory: str | os.PathLike[str]) -> str:
    """Return JSON lines ``{"record", "superseded_by", "supersedes"}`` in seq order.

    .. versionadded:: 0.1.0
    """
    records = list(read_records(directory))
    by_seq = {r["seq"]: r for r in records}
    corrections = _corrections(records)
    out = []
    for r in records:
        item = {
            "record": r,
            "superseded_by": [c["seq"] for c in corrections.get(r["seq"], [])],
            "supersedes": by_seq.get(r["supersedes"]) if r["kind"] == "correction" else None,
        }
        out.append(orjson.dumps(item).decode())
    return "\n".join(out) + ("\n" if out else "")
