"""What a batch does after each answer: retry, split (bisect), or drop only the bad events.

:func:`classify` turns one answer (or exception) into a :class:`Verdict`, and
:class:`Delivery` applies it to a batch, so that one bad event cannot stop delivery.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import msgspec
from ulid import ULID

from algowatch import events as ev
from algowatch._client_buffer import EventBuffer
from algowatch._client_report import DropReporter
from algowatch._client_stats import DroppedEvent, DropReason

__all__ = ["Delivery", "Verdict", "assign_ids", "backoff_seconds", "classify"]

_NS = 1_000_000_000


def assign_ids(events: Sequence[ev.Event]) -> list[ev.Event]:
    """Return ``events`` with a ULID ``event_id`` on each event that has none.

    The id's time part is the event's ``ts``. It is assigned once, before the first
    attempt, so every retry carries the same ids and the service ignores repeats.
    """
    return [_with_id(event) for event in events]


def _with_id(event: ev.Event) -> ev.Event:
    if event.event_id is not None:
        return event
    ulid = ULID.from_timestamp(event.ts / _NS)
    return msgspec.structs.replace(event, event_id=str(ulid))


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a sender does after one attempt.

    ``retry`` waits and posts the same part again (connection error, 5xx, 408, 429, or
    an unexpected exception: ``internal``); ``hold`` does the same for a refusal that is
    not about the events (401, 403, 404, ...); ``resend`` drops the events the service
    named in ``invalid`` (index to message) and posts the rest; ``bisect`` halves the
    part, or drops it when it is a single event (``drop_reason``).
    """

    action: Literal["done", "retry", "hold", "resend", "bisect"]
    sent: int = 0
    duplicates: int = 0
    invalid: Mapping[int, str] = field(default_factory=dict)
    retry_after: float | None = None
    error: str | None = None
    status: int | None = None
    drop_reason: DropReason = "invalid"
    internal: bool = False


def classify(  # noqa: PLR0911 - one return per kind of answer
    response: httpx.Response | None, error: Exception | None
) -> Verdict:
    """Return what to do after posting a batch (``response`` is None when posting raised)."""
    if response is None:
        internal = not isinstance(error, httpx.HTTPError)
        return Verdict("retry", error=repr(error), internal=internal)
    status = response.status_code
    if 200 <= status < 300:
        body = _json(response)
        duplicates = body.get("duplicates", []) if isinstance(body, dict) else []
        received = body.get("received", 0) if isinstance(body, dict) else 0
        return Verdict("done", sent=int(received), duplicates=len(duplicates), status=status)
    if status == 422:
        invalid = _invalid_events(_json(response))
        text = response.text[:500]
        if invalid:
            return Verdict("resend", invalid=invalid, error=text, status=status)
        return Verdict("bisect", error=text, status=status)
    if status in (400, 413):
        reason: DropReason = "too_large" if status == 413 else "rejected"
        text = f"HTTP {status}: {response.text[:200]}"
        return Verdict("bisect", error=text, status=status, drop_reason=reason)
    if status in (408, 429) or status >= 500:
        retry_after = _retry_after(response)
        return Verdict("retry", retry_after=retry_after, error=f"HTTP {status}", status=status)
    text = f"HTTP {status}: {response.text[:200]}"
    return Verdict("hold", retry_after=_retry_after(response), error=text, status=status)


def _invalid_events(body: Any) -> dict[int, str]:
    # The 422 body lists each invalid event by index with every invalid field (docs/api.md).
    items = body.get("invalid", []) if isinstance(body, dict) else []
    invalid: dict[int, str] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or type(item.get("index")) is not int:
            continue
        problems = item.get("errors")
        parts = [
            f"{p.get('field')} {p.get('message')}"
            for p in (problems if isinstance(problems, list) else [])
            if isinstance(p, dict)
        ]
        invalid[item["index"]] = "; ".join(parts) or "invalid"
    return invalid


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def backoff_seconds(attempt: int, *, initial: float, maximum: float, rng: random.Random) -> float:
    """Return the wait before retry ``attempt`` (1-based): exponential, jittered in [1/2, 1]."""
    ceiling: float = min(maximum, initial * 2.0 ** min(attempt - 1, 30))
    return ceiling / 2 + rng.random() * ceiling / 2


# One event ready to post: the event (with its id) and its NDJSON line.
_Item = tuple[ev.Event, bytes]


class Delivery:
    """One batch on its way to the service; the logic both clients share.

    Ids are assigned and each event encoded once, up front; an event that cannot be
    encoded is dropped alone. The sender (thread or task) asks :meth:`next_part` for
    the next body to post and reports the outcome with :meth:`record` (or
    :meth:`record_error` when posting raised), sleeping when told to. A 4xx that
    names the invalid events drops exactly those; a 4xx that does not (or a 413)
    halves the part until the bad event is alone, then drops it; every drop goes to
    the :class:`DropReporter`. The good events are delivered.
    """

    def __init__(
        self,
        events: Sequence[ev.Event],
        buffer: EventBuffer,
        reporter: DropReporter,
        *,
        rng: random.Random,
        backoff_initial: float,
        backoff_max: float,
    ) -> None:
        self._buffer = buffer
        self._reporter = reporter
        self._rng = rng
        self._initial = backoff_initial
        self._maximum = backoff_max
        self._attempt = 0
        self.last_error: str | None = None
        # prepared by the first next_part(), inside the sender's guard
        self._unprepared = list(events)
        self._parts: list[list[_Item]] = []

    def _prepare(self) -> None:
        items: list[_Item] = []
        unencodable: list[DroppedEvent] = []
        for event in self._unprepared:
            try:
                ready = _with_id(event)
                items.append((ready, ev.encode_event(ready) + b"\n"))
            except Exception as exc:  # one bad event must not stop the batch
                unencodable.append(DroppedEvent(event, "invalid", f"cannot be encoded: {exc!r}"))
        self._unprepared = []
        self._parts = [items] if items else []
        self._settle(unencodable)

    def next_part(self) -> tuple[list[_Item], bytes] | None:
        """Return the next part to post and its NDJSON body, or None when all are settled."""
        if self._unprepared:
            self._prepare()
        if not self._parts:
            return None
        part = self._parts[0]
        return part, b"".join(line for _, line in part)

    def record_error(self, part: list[_Item], error: Exception) -> float | None:
        """Account for an attempt at ``part`` that raised ``error``; see :meth:`record`."""
        return self.record(part, classify(None, error), error)

    def record(
        self, part: list[_Item], verdict: Verdict, error: Exception | None = None
    ) -> float | None:
        """Account for one attempt at ``part``; return seconds to wait before a retry."""
        if verdict.error is not None:
            self.last_error = self._reporter.last_error = verdict.error
        if verdict.action in ("retry", "hold"):
            if verdict.internal:
                self._reporter.sender_error(error or RuntimeError(verdict.error))
            if verdict.action == "hold":
                waiting = sum(len(p) for p in self._parts) + len(self._buffer)
                self._reporter.refused(verdict.status, verdict.error or "", waiting)
            return self._retry_wait(verdict)
        self._parts.pop(0)
        self._attempt = 0
        drops: list[DroppedEvent] = []
        if verdict.action == "done":
            with self._buffer.lock:
                self._buffer.counts.sent += len(part)
                self._buffer.counts.duplicates += verdict.duplicates
                self._buffer.done.notify_all()
            return None
        named = {i: m for i, m in verdict.invalid.items() if 0 <= i < len(part)}
        if verdict.action == "resend" and named:
            kept = [item for i, item in enumerate(part) if i not in named]
            drops = [
                DroppedEvent(part[i][0], "invalid", message, verdict.status)
                for i, message in sorted(named.items())
            ]
            if kept:
                self._parts.insert(0, kept)
        elif len(part) > 1:
            half = len(part) // 2
            self._parts[0:0] = [part[:half], part[half:]]
        else:
            detail = verdict.error or "refused"
            drops = [DroppedEvent(part[0][0], verdict.drop_reason, detail, verdict.status)]
        self._settle(drops)
        return None

    def _retry_wait(self, verdict: Verdict) -> float:
        self._attempt += 1
        with self._buffer.lock:
            self._buffer.counts.retries += 1
            if verdict.action == "hold":
                self._buffer.counts.refused += 1
        wait = backoff_seconds(
            self._attempt, initial=self._initial, maximum=self._maximum, rng=self._rng
        )
        return max(wait, verdict.retry_after or 0.0)

    def abandon(self, reason: DropReason = "undelivered", detail: str | None = None) -> None:
        """Give up every part not yet delivered (the client is closing, or the sender failed)."""
        text = detail or "the client closed before delivery" + (
            f" (last error: {self.last_error})" if self.last_error else ""
        )
        drops = [DroppedEvent(e, reason, text) for e in self._unprepared]
        drops += [DroppedEvent(e, reason, text) for part in self._parts for e, _ in part]
        self._unprepared = []
        self._parts.clear()
        self._settle(drops)

    def _settle(self, drops: list[DroppedEvent]) -> None:
        # Report before counting: when flush() sees the count, the callback has run.
        self._reporter.dropped(drops)
        with self._buffer.lock:
            counts = self._buffer.counts
            for drop in drops:
                if drop.reason in ("undelivered", "internal_error"):
                    counts.failed += 1
                else:
                    counts.rejected += 1
            self._buffer.done.notify_all()
