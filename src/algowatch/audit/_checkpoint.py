r"""Signed checkpoints (C2SP signed-note style) and anchors.

A checkpoint commits to the number of records (``size``) and the chain head
after the last of them. Its note text is::

    algowatch/audit/<instance_id>/v1
    <size>
    <base64 chain head>
    <ts>

    — <key name> <base64(key id || Ed25519 signature)>

The key id is the first 4 bytes of ``SHA-256(key name || "\\n" || 0x01 || public key)``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from algowatch.audit._format import format_ts
from algowatch.errors import AuditError, AuditWriterFailedError

if TYPE_CHECKING:
    from algowatch.audit.writer import AuditWriter

__all__ = [
    "Anchor",
    "Checkpoint",
    "FileAnchor",
    "load_checkpoints",
    "load_public_key",
    "load_signing_key",
]

_DASH = "\u2014"
_LOG = logging.getLogger("algowatch.audit")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One checkpoint of the audit chain.

    .. versionadded:: 0.1.0

    Attributes
    ----------
    origin
        ``algowatch/audit/<instance_id>/v1``.
    size
        Number of records covered (the last covered seq is ``size - 1``).
    head
        Raw chain hash after record ``size - 1``.
    ts
        When it was made (27-character UTC).
    segment, offset
        The segment holding record ``size - 1`` and the byte offset just past it
        (the recovery watermark of that segment).
    segment_sha256
        SHA-256 of a sealed segment's file, for the checkpoint made at rotation.
    key
        Name of the signing key, or ``None`` when unsigned.
    signature
        Key id (4 bytes) followed by the Ed25519 signature over the note text.
    public_key
        The raw public key the writer signed with (not trusted by itself: pin a
        key when verifying).
    """

    origin: str
    size: int
    head: bytes
    ts: str
    segment: str
    offset: int
    segment_sha256: str | None = None
    key: str | None = None
    signature: bytes | None = None
    public_key: bytes | None = None

    def note_body(self) -> str:
        """Return the signed text (origin, size, head, time)."""
        head = base64.b64encode(self.head).decode()
        return f"{self.origin}\n{self.size}\n{head}\n{self.ts}\n"

    def note(self) -> str:
        """Return the signed note (body, blank line, signature line)."""
        if self.key is None or self.signature is None:
            return self.note_body()
        sig = base64.b64encode(self.signature).decode()
        return f"{self.note_body()}\n{_DASH} {self.key} {sig}\n"

    def to_json(self) -> bytes:
        """Return the ``checkpoints.jsonl`` line (with its newline)."""
        obj = {
            "origin": self.origin,
            "size": self.size,
            "head": self.head.hex(),
            "ts": self.ts,
            "segment": self.segment,
            "offset": self.offset,
            "segment_sha256": self.segment_sha256,
            "key": self.key,
            "public_key": None
            if self.public_key is None
            else base64.b64encode(self.public_key).decode(),
            "note": self.note(),
        }
        return orjson.dumps(obj) + b"\n"

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Checkpoint:
        """Return a checkpoint from its ``checkpoints.jsonl`` object."""
        note = str(obj.get("note", ""))
        signature = None
        marker = f"\n\n{_DASH} "
        if marker in note:
            sig_line = note.split(marker, 1)[1].strip()
            signature = base64.b64decode(sig_line.rsplit(" ", 1)[-1])
        public_key = obj.get("public_key")
        return cls(
            origin=str(obj["origin"]),
            size=int(obj["size"]),
            head=bytes.fromhex(str(obj["head"])),
            ts=str(obj["ts"]),
            segment=str(obj["segment"]),
            offset=int(obj["offset"]),
            segment_sha256=obj.get("segment_sha256"),
            key=obj.get("key"),
            signature=signature,
            public_key=None if public_key is None else base64.b64decode(public_key),
        )

    def signed(self, key: Ed25519PrivateKey, key_name: str) -> Checkpoint:
        """Return this checkpoint signed with ``key`` under ``key_name``."""
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        sig = key.sign(self.note_body().encode())
        return Checkpoint(
            origin=self.origin,
            size=self.size,
            head=self.head,
            ts=self.ts,
            segment=self.segment,
            offset=self.offset,
            segment_sha256=self.segment_sha256,
            key=key_name,
            signature=_key_id(key_name, public) + sig,
            public_key=public,
        )

    def signature_ok(self, public_key: bytes | None = None) -> bool:
        """Return whether the signature verifies (with ``public_key`` or the embedded one)."""
        key = public_key if public_key is not None else self.public_key
        if key is None or self.key is None or self.signature is None:
            return False
        if self.signature[:4] != _key_id(self.key, key):
            return False
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(
                self.signature[4:], self.note_body().encode()
            )
        except (InvalidSignature, ValueError):
            return False
        return True


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]


Anchor = Callable[[Checkpoint], None]


class FileAnchor:
    """An anchor that appends each checkpoint to a file (put it outside the host's trust).

    .. versionadded:: 0.1.0
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __call__(self, checkpoint: Checkpoint) -> None:
        """Append ``checkpoint`` to the file and fsync it."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, checkpoint.to_json())
            os.fsync(fd)
        finally:
            os.close(fd)


def load_checkpoints(path: str | os.PathLike[str]) -> list[Checkpoint]:
    """Return the checkpoints of a ``checkpoints.jsonl`` file (a torn last line is ignored)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    out: list[Checkpoint] = []
    lines = data.split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip(b"\0 \n"):
            continue
        try:
            out.append(Checkpoint.from_json(orjson.loads(line)))
        except (orjson.JSONDecodeError, KeyError, ValueError, TypeError):
            if number < len(lines) - 1:
                msg = f"{os.fspath(path)!r} line {number} is not a checkpoint"
                raise AuditError(msg) from None
    return out


def load_signing_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Return an Ed25519 private key from a PEM file or a raw 32-byte seed."""
    data = Path(path).read_bytes()
    if data.startswith(b"-----"):
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            msg = f"signing key file {os.fspath(path)!r} must hold an Ed25519 key"
            raise AuditError(msg)
        return key
    if len(data) != 32:
        msg = (
            f"signing key file {os.fspath(path)!r} must be PEM or 32 raw bytes, "
            f"received {len(data)} bytes"
        )
        raise AuditError(msg)
    return Ed25519PrivateKey.from_private_bytes(data)


def load_public_key(path: str | os.PathLike[str]) -> bytes:
    """Return a raw Ed25519 public key from a PEM file or 32 raw bytes."""
    data = Path(path).read_bytes()
    if data.startswith(b"-----"):
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, Ed25519PublicKey):
            msg = f"public key file {os.fspath(path)!r} must hold an Ed25519 key"
            raise AuditError(msg)
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if len(data) != 32:
        msg = (
            f"public key file {os.fspath(path)!r} must be PEM or 32 raw bytes, received {len(data)}"
        )
        raise AuditError(msg)
    return data


# -- writing (the writer's side) ----------------------------------------------------


def checkpoint_due(writer: AuditWriter) -> bool:
    """Return whether the writer's records or time since its last checkpoint call for a new one."""
    if writer._next_seq - writer._checkpointed_seq >= writer.checkpoint_every_records:
        return True
    elapsed = (writer.clock.monotonic_ns() - writer._last_checkpoint_mono) / 1e9
    return elapsed >= writer.checkpoint_every_seconds


def write_checkpoint(
    writer: AuditWriter,
    *,
    segment: str | None = None,
    size: int | None = None,
    head: bytes | None = None,
    offset: int | None = None,
    segment_sha256: str | None = None,
) -> Checkpoint:
    """Write, sign, fsync and anchor a checkpoint of the writer's head (or of a sealed segment)."""
    cp = Checkpoint(
        origin=writer.origin,
        size=writer._next_seq if size is None else size,
        head=writer._head if head is None else head,
        ts=format_ts(writer.clock.time_ns()),
        segment=writer._segment if segment is None else segment,
        offset=writer._size if offset is None else offset,
        segment_sha256=segment_sha256,
    )
    if writer._signing_key is not None:
        cp = cp.signed(writer._signing_key, writer._key_name)
    path = writer.directory / "checkpoints.jsonl"
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size_now = os.fstat(fd).st_size
        line = cp.to_json()
        if size_now and os.pread(fd, 1, size_now - 1) != b"\n":
            line = b"\n" + line
        try:
            os.write(fd, line)
        except OSError as exc:
            writer._fail(exc)
            raise AuditWriterFailedError(str(exc)) from exc
        writer._fsync(fd)
    finally:
        os.close(fd)
    writer._checkpointed_seq = max(writer._checkpointed_seq, cp.size)
    writer._last_checkpoint_mono = writer.clock.monotonic_ns()
    if writer._anchor is not None:
        try:
            writer._anchor(cp)
        except Exception:
            writer.anchor_errors += 1
            _LOG.exception("audit anchor failed for checkpoint size=%d", cp.size)
    return cp
