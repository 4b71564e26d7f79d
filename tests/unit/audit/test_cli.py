"""``algowatch audit verify|export|append``: output, exit codes, corrections with originals."""

from __future__ import annotations

import io
import json
import select
import subprocess
import sys

import pytest

from algowatch.audit import read_records, verify
from algowatch.cli import main


@pytest.fixture
def stdin(monkeypatch):
    def feed(text: str) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))

    return feed


def test_append_prints_each_seq_then_verify_and_export(tmp_path, stdin, capsys):
    directory = tmp_path / "audit"
    stdin(
        '{"kind":"decision","decision_type":"order_submit","decision":"BUY 100 AAPL"}\n'
        "\n"
        '{"kind":"correction","supersedes":1,"reason":"wrong size","by":"alice",'
        '"decision":"BUY 10 AAPL"}\n'
    )
    assert main(["audit", "append", str(directory)]) == 0
    assert capsys.readouterr().out == "1\n2\n"

    assert main(["audit", "verify", str(directory)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[-1].startswith("RESULT: OK  records=3 segments=1 fences=0")

    assert main(["audit", "verify", str(directory), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["result"], report["exit_code"], report["records"]) == ("OK", 0, 3)

    assert main(["audit", "export", str(directory)]) == 0
    lines = capsys.readouterr().out.splitlines()
    original = next(i for i, line in enumerate(lines) if "decision=BUY 100 AAPL" in line)
    assert lines[original + 1].strip().startswith("superseded by seq 2 at ")
    assert lines[original + 1].endswith(": wrong size (by alice)")
    assert lines[-1].strip().startswith("corrects seq 1: decision  decision_type=order_submit")

    assert main(["audit", "export", str(directory), "--format", "json"]) == 0
    items = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert items[1]["superseded_by"] == [2]
    assert items[2]["supersedes"]["decision"] == "BUY 100 AAPL"
    assert items[2]["record"]["decision"] == "BUY 10 AAPL"


def test_verify_given_corruption_exits_1_with_the_failure_line(tmp_path, stdin, capsys):
    directory = tmp_path / "audit"
    stdin('{"kind":"decision","decision":"BUY 1"}\n{"kind":"decision","decision":"BUY 2"}\n')
    assert main(["audit", "append", str(directory)]) == 0
    segment = next(directory.glob("audit-*.jsonl"))
    segment.write_bytes(segment.read_bytes().replace(b"BUY 1", b"BUY 7"))
    capsys.readouterr()
    assert main(["audit", "verify", str(directory)]) == 1
    out = capsys.readouterr().out
    assert "seq 1: hash mismatch" in out
    assert "RESULT: CORRUPTION" in out


def test_verify_given_missing_directory_exits_64(tmp_path, capsys):
    assert main(["audit", "verify", str(tmp_path / "missing")]) == 64
    assert "is not a directory" in capsys.readouterr().out


def test_append_given_bad_line_is_a_usage_error(tmp_path, stdin, capsys):
    stdin('{"kind":"decision","decision":"ok"}\nnot json\n')
    assert main(["audit", "append", str(tmp_path / "audit")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "1\n"
    assert "stdin line 2: not JSON" in captured.err


def _append_process(directory, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "algowatch", "audit", "append", str(directory), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("durability", ["sync", "group"])
def test_append_given_a_pipe_of_many_records_acks_each_in_order(tmp_path, durability):
    """Records that arrive together are appended together; each seq is printed, in order."""
    directory = tmp_path / "audit"
    lines = b"".join(
        json.dumps({"kind": "decision", "decision": f"BUY {i}"}).encode() + b"\n"
        for i in range(3000)
    )
    with _append_process(directory, "--durability", durability) as process:
        out, err = process.communicate(lines, timeout=60)
    assert process.returncode == 0, err
    assert out.decode().split() == [str(i) for i in range(1, 3001)]
    records = [r for r in read_records(directory) if r["kind"] == "decision"]
    assert [r["decision"] for r in records] == [f"BUY {i}" for i in range(3000)]
    assert verify(directory).ok


def test_append_acknowledges_a_lone_line_without_waiting_for_more(tmp_path):
    """A script that writes one record and waits for its seq is answered (no batching stall)."""
    with _append_process(tmp_path / "audit", "--durability", "group") as process:
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            for expected in (1, 2):
                process.stdin.write(b'{"kind":"decision","decision":"one at a time"}\n')
                process.stdin.flush()
                ready, _, _ = select.select([process.stdout], [], [], 20)
                assert ready, "no acknowledgement within 20 s"
                assert process.stdout.readline() == f"{expected}\n".encode()
        finally:
            process.stdin.close()
            process.wait(timeout=20)
    assert process.returncode == 0
