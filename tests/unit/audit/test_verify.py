"""verify: the tamper matrix of AUDIT.md 5.10 with exit codes and reported seq; checkpoints."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from algowatch.audit import Checkpoint, FileAnchor, genesis_head, load_checkpoints, verify

N = 50


@pytest.fixture
def trail(make_writer, audit_dir, tmp_path) -> tuple[Path, Path]:
    """A closed trail of N decisions (seq 1..N), checkpoints every 20 records, anchored."""
    anchor = tmp_path / "anchor.jsonl"
    writer = make_writer(checkpoint_every_records=20, anchor=FileAnchor(anchor))
    for i in range(1, N + 1):
        writer.append("decision", decision=f"BUY {i} AAPL")
    writer.close()
    return audit_dir / "audit-20250102-000001.jsonl", anchor


def _lines(segment: Path) -> list[bytes]:
    return segment.read_bytes().splitlines(keepends=True)


def _offset_of(lines: list[bytes], index: int) -> int:
    return sum(len(line) for line in lines[:index])


def _rechain(lines: list[bytes], start: int = 0) -> list[bytes]:
    """Recompute every hash with plain SHA-256, as an attacker without a key would."""
    prev = genesis_head("default")
    out = []
    for line in lines:
        body = line[:-73] + b"}"
        digest = hashlib.sha256(prev + body).hexdigest()
        out.append(body[:-1] + b',"h":"' + digest.encode() + b'"}\n')
        prev = bytes.fromhex(digest)
    return out


def test_verify_given_untouched_trail_prints_fixed_report(trail, audit_dir, public_key):
    _segment, anchor = trail
    report = verify(audit_dir, public_key=public_key, anchor=anchor)
    text = report.to_text()
    assert report.exit_code == 0, text
    lines = text.splitlines()
    assert lines[0].startswith("audit-20250102-000001.jsonl  seq 0..50")
    assert lines[0].endswith("51 rec  active  tail=clean        OK")
    assert lines[1] == "fences: 0"
    assert lines[2].startswith("checkpoint: size=51 head=")
    assert "key=algowatch-audit  signature OK, consistent with previous (size 40)" in lines[2]
    assert lines[3] == "anchor: external checkpoint size=51 head matches"
    assert lines[4] == "unanchored: 0 records"
    assert lines[5].startswith("RESULT: OK  records=51 segments=1 fences=0  verified in ")


def test_tamper_byte_flip_exits_1_naming_offset_and_seq(trail, audit_dir):
    segment, _ = trail
    lines = _lines(segment)
    lines[10] = lines[10].replace(b"BUY 10 AAPL", b"BUY 90 AAPL")
    segment.write_bytes(b"".join(lines))
    report = verify(audit_dir)
    assert report.exit_code == 1
    assert report.first_problem_seq == 10
    offset = _offset_of(lines, 10)
    assert f"CORRUPTION audit-20250102-000001.jsonl @{offset} seq 10: hash mismatch" in (
        report.to_text()
    )


def test_tamper_delete_exits_1_at_the_following_record(trail, audit_dir):
    segment, _ = trail
    lines = _lines(segment)
    del lines[10]
    segment.write_bytes(b"".join(lines))
    report = verify(audit_dir)
    assert (report.exit_code, report.first_problem_seq) == (1, 11)


def test_tamper_swap_exits_1(trail, audit_dir):
    segment, _ = trail
    lines = _lines(segment)
    lines[10], lines[11] = lines[11], lines[10]
    segment.write_bytes(b"".join(lines))
    report = verify(audit_dir)
    assert (report.exit_code, report.first_problem_seq) == (1, 11)


def test_tamper_truncate_exits_2_with_anchor(trail, audit_dir):
    """Cutting whole records and the local checkpoints is only caught by the anchor."""
    segment, anchor = trail
    lines = _lines(segment)
    segment.write_bytes(b"".join(lines[:31]))
    (audit_dir / "checkpoints.jsonl").write_bytes(
        (audit_dir / "checkpoints.jsonl").read_bytes().splitlines(keepends=True)[0]
    )
    assert verify(audit_dir).exit_code == 0  # without an anchor nothing can tell
    report = verify(audit_dir, anchor=anchor)
    assert report.exit_code == 2
    assert "TRUNCATED: 31 records < anchored 51" in report.to_text()
    assert report.first_problem_seq == 31


def test_tamper_recompute_exits_2_with_anchor(trail, audit_dir):
    segment, anchor = trail
    lines = _lines(segment)
    lines[10] = lines[10].replace(b"BUY 10 AAPL", b"BUY 90 AAPL")
    segment.write_bytes(b"".join(_rechain(lines)))
    (audit_dir / "checkpoints.jsonl").unlink()
    assert verify(audit_dir).exit_code == 0  # a consistent rewrite needs an anchor or a key
    report = verify(audit_dir, anchor=anchor)
    assert report.exit_code == 2
    assert "ALTERED: head at 51 != anchored" in report.to_text()
    assert report.first_problem_seq == 50


def test_tamper_recompute_exits_1_with_hmac(make_writer, audit_dir):
    writer = make_writer(hmac_key=b"secret-key-off-host")
    for i in range(1, 11):
        writer.append("decision", decision=f"BUY {i} AAPL")
    writer.close()
    segment = audit_dir / "audit-20250102-000001.jsonl"
    lines = _lines(segment)
    lines[5] = lines[5].replace(b"BUY 5 AAPL", b"BUY 9 AAPL")
    segment.write_bytes(b"".join(_rechain(lines)))
    report = verify(audit_dir, hmac_key=b"secret-key-off-host")
    assert (report.exit_code, report.first_problem_seq) == (1, 0)


def test_tamper_recompute_exits_2_against_local_signed_checkpoint(trail, audit_dir):
    segment, _ = trail
    lines = _lines(segment)
    lines[10] = lines[10].replace(b"BUY 10 AAPL", b"BUY 90 AAPL")
    segment.write_bytes(b"".join(_rechain(lines)))
    report = verify(audit_dir)
    assert report.exit_code == 2
    assert "ALTERED: head at 20 != checkpoint" in report.to_text()


def test_forged_checkpoint_signature_exits_4(trail, audit_dir, public_key):
    path = audit_dir / "checkpoints.jsonl"
    rows = [json.loads(line) for line in path.read_bytes().splitlines()]
    forged = Checkpoint.from_json(rows[-1])
    other = Ed25519PrivateKey.generate()
    path.write_bytes(
        b"".join(json.dumps(r).encode() + b"\n" for r in rows[:-1])
        + forged.signed(other, "algowatch-audit").to_json()
    )
    assert verify(audit_dir).exit_code == 0  # self-asserted key: integrity only
    report = verify(audit_dir, public_key=public_key)
    assert report.exit_code == 4
    assert "BAD SIGNATURE: checkpoint size=51" in report.to_text()


def test_checkpoint_with_edited_size_keeps_signature_and_exits_4(trail, audit_dir):
    path = audit_dir / "checkpoints.jsonl"
    rows = [json.loads(line) for line in path.read_bytes().splitlines()]
    rows[-1]["note"] = rows[-1]["note"].replace("\n51\n", "\n50\n", 1)
    rows[-1]["size"] = 50
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in rows))
    assert verify(audit_dir).exit_code == 4


def test_rolled_back_checkpoint_exits_4(trail, audit_dir, public_key):
    path = audit_dir / "checkpoints.jsonl"
    first = path.read_bytes().splitlines(keepends=True)[0]
    with path.open("ab") as fh:
        fh.write(first)
    report = verify(audit_dir, public_key=public_key)
    assert report.exit_code == 4
    assert "INCONSISTENT: checkpoint size=20 is older than previous size=51" in report.to_text()


def test_checkpoints_are_signed_and_consistent(trail, audit_dir, public_key):
    checkpoints = load_checkpoints(audit_dir / "checkpoints.jsonl")
    assert [c.size for c in checkpoints] == [20, 40, 51]
    assert all(c.signature_ok(public_key) for c in checkpoints)
    note = checkpoints[-1].note()
    assert note.splitlines()[:2] == ["algowatch/audit/default/v1", "51"]
    assert note.splitlines()[-1].startswith("\u2014 algowatch-audit ")


def test_verify_given_missing_directory_exits_64(tmp_path):
    assert verify(tmp_path / "nope").exit_code == 64
    assert verify(tmp_path).exit_code == 64
