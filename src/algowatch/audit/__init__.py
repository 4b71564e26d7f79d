"""Tamper-evident audit trail (see ``docs/audit.md`` and AUDIT.md).

- :class:`AuditWriter` appends hash-chained, fsynced records with recovery,
  rotation, checkpoints and system-state capture;
- :func:`verify` checks a directory and returns a :class:`VerifyReport`;
- :func:`export_text` / :func:`export_json` render it for people and machines.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from algowatch.audit._checkpoint import (
    Anchor,
    Checkpoint,
    FileAnchor,
    load_checkpoints,
    load_public_key,
    load_signing_key,
)
from algowatch.audit._format import KINDS, format_ts, genesis_head
from algowatch.audit._state import StateCapture, clock_sync_state
from algowatch.audit.verify import (
    SegmentReport,
    VerifyReport,
    export_json,
    export_text,
    read_records,
    verify,
)
from algowatch.audit.writer import APPENDABLE_KINDS, AuditWriter, Durability, list_segments

__all__ = [
    "APPENDABLE_KINDS",
    "KINDS",
    "Anchor",
    "AuditWriter",
    "Checkpoint",
    "Durability",
    "FileAnchor",
    "SegmentReport",
    "StateCapture",
    "VerifyReport",
    "clock_sync_state",
    "export_json",
    "export_text",
    "format_ts",
    "genesis_head",
    "list_segments",
    "load_checkpoints",
    "load_public_key",
    "load_signing_key",
    "read_records",
    "verify",
]
