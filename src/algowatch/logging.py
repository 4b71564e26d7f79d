"""Structured JSON logs and the trading event loggers.

:func:`configure_logging` sets up structlog so that every line is one JSON
object (rendered by orjson) with a fixed key order::

    {"timestamp":"2025-01-02T14:30:00.000000Z","level":"info","logger":"algowatch.trading",
     "event":"order_submitted","order_id":"o1",...}

``timestamp`` is UTC with exactly six fractional digits. Records from the
standard library's :mod:`logging` (uvicorn, third-party libraries) come out in the
same shape. Secrets are redacted before rendering: values of keys that name a
secret (``password``, ``token``, ``api_key``, ``authorization``, ``webhook``, ...)
and, in any string, webhook URLs (``hooks.slack.com/services/...``), passwords
in URLs (``scheme://user:secret@host``), query parameters that name a secret
(``?token=``, ``key=``, ``secret=``, ``password=``, ``api_key=``, ``signature=``, ...)
and bearer tokens.

``level`` is always the line's log level: an event field of that name is written
as ``level_field`` (the risk guard's level is ``risk_level``), so level filters see
every line.

The event loggers (:func:`log_order_submitted`, :func:`log_order_filled`, ...)
take the typed events of :mod:`algowatch.events`.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, TextIO

import orjson
import structlog

from algowatch import _formulas
from algowatch.clock import Clock, SystemClock
from algowatch.events import (
    Error,
    OrderAcknowledged,
    OrderCanceled,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    Signal,
    SignalOutcome,
    format_timestamp,
)
from algowatch.settings import LoggingSettings

__all__ = [
    "REDACTED",
    "configure_logging",
    "get_logger",
    "log_error",
    "log_kill_switch",
    "log_order_acknowledged",
    "log_order_canceled",
    "log_order_filled",
    "log_order_rejected",
    "log_order_submitted",
    "log_risk_alert",
    "log_signal",
    "log_signal_outcome",
    "redact",
    "shutdown_logging",
]

REDACTED = "[REDACTED]"
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_SECRET_KEY_RE = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|hmac[_-]?key|signing[_-]?key|"
    r"authori[sz]ation|auth|credential|cookie|session[_-]?id|webhook|dsn)",
    re.IGNORECASE,
)
_URL_SECRETS = (
    # webhook URLs carry their secret in the path
    re.compile(
        r"https?://(hooks\.slack\.com/(services|workflows|triggers)|"
        r"(discord(app)?\.com|[\w.-]*\.office\.com|[\w.-]*\.webhook\.office\.com)/[\w/-]*webhook)"
        r"[^\s\"'<>]*",
        re.IGNORECASE,
    ),
)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]+):[^@/\s]+@", re.I)
# a query parameter whose name names a secret (?token=..., &api_key=..., &X-Amz-Signature=...)
_QUERY_SECRET = re.compile(
    r"(?P<name>[?&;](?:[\w.-]*[_.-])?(?:pass(?:word|wd)?|secret|token|api[_-]?key|key|"
    r"access[_-]?key|auth|signature|sig|credential|session[_-]?id|code)=)[^&#\s\"'<>]*",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)
_ORDER = ("timestamp", "level", "logger", "event")
_MAX_DEPTH = 6


def _might_hold_token(text: str) -> bool:
    return "earer " in text or "asic " in text or "oken " in text or "OKEN " in text


def _redact_text(text: str) -> str:
    if "://" in text:
        for pattern in _URL_SECRETS:
            text = pattern.sub(REDACTED, text)
        text = _URL_USERINFO.sub(rf"\g<scheme>\g<user>:{REDACTED}@", text)
    if "=" in text:
        text = _QUERY_SECRET.sub(rf"\g<name>{REDACTED}", text)
    if _might_hold_token(text):
        text = _BEARER.sub(rf"\1 {REDACTED}", text)
    return text


def redact(value: Any, *, extra_keys: frozenset[str] = frozenset(), _depth: int = 0) -> Any:
    """Return ``value`` with secrets replaced by ``"[REDACTED]"``.

    Examples
    --------
    >>> redact({"user": "ann", "password": "hunter2"})
    {'user': 'ann', 'password': '[REDACTED]'}
    >>> redact("posting to https://hooks.slack.com/services/T0/B0/XYZ now")
    'posting to [REDACTED] now'
    >>> redact("postgresql://app:s3cret@db:5432/trading")
    'postgresql://app:[REDACTED]@db:5432/trading'
    >>> redact("POST https://example.com/hook?token=abc&id=7 failed")
    'POST https://example.com/hook?token=[REDACTED]&id=7 failed'
    """
    if isinstance(value, str):
        return _redact_text(value)
    if _depth >= _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            k: (
                REDACTED
                if isinstance(k, str)
                and (k in extra_keys or _SECRET_KEY_RE.search(k))
                and value[k] is not None
                else redact(value[k], extra_keys=extra_keys, _depth=_depth + 1)
            )
            for k in value
        }
    if isinstance(value, list | tuple):
        return [redact(v, extra_keys=extra_keys, _depth=_depth + 1) for v in value]
    return value


class _Redactor:
    # key names repeat, so whether a key names a secret is decided once per key
    _MAX_CACHED = 10_000

    def __init__(self, extra_keys: frozenset[str]) -> None:
        self.extra_keys = extra_keys
        self._secret: dict[str, bool] = {"timestamp": False, "level": False, "logger": False}

    def _is_secret(self, key: str) -> bool:
        secret = key in self.extra_keys or _SECRET_KEY_RE.search(key) is not None
        if len(self._secret) < self._MAX_CACHED:
            self._secret[key] = secret
        return secret

    def __call__(
        self, logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        cache = self._secret
        for key, value in event_dict.items():
            secret = cache.get(key)
            if secret is None:
                secret = self._is_secret(key) if isinstance(key, str) else False
            if secret:
                if value is not None:
                    event_dict[key] = REDACTED
            elif type(value) is str:
                if "://" in value or "=" in value or _might_hold_token(value):
                    event_dict[key] = _redact_text(value)
            elif isinstance(value, Mapping | list | tuple):
                event_dict[key] = redact(value, extra_keys=self.extra_keys)
        return event_dict


class _Stamper:
    # adds the fixed-width UTC timestamp and level and puts the fixed keys first, in one
    # pass; the formatted second is cached, as most lines share it with the previous one
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._second = -1
        self._prefix = ""

    def __call__(
        self, logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        second, rest = divmod(self.clock.time_ns(), 1_000_000_000)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
            self._second = second
        # the log level is the method's, always: an event field named "level" (a risk
        # level, say) would hide the line from level filters, so it moves aside
        level = "warning" if method == "warn" else method
        if "level" in event_dict:
            event_dict["level_field"] = event_dict.pop("level")
        out: dict[str, Any] = {"timestamp": f"{self._prefix}{rest // 1000:06d}Z", "level": level}
        if "logger" in event_dict:
            out["logger"] = event_dict.pop("logger")
        if "event" in event_dict:
            out["event"] = event_dict.pop("event")
        out.update(event_dict)
        return out


def _orjson_default(value: Any) -> Any:
    return repr(value)


def _render_json(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
    return orjson.dumps(
        event_dict, default=_orjson_default, option=orjson.OPT_NON_STR_KEYS
    ).decode()


class _StdlibName:
    # "logger" for stdlib records comes from the record's name
    def __call__(
        self, logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        record = event_dict.get("_record")
        if record is not None and "logger" not in event_dict:
            event_dict["logger"] = record.name
        return event_dict


_lock = threading.Lock()
_owned_handlers: list[logging.Handler] = []
_owned_files: list[TextIO] = []


def configure_logging(
    settings: LoggingSettings | None = None,
    *,
    stream: TextIO | None = None,
    clock: Clock | None = None,
) -> None:
    r"""Configure structlog and the standard library to emit JSON lines.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    settings
        The ``[logging]`` section (level, ``json`` or ``console``, optional file,
        extra key names to redact).
    stream
        Where lines go (default: ``settings.file`` if set, else ``sys.stderr``).
    clock
        Time source of ``timestamp`` (default: the system clock).

    Examples
    --------
    >>> import io
    >>> from algowatch.testing import FakeClock
    >>> out = io.StringIO()
    >>> configure_logging(LoggingSettings(), stream=out, clock=FakeClock())
    >>> get_logger("demo").info("started", api_key="abc")
    >>> out.getvalue()
    '{"timestamp":"2025-01-02T14:30:00.000000Z","level":"info","logger":"demo","event":"started","api_key":"[REDACTED]"}\n'
    >>> shutdown_logging()
    """
    settings = settings if settings is not None else LoggingSettings()
    shutdown_logging()
    if stream is None:
        if settings.file:
            # closed by shutdown_logging() or the next configure_logging()
            stream = open(settings.file, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
            _owned_files.append(stream)
        else:
            stream = sys.stderr
    level = _LEVELS[settings.level]
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        _Redactor(frozenset(settings.redact_keys)),
        _Stamper(clock if clock is not None else SystemClock()),
    ]
    renderer: Callable[..., str]
    if settings.format == "json":
        renderer = _render_json
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    with _lock:
        structlog.configure(
            processors=[*shared, renderer],
            wrapper_class=structlog.make_filtering_bound_logger(level),
            logger_factory=structlog.WriteLoggerFactory(stream),
            context_class=dict,
            cache_logger_on_first_use=False,
        )
        formatter = structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[_StdlibName(), *shared],
        )
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        root = logging.getLogger()
        _owned_handlers[:] = [handler]
        root.addHandler(handler)
        root.setLevel(level)


def shutdown_logging() -> None:
    """Remove the handler :func:`configure_logging` installed and close its log file."""
    with _lock:
        root = logging.getLogger()
        for handler in _owned_handlers:
            root.removeHandler(handler)
        _owned_handlers.clear()
        structlog.reset_defaults()
        for fh in _owned_files:
            fh.close()
        _owned_files.clear()


def get_logger(name: str = "algowatch", **initial_values: Any) -> Any:
    """Return a structlog logger whose lines carry ``logger=name``."""
    return structlog.get_logger().bind(logger=name, **initial_values)


_TRADING = "algowatch.trading"


def _labels(event: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"strategy": event.strategy, "account": event.account}
    if event.event_id is not None:
        out["event_id"] = event.event_id
    out["ts_event"] = format_timestamp(event.ts)
    return out


def log_order_submitted(event: OrderSubmitted, *, logger: Any = None) -> None:
    """Log an order submission with its full context."""
    (logger or get_logger(_TRADING)).info(
        "order_submitted",
        order_id=event.order_id,
        symbol=event.symbol,
        side=event.side,
        quantity=event.quantity,
        order_type=event.order_type,
        limit_price=event.limit_price,
        arrival_price=event.arrival_price,
        signal_id=event.signal_id,
        **_labels(event),
    )


def log_order_acknowledged(
    event: OrderAcknowledged, *, ack_latency_seconds: float | None = None, logger: Any = None
) -> None:
    """Log a broker acknowledgement, with the submit-to-ack latency when known."""
    (logger or get_logger(_TRADING)).info(
        "order_acknowledged",
        order_id=event.order_id,
        broker_order_id=event.broker_order_id,
        ack_latency_seconds=ack_latency_seconds,
        **_labels(event),
    )


def log_order_filled(
    event: OrderFilled,
    *,
    symbol: str | None = None,
    side: str | None = None,
    arrival_price: float | None = None,
    slippage_bps: float | None = None,
    latency_seconds: float | None = None,
    logger: Any = None,
) -> None:
    """Log a fill with its execution quality.

    ``slippage_bps`` is computed from ``side`` and a positive ``arrival_price`` when
    not given (positive = unfavourable, as :func:`algowatch.analytics.slippage_bps`);
    ``latency_seconds`` is submit to this fill.
    """
    if slippage_bps is None and side is not None and arrival_price and arrival_price > 0:
        slippage_bps = _formulas.slippage_bps(_formulas.side_sign(side), event.price, arrival_price)
    (logger or get_logger(_TRADING)).info(
        "order_filled",
        order_id=event.order_id,
        fill_id=event.fill_id,
        symbol=symbol,
        side=side,
        fill_price=event.price,
        fill_quantity=event.quantity,
        fee=event.fee,
        liquidity=event.liquidity,
        slippage_bps=slippage_bps,
        latency_seconds=latency_seconds,
        **_labels(event),
    )


def log_order_rejected(event: OrderRejected, *, logger: Any = None) -> None:
    """Log a rejection (level warning) with the broker's reason."""
    (logger or get_logger(_TRADING)).warning(
        "order_rejected", order_id=event.order_id, reason=event.reason, **_labels(event)
    )


def log_order_canceled(event: OrderCanceled, *, logger: Any = None) -> None:
    """Log a cancellation."""
    (logger or get_logger(_TRADING)).info(
        "order_canceled", order_id=event.order_id, reason=event.reason, **_labels(event)
    )


def log_signal(event: Signal, *, logger: Any = None) -> None:
    """Log a strategy signal."""
    (logger or get_logger(_TRADING)).info(
        "signal",
        signal_id=event.signal_id,
        symbol=event.symbol,
        direction=event.direction,
        confidence=event.confidence,
        generation_seconds=event.generation_seconds,
        **_labels(event),
    )


def log_signal_outcome(event: SignalOutcome, *, logger: Any = None) -> None:
    """Log the realised outcome of a signal."""
    (logger or get_logger(_TRADING)).info(
        "signal_outcome",
        signal_id=event.signal_id,
        actual_direction=event.actual_direction,
        pnl=event.pnl,
        bars_to_profit=event.bars_to_profit,
        bars_held=event.bars_held,
        **_labels(event),
    )


def log_error(event: Error, *, logger: Any = None) -> None:
    """Log an error reported by the trading system (level error)."""
    (logger or get_logger(_TRADING)).error(
        "trading_error",
        error_type=event.error_type,
        component=event.component,
        message=event.message,
        **_labels(event),
    )


def log_risk_alert(
    alert_type: str, *, severity: str = "warning", logger: Any = None, **details: Any
) -> None:
    """Log a risk alert; ``severity`` is ``"warning"`` or ``"critical"`` (logged as error).

    The alert's own level (``warn``, ``stop_entries``, ``flatten``), passed as
    ``level``, is logged as ``risk_level``: ``level`` is the log line's level.
    """
    log = logger or get_logger("algowatch.risk")
    method = log.error if severity == "critical" else log.warning
    if "level" in details:
        details["risk_level"] = details.pop("level")
    method("risk_alert", alert_type=alert_type, severity=severity, **details)


def log_kill_switch(*, engaged: bool, reason: str, by: str = "system", logger: Any = None) -> None:
    """Log a kill-switch engagement or release (level critical when engaged)."""
    log = logger or get_logger("algowatch.risk")
    method = log.critical if engaged else log.warning
    method("kill_switch", engaged=engaged, reason=reason, by=by)
