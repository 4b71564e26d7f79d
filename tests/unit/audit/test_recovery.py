"""Recovery: torn tails are fenced exactly once; damage before the watermark refuses to start."""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import stat
from pathlib import Path

import pytest

from algowatch.audit import AuditWriter, read_records, verify
from algowatch.errors import AuditCorruptionError

SEGMENT = "audit-20250102-000001.jsonl"


def _digest_tree(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


@pytest.fixture
def crashed(make_writer, audit_dir, tmp_path) -> Path:
    """A crash-time copy: seq 0..5, a checkpoint after seq 3 (watermark), no clean shutdown."""
    writer = make_writer()
    for i in range(1, 4):
        writer.append("decision", decision=f"BUY {i}")
    writer.checkpoint()
    for i in range(4, 6):
        writer.append("decision", decision=f"BUY {i}")
    copy = tmp_path / "crashed"
    shutil.copytree(audit_dir, copy)
    return copy


def _recover_and_check(directory: Path, make_writer, *, fences: int, acked: int) -> None:
    writer = make_writer(directory)
    writer.close()
    report = verify(directory)
    assert report.exit_code == 0, report.to_text()
    assert len(report.fences) == fences, report.to_text()
    decisions = [r["decision"] for r in read_records(directory) if r["kind"] == "decision"]
    assert decisions[:acked] == [f"BUY {i}" for i in range(1, acked + 1)]
    # a second start finds nothing new to fence
    make_writer(directory).close()
    assert len(verify(directory).fences) == fences


def test_torn_tail_given_every_truncation_point_of_last_record_fences_once(
    crashed, make_writer, tmp_path
):
    data = (crashed / SEGMENT).read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    for cut in range(last_start, len(data)):
        state = tmp_path / f"cut-{cut}"
        shutil.copytree(crashed, state)
        (state / SEGMENT).write_bytes(data[:cut])
        # cut == len - 1 lacks only the newline: the record is completed, not fenced
        fences = 0 if cut in (last_start, len(data) - 1) else 1
        if cut > last_start:
            assert verify(state).exit_code == 3  # unfenced torn tail before the writer runs
        _recover_and_check(state, make_writer, fences=fences, acked=4)
        shutil.rmtree(state)
    assert len(data) - last_start > 200


@pytest.mark.parametrize("nul_bytes", [1, 512, 4096])
@pytest.mark.parametrize("partial", [False, True])
def test_torn_tail_given_nul_run_fences_once(crashed, make_writer, nul_bytes, partial):
    path = crashed / SEGMENT
    data = path.read_bytes()
    if partial:
        data = data[:-40]  # the last record is torn, then the unwritten pages read as zeros
    path.write_bytes(data + b"\0" * nul_bytes)
    _recover_and_check(crashed, make_writer, fences=1, acked=4)


def test_torn_tail_given_page_reordered_group_batches_never_reports_corruption(
    make_writer, audit_dir, tmp_path
):
    """Enumerate crash states of an in-flight batch: any subset of its 4 KiB pages lost."""
    writer = make_writer(durability="group")
    writer.append("decision", decision="acked", pad="x" * 1500)
    acked_size = (audit_dir / SEGMENT).stat().st_size
    for i in range(3):
        writer.append("decision", decision=f"in flight {i}", pad="y" * 2500)
    full = (audit_dir / SEGMENT).read_bytes()
    first_page = acked_size // 4096
    pages = list(range(first_page, (len(full) + 4095) // 4096))
    states = 0
    for length in sorted({min(len(full), (p + 1) * 4096) for p in pages} | {len(full)}):
        covered = [p for p in pages if p * 4096 < length]
        for lost_count in range(len(covered) + 1):
            for lost in itertools.combinations(covered, lost_count):
                buf = bytearray(full[:length])
                for p in lost:
                    lo, hi = max(p * 4096, acked_size), min((p + 1) * 4096, length)
                    buf[lo:hi] = b"\0" * max(0, hi - lo)
                state = tmp_path / f"s{states}"
                state.mkdir()
                (state / SEGMENT).write_bytes(bytes(buf))
                with AuditWriter(state, state_providers={}) as recovered:
                    assert recovered.state == "ok"
                report = verify(state)
                assert report.exit_code == 0, report.to_text()
                assert len(report.fences) <= 1
                kept = [r.get("decision") for r in read_records(state)]
                assert "acked" in kept
                shutil.rmtree(state)
                states += 1
    assert states >= 8


def test_damage_before_watermark_refuses_to_start_and_changes_nothing(crashed):
    path = crashed / SEGMENT
    path.write_bytes(path.read_bytes().replace(b"BUY 2", b"BUY 7"))
    before = _digest_tree(crashed)
    with pytest.raises(AuditCorruptionError, match=r"CORRUPTION audit-20250102-000001\.jsonl @\d+"):
        AuditWriter(crashed, state_providers={})
    assert _digest_tree(crashed) == before


def test_truncation_before_watermark_refuses_to_start_and_changes_nothing(crashed):
    path = crashed / SEGMENT
    data = path.read_bytes()
    second = data.find(b'{"seq":2,')
    path.write_bytes(data[: second + 30])
    before = _digest_tree(crashed)
    with pytest.raises(AuditCorruptionError, match="damage before the checkpoint watermark"):
        AuditWriter(crashed, state_providers={})
    assert _digest_tree(crashed) == before


def test_complete_bad_line_after_watermark_is_corruption_not_a_torn_tail(crashed):
    """A tear never produces a whole JSON line with a wrong hash followed by valid records."""
    path = crashed / SEGMENT
    path.write_bytes(path.read_bytes().replace(b"BUY 4", b"BUY 8"))
    before = _digest_tree(crashed)
    with pytest.raises(AuditCorruptionError, match="seq 4: hash mismatch"):
        AuditWriter(crashed, state_providers={})
    assert _digest_tree(crashed) == before
    assert verify(crashed).exit_code == 1


STEPS = ["segment_end", "segment_created", "segment_start", "fsynced", "checkpoint"]


@pytest.mark.parametrize("step", STEPS)
def test_rotation_crash_after_each_step_recovers_with_continuous_chain(
    make_writer, audit_dir, clock, tmp_path, monkeypatch, step
):
    writer = make_writer()
    for i in range(3):
        writer.append("decision", decision=f"day one {i}")
    clock.set("2025-01-03T00:00:01Z")

    def crash(name: str) -> None:
        if name == step:
            raise RuntimeError(f"crash after {name}")

    writer._after_step = crash  # fault injection at the rotation step
    with pytest.raises(RuntimeError, match=f"crash after {step}"):
        writer.append("decision", decision="day two")
    copy = tmp_path / "crashed"
    shutil.copytree(audit_dir, copy)

    synced_dirs: list[int] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            synced_dirs.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    resumed = make_writer(copy)
    seq = resumed.append("decision", decision="resumed")
    resumed.close()
    assert synced_dirs, "the directory was never fsynced"
    report = verify(copy)
    assert report.exit_code == 0, report.to_text()
    records = list(read_records(copy))
    assert [r["seq"] for r in records] == list(range(seq + 1))
    kinds = [r["kind"] for r in records]
    assert kinds[4:6] == ["segment_end", "segment_start"]
    assert [s.name for s in report.segments] == [SEGMENT, "audit-20250103-000002.jsonl"]
    assert report.segments[0].sealed
