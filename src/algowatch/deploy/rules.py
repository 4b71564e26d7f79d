"""Prometheus alert rules for algowatch, built from :class:`~algowatch.settings.AlertSettings`.

Each rule implements a correction of ``PROMETHEUS.md`` (section A): drawdown is
a positive ratio (A1), ratios aggregate ``by (job)`` with a volume guard (A2),
quantiles use ``rate`` and ``sum by (job, le)`` (A3, A4), every selector is
scoped by ``job`` (A8), and the engine-down and meta-monitoring alerts exist
(A9, A10). Every alert carries ``severity``, ``summary``, ``description`` and
a ``runbook_url`` into ``docs/runbooks.md``.
"""

from __future__ import annotations

from typing import Any

from algowatch.deploy._common import duration, number
from algowatch.settings import AlertSettings

__all__ = ["ENGINE_DEPENDENT_ALERTS", "alert_names", "alert_rules"]

#: Alerts an ``up == 0`` of the engine makes meaningless (inhibited by TradingEngineDown).
ENGINE_DEPENDENT_ALERTS: tuple[str, ...] = (
    "AuditTrailWriterFailed",
    "BrokerConnectionDown",
    "DailyLossLimitApproaching",
    "DailyLossLimitExceeded",
    "HealthCheckFailing",
    "HighCPUUsage",
    "HighMemoryUsage",
    "HighOrderLatency",
    "HighRejectionRate",
    "HighSlippage",
    "JournalDown",
    "MarketDataStale",
    "MaxDrawdownExceeded",
    "TradingRiskMetricsAbsent",
)


def _alert(
    settings: AlertSettings,
    name: str,
    expr: str,
    *,
    severity: str,
    summary: str,
    description: str,
    for_seconds: float = 0,
) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if for_seconds:
        rule["for"] = duration(for_seconds)
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {
        "summary": summary,
        "description": description,
        "runbook_url": f"{settings.runbook_base_url}#{name.lower()}",
    }
    return rule


def _risk(s: AlertSettings) -> list[dict[str, Any]]:
    job = f'job="{s.job}"'
    approach = 0.8 * s.daily_loss_usd
    return [
        _alert(
            s,
            "MaxDrawdownExceeded",
            f"trading_drawdown_ratio{{{job}}} > {number(s.max_drawdown_ratio)}",
            severity="critical",
            for_seconds=s.risk_for_seconds,
            summary="Drawdown above the limit",
            description=(
                "Drawdown of {{ $labels.job }} on {{ $labels.instance }} is "
                "{{ $value | humanizePercentage }} of the high-water mark, above the "
                f"{s.max_drawdown_ratio:.0%} limit."
            ),
        ),
        _alert(
            s,
            "DailyLossLimitExceeded",
            f"trading_daily_pnl_usd{{{job}}} < -{number(s.daily_loss_usd)}",
            severity="critical",
            for_seconds=s.risk_for_seconds,
            summary="Daily loss limit exceeded",
            description=(
                'Daily P&L of {{ $labels.job }} is {{ $value | printf "%.2f" }} USD, '
                f"beyond the -{s.daily_loss_usd:.2f} USD limit."
            ),
        ),
        _alert(
            s,
            "DailyLossLimitApproaching",
            f"trading_daily_pnl_usd{{{job}}} < -{number(approach)}",
            severity="warning",
            for_seconds=s.risk_for_seconds,
            summary="Daily loss at 80% of the limit",
            description=(
                'Daily P&L of {{ $labels.job }} is {{ $value | printf "%.2f" }} USD; '
                f"the limit is -{s.daily_loss_usd:.2f} USD."
            ),
        ),
        _alert(
            s,
            "TradingRiskMetricsAbsent",
            f"absent(trading_drawdown_ratio{{{job}}}) or absent(trading_daily_pnl_usd{{{job}}})",
            severity="warning",
            for_seconds=120,
            summary="Risk metrics are missing",
            description=(
                "Prometheus has no trading_drawdown_ratio or trading_daily_pnl_usd for job "
                f'"{s.job}", so the risk alerts cannot fire. Check the scrape target.'
            ),
        ),
    ]


def _connectivity(s: AlertSettings) -> list[dict[str, Any]]:
    job = f'job="{s.job}"'
    return [
        _alert(
            s,
            "TradingEngineDown",
            f"up{{{job}}} == 0",
            severity="critical",
            for_seconds=30,
            summary="Trading engine metrics cannot be scraped",
            description=(
                "Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}); "
                "every other alert of this job is silenced while it is down."
            ),
        ),
        _alert(
            s,
            "BrokerConnectionDown",
            f"trading_broker_up{{{job}}} == 0",
            severity="critical",
            for_seconds=30,
            summary="Broker connection lost",
            description=(
                "The health check of broker {{ $labels.broker }} on {{ $labels.instance }} "
                "reports the connection down."
            ),
        ),
        _alert(
            s,
            "MarketDataStale",
            f"time() - max by (job, instance) (trading_last_mark_timestamp_seconds{{{job}}})"
            f" > {number(s.market_data_stale_seconds)}",
            severity="warning",
            for_seconds=60,
            summary="No market data",
            description=(
                "The last mark on {{ $labels.instance }} is {{ $value | humanizeDuration }} "
                f"old (limit {number(s.market_data_stale_seconds)}s)."
            ),
        ),
        _alert(
            s,
            "HealthCheckFailing",
            f"algowatch_health_check_up{{{job}}} == 0",
            severity="warning",
            for_seconds=120,
            summary="A dependency health check fails",
            description=(
                "Health check {{ $labels.check }} on {{ $labels.instance }} has failed "
                "for 2 minutes."
            ),
        ),
        _alert(
            s,
            "AuditTrailWriterFailed",
            f"algowatch_audit_writer_up{{{job}}} == 0",
            severity="critical",
            for_seconds=30,
            summary="The audit trail writer failed closed",
            description=(
                "The audit writer on {{ $labels.instance }} stopped writing (a failed "
                "write or fsync); audited actions are not being recorded."
            ),
        ),
        _alert(
            s,
            "JournalDown",
            f"algowatch_journal_up{{{job}}} == 0",
            severity="critical",
            for_seconds=30,
            summary="The event journal's store is down",
            description=(
                "The journal of {{ $labels.instance }} has had no usable connection to its "
                "store for 30 seconds: ingest answers 503 and no event is accepted. It "
                "reconnects by itself once the store answers again."
            ),
        ),
    ]


def _execution(s: AlertSettings) -> list[dict[str, Any]]:
    job = f'job="{s.job}"'
    orders = f"trading_orders_total{{{job}}}"
    rejected = f'trading_orders_total{{{job}, status="rejected"}}'
    return [
        _alert(
            s,
            "HighOrderLatency",
            "histogram_quantile(0.95, sum by (job, le) "
            f"(rate(trading_order_latency_seconds_bucket{{{job}}}[5m])))"
            f" > {number(s.order_latency_p95_seconds)}",
            severity="warning",
            for_seconds=300,
            summary="High order latency",
            description=(
                "95th percentile submit-to-fill latency of {{ $labels.job }} over 5 minutes "
                "is {{ $value | humanizeDuration }} "
                f"(limit {number(s.order_latency_p95_seconds)}s)."
            ),
        ),
        _alert(
            s,
            "HighRejectionRate",
            f"sum by (job) (rate({rejected}[5m])) / sum by (job) (rate({orders}[5m]))"
            f" > {number(s.rejection_rate)}\n"
            f"and sum by (job) (increase({orders}[5m])) >= {s.rejection_min_orders}",
            severity="warning",
            for_seconds=300,
            summary="High order rejection rate",
            description=(
                "{{ $value | humanizePercentage }} of the orders of {{ $labels.job }} "
                f"completed in the last 5 minutes were rejected (limit {s.rejection_rate:.0%})."
            ),
        ),
        _alert(
            s,
            "HighSlippage",
            "histogram_quantile(0.5, sum by (job, le) "
            f"(rate(trading_slippage_basis_points_bucket{{{job}}}[10m])))"
            f" > {number(s.slippage_p50_bps)}",
            severity="warning",
            for_seconds=600,
            summary="Elevated slippage",
            description=(
                "Median slippage of filled orders of {{ $labels.job }} is "
                '{{ $value | printf "%.1f" }}'
                f" bps against the arrival price (limit {number(s.slippage_p50_bps)} bps)."
            ),
        ),
    ]


def _process(s: AlertSettings) -> list[dict[str, Any]]:
    job = f'job="{s.job}"'
    pg = f'job="{s.postgres_job}"'
    return [
        _alert(
            s,
            "HighMemoryUsage",
            f"process_resident_memory_bytes{{{job}}} > {number(s.memory_bytes)}",
            severity="warning",
            for_seconds=300,
            summary="High memory usage",
            description=(
                "The algowatch process on {{ $labels.instance }} uses "
                "{{ $value | humanize1024 }}B resident memory "
                f"(limit {s.memory_bytes / 1024**3:.1f} GiB)."
            ),
        ),
        _alert(
            s,
            "HighCPUUsage",
            f"rate(process_cpu_seconds_total{{{job}}}[5m]) > {number(s.cpu_ratio)}",
            severity="warning",
            for_seconds=300,
            summary="High CPU usage",
            description=(
                "The algowatch process on {{ $labels.instance }} uses "
                "{{ $value | humanizePercentage }} of one core "
                f"(limit {s.cpu_ratio:.0%})."
            ),
        ),
        _alert(
            s,
            "PostgresConnectionsNearLimit",
            f"sum by (job, instance) (pg_stat_activity_count{{{pg}}})\n"
            f"> 0.8 * max by (job, instance) (pg_settings_max_connections{{{pg}}})",
            severity="warning",
            for_seconds=300,
            summary="PostgreSQL connections near max_connections",
            description=(
                "{{ $labels.instance }} has {{ $value }} client connections, more than 80% "
                "of the server's max_connections."
            ),
        ),
    ]


def _meta(s: AlertSettings) -> list[dict[str, Any]]:
    return [
        _alert(
            s,
            "Watchdog",
            "vector(1)",
            severity="none",
            summary="Always firing: proves the alerting pipeline works",
            description=(
                "This alert always fires. The dead man's switch pages when it stops "
                "arriving, which means Prometheus or Alertmanager is down."
            ),
        ),
        _alert(
            s,
            "PrometheusRuleEvaluationFailures",
            'increase(prometheus_rule_evaluation_failures_total{job="prometheus"}[5m]) > 0',
            severity="critical",
            summary="Prometheus fails to evaluate rules",
            description=(
                '{{ $labels.instance }} failed to evaluate {{ $value | printf "%.0f" }} '
                "rules of group {{ $labels.rule_group }} in 5 minutes; alerts may be missed."
            ),
        ),
        _alert(
            s,
            "AlertmanagerNotificationsFailing",
            "sum by (job, instance, integration) (rate(alertmanager_notifications_failed_total"
            '{job="alertmanager"}[5m])) > 0',
            severity="critical",
            for_seconds=300,
            summary="Alertmanager cannot deliver notifications",
            description=(
                "{{ $labels.instance }} fails to send notifications through "
                "{{ $labels.integration }}."
            ),
        ),
    ]


def alert_rules(settings: AlertSettings) -> dict[str, Any]:
    """Return the rule file (``groups``) for ``settings``.

    The risk group is evaluated at the scrape interval of the trading job (A11),
    the others at the global evaluation interval.

    .. versionadded:: 0.1.0
    """
    return {
        "groups": [
            {
                "name": "algowatch-risk",
                "interval": duration(settings.scrape_interval_seconds),
                "rules": _risk(settings),
            },
            {"name": "algowatch-connectivity", "rules": _connectivity(settings)},
            {"name": "algowatch-execution", "rules": _execution(settings)},
            {"name": "algowatch-process", "rules": _process(settings)},
            {"name": "algowatch-meta", "rules": _meta(settings)},
        ]
    }


def alert_names(settings: AlertSettings | None = None) -> list[str]:
    """Return the names of every alert, in file order.

    Examples
    --------
    >>> "MaxDrawdownExceeded" in alert_names()
    True

    .. versionadded:: 0.1.0
    """
    rules = alert_rules(settings or AlertSettings())
    return [r["alert"] for g in rules["groups"] for r in g["rules"]]
