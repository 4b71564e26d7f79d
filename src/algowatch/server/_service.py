"""The running service: what the lifespan opens at startup and closes at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import Any

from starlette.concurrency import run_in_threadpool

from algowatch.audit import AuditWriter
from algowatch.clock import Clock
from algowatch.errors import AuditError, ServiceUnavailableError
from algowatch.events import Event
from algowatch.health import HealthRunner, JournalCheck
from algowatch.journal import Journal, JournalState, open_journal
from algowatch.monitor import Monitor
from algowatch.risk import STATE_FILE, LimitTrigger, RiskAlert, RiskGuard
from algowatch.server._pipeline import IngestPipeline, IngestResult, apply_event
from algowatch.server._render import render_snapshot
from algowatch.server._stream import SnapshotBroadcaster
from algowatch.settings import Settings

__all__ = ["Service"]

_log = logging.getLogger("algowatch.server")


class _GuardAudit:
    """The service's audit writer as the risk guard sees it.

    The guard is built with the app, before the lifespan opens the writer, and
    records at construction a ``limit_change`` when the limits differ from the
    persisted ones. Such records are held and written first when the writer opens;
    the service does not start if it cannot open it. Outside a running service an
    append raises (fail closed): the guard never acts without its audit record.
    """

    def __init__(self) -> None:
        self.writer: AuditWriter | None = None
        self._held: list[tuple[str, dict[str, Any]]] = []
        self._started = False

    def append(self, kind: str, /, **fields: Any) -> int:
        """Append one record to the open writer (held before the service starts)."""
        if self.writer is not None:
            return self.writer.append(kind, **fields)
        if self._started:
            msg = f"audit record {kind!r} refused: the service's audit trail is closed"
            raise AuditError(msg)
        self._held.append((kind, fields))
        return -1

    def open(self, writer: AuditWriter) -> None:
        """Write the held records to ``writer`` and append to it from now on."""
        held, self._held = self._held, []
        for kind, fields in held:
            writer.append(kind, **fields)
        self.writer = writer
        self._started = True

    def close(self) -> None:
        """Refuse further records (the writer is about to close)."""
        self.writer = None


class Service:
    """Own the journal, the Monitor, the ingest pipeline, the stream and the risk guard.

    Built by :func:`~algowatch.server.create_app` and reached by the routes as
    ``request.app.state.service``. :meth:`start` and :meth:`stop` are called by the
    app's lifespan.
    """

    def __init__(
        self, settings: Settings, *, clock: Clock, monitor: Monitor, risk_loop: bool = True
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.monitor = monitor
        self.audit: AuditWriter | None = None
        self.health = HealthRunner(
            settings.health,
            clock=clock,
            last_seen=monitor.last_seen,
            audit_state=self.audit_state if settings.audit.enabled else None,
            checks=[JournalCheck("journal", self.ping_journal)],
        )
        self.journal: Journal | None = None
        self.pipeline: IngestPipeline | None = None
        self.broadcaster = SnapshotBroadcaster(
            lambda: render_snapshot(monitor.figures()),
            interval_seconds=settings.server.stream_interval_seconds,
            queue_size=settings.server.stream_queue_size,
        )
        self.counters: Counter[str] = Counter()
        self.replayed_events = 0
        self.started = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.startup_error: Exception | None = None
        self._stopping = False
        self._guard_audit = _GuardAudit()
        self.risk_guard: RiskGuard | None = None
        if settings.risk.enabled:
            self.risk_guard = RiskGuard(
                settings.risk,
                clock=clock,
                state_path=settings.data_path / STATE_FILE,
                audit=self._guard_audit if settings.audit.enabled else None,
                publish=self._publish,
            )
        self._risk_loop = risk_loop
        self._risk_task: asyncio.Task[None] | None = None
        # event-driven risk limits (issue 14): evaluated after each applied group
        self.limit_trigger: LimitTrigger | None = None
        if self.risk_guard is not None and risk_loop:
            self.limit_trigger = LimitTrigger(
                self.risk_guard, lambda: self.monitor.figures().portfolio
            )
        self._published: set[asyncio.Task[None]] = set()

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
        await run_in_threadpool(data_path.mkdir, parents=True, exist_ok=True)
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
            await run_in_threadpool(self._guard_audit.open, self.audit)
        self.pipeline = IngestPipeline(
            journal,
            self.monitor,
            max_pending_events=self.settings.server.max_pending_events,
            max_group_events=max(self.settings.journal.group_commit_max_events, 10_000),
            on_applied=self._applied,
        )
        self.pipeline.start()
        self.broadcaster.start()
        await self.health.start()
        if self.risk_guard is not None and self._risk_loop:
            self._risk_task = asyncio.create_task(self._guard_risk(), name="algowatch-risk")
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
        if self.limit_trigger is not None and not self._stopping:
            self.limit_trigger.notify(count)

    async def check_risk(self) -> list[RiskAlert]:
        """Evaluate the risk guard once against the Monitor and the health report.

        The Monitor and the health report are read here, on the event loop that
        applies the events (so between two applied events); the guard's effects
        (audit, state file, hooks) run on a worker thread. Return the alerts.
        """
        guard = self.risk_guard
        if guard is None:
            return []
        figures = self.monitor.figures().portfolio
        seen = self.monitor.last_seen()
        health = self.health.report()
        return await run_in_threadpool(
            partial(
                guard.check,
                figures,
                health=health,
                heartbeats=seen.heartbeats,
                last_order_ts=seen.last_order_ts,
            )
        )

    async def _guard_risk(self) -> None:
        interval = self.settings.risk.check_interval_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                await self.check_risk()
            except Exception:  # keep guarding; the failure is logged and counted
                self.count("risk_check_failures")
                _log.exception("risk check failed")

    def _publish(self, event: Event) -> None:
        # The guard's events enter through the ingest pipeline (journaled, then applied)
        # on the service's loop; the guard may call this from the loop (reset route) or
        # from the worker thread of a check.
        loop = self.loop
        if loop is None or loop.is_closed():
            msg = "the risk event was not published: the service is not running"
            raise ServiceUnavailableError(msg)
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._submit_published(event)
        else:
            loop.call_soon_threadsafe(self._submit_published, event)

    def _submit_published(self, event: Event) -> None:
        task = asyncio.get_running_loop().create_task(self._ingest_published(event))
        self._published.add(task)
        task.add_done_callback(self._published.discard)

    async def _ingest_published(self, event: Event) -> None:
        pipeline = self.pipeline
        try:
            if pipeline is not None:
                await pipeline.submit([event])
                return
        except Exception as exc:  # the alert is already audited and logged
            _log.error("risk event could not be ingested: %r", exc)
        else:
            _log.error("risk event could not be ingested: the service is not running")
        self.count("risk_publish_failures")

    async def submit(self, events: Sequence[Event]) -> IngestResult:
        """Journal then apply ``events``; see :meth:`IngestPipeline.submit`.

        Raises
        ------
        ServiceUnavailableError
            When the service is not started, is stopping, or the journal is behind.
        """
        if self.pipeline is None or self._stopping:
            msg = "the service is not accepting events (starting or stopping); retry later"
            raise ServiceUnavailableError(msg)
        return await self.pipeline.submit(events)

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
        if self._risk_task is not None:
            # a check in progress finishes (its worker thread is not abandoned)
            self._risk_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._risk_task
            self._risk_task = None
        if self.limit_trigger is not None:
            await self.limit_trigger.drain()
        await asyncio.sleep(0)  # let events published from a worker thread be queued
        if self._published:
            await asyncio.gather(*self._published)
        await self.broadcaster.stop()
        if self.pipeline is not None:
            await self.pipeline.stop()
        await self.health.stop()
        if self.risk_guard is not None:
            await run_in_threadpool(self.risk_guard.close)
        if self.journal is not None:
            await run_in_threadpool(self.journal.close)
        self._guard_audit.close()
        if self.audit is not None:
            await run_in_threadpool(self.audit.close)
        _log.info(
            "service stopped: %d events accepted",
            0 if self.pipeline is None else self.pipeline.stats.events,
        )
        self.started = False
