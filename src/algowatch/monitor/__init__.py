"""The engine: positions, P&L, orders and signals from a stream of events.

:class:`Monitor` applies :mod:`algowatch.events` in order, synchronously and
without I/O; services wrap it. Its read side is typed: :meth:`Monitor.figures`
returns frozen figures in base units (:class:`MonitorFigures`, per scope
:class:`TradingFigures`, :class:`ExecutionFigures`, :class:`SignalFigures`, and
:class:`PositionFigures` rows), cached until the next event, and
:meth:`Monitor.trade_figures` / :meth:`Monitor.order_figures` the recent
round trips and orders (:class:`TradeFigures`, :class:`OrderFigures`), the
``*_page`` methods those and the fills (:class:`FillFigures`) filtered by scope;
:meth:`Monitor.counters` and :meth:`Monitor.last_seen` give the counters and
timestamps. The JSON snapshot is rendered from the figures at the HTTP edge.
Conventions are in ``docs/engine.md`` and every snapshot field in
``docs/snapshot.md``.

.. versionadded:: 0.1.0
"""

from algowatch.monitor._engine import Monitor
from algowatch.monitor._figures import (
    ExecutionFigures,
    FillFigures,
    MonitorFigures,
    OrderFigures,
    PositionFigures,
    ScopeFigures,
    SignalFigures,
    TradeFigures,
    TradingFigures,
)
from algowatch.monitor._types import CounterState, HistogramData, LastSeen
from algowatch.monitor.sessions import SessionCalendar

__all__ = [
    "CounterState",
    "ExecutionFigures",
    "FillFigures",
    "HistogramData",
    "LastSeen",
    "Monitor",
    "MonitorFigures",
    "OrderFigures",
    "PositionFigures",
    "ScopeFigures",
    "SessionCalendar",
    "SignalFigures",
    "TradeFigures",
    "TradingFigures",
]
