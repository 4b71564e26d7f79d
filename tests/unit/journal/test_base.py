"""Group commit: batches are bounded, callers get their own results, errors reach them all."""

from __future__ import annotations

import threading
import time

import pytest

from algowatch.journal._base import JournalRow, _GroupCommitter, dedupe


def rows(prefix: str, count: int) -> list[JournalRow]:
    return [(f"{prefix}-{i}", "heartbeat", i, b"{}") for i in range(count)]


def test_dedupe_refuses_known_and_repeated_ids_but_not_anonymous_rows() -> None:
    """Known ids and ids seen earlier in the batch are duplicates; rows without id never."""
    batch: list[JournalRow] = [
        ("a", "heartbeat", 1, b"1"),
        ("b", "heartbeat", 2, b"2"),
        ("a", "heartbeat", 3, b"3"),
        (None, "heartbeat", 4, b"4"),
        (None, "heartbeat", 4, b"4"),
    ]
    flags, new_rows = dedupe(batch, {"b"})
    assert flags == [True, False, False, True, True]
    assert new_rows == [batch[0], batch[3], batch[4]]


def test_group_commit_batches_concurrent_callers_within_max_events() -> None:
    """Concurrent callers share commits; no commit exceeds max_events; each gets its flags."""
    written: list[int] = []

    def write(batch: list[JournalRow]) -> list[bool]:
        # the first commit lasts until the seven other callers queued behind it
        deadline = time.monotonic() + 10
        while not written and len(committer._queue) < 7 and time.monotonic() < deadline:
            time.sleep(0.001)
        written.append(len(batch))
        return [row[2] % 2 == 0 for row in batch]

    committer = _GroupCommitter(write, max_delay_seconds=0.05, max_events=10)
    results: dict[int, list[bool]] = {}

    def caller(number: int) -> None:
        results[number] = committer.submit(rows(f"c{number}", 3))

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(written) == 24
    assert max(written) <= 10  # whole requests of 3 rows: at most 3 requests per commit
    assert written[0] == 3  # the first caller committed alone, then 7 callers queued
    assert written[1:] == [9, 9, 3]  # whole requests, at most 10 rows per commit
    assert results == {n: [True, False, True] for n in range(8)}


def test_group_commit_given_request_above_max_events_commits_it_whole() -> None:
    """A single call is never split across commits, even when larger than max_events."""
    written: list[int] = []

    def write(batch: list[JournalRow]) -> list[bool]:
        written.append(len(batch))
        return [True] * len(batch)

    committer = _GroupCommitter(write, max_delay_seconds=0.0, max_events=5)
    assert committer.submit(rows("big", 12)) == [True] * 12
    assert written == [12]


def test_group_commit_given_failed_write_raises_in_caller_and_recovers() -> None:
    """A failed commit raises in its callers; the next commit works again."""
    fail = [True]

    def write(batch: list[JournalRow]) -> list[bool]:
        if fail.pop() if fail else False:
            msg = "disk full"
            raise OSError(msg)
        return [True] * len(batch)

    committer = _GroupCommitter(write, max_delay_seconds=0.0, max_events=5)
    with pytest.raises(OSError, match=r"^disk full$"):
        committer.submit(rows("x", 2))
    assert committer.submit(rows("y", 2)) == [True, True]
