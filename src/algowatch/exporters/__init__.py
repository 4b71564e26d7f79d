"""Prometheus exporter: collectors over the engine's state and a non-blocking ``/metrics``.

Metric names, units and labels are documented in ``docs/prometheus.md``.
"""

from __future__ import annotations

from algowatch.exporters._naming import metric_name, naming_problems
from algowatch.exporters.collectors import (
    AuditCollector,
    HealthCollector,
    ProviderErrors,
    TradingCollector,
    register_collectors,
)
from algowatch.exporters.endpoint import encode_text, metrics_endpoint
from algowatch.exporters.journal import JournalCollector

__all__ = [
    "AuditCollector",
    "HealthCollector",
    "JournalCollector",
    "ProviderErrors",
    "TradingCollector",
    "encode_text",
    "metric_name",
    "metrics_endpoint",
    "naming_problems",
    "register_collectors",
]
