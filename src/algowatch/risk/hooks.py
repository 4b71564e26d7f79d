"""User hooks of the risk guard: a Python callable, or a webhook POST with retries.

A hook receives the alert as a JSON-ready dict (:meth:`RiskAlert.to_dict`).
:class:`WebhookHook` POSTs it as JSON and retries a failed attempt (a
connection error or a 5xx/429 answer) with exponential backoff.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

__all__ = ["Hook", "WebhookError", "WebhookHook"]

Hook = Callable[[Mapping[str, Any]], object]

_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class WebhookError(RuntimeError):
    """A webhook could not be delivered after every attempt."""


class WebhookHook:
    """POST each alert to ``url`` as JSON, retrying ``attempts`` times in all.

    Parameters
    ----------
    url
        The receiver.
    attempts
        Attempts in all (at least 1).
    timeout_seconds
        Per attempt.
    backoff_seconds
        Wait before the second attempt; doubles for each further one.
    transport
        An ``httpx`` transport (tests may pass ``httpx.MockTransport``).
    sleep
        How to wait between attempts (injected so tests need not wait).
    """

    def __init__(
        self,
        url: str,
        *,
        attempts: int = 3,
        timeout_seconds: float = 2.0,
        backoff_seconds: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if attempts < 1:
            msg = f"attempts must be >= 1, received {attempts!r}"
            raise ValueError(msg)
        self.url = url
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._client = httpx.Client(timeout=timeout_seconds, transport=transport)
        self.delivered = 0

    def __call__(self, alert: Mapping[str, Any]) -> int:
        """Deliver ``alert``; return the number of attempts it took.

        Raises
        ------
        WebhookError
            After the last failed attempt, naming the URL and the last failure.
        """
        last = ""
        for attempt in range(1, self.attempts + 1):
            try:
                response = self._client.post(self.url, json=dict(alert))
            except httpx.HTTPError as exc:
                last = repr(exc)
            else:
                if response.status_code < 300:
                    self.delivered += 1
                    return attempt
                last = f"HTTP {response.status_code}"
                if response.status_code not in _RETRY_STATUS:
                    break
            if attempt < self.attempts:
                self._sleep(self.backoff_seconds * 2 ** (attempt - 1))
        msg = f"webhook {self.url!r} failed after {attempt} attempt(s): {last}"
        raise WebhookError(msg)

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
