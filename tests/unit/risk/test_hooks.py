"""Webhook hooks deliver with retries, against a real loopback HTTP receiver."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from algowatch.monitor import Monitor
from algowatch.risk import RiskGuard, WebhookError, WebhookHook
from algowatch.settings import RiskSettings
from algowatch.testing import FakeClock


class _Receiver(ThreadingHTTPServer):
    def __init__(self, failures: int, status: int = 503) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.failures = failures
        self.status = status
        self.bodies: list[dict[str, Any]] = []
        self.attempts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        body = json.loads(self.rfile.read(length))
        self.server.attempts += 1
        if self.server.attempts <= self.server.failures:
            self.send_response(self.server.status)
        else:
            self.server.bodies.append(body)
            self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[_Receiver]:
    failures, status = getattr(request, "param", (0, 503))
    server = _Receiver(failures, status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("receiver", [(2, 503)], indirect=True)
def test_webhook_retries_until_delivered(receiver: _Receiver) -> None:
    """Two 503 answers, then success on the third attempt with backoff 0.1 then 0.2."""
    waits: list[float] = []
    hook = WebhookHook(receiver.url, attempts=3, backoff_seconds=0.1, sleep=waits.append)
    assert hook({"limit": "max_drawdown", "level": "flatten"}) == 3
    hook.close()
    assert receiver.bodies == [{"limit": "max_drawdown", "level": "flatten"}]
    assert waits == [0.1, 0.2]


@pytest.mark.parametrize("receiver", [(5, 503)], indirect=True)
def test_webhook_gives_up_after_the_last_attempt(receiver: _Receiver) -> None:
    """Three failures in three attempts raise WebhookError naming URL and status."""
    hook = WebhookHook(receiver.url, attempts=3, backoff_seconds=0, sleep=lambda s: None)
    with pytest.raises(WebhookError, match=r"failed after 3 attempt\(s\): HTTP 503$"):
        hook({"limit": "x"})
    hook.close()
    assert receiver.attempts == 3


@pytest.mark.parametrize("receiver", [(5, 400)], indirect=True)
def test_webhook_does_not_retry_a_client_error(receiver: _Receiver) -> None:
    """A 400 is the receiver refusing the payload: one attempt, no retry."""
    hook = WebhookHook(receiver.url, attempts=3, backoff_seconds=0, sleep=lambda s: None)
    with pytest.raises(WebhookError, match=r"failed after 1 attempt\(s\): HTTP 400$"):
        hook({"limit": "x"})
    hook.close()
    assert receiver.attempts == 1


def test_webhook_given_no_receiver_retries_connection_errors() -> None:
    """A closed port fails every attempt with the connection error named."""
    hook = WebhookHook("http://127.0.0.1:9/hook", attempts=2, backoff_seconds=0)
    with pytest.raises(WebhookError, match=r"failed after 2 attempt\(s\): ConnectError"):
        hook({"limit": "x"})
    hook.close()


def test_webhook_given_zero_attempts_raises() -> None:
    """At least one attempt is required."""
    with pytest.raises(ValueError, match=r"^attempts must be >= 1, received 0$"):
        WebhookHook("http://127.0.0.1:9/", attempts=0)


@pytest.mark.parametrize("receiver", [(1, 502)], indirect=True)
def test_guard_posts_alerts_to_configured_webhooks(receiver: _Receiver) -> None:
    """settings.webhooks receive every alert as JSON, retried past a 502."""
    settings = RiskSettings(max_drawdown=0.2, webhooks=(receiver.url,), webhook_backoff_seconds=0)
    guard = RiskGuard(settings, clock=FakeClock(), log=lambda a: None)
    portfolio = Monitor().figures().portfolio
    trading = dataclasses.replace(portfolio.trading, current_drawdown=0.25)
    guard.check(dataclasses.replace(portfolio, trading=trading))
    guard.close()
    assert receiver.attempts == 2
    assert [(b["limit"], b["level"], b["guard_level"]) for b in receiver.bodies] == [
        ("max_drawdown", "flatten", "flatten")
    ]
    assert guard.hook_failures == 0
