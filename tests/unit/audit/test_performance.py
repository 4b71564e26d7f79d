"""Performance smoke of AUDIT.md 5.10 #13 (slow marker: not reliable on shared CI runners)."""

from __future__ import annotations

import time

import pytest

from algowatch.audit import AuditWriter, genesis_head, verify
from algowatch.audit._format import Chain, encode_line

pytestmark = pytest.mark.slow

FIELDS = {"decision_type": "order_submit", "decision": "BUY 100 AAPL LMT 189.23"}


def test_sync_append_p99_and_rate(tmp_path):
    with AuditWriter(tmp_path, state_providers={}) as writer:
        latencies = []
        start = time.perf_counter()
        for _ in range(1000):
            t = time.perf_counter()
            writer.append("decision", **FIELDS)
            latencies.append(time.perf_counter() - t)
        rate = 1000 / (time.perf_counter() - start)
    assert sorted(latencies)[989] <= 0.005
    assert rate >= 1000


def test_chain_cost_per_entry():
    chain, prev = Chain(), genesis_head("perf")
    start = time.perf_counter()
    for seq in range(20_000):
        _line, prev = encode_line(
            chain,
            prev,
            seq=seq,
            ts="2025-01-02T14:30:00.000000Z",
            mono_ns=seq,
            kind="decision",
            record_id="01JEX3ABCDEFGHJKMNPQRSTVWX",
            writer=b"{}",
            fields=FIELDS,
        )
    assert (time.perf_counter() - start) / 20_000 <= 20e-6


def test_verify_rate(tmp_path):
    with AuditWriter(tmp_path, durability="async", state_providers={}) as writer:
        for _ in range(20_000):
            writer.append("decision", **FIELDS)
    report = verify(tmp_path)
    assert report.ok
    assert report.records / report.elapsed_seconds >= 100_000
