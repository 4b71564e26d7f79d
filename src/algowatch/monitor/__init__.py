"""The engine: positions, P&L, orders and signals from a stream of events.

:class:`Monitor` applies :mod:`algowatch.events` in order, synchronously and
without I/O; services wrap it. :meth:`Monitor.counters` and
:meth:`Monitor.last_seen` give the plain numbers the Prometheus exporter and
the health checks read. Conventions are in ``docs/engine.md`` and every
snapshot field in ``docs/snapshot.md``.

.. versionadded:: 0.1.0
"""

from algowatch.monitor._engine import Monitor
from algowatch.monitor._types import CounterState, HistogramData, LastSeen
from algowatch.monitor.sessions import SessionCalendar

__all__ = ["CounterState", "HistogramData", "LastSeen", "Monitor", "SessionCalendar"]
