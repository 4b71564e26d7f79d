"""Register algowatch's collectors on a registry of your own.

The collectors live by area: :mod:`~algowatch.exporters.trading` (the engine),
:mod:`~algowatch.exporters.health` (checks and system samples),
:mod:`~algowatch.exporters.audit` (audit trail), :mod:`~algowatch.exporters.risk`
(risk guard). Each reads its source at scrape time and defines ``describe``, so
registering never runs a collection.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client.registry import Collector, CollectorRegistry

from algowatch.exporters._counters import ORDER_STATUSES, SIGNAL_DIRECTIONS
from algowatch.exporters._providers import ProviderErrors
from algowatch.exporters.audit import AuditCollector
from algowatch.exporters.health import HealthCollector
from algowatch.exporters.trading import MonitorState, TradingCollector
from algowatch.health import HealthReport

__all__ = [
    "ORDER_STATUSES",
    "SIGNAL_DIRECTIONS",
    "AuditCollector",
    "HealthCollector",
    "MonitorState",
    "ProviderErrors",
    "TradingCollector",
    "register_collectors",
]


def register_collectors(
    registry: CollectorRegistry,
    monitor: MonitorState,
    *,
    health: Callable[[], HealthReport] | None = None,
    audit: Callable[[], str] | None = None,
    audit_verify: Callable[[], str | None] | None = None,
    process: bool = True,
) -> list[Collector]:
    """Register algowatch's collectors on ``registry`` and return them.

    Parameters
    ----------
    registry
        A registry of your own (never the global ``REGISTRY`` implicitly).
    monitor
        The engine whose state is exposed at scrape time.
    health
        ``HealthRunner.report`` (or any callable returning a ``HealthReport``).
    audit
        Returns the audit writer's state, e.g. ``lambda: writer.state``.
    audit_verify
        Returns the status of the last audit verification, or ``None``.
    process
        Also register prometheus_client's ``process_*`` collector (resident
        memory, CPU seconds, open files), used by the process alerts.

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> from algowatch.monitor import Monitor
    >>> registry = CollectorRegistry()
    >>> _ = register_collectors(registry, Monitor(), process=False)
    >>> b"trading_drawdown_ratio 0.0" in generate_latest(registry)
    True

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       The unused ``settings`` parameter is gone (the engine decides the folding).
    """
    from prometheus_client import ProcessCollector  # noqa: PLC0415 - only when asked for

    errors = ProviderErrors()
    collectors: list[Collector] = [TradingCollector(monitor)]
    if health is not None:
        collectors.append(HealthCollector(health, errors))
    if audit is not None:
        collectors.append(AuditCollector(audit, audit_verify, errors))
    # last, so a scrape's provider failures are counted in that same scrape
    collectors.append(errors)
    for collector in collectors:
        registry.register(collector)
    if process:
        collectors.append(ProcessCollector(registry=registry))
    return collectors
