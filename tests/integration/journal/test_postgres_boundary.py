"""The ingest boundary against the real PostgreSQL journal on 127.0.0.1:5432.

What the decoders accept, PostgreSQL stores and gives back exactly as SQLite does (the two
journals must not disagree on what they accept). A fresh database per module (dropped at
the end) and a fresh schema per test.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algowatch.errors import InvalidEventError, JournalError
from algowatch.events import Event, Heartbeat, decode_batch, decode_event, encode_event
from algowatch.journal import PostgresJournal, SqliteJournal

from ... import hostile_kit

pytestmark = pytest.mark.integration


def _accepted(data: bytes) -> list[Event]:
    events: list[Event] = []
    with contextlib.suppress(InvalidEventError):
        events.append(decode_event(data))
    events.extend(decode_batch(b"[" + data + b"]").events)
    return events


def test_every_accepted_hostile_event_round_trips_through_postgres_and_sqlite(
    dsn: str, tmp_path: Path
) -> None:
    """Both journals store every accepted event and replay it unchanged, in the same order."""
    counts = {"accepted": 0, "rejected": 0}
    with (
        PostgresJournal(dsn, durability="event") as postgres,
        SqliteJournal(tmp_path / "j.sqlite3", durability="event") as sqlite,
    ):

        @given(hostile_kit.hostile_object(), st.booleans())
        def check(obj: object, ascii_only: bool) -> None:
            events = _accepted(hostile_kit.encode_hostile(obj, ascii_only))
            counts["accepted" if events else "rejected"] += 1
            for event in events:
                assert decode_event(encode_event(event)) == event
                assert postgres.append([event]) == sqlite.append([event])

        check()
        assert list(postgres.replay()) == list(sqlite.replay())
    assert counts["accepted"] > 10
    assert counts["rejected"] > 10


@pytest.mark.parametrize(
    ("wire", "event"),
    [
        (
            b'{"type":"heartbeat","ts":"2300-01-01T00:00:00Z","component":"c"}',
            Heartbeat(ts=10_413_792_000 * 10**9, component="c"),
        ),
        (
            b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"\\ud800"}',
            Heartbeat(ts=1, component="\ud800"),
        ),
        (
            b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","event_id":"e\\u0000",'
            b'"component":"c"}',
            Heartbeat(ts=1, event_id="e\x00", component="c"),
        ),
    ],
    ids=["ts-2300", "lone-surrogate", "nul-in-event-id"],
)
def test_the_poisons_postgres_cannot_store_are_refused_by_the_validator(
    dsn: str, wire: bytes, event: Heartbeat
) -> None:
    """Each poison of issue 12 makes PostgreSQL fail when it bypasses the validator; it cannot."""
    with PostgresJournal(dsn, durability="event") as journal:
        with pytest.raises((JournalError, ValueError, OverflowError)):
            journal.append([event])
        assert journal.count() == 0 or all(e != event for e in journal.replay())
    with pytest.raises(InvalidEventError):
        decode_event(wire)


def test_a_batch_postgres_refuses_fails_alone_within_its_group(dsn: str) -> None:
    """Through the pipeline's group commit, a NUL id that bypassed the validator fails alone."""
    from algowatch.monitor import Monitor  # noqa: PLC0415
    from algowatch.server._pipeline import IngestPipeline  # noqa: PLC0415

    async def main() -> tuple[list[object], list[str | None], dict[str, int]]:
        with PostgresJournal(dsn, durability="group") as journal:
            monitor = Monitor()
            pipeline = IngestPipeline(journal, monitor, max_pending_events=10_000)
            pipeline.start()
            batches: list[list[Event]] = [
                [Heartbeat(ts=i + 1, event_id=f"group-{i}", component="c")] for i in range(5)
            ]
            batches[2] = [Heartbeat(ts=3, event_id="bad\x00id", component="c")]
            results = await asyncio.gather(
                *(pipeline.submit(b) for b in batches), return_exceptions=True
            )
            await pipeline.stop()
            stored = [e.event_id for e in journal.replay() if (e.event_id or "").startswith("g")]
            return results, stored, {"isolated": pipeline.stats.isolated_groups}

    results, stored, stats = asyncio.run(main())
    assert [type(r).__name__ for r in results] == [
        "IngestResult",
        "IngestResult",
        "JournalError",
        "IngestResult",
        "IngestResult",
    ]
    assert "resending it unchanged will fail again" in str(results[2])
    assert stored == ["group-0", "group-1", "group-3", "group-4"]
    assert stats == {"isolated": 1}
