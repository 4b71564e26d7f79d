"""IngestPipeline: bounded pending events, group commit, journal order = apply order."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from algowatch.errors import ServiceUnavailableError
from algowatch.events import Event
from algowatch.journal import open_journal
from algowatch.monitor import Monitor
from algowatch.server._pipeline import IngestPipeline, IngestResult
from algowatch.settings import JournalSettings
from algowatch.testing import EventFactory


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
            results.append(monitor.snapshot()["events_applied"])
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


def test_submit_after_stop_is_refused(tmp_path: Path, factory: EventFactory) -> None:
    async def main() -> None:
        with open_journal(JournalSettings(), tmp_path) as journal:
            pipeline = IngestPipeline(journal, Monitor(), max_pending_events=10)
            pipeline.start()
            await pipeline.stop()
            with pytest.raises(ServiceUnavailableError, match="the service is shutting down"):
                await pipeline.submit([factory.mark("A", 1.0)])

    asyncio.run(main())
