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
from algowatch.settings import AlertSettings, RiskSettings

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
    "KillSwitchEngaged",
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


def _now(metric: str, shown: str) -> str:
    # Go template: the target's current value of ``metric`` (the alert's own value is the
    # guard's level when the guard decides), shown through ``shown`` (a template pipe)
    query = f"printf `{metric}{{job=%q,instance=%q}}` $labels.job $labels.instance | query"
    return (
        "{{ with " + query + " }}{{ . | first | value | " + shown + " }}"
        "{{ else }}not reported{{ end }}"
    )


def _risk(s: AlertSettings, risk: RiskSettings) -> list[dict[str, Any]]:
    # Hard limits read the guard's own state (trading_risk_*), so a page can never
    # disagree with what the guard did; the guard's hysteresis de-flaps, so no `for:`
    # is needed (risk_for_seconds, 0 by default). Without a guard the same [risk]
    # thresholds are compared with the raw gauges.
    job = f'job="{s.job}"'
    limit = f"{risk.max_drawdown:.0%}"
    loss = f"{risk.daily_loss_limit:.2f}"
    if risk.enabled:
        drawdown_expr = f'trading_risk_limit_level{{{job}, limit="max_drawdown"}} >= 3'
        loss_expr = f'trading_risk_limit_level{{{job}, limit="daily_loss"}} >= 3'
        approach_expr = f'trading_risk_limit_level{{{job}, limit="daily_loss"}} >= 1 < 3'
        source = "the risk guard holds its {} limit at flatten"
    else:
        warn = risk.warn_fraction * risk.daily_loss_limit
        drawdown_expr = f"trading_drawdown_ratio{{{job}}} >= {number(risk.max_drawdown)}"
        loss_expr = f"trading_daily_pnl_usd{{{job}}} <= -{number(risk.daily_loss_limit)}"
        approach_expr = f"trading_daily_pnl_usd{{{job}}} <= -{number(warn)}"
        source = "the {} limit is reached"
    rules = [
        _alert(
            s,
            "MaxDrawdownExceeded",
            drawdown_expr,
            severity="critical",
            for_seconds=s.risk_for_seconds,
            summary="Drawdown at the limit",
            description=(
                "On {{ $labels.job }} " + source.format("max_drawdown") + ": the drawdown "
                f"reached the [risk] max_drawdown of {limit} of the high-water mark "
                f"(now {_now('trading_drawdown_ratio', 'humanizePercentage')})."
            ),
        ),
        _alert(
            s,
            "DailyLossLimitExceeded",
            loss_expr,
            severity="critical",
            for_seconds=s.risk_for_seconds,
            summary="Daily loss limit reached",
            description=(
                "On {{ $labels.job }} " + source.format("daily_loss") + ": the session's "
                f"loss reached the [risk] daily_loss_limit of {loss} (daily P&L now "
                + _now("trading_daily_pnl_usd", 'printf "%.2f"')
                + ")."
            ),
        ),
        _alert(
            s,
            "DailyLossLimitApproaching",
            approach_expr,
            severity="warning",
            for_seconds=s.risk_for_seconds,
            summary="Daily loss approaching the limit",
            description=(
                "The session's loss on {{ $labels.job }} passed the [risk] warn_fraction "
                f"({risk.warn_fraction:.0%}) of the daily_loss_limit of {loss}."
            ),
        ),
    ]
    if risk.enabled:
        rules.append(
            _alert(
                s,
                "KillSwitchEngaged",
                f"trading_risk_kill_switch_engaged{{{job}}} == 1",
                severity="critical",
                for_seconds=s.risk_for_seconds,
                summary="The risk guard's kill switch is engaged",
                description=(
                    "The risk guard of {{ $labels.job }} on {{ $labels.instance }} latched at "
                    "flatten: every position is being closed and nothing is opened until an "
                    "operator resets it (POST /api/v1/risk/reset)."
                ),
            )
        )
    guard_metric = "trading_risk_level" if risk.enabled else "trading_drawdown_ratio"
    rules.append(
        _alert(
            s,
            "TradingRiskMetricsAbsent",
            f"absent({guard_metric}{{{job}}}) or absent(trading_daily_pnl_usd{{{job}}})",
            severity="warning",
            for_seconds=120,
            summary="Risk metrics are missing",
            description=(
                f"Prometheus has no {guard_metric} or trading_daily_pnl_usd for job "
                f'"{s.job}", so the risk alerts cannot fire. Check the scrape target.'
            ),
        )
    )
    return rules


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


def _execution(s: AlertSettings, risk: RiskSettings) -> list[dict[str, Any]]:
    job = f'job="{s.job}"'
    orders = f"trading_orders_total{{{job}}}"
    window = duration(risk.rejection_window_seconds)
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
            f"sum by (job) (rate({rejected}[{window}])) / sum by (job) (rate({orders}[{window}]))"
            f" > {number(risk.max_rejection_rate)}\n"
            f"and sum by (job) (increase({orders}[{window}])) >= "
            f"{risk.min_orders_for_rejection_rate}",
            severity="warning",
            for_seconds=300,
            summary="High order rejection rate",
            description=(
                "{{ $value | humanizePercentage }} of the orders of {{ $labels.job }} "
                f"completed in the last {window} were rejected "
                f"(limit {risk.max_rejection_rate:.0%})."
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


def _for_text(seconds: float) -> str:
    return f" for {duration(seconds)}" if seconds else ""


def _fleet(s: AlertSettings) -> list[dict[str, Any]]:
    job = f'job="{s.job}"'
    return [
        _alert(
            s,
            "NatsConsumerLagging",
            f"algowatch_nats_consumer_lag_events{{{job}}} > {s.nats_lag_events}",
            severity="warning",
            for_seconds=s.nats_lag_for_seconds,
            summary="A replica is behind its NATS stream",
            description=(
                "Consumer {{ $labels.consumer }} of stream {{ $labels.stream }} is "
                "{{ $value }} events behind (more than "
                f"{s.nats_lag_events}{_for_text(s.nats_lag_for_seconds)}); its figures "
                "are late and /ready answers 503 past sources.nats.ready_max_lag_events."
            ),
        ),
        _alert(
            s,
            "NatsSourceDisconnected",
            f"algowatch_nats_connected{{{job}}} == 0",
            severity="warning",
            for_seconds=60,
            summary="A replica lost its NATS connection",
            description=(
                "Consumer {{ $labels.consumer }} of stream {{ $labels.stream }} has not "
                "reached any NATS server for a minute; it applies nothing new meanwhile."
            ),
        ),
    ]


def alert_rules(settings: AlertSettings, risk: RiskSettings | None = None) -> dict[str, Any]:
    """Return the rule file (``groups``) for ``settings`` and the ``[risk]`` limits.

    The risk group is evaluated every ``risk_evaluation_interval_seconds`` (1 s),
    the others at the global evaluation interval. The risk rules read the guard's
    state (``trading_risk_limit_level``, ``trading_risk_kill_switch_engaged``); with
    ``risk.enabled = false`` they compare the raw gauges with the same ``[risk]``
    thresholds. The rejection-rate rule takes its threshold, volume guard and
    window from ``[risk]`` as well. With ``[[alerts.replicas]]`` (a fleet) the group
    ``algowatch-fleet`` adds ``NatsConsumerLagging`` and ``NatsSourceDisconnected``.

    .. versionchanged:: 0.2.0
       Takes ``risk``: the limits come from ``[risk]``, not from ``[alerts]``.

    .. versionadded:: 0.1.0
    """
    r = risk or RiskSettings()
    return {
        "groups": [
            {
                "name": "algowatch-risk",
                "interval": duration(settings.risk_evaluation_interval_seconds),
                "rules": _risk(settings, r),
            },
            {"name": "algowatch-connectivity", "rules": _connectivity(settings)},
            {"name": "algowatch-execution", "rules": _execution(settings, r)},
            {"name": "algowatch-process", "rules": _process(settings)},
            {"name": "algowatch-meta", "rules": _meta(settings)},
        ]
        + ([{"name": "algowatch-fleet", "rules": _fleet(settings)}] if settings.replicas else [])
    }


def alert_names(
    settings: AlertSettings | None = None, risk: RiskSettings | None = None
) -> list[str]:
    """Return the names of every alert, in file order.

    Examples
    --------
    >>> "MaxDrawdownExceeded" in alert_names()
    True

    .. versionadded:: 0.1.0
    """
    rules = alert_rules(settings or AlertSettings(), risk)
    return [r["alert"] for g in rules["groups"] for r in g["rules"]]
