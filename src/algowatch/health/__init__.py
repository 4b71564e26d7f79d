"""Health: dependency checks, system metrics, and ``/health``, ``/ready``, ``/live``.

:class:`HealthRunner` runs the checks configured in ``[[health.checks]]`` (plus any
:class:`Check` passed in) concurrently in the background, each bounded by its
timeout, and serves cached results; :func:`algowatch.server.routes.health_router` renders them
as ``/health``, ``/ready`` and ``/live`` (this package imports no web framework).
Prometheus exports them from :mod:`algowatch.exporters` (``HealthCollector`` for the
checks, ``SystemCollector`` for the psutil samples).

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from algowatch.health._base import STATUSES, Check, CheckResult, CheckStatus, Outcome
from algowatch.health._report import BROKER_KINDS, HealthReport
from algowatch.health.clock_sync import ClockSyncCheck, KernelClockState, read_kernel_clock
from algowatch.health.connections import (
    AuditCheck,
    BrokerCallableCheck,
    BrokerHttpCheck,
    PostgresCheck,
    RedisCheck,
    import_optional,
)
from algowatch.health.freshness import (
    BrokerHeartbeatCheck,
    HeartbeatCheck,
    LastSeenLike,
    MarketDataCheck,
    OrderFlowCheck,
    TradingHours,
)
from algowatch.health.journal import JournalCheck
from algowatch.health.runner import HealthRunner, HealthStatus, build_checks
from algowatch.health.system import SystemMetrics, SystemSampler

__all__ = [
    "BROKER_KINDS",
    "STATUSES",
    "AuditCheck",
    "BrokerCallableCheck",
    "BrokerHeartbeatCheck",
    "BrokerHttpCheck",
    "Check",
    "CheckResult",
    "CheckStatus",
    "ClockSyncCheck",
    "HealthReport",
    "HealthRunner",
    "HealthStatus",
    "HeartbeatCheck",
    "JournalCheck",
    "KernelClockState",
    "LastSeenLike",
    "MarketDataCheck",
    "OrderFlowCheck",
    "Outcome",
    "PostgresCheck",
    "RedisCheck",
    "SystemMetrics",
    "SystemSampler",
    "TradingHours",
    "build_checks",
    "import_optional",
    "read_kernel_clock",
]
