"""The health report: what ``HealthRunner.report`` returns.

A frozen, typed value read from the runner's cache: the overall status, every check's
latest :class:`~algowatch.health.CheckResult` and the latest system sample. Readers take
the attributes they need (the Prometheus collector, the risk guard's broker check); the
``/health`` JSON document is rendered from it at the web edge
(``algowatch.server`` renders it).

.. versionadded:: 0.2.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from algowatch.health._base import CheckResult
from algowatch.health.system import SystemMetrics

__all__ = ["BROKER_KINDS", "HealthReport", "HealthStatus"]

HealthStatus = Literal["starting", "healthy", "degraded", "unhealthy"]
"""The overall status of the service."""

BROKER_KINDS = frozenset({"broker", "broker_http", "broker_heartbeat"})
"""The check kinds that watch a broker connection."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthReport:
    """The health of the service at one moment, from the runner's cached results.

    Attributes
    ----------
    status
        ``unhealthy`` when a critical check is disconnected; ``degraded`` when any check
        is not connected; ``starting`` during the start-up grace; else ``healthy``.
    ts
        UNIX nanoseconds when the report was read.
    configured_checks
        The number of ``[[health.checks]]`` entries.
    checks
        Every check's latest result by name, in the runner's order (``unknown`` before
        its first run).
    note
        A plain warning when no check is configured, else ``None``.
    system_metrics
        Whether host metrics are sampled (``[health] system_metrics``).
    system
        The latest system sample; ``None`` before the first or when sampling is off.

    Examples
    --------
    >>> report = HealthReport(status="healthy", ts=0, configured_checks=0, checks={})
    >>> report.broker_down
    False
    """

    status: HealthStatus
    ts: int
    configured_checks: int
    checks: Mapping[str, CheckResult] = field(default_factory=dict)
    note: str | None = None
    system_metrics: bool = False
    system: SystemMetrics | None = None

    @property
    def broker_down(self) -> bool:
        """Return True when a broker check (kind ``broker*``) is ``disconnected``.

        A check not run yet (``unknown``) does not count as down.
        """
        return any(
            result.kind.startswith("broker") and result.status == "disconnected"
            for result in self.checks.values()
        )
