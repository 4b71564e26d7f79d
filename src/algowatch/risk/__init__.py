"""The risk guard: limits, escalation (warn, stop entries, flatten) and kill-switch hooks.

A pure decision core (:mod:`algowatch.risk.decision`) and an I/O shell
(:class:`RiskGuard`) that audits, logs, persists, publishes and calls hooks.
Its HTTP routes live in :func:`algowatch.server.routes.risk_router` and its metrics are
exported by :class:`algowatch.exporters.RiskCollector` (this package imports neither a web
framework nor prometheus_client). See ``docs/risk.md``.

.. versionadded:: 0.1.0
"""

from algowatch.risk.decision import (
    LEVELS,
    LIMITS,
    STATE_LIMITS,
    GuardFigures,
    Level,
    LimitStatus,
    RiskAlert,
    RiskInputs,
    RiskState,
    evaluate,
    level_rank,
    reset,
)
from algowatch.risk.guard import STATE_FILE, AuditAppender, RiskGuard
from algowatch.risk.hooks import Hook, WebhookError, WebhookHook
from algowatch.risk.trigger import LimitTrigger

__all__ = [
    "LEVELS",
    "LIMITS",
    "STATE_FILE",
    "STATE_LIMITS",
    "AuditAppender",
    "GuardFigures",
    "Hook",
    "Level",
    "LimitStatus",
    "LimitTrigger",
    "RiskAlert",
    "RiskGuard",
    "RiskInputs",
    "RiskState",
    "WebhookError",
    "WebhookHook",
    "evaluate",
    "level_rank",
    "reset",
]
