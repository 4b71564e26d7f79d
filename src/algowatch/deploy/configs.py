"""``prometheus.yml`` and ``alertmanager.yml``, built from the ``[alerts]`` settings.

Corrections of ``PROMETHEUS.md`` section C: the trading job scrapes port 8000
with a scrape timeout below its interval (C1); Prometheus and Alertmanager
scrape themselves (C2); routes use ``matchers`` (C3); secrets are read only
from files (C4) and PagerDuty uses Events API v2 (C5); the critical route has a
``group_wait``/``group_interval`` in seconds (C6, "Time to alert"); notifications
are grouped by ``job`` (C7); inhibit rules silence what an engine outage makes
meaningless (C8); SMTP authenticates from a file (C9); resolved notifications are
sent (C10). Every timing is an ``[alerts]`` key, and the receivers come from
``[[alerts.receivers]]`` (webhook, Slack, PagerDuty, e-mail, Opsgenie), so the
rendered file never needs editing.
"""

from __future__ import annotations

from typing import Any

from algowatch.deploy._common import duration
from algowatch.deploy.rules import ENGINE_DEPENDENT_ALERTS
from algowatch.settings import AlertSettings, ReceiverSettings

__all__ = ["RULES_FILE", "alertmanager_config", "prometheus_config"]

#: Where the rule file sits, relative to ``prometheus.yml``.
RULES_FILE = "rules/algowatch-alerts.yml"


def _scrape_timeout(interval: float) -> float:
    # a scrape must end before the next starts: 4 s at the 5 s default (C1)
    return max(0.001, min(interval - 1.0, round(interval * 0.8, 3))) if interval > 1 else interval


def _wait(seconds: float) -> str:
    # group_wait may be zero (send a new group at once); durations elsewhere may not
    return "0s" if seconds == 0 else duration(seconds)


def prometheus_config(settings: AlertSettings) -> dict[str, Any]:
    """Return ``prometheus.yml`` for ``settings``.

    With ``[[alerts.replicas]]``, the trading job scrapes every replica with the labels
    ``replica`` and ``shard``, and ``alert_relabel_configs`` drop ``replica`` and
    ``instance`` from the alerts sent, so the replicas' identical alerts reach
    Alertmanager as one.

    .. versionchanged:: 0.2.0
       ``[[alerts.replicas]]``.

    .. versionadded:: 0.1.0
    """
    default = settings.default_scrape_interval_seconds
    alerting: dict[str, Any] = {
        "alertmanagers": [{"static_configs": [{"targets": [settings.alertmanager_target]}]}]
    }
    if settings.replicas:
        # the replicas of a fleet fire the same alerts: without the labels that tell them
        # apart, Alertmanager sees one alert (one notification) however many replicas fire
        alerting = {
            "alert_relabel_configs": [{"action": "labeldrop", "regex": "replica|instance"}],
            **alerting,
        }
    return {
        "global": {
            "scrape_interval": duration(default),
            "scrape_timeout": duration(_scrape_timeout(default)),
            "evaluation_interval": duration(settings.evaluation_interval_seconds),
        },
        "alerting": alerting,
        "rule_files": [RULES_FILE],
        "scrape_configs": [
            {
                "job_name": settings.job,
                "scrape_interval": duration(settings.scrape_interval_seconds),
                "scrape_timeout": duration(_scrape_timeout(settings.scrape_interval_seconds)),
                "metrics_path": "/metrics",
                "static_configs": _trading_targets(settings),
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


def _trading_targets(settings: AlertSettings) -> list[dict[str, Any]]:
    if not settings.replicas:
        return [{"targets": [settings.target]}]
    return [
        {"targets": [replica.target], "labels": {"replica": replica.label, "shard": replica.shard}}
        for replica in settings.replicas
    ]


_SLACK_TITLE = "{{ .Status | toUpper }}: {{ .CommonLabels.alertname }} ({{ .CommonLabels.job }})"
_TEXT = "{{ range .Alerts }}{{ .Annotations.description }}\n{{ end }}"
_SUMMARY = "{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}"
_CONFIG_KEYS = {
    "webhook": "webhook_configs",
    "slack": "slack_configs",
    "pagerduty": "pagerduty_configs",
    "email": "email_configs",
    "opsgenie": "opsgenie_configs",
}


def _receiver_config(entry: ReceiverSettings) -> dict[str, Any]:
    resolved = {"send_resolved": entry.send_resolved}
    if entry.kind == "webhook":
        return {"url": entry.url, **resolved}
    if entry.kind == "slack":
        return {
            "api_url_file": entry.api_url_file,
            "channel": entry.channel,
            **resolved,
            "title": _SLACK_TITLE,
            "text": _TEXT,
        }
    if entry.kind == "pagerduty":
        return {"routing_key_file": entry.routing_key_file, **resolved, "description": _SUMMARY}
    if entry.kind == "email":
        return {"to": entry.to, **resolved}
    return {"api_key_file": entry.api_key_file, **resolved, "message": _SUMMARY}


def _configured_receivers(
    entries: tuple[ReceiverSettings, ...], route: str
) -> dict[str, list[dict[str, Any]]]:
    configs: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        if entry.route in (route, "all"):
            configs.setdefault(_CONFIG_KEYS[entry.kind], []).append(_receiver_config(entry))
    return configs


def _default_receivers(settings: AlertSettings) -> tuple[dict[str, Any], dict[str, Any]]:
    # without [[alerts.receivers]]: PagerDuty and Slack for critical, e-mail and Slack
    # for the team, every secret read from secrets_dir
    secrets = settings.secrets_dir.rstrip("/")
    slack = {
        "channel": settings.slack_channel,
        "send_resolved": True,
        "title": _SLACK_TITLE,
        "text": _TEXT,
    }
    critical = {
        "pagerduty_configs": [
            {
                "routing_key_file": f"{secrets}/pagerduty_routing_key",
                "send_resolved": True,
                "description": _SUMMARY,
            }
        ],
        "slack_configs": [slack],
    }
    team = {
        "email_configs": [{"to": settings.email_to, "send_resolved": True}],
        "slack_configs": [slack],
    }
    return critical, team


def alertmanager_config(settings: AlertSettings) -> dict[str, Any]:
    """Return ``alertmanager.yml`` for ``settings``; secrets are ``*_file`` paths only.

    With ``[[alerts.receivers]]`` entries, ``trading-critical`` gets those routed
    ``critical`` or ``all`` and ``trading-team`` those routed ``team`` or ``all``;
    without, the defaults send critical alerts to PagerDuty and Slack, warnings to
    e-mail and Slack.

    .. versionchanged:: 0.2.0
       Receivers and every timing come from ``[alerts]``; the critical route's
       ``group_interval`` is 2 s by default (was 1 m).

    .. versionadded:: 0.1.0
    """
    s = settings
    secrets = s.secrets_dir.rstrip("/")
    if s.receivers:
        critical = _configured_receivers(s.receivers, "critical")
        team = _configured_receivers(s.receivers, "team")
    else:
        critical, team = _default_receivers(s)
    uses = {e.kind for e in s.receivers} if s.receivers else {"slack", "email", "pagerduty"}
    global_: dict[str, Any] = {"resolve_timeout": duration(s.resolve_timeout_seconds)}
    if "email" in uses:
        global_ |= {
            "smtp_smarthost": s.smtp_smarthost,
            "smtp_from": s.email_from,
            "smtp_auth_username": s.email_from,
            "smtp_auth_password_file": f"{secrets}/smtp_password",
            "smtp_require_tls": True,
        }
    if not s.receivers:
        global_["slack_api_url_file"] = f"{secrets}/slack_api_url"
    watchdog = duration(s.watchdog_interval_seconds)
    return {
        "global": global_,
        "route": {
            "receiver": "trading-team",
            "group_by": ["alertname", "job", "severity"],
            "group_wait": _wait(s.group_wait_seconds),
            "group_interval": duration(s.group_interval_seconds),
            "repeat_interval": duration(s.repeat_interval_seconds),
            "routes": [
                {
                    "matchers": ['alertname="Watchdog"'],
                    "receiver": "deadmans-switch",
                    "group_wait": "0s",
                    "group_interval": watchdog,
                    "repeat_interval": watchdog,
                },
                {
                    "matchers": ['severity="critical"'],
                    "receiver": "trading-critical",
                    "group_wait": _wait(s.critical_group_wait_seconds),
                    "group_interval": duration(s.critical_group_interval_seconds),
                    "repeat_interval": duration(s.critical_repeat_interval_seconds),
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
            {"name": "trading-critical", **critical},
            {"name": "trading-team", **team},
            {
                "name": "deadmans-switch",
                "webhook_configs": [{"url": s.deadmans_switch_url, "send_resolved": False}],
            },
        ],
    }
