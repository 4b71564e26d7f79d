"""The publish bridge: events made on any thread enter the ingest pipeline on the service's loop.

The risk guard publishes its alerts as events (``error_type="risk_alert"``), from the
event loop (the reset route) or from the worker thread of an evaluation. They enter
like any other event, journaled then applied, through the service's one
:class:`~algowatch.server._pipeline.IngestPipeline`, on the loop that owns it.
"""

from __future__ import annotations

import asyncio
import logging

from algowatch.errors import ServiceUnavailableError
from algowatch.events import Event
from algowatch.server._pipeline import IngestPipeline

__all__ = ["PublishBridge"]

_log = logging.getLogger("algowatch.server")


class PublishBridge:
    """Hand events from any thread to the ingest pipeline on the service's event loop.

    :meth:`open` binds the bridge to the running loop and the pipeline;
    :meth:`publish` may then be called from any thread; :meth:`drain` waits for the
    events already handed over. A published event the pipeline refuses is logged
    and counted in :attr:`failures` (the guard has already audited and logged the
    alert it carries).
    """

    def __init__(self) -> None:
        self.failures = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pipeline: IngestPipeline | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def open(self, pipeline: IngestPipeline) -> None:
        """Bind to the running event loop and submit published events to ``pipeline``."""
        self._loop = asyncio.get_running_loop()
        self._pipeline = pipeline

    def publish(self, event: Event) -> None:
        """Queue ``event`` for the pipeline; safe from the loop and from other threads.

        Raises
        ------
        ServiceUnavailableError
            Before :meth:`open`, or once the service's loop is closed.
        """
        loop = self._loop
        if loop is None or loop.is_closed():
            msg = "the risk event was not published: the service is not running"
            raise ServiceUnavailableError(msg)
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._submit(event)
        else:
            loop.call_soon_threadsafe(self._submit, event)

    async def drain(self) -> None:
        """Wait until every event handed over so far has been submitted (or refused)."""
        await asyncio.sleep(0)  # let events published from a worker thread be queued
        if self._pending:
            await asyncio.gather(*self._pending)

    def _submit(self, event: Event) -> None:
        task = asyncio.get_running_loop().create_task(self._ingest(event))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _ingest(self, event: Event) -> None:
        pipeline = self._pipeline
        try:
            if pipeline is not None:
                await pipeline.submit([event])
                return
        except Exception as exc:  # the alert is already audited and logged
            _log.error("risk event could not be ingested: %r", exc)
        else:
            _log.error("risk event could not be ingested: the service is not running")
        self.failures += 1
