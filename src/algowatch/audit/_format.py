"""Record format of the audit trail: timestamps, line bytes and the hash chain.

A record is one line: a JSON object with a fixed key order, compact separators
and a last key ``h`` holding the chain hash. ``h = SHA-256(prev_h || body)``
(or HMAC-SHA-256 with a key), where ``body`` is the line without
``,"h":"<64 hex>"`` and without the newline.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

GENESIS_DOMAIN = b"algowatch-audit-v1\n"
H_SUFFIX = b',"h":"'
# ,"h":"  +  64 hex  +  "}  +  \n
TRAILER_LENGTH = len(H_SUFFIX) + 64 + 3
SEGMENT_RE = re.compile(r"^audit-(\d{8})-(\d{6})\.jsonl$")

KINDS = (
    "decision",
    "override",
    "kill_switch",
    "limit_change",
    "clock_sync",
    "recovery",
    "segment_start",
    "segment_end",
    "checkpoint",
    "correction",
    "retention_delete",
)
RESERVED_FIELDS = frozenset({"seq", "ts", "mono_ns", "kind", "id", "writer", "h"})
#: Kinds a caller may append (corrections go through ``AuditWriter.correct``).
APPENDABLE_KINDS = frozenset({"decision", "override", "kill_switch", "limit_change", "clock_sync"})


def genesis_head(instance_id: str) -> bytes:
    """Return the chain's starting ``prev_h`` for ``instance_id`` (domain separated)."""
    return hashlib.sha256(GENESIS_DOMAIN + instance_id.encode()).digest()


def format_ts(ts_ns: int) -> str:
    """Return ``ts_ns`` as a 27-character UTC timestamp with microseconds.

    Examples
    --------
    >>> format_ts(0)
    '1970-01-01T00:00:00.000000Z'
    >>> format_ts(1_733_666_587_123_456_789)
    '2024-12-08T14:03:07.123456Z'
    """
    seconds, rest = divmod(ts_ns, 1_000_000_000)
    return f"{_utc_second(seconds)}.{rest // 1000:06d}Z"


def utc_day(ts_ns: int) -> str:
    """Return the UTC day of ``ts_ns`` as ``YYYYMMDD``."""
    return _utc_day(ts_ns // 86_400_000_000_000)


# cached: every record formats its time, and consecutive records share the second and day
@functools.lru_cache(maxsize=8)
def _utc_second(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


@functools.lru_cache(maxsize=8)
def _utc_day(days: int) -> str:
    return time.strftime("%Y%m%d", time.gmtime(days * 86_400))


class Chain:
    """Compute chain hashes, keyed (HMAC) or not."""

    __slots__ = ("_key",)

    def __init__(self, hmac_key: bytes | None = None) -> None:
        self._key = hmac_key

    @property
    def keyed(self) -> bool:
        """Return whether the chain uses HMAC."""
        return self._key is not None

    def digest_line(self, prev_h: bytes, line: bytes, body_end: int) -> bytes:
        """Return the raw digest of ``prev_h || line[:body_end] || "}"`` without copying."""
        body = memoryview(line)[:body_end]
        h = hashlib.sha256(prev_h) if self._key is None else hmac.new(self._key, prev_h, "sha256")
        h.update(body)
        h.update(b"}")
        return h.digest()

    def hexdigest(self, prev_h: bytes, body: bytes) -> bytes:
        """Return the hex digest (ASCII bytes) of ``prev_h || body``."""
        if self._key is None:
            return hashlib.sha256(prev_h + body).hexdigest().encode()
        return hmac.new(self._key, prev_h + body, hashlib.sha256).hexdigest().encode()


def encode_line(
    chain: Chain,
    prev_h: bytes,
    *,
    seq: int,
    ts: str,
    mono_ns: int,
    kind: str,
    record_id: str,
    writer: bytes,
    fields: dict[str, Any],
) -> tuple[bytes, bytes]:
    """Return ``(line, h)``: the bytes to write and the raw chain hash."""
    head = b'{"seq":%d,"ts":"%s","mono_ns":%d,"kind":"%s","id":"%s","writer":%s' % (
        seq,
        ts.encode(),
        mono_ns,
        kind.encode(),
        record_id.encode(),
        writer,
    )
    if fields:
        rest = orjson.dumps(fields, option=orjson.OPT_NON_STR_KEYS)
        body = head + b"," + rest[1:]
    else:
        body = head + b"}"
    digest = chain.hexdigest(prev_h, body)
    return body[:-1] + H_SUFFIX + digest + b'"}\n', bytes.fromhex(digest.decode())


class LineCheck(NamedTuple):
    """The outcome of checking one line against the running chain."""

    ok: bool
    seq: int | None
    kind: str | None
    h: bytes
    reason: str


def check_line(chain: Chain, line: bytes, prev_h: bytes, expect_seq: int) -> LineCheck:
    """Check one newline-terminated line against ``prev_h`` and ``expect_seq``."""
    size = len(line)
    seq: int | None = None
    kind: str | None = None
    if line.startswith(b'{"seq":'):
        comma = line.find(b",", 7, 40)
        if comma > 7 and line[7:comma].isdigit():
            seq = int(line[7:comma])
        at = line.find(b'"kind":"', comma, comma + 120)
        if at > 0:
            end = line.find(b'"', at + 8, at + 40)
            kind = line[at + 8 : end].decode("ascii", "replace") if end > 0 else None
    if (
        size <= TRAILER_LENGTH
        or line[size - 3 :] != b'"}\n'
        or line[size - TRAILER_LENGTH : size - TRAILER_LENGTH + 6] != H_SUFFIX
    ):
        return LineCheck(False, seq, kind, b"", "malformed record")
    try:
        stored = bytes.fromhex(line[size - 67 : size - 3].decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return LineCheck(False, seq, kind, b"", "malformed record")
    if chain.digest_line(prev_h, line, size - TRAILER_LENGTH) != stored:
        return LineCheck(False, seq, kind, b"", "hash mismatch")
    if seq is None or kind is None:
        return LineCheck(False, seq, kind, b"", "malformed record")
    if seq != expect_seq:
        return LineCheck(False, seq, kind, b"", f"seq {seq} where {expect_seq} was expected")
    return LineCheck(True, seq, kind, stored, "")


def parse_line(line: bytes) -> dict[str, Any]:
    """Return the JSON object of a record line."""
    obj: dict[str, Any] = orjson.loads(line)
    return obj


def check_record(
    kind: str, fields: Mapping[str, Any], *, next_seq: int, corrections: bool = False
) -> None:
    """Raise ValueError unless ``kind`` and ``fields`` make an appendable record.

    With ``corrections``, a ``correction`` is accepted when it names ``supersedes`` (an
    existing seq, below ``next_seq``), ``reason`` and ``by``.
    """
    if kind == "correction" and corrections:
        missing = sorted({"supersedes", "reason", "by"}.difference(fields))
        if missing:
            msg = f"a correction needs the fields {missing!r}"
            raise ValueError(msg)
        supersedes = fields["supersedes"]
        if type(supersedes) is not int or not 0 <= supersedes < next_seq:
            msg = f"supersedes must be an existing seq < {next_seq}, received {supersedes!r}"
            raise ValueError(msg)
    elif kind not in APPENDABLE_KINDS:
        msg = f"kind must be one of {sorted(APPENDABLE_KINDS)}, received {kind!r}"
        raise ValueError(msg)
    reserved = RESERVED_FIELDS.intersection(fields)
    if reserved:
        msg = f"field names {sorted(reserved)!r} are reserved by the record format"
        raise ValueError(msg)
