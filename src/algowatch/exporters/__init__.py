"""Prometheus exporter: every collector (engine, health, audit, risk) and ``/metrics``.

Metric names, units and labels are documented in ``docs/prometheus.md``.
"""

from __future__ import annotations

from algowatch.exporters._naming import metric_name, naming_problems
from algowatch.exporters._providers import ProviderErrors
from algowatch.exporters.audit import AuditCollector
from algowatch.exporters.collectors import register_collectors
from algowatch.exporters.endpoint import encode_text, metrics_endpoint
from algowatch.exporters.health import HealthCollector, SystemCollector
from algowatch.exporters.journal import JournalCollector
from algowatch.exporters.risk import RiskCollector
from algowatch.exporters.trading import TradingCollector

__all__ = [
    "AuditCollector",
    "HealthCollector",
    "JournalCollector",
    "ProviderErrors",
    "RiskCollector",
    "SystemCollector",
    "TradingCollector",
    "encode_text",
    "metric_name",
    "metrics_endpoint",
    "naming_problems",
    "register_collectors",
]
