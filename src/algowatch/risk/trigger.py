"""Evaluate the risk guard's state limits after each applied group of events.

:class:`LimitTrigger` is the event-driven half of the guard: the service calls
:meth:`LimitTrigger.notify` on its event loop after it applies a group of events,
and the trigger runs :meth:`RiskGuard.check_limits <algowatch.risk.RiskGuard.check_limits>`
on fresh figures. Evaluations are coalesced: at most one runs and at most one
more is pending, so a burst of groups costs one evaluation per round, not one per
group, and ingest never waits for the guard. The figures are read on the event loop
(the Monitor is single-threaded); the evaluation and its effects (audit record, state
file, hooks) run on a worker thread. Time-based limits stay on the guard's timer.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from algowatch.monitor import TradingFigures
from algowatch.risk.guard import RiskGuard

__all__ = ["LimitTrigger"]

_log = structlog.get_logger("algowatch.risk")


class LimitTrigger:
    """Run ``guard.check_limits(figures())`` after applied events, coalesced.

    Parameters
    ----------
    guard
        The guard to evaluate.
    figures
        Returns the portfolio's trading figures (``Monitor.trading_figures``); called on
        the event loop, after every applied group, so it must be cheap.

    Examples
    --------
    >>> import asyncio
    >>> from algowatch.monitor import Monitor
    >>> from algowatch.testing import FakeClock
    >>> guard = RiskGuard(clock=FakeClock(), log=print)
    >>> trigger = LimitTrigger(guard, Monitor().trading_figures)
    >>> async def main() -> int:
    ...     for _ in range(5):
    ...         trigger.notify()
    ...     await trigger.drain()
    ...     return guard.checks
    >>> 1 <= asyncio.run(main()) <= 2
    True
    """

    def __init__(self, guard: RiskGuard, figures: Callable[[], TradingFigures]) -> None:
        self.guard = guard
        self._figures = figures
        self._dirty = False
        self._task: asyncio.Task[None] | None = None
        self.evaluations = 0
        self.failures = 0

    def notify(self, applied: int = 0) -> None:
        """Ask for an evaluation (call on the event loop; ``applied`` is informative)."""
        del applied
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="algowatch-risk-limits"
            )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._dirty:
            self._dirty = False
            try:
                figures = self._figures()
                await loop.run_in_executor(None, self.guard.check_limits, figures)
            except Exception as exc:  # keep guarding; the timer still evaluates everything
                self.failures += 1
                _log.error("risk_limit_check_failed", error=repr(exc))
            else:
                self.evaluations += 1

    async def drain(self) -> None:
        """Wait for the running and pending evaluations to finish."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
