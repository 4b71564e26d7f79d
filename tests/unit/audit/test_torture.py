"""Crash and concurrency torture: kill -9 with acks after fsync; several writer processes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from algowatch.audit import AuditWriter, read_records, verify

CHILD = r"""
import itertools, os, sys, threading, time
from algowatch.audit import AuditWriter

directory, split, first = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
durability, threads = sys.argv[4], int(sys.argv[5])
if split:
    # fault injection: every record is written in two halves with a pause between them
    real_write = os.write

    def split_write(fd, data):
        if len(data) > 64:
            written = real_write(fd, bytes(data[: len(data) // 2]))
            time.sleep(0.002)
            return written
        return real_write(fd, data)

    os.write = split_write
writer = AuditWriter(
    directory, durability=durability, state_providers={"clock": dict}, checkpoint_every_records=25
)
out = sys.stdout.buffer
out.write(b"ready\n")
out.flush()
names, lock = itertools.count(first), threading.Lock()

def produce():
    while True:
        with lock:
            n = next(names)
        seq = writer.append("decision", decision=f"n{n}")
        with lock:
            out.write(b"%d n%d\n" % (seq, n))  # the ack: only after append returned (fsync done)
            out.flush()

for _ in range(threads - 1):
    threading.Thread(target=produce, daemon=True).start()
produce()
"""

WORKER = r"""
import sys
from algowatch.audit import AuditWriter

directory, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with AuditWriter(directory, state_providers={"clock": dict}) as writer:
    for i in range(count):
        writer.append("decision", decision=f"{worker}-{i}")
"""


def _kill_rounds(
    directory: Path,
    rounds: int,
    *,
    split: bool,
    seed: int,
    durability: str = "sync",
    threads: int = 1,
) -> tuple[int, int]:
    rng = random.Random(seed)
    acked: dict[int, str] = {}
    fences = 0
    for _ in range(rounds):
        with subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                str(directory),
                "1" if split else "0",
                str(len(acked)),
                durability,
                str(threads),
            ],
            stdout=subprocess.PIPE,
        ) as child:
            assert child.stdout is not None
            assert child.stdout.readline() == b"ready\n"
            time.sleep(rng.uniform(0.01, 0.06))
            os.kill(child.pid, signal.SIGKILL)
            rest = child.stdout.read()
            child.wait()
        for line in rest.splitlines():
            seq, name = line.split()
            acked[int(seq)] = name.decode()
        before = len(verify(directory).fences)
        AuditWriter(directory, state_providers={"clock": dict}).close()
        report = verify(directory)
        assert report.exit_code == 0, report.to_text()
        fences += len(report.fences) - before
        stored = {r["seq"]: r.get("decision") for r in read_records(directory)}
        lost = {s: n for s, n in acked.items() if stored.get(s) != n}
        assert not lost, f"acknowledged records lost: {lost}"
    return len(acked), fences


@pytest.mark.parametrize("split", [False, True])
def test_kill9_loop_loses_no_acknowledged_record(tmp_path, split):
    """10 + 10 kill -9 rounds: every acked record survives; split writes leave torn tails."""
    acked, fences = _kill_rounds(tmp_path / "audit", 10, split=split, seed=7)
    assert acked > 0
    if split:
        assert fences >= 1


@pytest.mark.parametrize("split", [False, True])
def test_kill9_loop_given_group_mode_and_four_threads_loses_no_acknowledged_record(tmp_path, split):
    """Group commit: callers are acked after the batch fsync; a kill loses none of them."""
    acked, fences = _kill_rounds(
        tmp_path / "audit", 10, split=split, seed=5, durability="group", threads=4
    )
    assert acked > 0
    if split:
        assert fences >= 1


@pytest.mark.slow
@pytest.mark.parametrize("split", [False, True])
def test_kill9_loop_50_rounds_loses_no_acknowledged_record(tmp_path, split):
    acked, fences = _kill_rounds(tmp_path / "audit", 50, split=split, seed=11)
    assert acked > 0
    if split:
        assert fences >= 5


def test_four_processes_share_one_contiguous_chain(tmp_path):
    directory = tmp_path / "audit"
    AuditWriter(directory, state_providers={}).close()
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(directory), f"w{k}", "1000"])
        for k in range(4)
    ]
    assert [w.wait(timeout=240) for w in workers] == [0, 0, 0, 0]
    report = verify(directory)
    assert report.exit_code == 0, report.to_text()
    records = list(read_records(directory))
    assert [r["seq"] for r in records] == list(range(len(records)))
    decisions = Counter(r["decision"] for r in records if r["kind"] == "decision")
    assert len(decisions) == 4000
    assert set(decisions.values()) == {1}
    pids = {r["writer"]["pid"] for r in records if r["kind"] == "decision"}
    assert len(pids) == 4
