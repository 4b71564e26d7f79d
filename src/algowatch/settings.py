"""Configuration: one frozen, keyword-only settings object.

Settings are read once, at the edge (the CLI or :func:`load_settings`), from a
TOML file and ``ALGOWATCH_*`` environment variables, then passed down. Unknown
keys are rejected with the key named. Environment variables override the file:
``ALGOWATCH_<SECTION>__<KEY>`` (double underscore) sets ``[section] key``, for
example ``ALGOWATCH_SERVER__PORT=8001``; values are parsed as TOML values when
they parse, else taken as strings. ``ALGOWATCH_TOKEN`` and ``ALGOWATCH_DATA_DIR``
are shorthands for ``server.token`` and ``data_dir``.

Every section is documented in ``docs/configuration.md``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from algowatch.errors import ConfigError

__all__ = [
    "MIN_TOKEN_CHARS",
    "AlertSettings",
    "AuditSettings",
    "HealthCheckSettings",
    "HealthSettings",
    "HummingbotSourceSettings",
    "JournalSettings",
    "LoggingSettings",
    "MonitorSettings",
    "NatsSourceSettings",
    "ReceiverSettings",
    "ReplicaSettings",
    "RiskSettings",
    "ServerSettings",
    "Settings",
    "SourcesSettings",
    "load_settings",
]


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


MIN_TOKEN_CHARS = 16

_Positive = Annotated[float, msgspec.Meta(gt=0)]


class ServerSettings(_Section, frozen=True, kw_only=True):
    """``[server]``: the HTTP service (dashboard, API, ``/metrics``, health).

    Raises
    ------
    ConfigError
        When ``token`` is shorter than 16 characters or holds a blank.

    Examples
    --------
    >>> ServerSettings(token="short")
    Traceback (most recent call last):
    ...
    algowatch.errors.ConfigError: server.token must be at least 16 characters with no blanks, \
received 5 characters
    """

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    max_body_bytes: Annotated[int, msgspec.Meta(gt=0)] = 5 * 1024 * 1024
    max_connections: Annotated[int, msgspec.Meta(gt=0)] = 1000
    header_timeout_seconds: _Positive = 10.0
    body_timeout_seconds: _Positive = 30.0
    keep_alive_timeout_seconds: _Positive = 5.0
    max_pending_events: int = 100_000
    max_future_seconds: _Positive = 300.0
    stream_interval_seconds: float = 0.5
    retry_after_seconds: int = 1
    stream_queue_size: int = 8
    shutdown_timeout_seconds: float = 5.0

    def __post_init__(self) -> None:
        # a token is the only lock on a service bound beyond loopback: short or blank
        # ones are refused (the message never shows the secret itself)
        token = self.token
        if token is not None and (len(token) < MIN_TOKEN_CHARS or _has_blank(token)):
            blanks = " including blanks" if _has_blank(token) else ""
            msg = (
                f"server.token must be at least {MIN_TOKEN_CHARS} characters with no blanks, "
                f"received {len(token)} character{'' if len(token) == 1 else 's'}{blanks}"
            )
            raise ConfigError(msg)


def _has_blank(text: str) -> bool:
    return any(c.isspace() for c in text)


class JournalSettings(_Section, frozen=True, kw_only=True):
    """``[journal]``: the durable event store written before state changes."""

    backend: Literal["sqlite", "postgres"] = "sqlite"
    dsn: str | None = None
    durability: Literal["event", "group"] = "group"
    group_commit_max_delay_seconds: float = 0.002
    group_commit_max_events: int = 1000


class MonitorSettings(_Section, frozen=True, kw_only=True):
    """``[monitor]``: the engine's accounting conventions."""

    starting_capital: float = 100_000.0
    currency: str = "USD"
    session_timezone: str = "UTC"
    session_start: str = "00:00"
    periods_per_year: float = 252.0
    risk_free: float = 0.0
    rolling_window: int = 252
    max_symbols: int = 200
    max_strategies: int = 50
    max_accounts: int = 20
    impact_horizon_seconds: float = 300.0
    max_open_orders: int = 100_000
    max_recent_trades: int = 10_000
    max_recent_orders: int = 10_000
    max_recent_fills: int = 10_000
    max_event_ids: int = 100_000
    max_open_signals: int = 100_000
    max_marked_symbols: int = 10_000
    max_pending_impact: int = 100_000
    equity_curve_points: int = 2_000
    equity_curve_interval_seconds: float = 60.0
    equity_history_points: int = 50_000
    equity_history_interval_seconds: float = 1.0


class HealthCheckSettings(_Section, frozen=True, kw_only=True):
    """One ``[[health.checks]]`` entry."""

    name: str
    kind: Literal[
        "broker",
        "broker_http",
        "postgres",
        "redis",
        "market_data",
        "heartbeat",
        "broker_heartbeat",
        "order_flow",
        "clock",
        "audit",
    ]
    target: str | None = None
    timeout_seconds: float = 1.0
    interval_seconds: float = 5.0
    critical: bool = True
    max_age_seconds: float | None = None
    trading_hours: str | None = None
    trading_days: str | None = None
    timezone: str = "UTC"
    tolerance_seconds: float = 0.05


class HealthSettings(_Section, frozen=True, kw_only=True):
    """``[health]``: dependency checks and system metrics."""

    checks: tuple[HealthCheckSettings, ...] = ()
    system_metrics: bool = True
    system_interval_seconds: float = 5.0
    network_connections_interval_seconds: float = 60.0
    disk_path: str = "/"
    startup_grace_seconds: float = 10.0


class AuditSettings(_Section, frozen=True, kw_only=True):
    """``[audit]``: the tamper-evident audit trail."""

    enabled: bool = True
    directory: str | None = None
    durability: Literal["sync", "group", "async"] = "sync"
    hmac_key_file: str | None = None
    signing_key_file: str | None = None
    rotate_bytes: int = 64 * 1024 * 1024
    checkpoint_every_records: int = 1000
    checkpoint_every_seconds: float = 60.0
    retention_days: int = 6 * 366
    provider_budget_seconds: float = 0.002
    instance_id: str = "default"
    key_name: str = "algowatch-audit"
    lock_mode: Literal["append", "owner"] = "append"


class LoggingSettings(_Section, frozen=True, kw_only=True):
    """``[logging]``: structured JSON logs."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"
    file: str | None = None
    redact_keys: tuple[str, ...] = ()


class RiskSettings(_Section, frozen=True, kw_only=True):
    """``[risk]``: limits of the risk guard (fractions are 0..1); see ``docs/risk.md``."""

    enabled: bool = True
    max_drawdown: float = 0.15
    daily_loss_limit: float = 5_000.0
    max_rejection_rate: float = 0.10
    min_orders_for_rejection_rate: int = 10
    rejection_window_seconds: float = 300.0
    heartbeat_timeout_seconds: float = 30.0
    no_trading_timeout_seconds: float = 900.0
    heartbeat_component: str = "engine"
    broker_component: str = "broker"
    warn_fraction: float = 0.75
    stop_entries_fraction: float = 0.9
    hysteresis: float = 0.2
    recovery_seconds: float = 30.0
    check_interval_seconds: float = 1.0
    webhooks: tuple[str, ...] = ()
    webhook_attempts: int = 3
    webhook_timeout_seconds: float = 2.0
    webhook_backoff_seconds: float = 0.5


_RECEIVER_FIELDS: dict[str, tuple[str, ...]] = {
    "webhook": ("url",),
    "slack": ("api_url_file", "channel"),
    "pagerduty": ("routing_key_file",),
    "email": ("to",),
    "opsgenie": ("api_key_file",),
}
_RECEIVER_OPTIONAL = ("url", "api_url_file", "channel", "routing_key_file", "to", "api_key_file")


class ReceiverSettings(_Section, frozen=True, kw_only=True):
    """One ``[[alerts.receivers]]`` entry: where Alertmanager sends a route's alerts.

    Secrets are paths to files (Alertmanager's ``*_file`` fields), never inline; a
    webhook's ``url`` is inline because Alertmanager 0.25 has no ``url_file``.

    Raises
    ------
    ConfigError
        When a field the kind needs is missing, or a field it does not use is set.

    Examples
    --------
    >>> ReceiverSettings(kind="pagerduty")
    Traceback (most recent call last):
    ...
    algowatch.errors.ConfigError: alerts.receivers: kind 'pagerduty' needs routing_key_file
    """

    kind: Literal["webhook", "slack", "pagerduty", "email", "opsgenie"]
    route: Literal["critical", "team", "all"] = "all"
    url: str | None = None
    api_url_file: str | None = None
    channel: str | None = None
    routing_key_file: str | None = None
    to: str | None = None
    api_key_file: str | None = None
    send_resolved: bool = True

    def __post_init__(self) -> None:
        needed = _RECEIVER_FIELDS[self.kind]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            msg = f"alerts.receivers: kind {self.kind!r} needs {', '.join(missing)}"
            raise ConfigError(msg)
        unused = [n for n in _RECEIVER_OPTIONAL if n not in needed and getattr(self, n) is not None]
        if unused:
            msg = f"alerts.receivers: kind {self.kind!r} does not use {', '.join(unused)}"
            raise ConfigError(msg)


class HummingbotSourceSettings(_Section, frozen=True, kw_only=True):
    """``[sources.hummingbot]``: subscribe to hummingbot's MQTT bridge.

    See ``docs/integrations/hummingbot.md``; needs the ``hummingbot`` extra.

    .. versionadded:: 0.2.0
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False
    namespace: str = "hbot"
    instances: tuple[str, ...] = ()
    client_id: str | None = None
    keepalive_seconds: Annotated[int, msgspec.Meta(ge=5)] = 60
    reconnect_min_seconds: _Positive = 0.5
    reconnect_max_seconds: _Positive = 30.0
    strategy: str = "hummingbot"
    component: str = "hummingbot"


class NatsSourceSettings(_Section, frozen=True, kw_only=True):
    """``[sources.nats]``: consume events from a NATS JetStream stream (a fleet's replica).

    The source runs when ``servers`` is set. ``stream`` is created if missing, with
    ``stream_subjects`` and ``replicas``; ``subjects`` filter what this replica consumes
    (a shard sets a narrower filter, e.g. ``["algowatch.events.acct-1.>"]``); ``durable``
    names this replica's own durable consumer. See ``docs/fleet.md``; needs the ``nats``
    extra.

    .. versionadded:: 0.2.0
    """

    servers: tuple[str, ...] = ()
    stream: str = "ALGOWATCH"
    subjects: tuple[str, ...] = ("algowatch.events.>",)
    stream_subjects: tuple[str, ...] = ("algowatch.events.>",)
    replicas: Annotated[int, msgspec.Meta(ge=1, le=5)] = 1
    duplicate_window_seconds: _Positive = 120.0
    durable: str = "algowatch"
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 2_000
    fetch_timeout_seconds: _Positive = 1.0
    ack_wait_seconds: _Positive = 60.0
    dead_letter_prefix: str = "algowatch.dead"
    ready_max_lag_events: Annotated[int, msgspec.Meta(ge=0)] = 10_000
    reconnect_seconds: _Positive = 1.0
    credentials_file: str | None = None

    @property
    def enabled(self) -> bool:
        """Return whether the source runs (``servers`` is set)."""
        return bool(self.servers)

    def __post_init__(self) -> None:
        for name in ("subjects", "stream_subjects"):
            if not getattr(self, name):
                msg = f"sources.nats.{name} must list at least one subject"
                raise ConfigError(msg)
        for name in ("stream", "durable"):
            value = getattr(self, name)
            if not value or any(c in value for c in " .*>\t/\\"):
                msg = (
                    f"sources.nats.{name} must be a non-empty name without spaces, '.', '*', "
                    f"'>', '/' or '\\'; received {value!r}"
                )
                raise ConfigError(msg)
        if not self.dead_letter_prefix or any(c in self.dead_letter_prefix for c in " *>"):
            msg = (
                "sources.nats.dead_letter_prefix must be a subject without spaces or "
                f"wildcards; received {self.dead_letter_prefix!r}"
            )
            raise ConfigError(msg)


class SourcesSettings(_Section, frozen=True, kw_only=True):
    """``[sources]``: event sources the service runs besides its HTTP ingest."""

    hummingbot: HummingbotSourceSettings = HummingbotSourceSettings()
    nats: NatsSourceSettings = NatsSourceSettings()


class ReplicaSettings(_Section, frozen=True, kw_only=True):
    """``[[alerts.replicas]]``: one replica of a fleet, scraped with a ``replica`` label.

    ``name`` becomes the ``replica`` label (default: the target's host), ``shard`` the
    ``shard`` label (default ``"all"``: the replica consumes every subject).

    .. versionadded:: 0.2.0
    """

    target: str
    name: str | None = None
    shard: str = "all"

    @property
    def label(self) -> str:
        """Return the ``replica`` label: ``name``, else the target's host."""
        return self.name or self.target.rsplit(":", 1)[0]


class AlertSettings(_Section, frozen=True, kw_only=True):
    """``[alerts]``: timings, thresholds and receivers rendered into the Prometheus artefacts.

    The risk limits are not here: the rendered risk rules read the guard's state
    and thresholds from ``[risk]`` (one source of truth; see ``docs/prometheus.md``).
    """

    job: str = "trading-engine"
    scrape_interval_seconds: _Positive = 1.0
    risk_evaluation_interval_seconds: _Positive = 1.0
    evaluation_interval_seconds: _Positive = 15.0
    default_scrape_interval_seconds: _Positive = 15.0
    target: str = "trading:8000"
    prometheus_target: str = "localhost:9090"
    alertmanager_target: str = "alertmanager:9093"
    node_exporter_target: str = "node-exporter:9100"
    postgres_exporter_target: str = "postgres-exporter:9187"
    postgres_job: str = "postgres"
    risk_for_seconds: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    group_wait_seconds: _Positive = 30.0
    group_interval_seconds: _Positive = 300.0
    repeat_interval_seconds: _Positive = 4 * 3600.0
    critical_group_wait_seconds: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    critical_group_interval_seconds: _Positive = 2.0
    critical_repeat_interval_seconds: _Positive = 3600.0
    watchdog_interval_seconds: _Positive = 60.0
    resolve_timeout_seconds: _Positive = 300.0
    alert_resend_delay_seconds: _Positive = 5.0
    order_latency_p95_seconds: float = 2.0
    slippage_p50_bps: float = 10.0
    market_data_stale_seconds: float = 30.0
    memory_bytes: int = 3 * 1024**3
    cpu_ratio: float = 0.8
    slack_channel: str = "#trading-alerts"
    email_to: str = "trading-team@example.com"
    email_from: str = "alertmanager@example.com"
    smtp_smarthost: str = "smtp.example.com:587"
    deadmans_switch_url: str = "http://127.0.0.1:9095/watchdog"
    secrets_dir: str = "/etc/alertmanager/secrets"
    runbook_base_url: str = "https://github.com/algowatch/algowatch/blob/main/docs/runbooks.md"
    receivers: tuple[ReceiverSettings, ...] = ()
    replicas: tuple[ReplicaSettings, ...] = ()
    nats_lag_events: Annotated[int, msgspec.Meta(ge=1)] = 10_000
    nats_lag_for_seconds: Annotated[float, msgspec.Meta(ge=0)] = 60.0

    def __post_init__(self) -> None:
        labels = [replica.label for replica in self.replicas]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            msg = f"alerts.replicas: two replicas share the name {', '.join(repeated)}"
            raise ConfigError(msg)


# [alerts] keys that duplicated a [risk] limit: refused with the key to use instead
_MOVED_ALERT_KEYS = {
    "max_drawdown_ratio": "risk.max_drawdown",
    "daily_loss_usd": "risk.daily_loss_limit",
    "rejection_rate": "risk.max_rejection_rate",
    "rejection_min_orders": "risk.min_orders_for_rejection_rate",
}


def _refuse_moved_keys(data: Mapping[str, Any]) -> None:
    alerts = data.get("alerts")
    if not isinstance(alerts, Mapping):
        return
    for key, replacement in _MOVED_ALERT_KEYS.items():
        if key in alerts:
            msg = (
                f"alerts.{key} was removed in 0.2.0: set {replacement} instead (one limit "
                "drives both the risk guard and the rendered Prometheus rules, so the two "
                "can never disagree)"
            )
            raise ConfigError(msg)


class Settings(_Section, frozen=True, kw_only=True):
    """All of algowatch's configuration.

    Examples
    --------
    >>> s = load_settings(environ={"ALGOWATCH_SERVER__PORT": "8001"})
    >>> s.server.port
    8001
    >>> load_settings(environ={"ALGOWATCH_SERVER__PROT": "8001"})
    Traceback (most recent call last):
    ...
    algowatch.errors.ConfigError: Object contains unknown field `prot` - at `$.server`
    """

    data_dir: str = "algowatch-data"
    server: ServerSettings = ServerSettings()
    journal: JournalSettings = JournalSettings()
    monitor: MonitorSettings = MonitorSettings()
    health: HealthSettings = HealthSettings()
    audit: AuditSettings = AuditSettings()
    logging: LoggingSettings = LoggingSettings()
    risk: RiskSettings = RiskSettings()
    alerts: AlertSettings = AlertSettings()
    sources: SourcesSettings = SourcesSettings()

    @property
    def data_path(self) -> Path:
        """Return :attr:`data_dir` as a path."""
        return Path(self.data_dir)


_PREFIX = "ALGOWATCH_"
_SHORTHANDS = {"ALGOWATCH_TOKEN": ("server", "token"), "ALGOWATCH_DATA_DIR": ("data_dir",)}


def _env_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _set_path(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        node = target.setdefault(part, {})
        if not isinstance(node, dict):
            msg = f"{'.'.join(path)}: {part!r} is not a section"
            raise ConfigError(msg)
        target = node
    target[path[-1]] = value


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Return settings from a TOML file, the environment and explicit overrides.

    Parameters
    ----------
    path
        A TOML file, or ``None`` for defaults only.
    environ
        The environment to read ``ALGOWATCH_*`` variables from (``os.environ`` when None).
    overrides
        Dotted keys set last, e.g. ``{"server.port": 8001}`` (the CLI's flags).

    Raises
    ------
    ConfigError
        Naming the file, key and problem.
    """
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with Path(path).open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            msg = f"config file {os.fspath(path)!r} does not exist"
            raise ConfigError(msg) from None
        except tomllib.TOMLDecodeError as exc:
            msg = f"config file {os.fspath(path)!r} is not valid TOML: {exc}"
            raise ConfigError(msg) from None
    env = os.environ if environ is None else environ
    for key in sorted(env):
        if not key.startswith(_PREFIX):
            continue
        if key in _SHORTHANDS:
            _set_path(data, _SHORTHANDS[key], env[key])
        elif "__" in key:
            parts = tuple(p.lower() for p in key[len(_PREFIX) :].split("__"))
            _set_path(data, parts, _env_value(env[key]))
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_path(data, tuple(dotted.split(".")), value)
    _refuse_moved_keys(data)
    try:
        return msgspec.convert(data, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(str(exc)) from None
