"""Structured logging: JSON shape, fixed-precision timestamps, redaction, stdlib bridge."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
import structlog

from algowatch.logging import (
    REDACTED,
    configure_logging,
    get_logger,
    log_error,
    log_kill_switch,
    log_order_acknowledged,
    log_order_canceled,
    log_order_filled,
    log_order_rejected,
    log_order_submitted,
    log_risk_alert,
    log_signal,
    log_signal_outcome,
    redact,
    shutdown_logging,
)
from algowatch.settings import LoggingSettings
from algowatch.testing import FakeClock

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture
def out(clock: FakeClock) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(LoggingSettings(level="debug"), stream=stream, clock=clock)
    return stream


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_line_has_fixed_keys_first_and_microsecond_timestamp(out, clock):
    get_logger("algowatch.test").info("started", port=8001)
    clock.advance(0.000001)
    get_logger("algowatch.test").info("next")
    first, second = _lines(out)
    assert list(first) == ["timestamp", "level", "logger", "event", "port"]
    assert first == {
        "timestamp": "2025-01-02T14:30:00.000000Z",
        "level": "info",
        "logger": "algowatch.test",
        "event": "started",
        "port": 8001,
    }
    assert second["timestamp"] == "2025-01-02T14:30:00.000001Z"
    assert all(TS_RE.match(r["timestamp"]) for r in (first, second))


def test_level_filter_given_warning_drops_info(clock):
    stream = io.StringIO()
    configure_logging(LoggingSettings(level="warning"), stream=stream, clock=clock)
    get_logger().info("dropped")
    logging.getLogger("lib").info("dropped too")
    get_logger().warning("kept")
    assert [r["event"] for r in _lines(stream)] == ["kept"]


def test_stdlib_records_come_out_as_the_same_json(out):
    logging.getLogger("uvicorn.error").warning("listening on %s:%d", "127.0.0.1", 8001)
    (record,) = _lines(out)
    assert record == {
        "timestamp": "2025-01-02T14:30:00.000000Z",
        "level": "warning",
        "logger": "uvicorn.error",
        "event": "listening on 127.0.0.1:8001",
    }


def test_exception_info_is_rendered_for_structlog_and_stdlib(out):
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError:
        get_logger().exception("failed")
        logging.getLogger("lib").exception("failed too")
    first, second = _lines(out)
    for record in (first, second):
        assert record["level"] == "error"
        assert record["exception"].startswith("Traceback (most recent call last):")
        assert record["exception"].endswith("ZeroDivisionError: division by zero")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("password", "hunter2"),
        ("api_key", "abc"),
        ("ALGOWATCH_TOKEN", "t0k3n"),
        ("authorization", "Bearer abc.def.ghi"),
        ("slack_webhook_url", "https://hooks.slack.com/services/T0/B0/XYZ"),
        ("client_secret", "s3cr3t-value"),
    ],
)
def test_secret_keys_are_redacted(out, key, value):
    get_logger().info("config", **{key: value})
    (record,) = _lines(out)
    assert record[key] == REDACTED
    assert value not in out.getvalue()


def test_secrets_inside_values_and_nested_structures_are_redacted(out):
    get_logger().info(
        "posting alert to https://hooks.slack.com/services/T000/B000/XXXXSECRET",
        target={"url": "postgresql://app:pgsecret@db:5432/trading", "headers": {"token": "x"}},
        header="Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload",
    )
    text = out.getvalue()
    for secret in ("XXXXSECRET", "pgsecret", "eyJhbGciOiJIUzI1NiJ9"):
        assert secret not in text
    (record,) = _lines(out)
    assert record["event"] == f"posting alert to {REDACTED}"
    assert record["target"]["url"] == f"postgresql://app:{REDACTED}@db:5432/trading"
    assert record["target"]["headers"]["token"] == REDACTED
    logging.getLogger("lib").warning("retry https://hooks.slack.com/services/T/B/SECRET2")
    assert "SECRET2" not in out.getvalue()


def test_redact_given_extra_keys_and_none_values():
    assert redact(
        {"account_number": "123", "password": None}, extra_keys=frozenset({"account_number"})
    ) == {"account_number": REDACTED, "password": None}


def test_extra_redact_keys_from_settings(clock):
    stream = io.StringIO()
    configure_logging(LoggingSettings(redact_keys=("iban",)), stream=stream, clock=clock)
    get_logger().info("payout", iban="DE89370400440532013000")
    assert _lines(stream)[0]["iban"] == REDACTED


def test_order_loggers_given_typed_events(out, factory):
    submitted = factory.submitted("o1", "AAPL", "buy", 100, order_type="limit", limit_price=189.23)
    log_order_submitted(submitted)
    log_order_acknowledged(factory.acknowledged("o1"), ack_latency_seconds=0.012)
    log_order_filled(
        factory.filled("o1", 100, 189.25),
        symbol="AAPL",
        side="buy",
        arrival_price=189.20,
        latency_seconds=0.25,
    )
    log_order_rejected(factory.rejected("o2", "insufficient buying power"))
    log_order_canceled(factory.canceled("o3"))
    records = _lines(out)
    assert [r["event"] for r in records] == [
        "order_submitted",
        "order_acknowledged",
        "order_filled",
        "order_rejected",
        "order_canceled",
    ]
    assert records[0]["limit_price"] == 189.23
    assert records[0]["side"] == "buy"
    filled = records[2]
    # hand-worked: (189.25 - 189.20) / 189.20 * 10_000 = 2.6427 bps, unfavourable for a buy
    assert filled["slippage_bps"] == pytest.approx(2.642706131078224)
    assert filled["latency_seconds"] == 0.25
    assert records[3]["level"] == "warning"
    assert {r["logger"] for r in records} == {"algowatch.trading"}


def test_signal_error_risk_and_kill_switch_loggers(out, factory):
    log_signal(factory.signal("s1", "AAPL", "long", confidence=0.7))
    log_signal_outcome(factory.outcome("s1", "long", pnl=12.5))
    log_error(factory.error("timeout", "broker", message="no response"))
    log_risk_alert("max_drawdown", severity="critical", drawdown_ratio=0.16, limit_ratio=0.15)
    log_kill_switch(engaged=True, reason="max drawdown", by="risk_guard")
    records = _lines(out)
    assert [(r["event"], r["level"]) for r in records] == [
        ("signal", "info"),
        ("signal_outcome", "info"),
        ("trading_error", "error"),
        ("risk_alert", "error"),
        ("kill_switch", "critical"),
    ]
    assert records[3]["drawdown_ratio"] == 0.16
    assert records[3]["logger"] == "algowatch.risk"


def test_order_filled_slippage_given_a_sell_or_no_usable_arrival_price(out, factory):
    """A sell filled above arrival is favourable (negative bps); no positive arrival, no bps."""
    fill = factory.filled("o1", 1, 101.0)
    log_order_filled(fill, side="sell", arrival_price=100.0)
    log_order_filled(fill, side="buy", arrival_price=100.0)
    log_order_filled(fill, side="buy", arrival_price=0.0)
    log_order_filled(fill, side="buy")
    # hand-worked: (101 - 100) / 100 * 10_000 = 100 bps, a cost for a buy, a gain for a sell
    assert [r["slippage_bps"] for r in _lines(out)] == [
        pytest.approx(-100.0),
        pytest.approx(100.0),
        None,
        None,
    ]


def test_console_format_renders_text(clock):
    stream = io.StringIO()
    configure_logging(LoggingSettings(format="console"), stream=stream, clock=clock)
    get_logger().info("hello", port=1)
    assert "hello" in stream.getvalue()
    assert "port=1" in stream.getvalue()


def test_configure_twice_keeps_one_handler(clock):
    def ours() -> list[logging.Handler]:
        return [
            h
            for h in logging.getLogger().handlers
            if isinstance(getattr(h, "formatter", None), structlog.stdlib.ProcessorFormatter)
        ]

    before = ours()
    configure_logging(LoggingSettings(), stream=io.StringIO(), clock=clock)
    first = ours()
    configure_logging(LoggingSettings(), stream=io.StringIO(), clock=clock)
    second = ours()
    assert len(first) == len(second) == len(before) + 1
    assert set(first) != set(second)
    shutdown_logging()
    assert len(ours()) == len(before)


def test_log_file_setting_appends_json_lines(tmp_path, clock):
    path = tmp_path / "algowatch.log"
    configure_logging(LoggingSettings(file=str(path)), clock=clock)
    get_logger().info("to file")
    shutdown_logging()
    assert json.loads(path.read_text().splitlines()[0])["event"] == "to file"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "webhook https://ops.example.com/hook?token=abc123&id=7 failed",
            "webhook https://ops.example.com/hook?token=[REDACTED]&id=7 failed",
        ),
        ("GET /api/v1/snapshot?key=k1 HTTP/1.1", "GET /api/v1/snapshot?key=[REDACTED] HTTP/1.1"),
        (
            "https://h/x?a=1&secret=s&password=p&api_key=q&api-key=r&x_token=t",
            "https://h/x?a=1&secret=[REDACTED]&password=[REDACTED]&api_key=[REDACTED]"
            "&api-key=[REDACTED]&x_token=[REDACTED]",
        ),
        (
            "https://bucket.s3.amazonaws.com/o?X-Amz-Signature=abcd#frag",
            "https://bucket.s3.amazonaws.com/o?X-Amz-Signature=[REDACTED]#frag",
        ),
        ("https://h/x?monkey=1&tokens_left=3", "https://h/x?monkey=1&tokens_left=3"),
        ("ratio=0.5 and key points", "ratio=0.5 and key points"),
    ],
)
def test_secret_query_parameters_are_redacted(out, text, expected):
    """A secret in a URL's query (a webhook's ?token=) never reaches the log."""
    assert redact(text) == expected
    get_logger().warning("webhook_failed", url=text)
    logging.getLogger("uvicorn.error").warning("request %s", text)
    structured, stdlib = _lines(out)
    assert structured["url"] == expected
    assert stdlib["event"] == f"request {expected}"


def test_event_field_named_level_does_not_overwrite_the_log_level(out):
    """``level`` is the log level; an event's own ``level`` is kept as ``level_field``."""
    get_logger("algowatch.test").info("state", level="flatten")
    get_logger("algowatch.test").error("state", level="ok")
    info, error = _lines(out)
    assert (info["level"], info["level_field"]) == ("info", "flatten")
    assert (error["level"], error["level_field"]) == ("error", "ok")
    assert list(info)[:4] == ["timestamp", "level", "logger", "event"]


def test_risk_alert_logs_the_risk_level_as_risk_level(out):
    """A flatten alert is an error line (for level filters) with ``risk_level`` flatten."""
    log_risk_alert("max_drawdown", severity="critical", level="flatten", previous="warn")
    (record,) = _lines(out)
    assert record["level"] == "error"
    assert record["risk_level"] == "flatten"
    assert record["previous"] == "warn"
    assert "level_field" not in record
