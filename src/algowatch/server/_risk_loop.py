"""The service's risk loop: the guard, its audit adapter, and its periodic evaluation.

:class:`RiskLoop` builds the service's one :class:`~algowatch.risk.RiskGuard` (its
state in ``<data_dir>/risk-state.json``, its records in the service's audit trail,
its events published through the service's ingest pipeline) and evaluates it every
``settings.risk.check_interval_seconds`` while the service runs.
:meth:`RiskLoop.evaluate_now` is the one evaluation step, for the loop and for any
caller on the service's event loop. The state limits (drawdown, daily loss) are also
judged after each applied group: :meth:`RiskLoop.notify` hands that to a
:class:`~algowatch.risk.LimitTrigger`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from starlette.concurrency import run_in_threadpool

from algowatch.audit import AuditWriter
from algowatch.clock import Clock
from algowatch.errors import AuditError
from algowatch.events import Event
from algowatch.health import HealthRunner
from algowatch.monitor import ExecutionFigures, Monitor, TradingFigures
from algowatch.risk import STATE_FILE, LimitTrigger, RiskAlert, RiskGuard
from algowatch.settings import Settings

__all__ = ["RiskLoop"]


@dataclass(frozen=True, slots=True)
class _PortfolioFigures:
    # what the guard reads of the portfolio (a GuardFigures)
    trading: TradingFigures
    execution: ExecutionFigures


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


class RiskLoop:
    """Own the service's risk guard and evaluate it periodically on the service's loop.

    Parameters
    ----------
    settings
        The whole configuration: ``risk`` for the guard, ``audit.enabled`` for its
        records, ``data_dir`` for its state file.
    clock
        The service's clock (the guard's time).
    monitor, health
        What an evaluation reads: the portfolio's figures, the last-seen times and
        the health report.
    publish
        Puts the guard's alert events on the service's stream (thread-safe).
    periodic
        Evaluate every ``settings.risk.check_interval_seconds`` between :meth:`start`
        and :meth:`stop`, and the state limits after each applied group
        (:meth:`notify`); ``False`` leaves every evaluation to :meth:`evaluate_now`.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock,
        monitor: Monitor,
        health: HealthRunner,
        publish: Callable[[Event], object],
        periodic: bool = True,
    ) -> None:
        self._audit = _GuardAudit()
        self.guard = RiskGuard(
            settings.risk,
            clock=clock,
            state_path=settings.data_path / STATE_FILE,
            audit=self._audit if settings.audit.enabled else None,
            publish=publish,
        )
        self.interval_seconds = settings.risk.check_interval_seconds
        self.periodic = periodic
        self.failures = 0
        self._monitor = monitor
        self._health = health
        self._task: asyncio.Task[None] | None = None
        self.trigger: LimitTrigger | None = None
        if periodic:
            self.trigger = LimitTrigger(self.guard, monitor.trading_figures)

    def notify(self) -> None:
        """Judge the state limits on fresh figures soon (call on the loop after applied events)."""
        if self.trigger is not None:
            self.trigger.notify()

    async def start(self, audit: AuditWriter | None) -> None:
        """Write the guard's held records to ``audit``, then start the periodic evaluation."""
        if audit is not None:
            await run_in_threadpool(self._audit.open, audit)
        if self.periodic:
            self._task = asyncio.create_task(self._run(), name="algowatch-risk")

    async def evaluate_now(self) -> list[RiskAlert]:
        """Evaluate the guard once against the Monitor and the health report; return the alerts.

        Call it on the service's event loop: the Monitor and the health report are
        read there (so between two applied events); the guard's effects (audit,
        state file, hooks) run on a worker thread.
        """
        # the two figures the guard reads, not the whole state (no signal windows)
        figures = _PortfolioFigures(
            self._monitor.trading_figures(), self._monitor.execution_figures()
        )
        seen = self._monitor.last_seen()
        health = self._health.report()
        return await run_in_threadpool(
            partial(
                self.guard.check,
                figures,
                health=health,
                heartbeats=seen.heartbeats,
                last_order_ts=seen.last_order_ts,
            )
        )

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            try:
                await self.evaluate_now()
            except Exception:  # keep guarding; the failure is logged and counted
                self.failures += 1
                _log.exception("risk check failed")

    async def stop(self) -> None:
        """Stop the periodic evaluation; one in progress finishes (its thread is not abandoned)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.trigger is not None:
            await self.trigger.drain()

    async def close(self) -> None:
        """Deliver the guard's queued webhooks and refuse further audit records."""
        await run_in_threadpool(self.guard.close)
        self._audit.close()
