"""The running service: what the lifespan opens at startup and closes at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from functools import partial

from starlette.concurrency import run_in_threadpool

from algowatch._datalock import DataLock, lock_data_folder
from algowatch.audit import AuditWriter
from algowatch.clock import Clock
from algowatch.errors import ServiceUnavailableError
from algowatch.events import Event
from algowatch.health import HealthRunner, JournalCheck
from algowatch.journal import Journal, JournalState, open_journal
from algowatch.monitor import Monitor
from algowatch.risk import RiskGuard
from algowatch.server._hummingbot import HummingbotSource, build_sources
from algowatch.server._nats import NatsSource, build_nats_sources
from algowatch.server._pipeline import IngestPipeline, IngestResult, apply_event
from algowatch.server._publish import PublishBridge
from algowatch.server._render import render_snapshot
from algowatch.server._risk_loop import RiskLoop
from algowatch.server._stream import SnapshotBroadcaster
from algowatch.settings import Settings

__all__ = ["Service"]

_log = logging.getLogger("algowatch.server")


def _replica_output(event: Event) -> None:
    # a replica of a NATS stream journals and applies only the stream: what it derives
    # itself (the guard's alerts) is output (audit trail, log, metrics), or replicas differ
    _log.debug("risk event %s not journaled: this service is a replica of a NATS stream", event)


class Service:
    """Start, stop and replay the service: journal, Monitor, ingest, stream, health, risk.

    Built by :func:`~algowatch.server.create_app`; the routes get it with the
    :func:`~algowatch.server._dependencies.get_service` dependency. :meth:`start`
    and :meth:`stop` are called by the app's lifespan. The risk guard's periodic
    evaluation is :attr:`risk` (:class:`~algowatch.server._risk_loop.RiskLoop`), and
    its events reach the pipeline through :attr:`bridge`
    (:class:`~algowatch.server._publish.PublishBridge`).
    """

    def __init__(
        self, settings: Settings, *, clock: Clock, monitor: Monitor, risk_loop: bool = True
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.monitor = monitor
        self.audit: AuditWriter | None = None
        self.nats: NatsSource | None = None
        self.sources: list[HummingbotSource | NatsSource] = [
            *build_sources(settings, submit=self.submit, count=self.count, clock=clock)
        ]
        for nats in build_nats_sources(
            settings.sources.nats,
            submit=self.submit,
            count=self.count,
            data_path=settings.data_path,
            max_future_seconds=settings.server.max_future_seconds,
        ):
            self.nats = nats
            self.sources.append(nats)
        self.health = HealthRunner(
            settings.health,
            clock=clock,
            last_seen=monitor.last_seen,
            audit_state=self.audit_state if settings.audit.enabled else None,
            checks=[
                JournalCheck("journal", self.ping_journal),
                *(source.check for source in self.sources),
            ],
        )
        self.journal: Journal | None = None
        self._data_lock: DataLock | None = None
        self.pipeline: IngestPipeline | None = None
        self.broadcaster = SnapshotBroadcaster(
            lambda: render_snapshot(monitor.figures()),
            interval_seconds=settings.server.stream_interval_seconds,
            queue_size=settings.server.stream_queue_size,
        )
        self.bridge = PublishBridge()
        self.risk: RiskLoop | None = None
        if settings.risk.enabled:
            self.risk = RiskLoop(
                settings,
                clock=clock,
                monitor=monitor,
                health=self.health,
                publish=self.bridge.publish if self.nats is None else _replica_output,
                periodic=risk_loop,
            )
        self.risk_guard: RiskGuard | None = None if self.risk is None else self.risk.guard
        self.counters: Counter[str] = Counter()
        self.replayed_events = 0
        self.started = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.startup_error: Exception | None = None
        self._stopping = False

    def audit_state(self) -> str:
        """Return the audit writer's state (``"ok"``, ``"failed"``, ...) or ``"closed"``."""
        return "closed" if self.audit is None else self.audit.state

    def ping_journal(self) -> None:
        """Ping the journal (reconnecting it if it lost its store); raise while it cannot."""
        journal = self.journal
        if journal is None:
            msg = "the journal is not open (the service is starting or stopped)"
            raise ServiceUnavailableError(msg)
        journal.ping()

    def journal_state(self) -> JournalState:
        """Return the journal's state (down while it is not open)."""
        journal = self.journal
        return JournalState(up=False) if journal is None else journal.state()

    def count(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to the service counter ``name``."""
        self.counters[name] += amount

    async def start(self) -> None:
        """Open the journal, replay it into the Monitor, and start ingesting."""
        self.loop = asyncio.get_running_loop()
        data_path = self.settings.data_path
        # one live process per data folder (the CLI may hold it already: shared)
        self._data_lock = await run_in_threadpool(lock_data_folder, data_path)
        journal = await run_in_threadpool(open_journal, self.settings.journal, data_path)
        self.journal = journal
        self.replayed_events = await run_in_threadpool(self._replay, journal)
        if self.settings.audit.enabled:
            self.audit = await run_in_threadpool(
                partial(
                    AuditWriter.from_settings,
                    self.settings.audit,
                    data_dir=data_path,
                    clock=self.clock,
                )
            )
        self.pipeline = IngestPipeline(
            journal,
            self.monitor,
            max_pending_events=self.settings.server.max_pending_events,
            max_group_events=max(self.settings.journal.group_commit_max_events, 10_000),
            on_applied=self._applied,
        )
        self.pipeline.start()
        self.bridge.open(self.pipeline)
        if self.nats is not None and self.replayed_events == 0:
            await run_in_threadpool(self.nats.forget_position)
        for source in self.sources:
            source.start()
        self.broadcaster.start()
        await self.health.start()
        if self.risk is not None:
            await self.risk.start(self.audit)
        self.started = True
        _log.info(
            "service started: journal %s, %d events replayed",
            journal.location,
            self.replayed_events,
        )

    def _replay(self, journal: Journal) -> int:
        # the live pipeline's engine-error policy, so a restart reaches the live state
        applied = 0
        monitor = self.monitor
        for event in journal.replay():
            if apply_event(monitor, event):
                applied += 1
        return applied

    def _applied(self, count: int) -> None:
        # after each applied group, on the loop: streams, then the guard's state limits
        self.broadcaster.mark_changed(count)
        if self.risk is not None and not self._stopping:
            self.risk.notify()

    async def submit(
        self, events: Sequence[Event], payloads: Sequence[bytes | None] | None = None
    ) -> IngestResult:
        """Journal then apply ``events`` (``payloads``: their received JSON, or ``None``).

        See :meth:`IngestPipeline.submit`.

        Raises
        ------
        ServiceUnavailableError
            When the service is not started, is stopping, or the journal is behind.
        """
        if self.pipeline is None or self._stopping:
            msg = "the service is not accepting events (starting or stopping); retry later"
            raise ServiceUnavailableError(msg)
        return await self.pipeline.submit(events, payloads)

    def begin_shutdown(self) -> None:
        """End the open event streams so the HTTP server can finish its connections.

        Called from the server's signal handling, before the lifespan shutdown, which
        would otherwise wait for never-ending streams.
        """
        self._stopping = True
        self.broadcaster.close_streams()

    async def stop(self) -> None:
        """Stop the risk checks, finish queued batches, close streams, journal and audit trail."""
        self._stopping = True
        for source in self.sources:
            await source.stop()
        if self.risk is not None:
            await self.risk.stop()
        await self.bridge.drain()
        await self.broadcaster.stop()
        if self.pipeline is not None:
            await self.pipeline.stop()
        await self.health.stop()
        if self.risk is not None:
            await self.risk.close()
        if self.journal is not None:
            await run_in_threadpool(self.journal.close)
        if self.audit is not None:
            await run_in_threadpool(self.audit.close)
        if self._data_lock is not None:
            self._data_lock.release()
            self._data_lock = None
        _log.info(
            "service stopped: %d events accepted",
            0 if self.pipeline is None else self.pipeline.stats.events,
        )
        self.started = False
