"""Realized spread and price impact: fills waiting for the mid a horizon later.

Compiled with the engine (see :mod:`algowatch._native`). The formulas are in
:mod:`algowatch._formulas`; this module keeps the fills until their horizon and
folds each measurement into the execution stats of the fill's scopes.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from algowatch._formulas import half_price_impact_bps, half_realized_spread_bps

if TYPE_CHECKING:
    from algowatch.monitor._scope import Scope  # imports the engine's modules: typing only

__all__ = ["ImpactQueue"]

# a fill awaiting its horizon: (due ts, side sign, price, mid at fill, notional, scopes)
_Pending = tuple[int, float, float, float, float, tuple["Scope", ...]]


class ImpactQueue:
    """Fills awaiting their impact horizon, per symbol, at most ``limit`` in all.

    Parameters
    ----------
    horizon_ns
        How long after a fill its mid is measured (negative: never measure).
    limit
        Most fills waiting; past it the oldest of the busiest symbol is dropped.
    """

    __slots__ = ("count", "due", "horizon_ns", "limit", "queues")

    def __init__(self, horizon_ns: int, limit: int) -> None:
        self.horizon_ns = horizon_ns
        self.limit = limit
        self.queues: dict[str, deque[_Pending]] = {}
        # the due ts of each symbol's oldest waiting fill: a mark compares its ts with it
        # and calls resolve() only when a measurement is due
        self.due: dict[str, int] = {}
        self.count = 0

    def schedule(  # noqa: PLR0917 - one fill's six measurements
        self,
        symbol: str,
        ts: int,
        sign: float,
        price: float,
        mid: float,
        notional: float,
        scopes: tuple[Scope, ...],
    ) -> bool:
        """Keep a fill until its horizon; return False if an older one had to be dropped."""
        queues = self.queues
        queue = queues.get(symbol)
        if queue is None:
            queue = queues[symbol] = deque()
        due = ts + self.horizon_ns
        if not queue:
            self.due[symbol] = due
        queue.append((due, sign, price, mid, notional, scopes))
        self.count += 1
        if self.count > self.limit:
            busiest = max(queues, key=lambda name: len(queues[name]))
            dropped = queues[busiest]
            dropped.popleft()
            self.count -= 1
            if dropped:
                self.due[busiest] = dropped[0][0]
            else:
                del self.due[busiest]
            return False
        return True

    def resolve(self, symbol: str, ts: int, mid: float) -> None:
        """Measure every fill of ``symbol`` whose horizon has come, against ``mid``."""
        queue = self.queues.get(symbol)
        if not queue:
            return
        while queue and queue[0][0] <= ts:
            _, sign, price, mid0, notional, scopes = queue.popleft()
            self.count -= 1
            spread = half_realized_spread_bps(sign, price, mid0, mid)
            impact = half_price_impact_bps(sign, mid0, mid)
            for scope in scopes:
                if scope.shared:
                    continue
                stats = scope.execution
                stats.spread_sum += spread * notional
                stats.impact_sum += impact * notional
                stats.impact_notional += notional
        if queue:
            self.due[symbol] = queue[0][0]
        else:
            del self.queues[symbol]
            self.due.pop(symbol, None)
