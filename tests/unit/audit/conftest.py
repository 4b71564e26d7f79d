"""Fixtures of the audit tests: a fake clock, a signing key, a writer factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from algowatch.audit import AuditWriter
from algowatch.testing import FakeClock


@pytest.fixture
def audit_dir(tmp_path: Path) -> Path:
    return tmp_path / "audit"


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.fixture
def public_key(signing_key: Ed25519PrivateKey) -> bytes:
    return signing_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


@pytest.fixture
def make_writer(
    audit_dir: Path, clock: FakeClock, signing_key: Ed25519PrivateKey
) -> Iterator[Callable[..., AuditWriter]]:
    """Build writers on ``audit_dir`` (no adjtimex provider unless asked); close them after."""
    made: list[AuditWriter] = []

    def make(directory: Path | None = None, **kwargs: Any) -> AuditWriter:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("signing_key", signing_key)
        kwargs.setdefault("state_providers", {"clock": dict})
        writer = AuditWriter(directory or audit_dir, **kwargs)
        made.append(writer)
        return writer

    yield make
    for writer in made:
        if writer.state == "ok":
            writer.close()
