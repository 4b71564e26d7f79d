"""AuditWriter: round trip, record format, corrections, rotation, retention, fail-closed."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import itertools
import json
import os
import re
import stat
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from ulid import ULID

from algowatch.audit import AuditWriter, genesis_head, load_checkpoints, read_records, verify
from algowatch.audit._format import Chain
from algowatch.errors import AuditError, AuditWriterFailedError
from algowatch.health import AuditCheck, HealthRunner
from algowatch.settings import AuditSettings, HealthSettings
from algowatch.testing import FakeClock

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def _segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("audit-*.jsonl"), key=lambda p: p.name[15:21])


def test_round_trip_given_n_records_verifies_with_contiguous_seq(make_writer, audit_dir, clock):
    """Every line parses with json.loads, seq is contiguous and ts has 27 characters."""
    writer = make_writer()
    seqs = []
    for i in range(200):
        seqs.append(writer.append("decision", decision_type="order_submit", decision=f"BUY {i}"))
        clock.advance(0.0004)
    writer.close()
    assert seqs == list(range(1, 201))
    lines = b"".join(p.read_bytes() for p in _segments(audit_dir)).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["seq"] for r in records] == list(range(len(records)))
    assert all(TS_RE.match(r["ts"]) and len(r["ts"]) == 27 for r in records)
    assert records[0]["ts"] == "2025-01-02T14:30:00.000000Z"  # microseconds = 0 keep 6 digits
    assert [list(r)[:6] for r in records[:2]] == [
        ["seq", "ts", "mono_ns", "kind", "id", "writer"]
    ] * 2
    assert all(list(r)[-1] == "h" for r in records)
    report = verify(audit_dir)
    assert report.exit_code == 0, report.to_text()
    assert report.records == 201


def test_record_ids_are_unique_ulids_of_the_record_time_rising_within_a_millisecond(
    make_writer, audit_dir, clock
):
    """Each id is a ULID whose time is the record's ts millisecond; ids never repeat."""
    writer = make_writer()
    for i in range(300):
        writer.append("decision", decision=f"{i}")
        if i % 3 == 2:
            clock.advance(0.0007)
    writer.close()
    records = list(read_records(audit_dir))
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids)
    for record in records:
        assert str(ULID.from_str(record["id"])) == record["id"]
        ts = datetime.strptime(record["ts"], "%Y-%m-%dT%H:%M:%S.%f%z")
        assert ULID.from_str(record["id"]).milliseconds == int(ts.timestamp() * 1e6) // 1000
    same_ms = [(a["id"], b["id"]) for a, b in itertools.pairwise(records) if a["ts"] == b["ts"]]
    assert same_ms
    assert all(a < b for a, b in same_ms)


def test_chain_given_first_record_starts_at_domain_separated_genesis(make_writer, audit_dir):
    """h of seq 0 is SHA-256(SHA-256("algowatch-audit-v1\\n" + instance) || body)."""
    make_writer(instance_id="desk-7").close()
    line = _segments(audit_dir)[0].read_bytes().splitlines(keepends=True)[0]
    body = line[:-73] + b"}"
    genesis = hashlib.sha256(b"algowatch-audit-v1\ndesk-7").digest()
    assert genesis == genesis_head("desk-7")
    assert json.loads(line)["h"] == hashlib.sha256(genesis + body).hexdigest()
    assert verify(audit_dir).ok
    # a chain from another deployment does not verify as this one
    assert verify(audit_dir, instance_id="desk-8").exit_code == 1


def test_append_given_reserved_or_unknown_kind_raises_naming_it(make_writer):
    writer = make_writer()
    with pytest.raises(ValueError, match=r"kind must be one of .*, received 'segment_end'"):
        writer.append("segment_end")
    with pytest.raises(ValueError, match=r"field names \['seq'\] are reserved"):
        writer.append("decision", seq=4)


def test_correction_given_existing_seq_links_to_the_original(make_writer, audit_dir):
    writer = make_writer()
    original = writer.append("decision", decision="BUY 100 AAPL")
    fixed = writer.correct(original, reason="quantity typo", by="alice", decision="BUY 10 AAPL")
    writer.close()
    records = {r["seq"]: r for r in read_records(audit_dir)}
    assert records[fixed]["kind"] == "correction"
    assert records[fixed]["supersedes"] == original
    assert records[original]["decision"] == "BUY 100 AAPL"  # the original is never edited
    with pytest.raises(ValueError, match="supersedes must be an existing seq"):
        make_writer().correct(999, reason="x", by="y")


def test_hmac_chain_given_key_verifies_only_with_the_key(make_writer, audit_dir):
    make_writer(hmac_key=b"k" * 32).append("decision", decision="x")
    assert verify(audit_dir, hmac_key=b"k" * 32).ok
    assert verify(audit_dir).exit_code == 64
    assert verify(audit_dir, hmac_key=b"other").exit_code == 1


def test_rotation_given_new_utc_day_continues_chain_in_next_segment(make_writer, audit_dir, clock):
    writer = make_writer()
    writer.append("decision", decision="day 1")
    clock.set("2025-01-03T00:00:00.5Z")
    seq = writer.append("decision", decision="day 2")
    writer.close()
    names = [p.name for p in _segments(audit_dir)]
    assert names == ["audit-20250102-000001.jsonl", "audit-20250103-000002.jsonl"]
    kinds = [r["kind"] for r in read_records(audit_dir)]
    assert kinds == ["segment_start", "decision", "segment_end", "segment_start", "decision"]
    assert seq == 4
    report = verify(audit_dir)
    assert report.ok, report.to_text()
    assert report.segments[0].sealed
    assert report.segments[0].sha256 is not None
    sealed = [c for c in load_checkpoints(audit_dir / "checkpoints.jsonl") if c.segment_sha256]
    assert sealed[0].segment == names[0]
    assert sealed[0].size == 3


def test_rotation_given_size_limit_rolls_segments(make_writer, audit_dir):
    writer = make_writer(rotate_bytes=2_000)
    for i in range(30):
        writer.append("decision", decision=f"BUY {i}")
    writer.close()
    assert len(_segments(audit_dir)) > 3
    report = verify(audit_dir)
    assert report.ok, report.to_text()
    assert report.records == sum(s.records for s in report.segments)


def test_retention_given_old_segments_records_delete_before_removing(make_writer, audit_dir, clock):
    writer = make_writer(retention_days=30)
    writer.append("decision", decision="old")
    clock.advance(40 * 86_400)
    writer.append("decision", decision="new")
    removed = writer.apply_retention()
    writer.close()
    assert removed == ["audit-20250102-000001.jsonl"]
    records = list(read_records(audit_dir))
    deletes = [r for r in records if r["kind"] == "retention_delete"]
    assert deletes
    assert deletes[0]["segments"] == removed
    report = verify(audit_dir)  # starts at the oldest retained segment_start
    assert report.ok, report.to_text()


def test_checkpoint_given_interval_elapsed_is_written_and_anchored(make_writer, audit_dir, clock):
    anchored = []
    writer = make_writer(checkpoint_every_records=10_000, anchor=anchored.append)
    writer.append("decision", decision="a")
    assert anchored == []
    clock.advance(61)
    writer.append("decision", decision="b")
    assert [c.size for c in anchored] == [3]
    writer.close()
    assert [c.size for c in anchored] == [3]  # nothing new since: no extra checkpoint


def test_fsync_failure_fails_closed_and_refuses_later_appends(make_writer, monkeypatch):
    """A failed fsync: raise, state failed, kill switch called once, no later ack."""
    calls: list[BaseException] = []
    writer = make_writer(kill_switch=calls.append)
    writer.append("decision", decision="before")

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(AuditWriterFailedError, match=r"fsync .* failed: .*Input/output error"):
        writer.append("decision", decision="during")
    assert writer.state == "failed"
    assert writer.status()["state"] == "failed"
    assert len(calls) == 1
    assert isinstance(calls[0], OSError)
    monkeypatch.undo()
    with pytest.raises(AuditWriterFailedError, match="failed closed earlier"):
        writer.append("decision", decision="after")
    assert len(calls) == 1


@pytest.mark.parametrize("many", [False, True], ids=["append", "append_many"])
def test_fsync_failure_in_group_mode_raises_to_waiting_callers(make_writer, monkeypatch, many):
    calls: list[BaseException] = []
    writer = make_writer(durability="group", kill_switch=calls.append)
    writer.append("decision", decision="before")

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    records = [("decision", {"decision": f"{i}"}) for i in range(10 if many else 1)]
    call = writer.append_many if many else lambda r: writer.append(r[0][0], **r[0][1])
    with pytest.raises(AuditWriterFailedError, match="not durable"):
        call(records)
    assert writer.state == "failed"
    assert len(calls) == 1


def test_group_mode_given_many_threads_returns_each_seq_once(make_writer, audit_dir):
    writer = make_writer(durability="group")
    seqs: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for i in range(50):
            s = writer.append("decision", decision=f"{i}")
            with lock:
                seqs.append(s)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert sorted(seqs) == list(range(1, 201))
    assert verify(audit_dir).ok


def _line_ends(segment: Path) -> dict[int, tuple[int, str | None]]:
    """Map each record's seq to (offset just past its line, its ``decision``)."""
    ends, offset = {}, 0
    for line in segment.read_bytes().splitlines(keepends=True):
        offset += len(line)
        record = json.loads(line)
        ends[record["seq"]] = (offset, record.get("decision"))
    return ends


@pytest.mark.parametrize("lock_mode", ["append", "owner"])
def test_group_mode_given_concurrent_callers_acks_only_records_an_fsync_covered(
    make_writer, audit_dir, monkeypatch, lock_mode
):
    """Every group append returns after an fsync covering its bytes, with its own seq."""
    real_fsync = os.fsync
    covered: dict[int, int] = {}  # inode -> file size a completed fsync made durable

    def spy(fd: int) -> None:
        before = os.fstat(fd)
        real_fsync(fd)
        if stat.S_ISREG(before.st_mode):
            covered[before.st_ino] = max(covered.get(before.st_ino, 0), before.st_size)

    monkeypatch.setattr(os, "fsync", spy)
    writer = make_writer(durability="group", checkpoint_every_records=97, lock_mode=lock_mode)
    acks: list[tuple[int, str, dict[int, int]]] = []

    def work(worker: int) -> None:
        for i in range(40):
            decision = f"{worker}-{i}"
            seq = writer.append("decision", decision=decision)
            acks.append((seq, decision, dict(covered)))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    (segment,) = _segments(audit_dir)
    ends = _line_ends(segment)
    assert sorted(seq for seq, _, _ in acks) == list(range(1, 641))
    for seq, decision, durable in acks:
        end, written = ends[seq]
        assert written == decision
        assert end <= durable.get(segment.stat().st_ino, 0), f"seq {seq} acked before its fsync"
    report = verify(audit_dir)
    assert report.ok, report.to_text()
    assert len(load_checkpoints(audit_dir / "checkpoints.jsonl")) >= 6


def test_group_mode_given_another_writer_appending_chains_after_its_records(make_writer, audit_dir):
    """Records staged on a tail another writer extended are chained again after its records."""
    group = make_writer(durability="group")
    other = make_writer(durability="sync")
    acks: list[tuple[int, str]] = []

    def work(writer: AuditWriter, name: str) -> None:
        for i in range(60):
            decision = f"{name}-{i}"
            acks.append((writer.append("decision", decision=decision), decision))

    threads = [threading.Thread(target=work, args=(group, f"g{n}")) for n in range(4)]
    threads += [threading.Thread(target=work, args=(other, f"s{n}")) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    group.close()
    other.close()
    ends = _line_ends(_segments(audit_dir)[0])
    assert sorted(seq for seq, _ in acks) == sorted({seq for seq, _ in acks})
    assert len(acks) == 360
    for seq, decision in acks:
        assert ends[seq][1] == decision
    report = verify(audit_dir)
    assert report.ok, report.to_text()
    assert report.records == 361


def test_fsync_failure_in_group_mode_fails_every_waiting_caller(make_writer, monkeypatch):
    """All callers waiting on a failed fsync raise, after the kill switch; none gets a seq."""
    outcomes: list[BaseException | int] = []
    told_before_kill_switch: list[int] = []
    writer = make_writer(
        durability="group", kill_switch=lambda exc: told_before_kill_switch.append(len(outcomes))
    )
    writer.append("decision", decision="before")
    gate = threading.Event()

    def broken_fsync(fd: int) -> None:
        gate.wait(5)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)

    def work(i: int) -> None:
        try:
            outcomes.append(writer.append("decision", decision=f"during {i}"))
        except AuditWriterFailedError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while writer.next_seq < 14 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert writer.next_seq == 14  # all twelve records are chained and their callers wait
    gate.set()
    for t in threads:
        t.join(5)
    assert len(outcomes) == 12
    assert all(isinstance(o, AuditWriterFailedError) for o in outcomes), outcomes
    assert all("not durable" in str(o) for o in outcomes)
    assert told_before_kill_switch == [0]
    assert writer.state == "failed"
    with pytest.raises(AuditWriterFailedError, match="failed closed earlier"):
        writer.append("decision", decision="after")


def test_async_mode_given_close_makes_everything_durable(make_writer, audit_dir):
    writer = make_writer(durability="async")
    for i in range(100):
        writer.append("decision", decision=f"{i}")
    writer.close()
    assert verify(audit_dir).records == 101


def test_state_capture_given_slow_and_raising_providers_writes_nulls_within_budget(
    make_writer, audit_dir
):
    def slow() -> float:
        time.sleep(1.0)
        return 1.0

    def broken() -> float:
        raise RuntimeError("engine unavailable")

    providers = {"portfolio_value": lambda: 100_000.0, "daily_pnl": slow, "drawdown": broken}
    writer = make_writer(state_providers=providers, provider_budget_seconds=0.05)
    started = time.perf_counter()
    seq = writer.append("decision", decision="BUY 1 AAPL")
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5
    state = next(r for r in read_records(audit_dir) if r["seq"] == seq)["system_state"]
    assert state["portfolio_value"] == 100_000.0
    assert state["daily_pnl"] is None
    assert state["drawdown"] is None
    assert {e["provider"]: e["error"] for e in state["errors"]} == {
        "daily_pnl": "timed out after 0.05 s",
        "drawdown": "RuntimeError: engine unavailable",
    }


def test_owner_mode_given_second_owner_fails_fast(make_writer, audit_dir):
    make_writer(lock_mode="owner")
    started = time.perf_counter()
    with pytest.raises(AuditError, match="is owned by another writer"):
        make_writer(lock_mode="owner")
    assert time.perf_counter() - started < 1.0


def test_directory_is_fsynced_after_creating_a_segment(make_writer, monkeypatch):
    synced_dirs = []
    real = os.fsync

    def spy(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            synced_dirs.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    make_writer()
    assert synced_dirs


def test_from_settings_given_directory_and_key_files(tmp_path, signing_key):
    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(
        signing_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings = AuditSettings(
        directory=str(tmp_path / "trail"), signing_key_file=str(key_file), instance_id="i1"
    )
    with AuditWriter.from_settings(settings, clock=FakeClock(), state_providers={}) as writer:
        writer.append("kill_switch", engaged=True, reason="drawdown", by="system")
    cp = load_checkpoints(tmp_path / "trail" / "checkpoints.jsonl")[-1]
    assert cp.origin == "algowatch/audit/i1/v1"
    assert cp.signature_ok()


def test_chain_helper_given_hmac_differs_from_plain_sha256():
    assert Chain().hexdigest(b"a", b"b") != Chain(b"k").hexdigest(b"a", b"b")


def test_fsync_failure_turns_health_unhealthy(make_writer, monkeypatch):
    """The health runner's audit check reads writer.state: failed closed is unhealthy."""
    writer = make_writer()
    runner = HealthRunner(
        HealthSettings(system_metrics=False), checks=[AuditCheck("audit", lambda: writer.state)]
    )
    asyncio.run(runner.run_once())
    assert runner.status == "healthy"

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(AuditWriterFailedError):
        writer.append("decision", decision="lost")
    monkeypatch.undo()
    asyncio.run(runner.run_once())
    assert runner.status == "unhealthy"


@pytest.mark.parametrize("durability", ["sync", "group", "async"])
def test_append_many_given_records_chains_them_in_order(make_writer, audit_dir, durability):
    """One call: contiguous seqs in the given order, a correction included, the chain verifies."""
    writer = make_writer(durability=durability)
    first = writer.append("decision", decision="first")
    seqs = writer.append_many(
        [
            ("decision", {"decision": "BUY 1"}),
            ("limit_change", {"limit": "max_position", "old": 10, "new": 20}),
            ("correction", {"supersedes": first, "reason": "typo", "by": "ops"}),
        ]
    )
    assert seqs == [first + 1, first + 2, first + 3]
    assert writer.append_many([]) == []
    writer.close()
    records = {r["seq"]: r for r in read_records(audit_dir)}
    assert [records[s]["kind"] for s in seqs] == ["decision", "limit_change", "correction"]
    assert records[seqs[0]]["decision"] == "BUY 1"
    assert records[seqs[2]]["supersedes"] == first
    assert verify(audit_dir).ok


def test_append_many_in_sync_mode_makes_the_call_durable_with_one_fsync(make_writer, monkeypatch):
    writer = make_writer(durability="sync", checkpoint_every_records=10**6)
    writer.append("decision", decision="warm up")
    real_fsync = os.fsync
    calls: list[int] = []

    def counting(fd: int) -> None:
        calls.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting)
    writer.append_many([("decision", {"decision": f"{i}"}) for i in range(50)])
    assert len(calls) == 1


def test_append_many_given_one_bad_record_writes_none_and_names_it(make_writer, audit_dir):
    writer = make_writer()
    writer.append("decision", decision="before")
    size = sum(p.stat().st_size for p in _segments(audit_dir))
    for bad, match in [
        (("order_fill", {}), r"record 1: kind must be one of"),
        (("decision", {"seq": 5}), r"record 1: field names \['seq'\] are reserved"),
        (
            ("correction", {"reason": "x", "by": "y"}),
            r"record 1: a correction needs",
        ),
        (("correction", {"supersedes": 99, "reason": "x", "by": "y"}), r"record 1: supersedes"),
    ]:
        with pytest.raises(ValueError, match=match):
            writer.append_many([("decision", {"decision": "ok"}), bad])
    assert sum(p.stat().st_size for p in _segments(audit_dir)) == size
    assert writer.append("decision", decision="after") == 2


def test_append_many_in_group_mode_from_many_threads_returns_every_seq_once(make_writer, audit_dir):
    writer = make_writer(durability="group")
    results: list[list[int]] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        for batch in range(10):
            seqs = writer.append_many(
                [("decision", {"decision": f"{worker}-{batch}-{i}"}) for i in range(20)]
            )
            with lock:
                results.append(seqs)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert sorted(s for seqs in results for s in seqs) == list(range(1, 801))
    assert all(seqs == list(range(seqs[0], seqs[0] + 20)) for seqs in results)  # contiguous
    by_seq = {r["seq"]: r.get("decision") for r in read_records(audit_dir)}
    for seqs in results:
        names = [by_seq[s] for s in seqs]
        assert [n.rsplit("-", 1)[0] for n in names] == [names[0].rsplit("-", 1)[0]] * 20
        assert [int(n.rsplit("-", 1)[1]) for n in names] == list(range(20))
    assert verify(audit_dir).ok
