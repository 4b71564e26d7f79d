"""IngestPipeline: bounded pending events, group commit, journal order = apply order."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from algowatch.errors import JournalError, ServiceUnavailableError
from algowatch.events import Event, Heartbeat, encode_event, encode_events
from algowatch.journal import open_journal
from algowatch.monitor import Monitor
from algowatch.server import create_app, render_snapshot
from algowatch.server._pipeline import (
    ENGINE_ERROR,
    IngestPipeline,
    IngestResult,
    store_unavailable,
)
from algowatch.settings import JournalSettings
from algowatch.testing import EventFactory, FakeClock

from .conftest import LOOPBACK, make_settings, state


def test_batch_beyond_the_pending_limit_is_refused_with_503(
    tmp_path: Path, factory: EventFactory
) -> None:
    """While one batch waits for the journal, a batch that does not fit is refused."""

    async def main() -> list[object]:
        with open_journal(JournalSettings(), tmp_path) as journal:
            monitor = Monitor()
            pipeline = IngestPipeline(journal, monitor, max_pending_events=3)
            pipeline.start()
            first = [factory.mark("AAPL", 1.0), factory.mark("AAPL", 2.0)]
            second = [factory.mark("AAPL", 3.0), factory.mark("AAPL", 4.0)]
            results = await asyncio.gather(
                pipeline.submit(first), pipeline.submit(second), return_exceptions=True
            )
            assert pipeline.pending_events == 0
            # once the first is durable there is room again
            results.append(await pipeline.submit(second))
            await pipeline.stop()
            results.append(monitor.figures().events_applied)
            results.append(pipeline.stats.rejected_busy)
            return results

    first, refused, retried, applied, busy = asyncio.run(main())
    assert first == IngestResult(2, 2, [])
    assert isinstance(refused, ServiceUnavailableError)
    assert str(refused) == "the journal is behind: 2 events pending, limit 3; retry later"
    assert retried == IngestResult(2, 2, [])
    assert (applied, busy) == (4, 1)


def test_a_batch_larger_than_the_limit_is_accepted_when_nothing_is_pending(
    tmp_path: Path, factory: EventFactory
) -> None:
    """The limit bounds the queue, it does not forbid a large batch on an idle service."""

    async def main() -> IngestResult:
        with open_journal(JournalSettings(), tmp_path) as journal:
            pipeline = IngestPipeline(journal, Monitor(), max_pending_events=1)
            pipeline.start()
            result = await pipeline.submit([factory.mark("A", 1.0 + i) for i in range(5)])
            await pipeline.stop()
            return result

    assert asyncio.run(main()) == IngestResult(5, 5, [])


def test_concurrent_batches_share_commits_and_apply_in_journal_order(
    tmp_path: Path, factory: EventFactory
) -> None:
    """Queued batches are grouped; the Monitor sees events in the journal's order."""

    async def main() -> tuple[list[str | None], list[str | None], int]:
        with open_journal(JournalSettings(), tmp_path) as journal:
            seen: list[str | None] = []

            class Recording(Monitor):
                def apply(self, event: Event) -> bool:
                    seen.append(event.event_id)
                    return super().apply(event)

            monitor = Recording()
            pipeline = IngestPipeline(journal, monitor, max_pending_events=10_000)
            pipeline.start()
            batches = [[factory.mark("A", 1.0 + i) for i in range(10)] for _ in range(20)]
            await asyncio.gather(*(pipeline.submit(b) for b in batches))
            await pipeline.stop()
            stored = [e.event_id for e in journal.replay()]
            return seen, stored, pipeline.stats.groups

    seen, stored, groups = asyncio.run(main())
    assert seen == stored
    assert len(stored) == 200
    assert groups < 20


def test_a_large_batch_is_applied_in_chunks_with_the_loop_free_in_between(
    tmp_path: Path, factory: EventFactory
) -> None:
    """Reads and probes run while a large batch is applied, between two chunks of events."""

    async def main() -> tuple[IngestResult, list[int], int]:
        with open_journal(JournalSettings(), tmp_path) as journal:
            monitor = Monitor()
            pipeline = IngestPipeline(journal, monitor, max_pending_events=10_000)
            pipeline.start()
            batch = [factory.mark("A", 1.0 + i) for i in range(1000)]
            observed: list[int] = []

            async def probe() -> None:  # what a /health or snapshot request sees meanwhile
                while not observed or observed[-1] < len(batch):
                    observed.append(monitor.figures().events_applied)
                    await asyncio.sleep(0)

            task = asyncio.create_task(probe())
            result = await pipeline.submit(batch)
            await task
            await pipeline.stop()
            return result, observed, monitor.figures().events_applied

    result, observed, applied = asyncio.run(main())
    assert result == IngestResult(1000, 1000, [])
    assert applied == 1000
    # the probe saw the batch part-applied: the loop was not held for the whole batch
    partial = sorted({n for n in observed if 0 < n < 1000})
    assert partial, observed
    # and never more than one chunk at a time (the chunk is 256 events)
    steps = [b - a for a, b in zip([0, *partial], [*partial, 1000], strict=True)]
    assert max(steps) <= 256, steps


def test_submit_after_stop_is_refused(tmp_path: Path, factory: EventFactory) -> None:
    async def main() -> None:
        with open_journal(JournalSettings(), tmp_path) as journal:
            pipeline = IngestPipeline(journal, Monitor(), max_pending_events=10)
            pipeline.start()
            await pipeline.stop()
            with pytest.raises(ServiceUnavailableError, match="the service is shutting down"):
                await pipeline.submit([factory.mark("A", 1.0)])

    asyncio.run(main())


# --------------------------------------------------------------------------- isolation


def test_a_batch_the_journal_refuses_fails_alone_within_its_group(
    tmp_path: Path, factory: EventFactory
) -> None:
    """Poison that bypassed the validator fails only its own batch; the group's others commit.

    The poisons are real journal failures: a ts beyond SQLite's INTEGER and a lone
    surrogate that cannot be encoded as UTF-8.
    """

    async def main() -> tuple[list[object], list[str | None], list[str | None], int]:
        with open_journal(JournalSettings(), tmp_path) as journal:
            seen: list[str | None] = []

            class Recording(Monitor):
                def apply(self, event: Event) -> bool:
                    seen.append(event.event_id)
                    return super().apply(event)

            pipeline = IngestPipeline(journal, Recording(), max_pending_events=10_000)
            pipeline.start()
            batches: list[list[Event]] = [[factory.mark("A", 1.0 + i)] for i in range(6)]
            batches[1] = [factory.heartbeat(), Heartbeat(ts=2**63, component="c")]
            batches[4] = [Heartbeat(ts=1, component="\ud800")]
            results = await asyncio.gather(
                *(pipeline.submit(b) for b in batches), return_exceptions=True
            )
            await pipeline.stop()
            stored = [e.event_id for e in journal.replay()]
            return results, seen, stored, pipeline.stats.isolated_groups

    results, seen, stored, isolated = asyncio.run(main())
    assert [type(r).__name__ for r in results] == [
        "IngestResult",
        "JournalError",
        "IngestResult",
        "IngestResult",
        "JournalError",
        "IngestResult",
    ]
    assert str(results[1]).startswith("the journal refused this batch (OverflowError(")
    assert str(results[1]).endswith(
        "nothing of it was stored or applied, and resending it unchanged will fail again"
    )
    assert isolated == 1
    assert len(stored) == 4
    assert seen == stored


def test_an_unavailable_journal_fails_the_group_with_503_without_retrying_each_batch(
    tmp_path: Path, factory: EventFactory
) -> None:
    """A closed journal is "unavailable right now": every batch gets 503, none is retried."""

    async def main() -> tuple[list[object], int]:
        journal = open_journal(JournalSettings(), tmp_path)
        journal.close()
        pipeline = IngestPipeline(journal, Monitor(), max_pending_events=10_000)
        pipeline.start()
        results = await asyncio.gather(
            *(pipeline.submit([factory.mark("A", 1.0)]) for _ in range(3)),
            return_exceptions=True,
        )
        await pipeline.stop()
        return results, pipeline.stats.isolated_groups

    results, isolated = asyncio.run(main())
    assert all(isinstance(r, ServiceUnavailableError) for r in results)
    assert str(results[0]).startswith("the journal is unavailable (journal ")
    assert isolated == 0


def _wrapped(cause: BaseException) -> JournalError:
    try:
        raise JournalError("cannot append") from cause
    except JournalError as exc:
        return exc


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (ServiceUnavailableError("down"), True),
        (JournalError("journal x is closed"), True),
        (_wrapped(sqlite3.OperationalError("database is locked")), True),
        (_wrapped(psycopg.OperationalError("server closed the connection")), True),
        (_wrapped(psycopg.errors.AdminShutdown("terminating connection")), True),
        (_wrapped(psycopg.InterfaceError("the connection is closed")), True),
        (_wrapped(OSError(28, "No space left on device")), True),
        (_wrapped(psycopg.DataError("PostgreSQL text fields cannot contain NUL")), False),
        (_wrapped(psycopg.errors.UniqueViolation("duplicate key")), False),
        (_wrapped(sqlite3.IntegrityError("UNIQUE constraint failed")), False),
        (_wrapped(sqlite3.InterfaceError("bad parameter")), False),
        (OverflowError("Python int too large to convert to SQLite INTEGER"), False),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), False),
    ],
)
def test_store_unavailable_separates_transient_failures_from_refused_data(
    error: Exception, unavailable: bool
) -> None:
    """Only connection/storage trouble is 'retry later'; a data error is the batch's own."""
    assert store_unavailable(error) is unavailable


# --------------------------------------------------------------------------- engine errors


class Exploding(Monitor):
    """A real Monitor whose apply raises for chosen event ids, before or after applying."""

    def apply(self, event: Event) -> bool:
        if event.event_id == "boom-before":
            msg = "engine bug before any change"
            raise RuntimeError(msg)
        applied = super().apply(event)
        if event.event_id == "boom-after":
            msg = "engine bug after the change"
            raise ZeroDivisionError(msg)
        return applied


def test_an_event_the_engine_raises_on_is_quarantined_and_ingest_goes_on(
    tmp_path: Path, factory: EventFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The batch is accepted (journaled), the event counted as engine_error, later ones apply."""

    async def main() -> tuple[IngestResult, IngestResult, Monitor, int]:
        with open_journal(JournalSettings(), tmp_path) as journal:
            monitor = Exploding()
            pipeline = IngestPipeline(journal, monitor, max_pending_events=10_000)
            pipeline.start()
            first = await pipeline.submit(
                [factory.heartbeat(event_id="boom-before"), factory.mark("A", 1.0)]
            )
            second = await pipeline.submit([factory.mark("A", 2.0)])
            await pipeline.stop()
            return first, second, monitor, pipeline.stats.apply_failures

    first, second, monitor, failures = asyncio.run(main())
    assert (first.accepted, second.accepted, failures) == (2, 1, 1)
    snapshot = render_snapshot(monitor.figures())
    assert snapshot["anomalies"][ENGINE_ERROR] == 1
    assert snapshot["events_applied"] == 2
    quarantined = [r for r in caplog.records if "quarantined" in r.getMessage()]
    assert len(quarantined) == 1
    assert quarantined[0].getMessage() == (
        "event quarantined: the engine raised RuntimeError('engine bug before any change') "
        "applying heartbeat event 'boom-before' (counted as anomaly engine_error)"
    )


def test_a_restart_replays_quarantined_events_to_the_identical_state(
    tmp_path: Path, clock: FakeClock, factory: EventFactory
) -> None:
    """Live and replay share one engine-error policy: the restarted service has the same state."""
    settings = make_settings(tmp_path / "data")
    batches = [
        [factory.submitted("o1", "AAPL", "buy", 10, event_id="s1")],
        [factory.filled("o1", 10, 100.0, event_id="boom-after"), factory.mark("AAPL", 101.0)],
        [factory.heartbeat(event_id="boom-before")],
        [factory.mark("AAPL", 102.0), factory.heartbeat("feed")],
    ]
    with TestClient(
        create_app(settings, clock=clock, monitor=Exploding()), base_url=LOOPBACK
    ) as client:
        for batch in batches:
            response = client.post(
                "/api/v1/events",
                content=encode_events(batch),
                headers={"content-type": "application/x-ndjson"},
            )
            assert response.status_code == 202, response.text
        live = state(client)
    with TestClient(
        create_app(settings, clock=clock, monitor=Exploding()), base_url=LOOPBACK
    ) as client:
        restarted = state(client)
        # 6 journaled; the 2 quarantined ones are not counted as replayed
        assert client.app.state.service.replayed_events == 4  # type: ignore[attr-defined]
        samples = {
            (sample.name, sample.labels.get("kind")): sample.value
            for family in text_string_to_metric_families(client.get("/metrics").text)
            for sample in family.samples
        }
        assert samples[("algowatch_anomalies_total", ENGINE_ERROR)] == 2
    assert live["anomalies"] == {ENGINE_ERROR: 2}
    assert live["events_applied"] == 5
    assert restarted == live


def test_a_group_journals_each_batch_payloads_as_received_and_encodes_the_rest(
    tmp_path: Path, factory: EventFactory
) -> None:
    """Batches with and without payloads share a group (and its isolation retry) unmixed."""

    a1, a2, b, c, d, e = (factory.mark(s, 1.0 + i) for i, s in enumerate("AABCDE"))
    received = [b" " + encode_event(a1) + b" ", b"\t" + encode_event(c), b"\r" + encode_event(e)]

    async def main() -> tuple[list[object], list[bytes]]:
        with open_journal(JournalSettings(), tmp_path) as journal:
            pipeline = IngestPipeline(journal, Monitor(), max_pending_events=10_000)
            pipeline.start()
            poison = [Heartbeat(ts=2**63, component="c")]  # fails the group: isolation path
            results = await asyncio.gather(
                pipeline.submit([a1, a2], [received[0], None]),
                pipeline.submit([b]),
                pipeline.submit(poison, [b"{}"]),
                pipeline.submit([c], [received[1]]),
                return_exceptions=True,
            )
            # and a group that commits at once
            results += await asyncio.gather(
                pipeline.submit([d]), pipeline.submit([e], [received[2]])
            )
            with pytest.raises(ValueError, match=r"^payloads must be one per event \(1\)"):
                await pipeline.submit([factory.mark("D", 5.0)], [])
            await pipeline.stop()
        with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
            stored = [r[0] for r in db.execute("SELECT payload FROM events ORDER BY seq")]
        return results, stored

    results, stored = asyncio.run(main())
    assert [type(r).__name__ for r in results] == [
        "IngestResult",
        "IngestResult",
        "JournalError",
        "IngestResult",
        "IngestResult",
        "IngestResult",
    ]
    assert stored == [
        received[0],
        encode_event(a2),
        encode_event(b),
        received[1],
        encode_event(d),
        received[2],
    ]
