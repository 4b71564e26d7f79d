"""``prometheus.yml`` and ``alertmanager.yml``, built from the ``[alerts]`` settings.

Corrections of ``PROMETHEUS.md`` section C: the trading job scrapes port 8000
with a scrape timeout below its interval (C1); Prometheus and Alertmanager
scrape themselves (C2); routes use ``matchers`` (C3); secrets are read only
from files (C4) and PagerDuty uses Events API v2 (C5); the critical route has a
one-minute ``group_interval`` (C6); notifications are grouped by ``job`` (C7);
inhibit rules silence what an engine outage makes meaningless (C8); SMTP
authenticates from a file (C9); resolved notifications are sent (C10).
"""

from __future__ import annotations

from typing import Any

from algowatch.deploy._common import duration
from algowatch.deploy.rules import ENGINE_DEPENDENT_ALERTS
from algowatch.settings import AlertSettings

__all__ = ["RULES_FILE", "alertmanager_config", "prometheus_config"]

#: Where the rule file sits, relative to ``prometheus.yml``.
RULES_FILE = "rules/algowatch-alerts.yml"


def _scrape_timeout(interval: float) -> float:
    # a scrape must end before the next starts: 4 s at the 5 s default (C1)
    return max(0.001, min(interval - 1.0, round(interval * 0.8, 3))) if interval > 1 else interval


def prometheus_config(settings: AlertSettings) -> dict[str, Any]:
    """Return ``prometheus.yml`` for ``settings``.

    .. versionadded:: 0.1.0
    """
    return {
        "global": {
            "scrape_interval": "15s",
            "scrape_timeout": "10s",
            "evaluation_interval": duration(settings.evaluation_interval_seconds),
        },
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [settings.alertmanager_target]}]}]
        },
        "rule_files": [RULES_FILE],
        "scrape_configs": [
            {
                "job_name": settings.job,
                "scrape_interval": duration(settings.scrape_interval_seconds),
                "scrape_timeout": duration(_scrape_timeout(settings.scrape_interval_seconds)),
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [settings.target]}],
            },
            {
                "job_name": "prometheus",
                "static_configs": [{"targets": [settings.prometheus_target]}],
            },
            {
                "job_name": "alertmanager",
                "static_configs": [{"targets": [settings.alertmanager_target]}],
            },
            {
                "job_name": "node-exporter",
                "static_configs": [{"targets": [settings.node_exporter_target]}],
            },
            {
                "job_name": settings.postgres_job,
                "static_configs": [{"targets": [settings.postgres_exporter_target]}],
            },
        ],
    }


def alertmanager_config(settings: AlertSettings) -> dict[str, Any]:
    """Return ``alertmanager.yml`` for ``settings``; secrets are ``*_file`` paths only.

    .. versionadded:: 0.1.0
    """
    secrets = settings.secrets_dir.rstrip("/")
    slack = {
        "channel": settings.slack_channel,
        "send_resolved": True,
        "title": "{{ .Status | toUpper }}: {{ .CommonLabels.alertname }} ({{ .CommonLabels.job }})",
        "text": "{{ range .Alerts }}{{ .Annotations.description }}\n{{ end }}",
    }
    return {
        "global": {
            "resolve_timeout": "5m",
            "smtp_smarthost": settings.smtp_smarthost,
            "smtp_from": settings.email_from,
            "smtp_auth_username": settings.email_from,
            "smtp_auth_password_file": f"{secrets}/smtp_password",
            "smtp_require_tls": True,
            "slack_api_url_file": f"{secrets}/slack_api_url",
        },
        "route": {
            "receiver": "trading-team",
            "group_by": ["alertname", "job", "severity"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {
                    "matchers": ['alertname="Watchdog"'],
                    "receiver": "deadmans-switch",
                    "group_wait": "0s",
                    "group_interval": "1m",
                    "repeat_interval": "1m",
                },
                {
                    "matchers": ['severity="critical"'],
                    "receiver": "trading-critical",
                    "group_wait": "0s",
                    "group_interval": "1m",
                    "repeat_interval": "1h",
                },
            ],
        },
        "inhibit_rules": [
            {
                "source_matchers": ['alertname="TradingEngineDown"'],
                "target_matchers": [f'alertname=~"{"|".join(ENGINE_DEPENDENT_ALERTS)}"'],
                "equal": ["job"],
            },
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["alertname", "job"],
            },
            {
                "source_matchers": ['alertname="DailyLossLimitExceeded"'],
                "target_matchers": ['alertname="DailyLossLimitApproaching"'],
                "equal": ["job"],
            },
        ],
        "receivers": [
            {
                "name": "trading-critical",
                "pagerduty_configs": [
                    {
                        "routing_key_file": f"{secrets}/pagerduty_routing_key",
                        "send_resolved": True,
                        "description": "{{ .CommonLabels.alertname }}: "
                        "{{ .CommonAnnotations.summary }}",
                    }
                ],
                "slack_configs": [slack],
            },
            {
                "name": "trading-team",
                "email_configs": [{"to": settings.email_to, "send_resolved": True}],
                "slack_configs": [slack],
            },
            {
                "name": "deadmans-switch",
                "webhook_configs": [{"url": settings.deadmans_switch_url, "send_resolved": False}],
            },
        ],
    }
