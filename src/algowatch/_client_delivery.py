"""What a batch does after each answer: retry, split (bisect), or drop only the bad events.

:func:`classify` turns one answer (or exception) into a :class:`Verdict`, and
:class:`Delivery` applies it to a batch, so that one bad event cannot stop delivery.
"""

from __future__ import annotations

import random
import ssl
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import httpx
import msgspec

from algowatch import _wire
from algowatch import events as ev
from algowatch._client_buffer import EventBuffer
from algowatch._client_report import DropReporter
from algowatch._client_stats import DroppedEvent, DropReason
from algowatch._ulid import UlidGenerator

__all__ = [
    "ClientOptions",
    "Delivery",
    "Verdict",
    "assign_ids",
    "auth_headers",
    "backoff_seconds",
    "classify",
    "encode_body",
    "encode_lines",
    "tls_verify",
]

_ENCODER = msgspec.json.Encoder()
# the struct's own default: the encoder omits a field only when it holds that very object
_DEFAULT_FEE = next(f.default for f in msgspec.structs.fields(ev.OrderFilled) if f.name == "fee")


def encode_body(events: Sequence[ev.Event]) -> bytes:
    """Return the events' NDJSON: each event's :func:`ev.encode_event` line and a newline.

    One C call encodes the whole batch: each event goes to the encoder as itself, its
    timestamps as RFC 3339 text (the structs put ``type`` first and omit default fields, as
    the wire form does), which costs the sender (and the bot's GIL) a fraction of encoding
    them one by one. Events with ``extra`` fields take :func:`ev.encode_event`.
    """
    return _ENCODER.encode_lines(_wire_forms(events))


def encode_lines(events: Sequence[ev.Event]) -> list[bytes]:
    """Return each event's JSON line (no newline): the lines :func:`ev.encode_event` gives."""
    return encode_body(events).split(b"\n")[:-1]


def _wire_forms(events: Sequence[ev.Event]) -> list[Any]:
    # Each event as the encoder takes it. The keywords are spelled out (a ** mapping costs
    # replace() a dictionary), and events of the same instant share their ts text: a bar's
    # mark, orders and account state do.
    wire: list[Any] = []
    append = wire.append
    replace = msgspec.structs.replace
    last_ts: int | None = None
    text = ""
    for event in events:
        if event.extra:
            append(msgspec.Raw(ev.encode_event(event)))
            continue
        ts = event.ts
        if ts != last_ts:
            text = _wire.format_timestamp(ts)
            last_ts = ts
        kind = type(event)
        if kind is ev.OrderFilled and event.fee == 0.0:  # type: ignore[union-attr]
            append(replace(event, ts=text, fee=_DEFAULT_FEE))  # a zero fee is the default
        elif kind is ev.Mark and event.exchange_ts is not None:  # type: ignore[union-attr]
            exchange_ts = _wire.format_timestamp(event.exchange_ts)  # type: ignore[union-attr]
            append(replace(event, ts=text, exchange_ts=exchange_ts))
        else:
            append(replace(event, ts=text))
    return wire


def assign_ids(events: Sequence[ev.Event]) -> list[ev.Event]:
    """Return ``events`` with a ULID ``event_id`` on each event that has none.

    The id's time part is the event's ``ts``. It is assigned once, before the first
    attempt, so every retry carries the same ids and the service ignores repeats.
    """
    ids = UlidGenerator()
    return [_with_id(event, ids) for event in events]


def _with_id(event: ev.Event, ids: UlidGenerator) -> ev.Event:
    if event.event_id is not None:
        return event
    return msgspec.structs.replace(event, event_id=ids(event.ts))


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a sender does after one attempt.

    ``retry`` waits and posts the same part again (connection error, 5xx, 408, 429, or
    an unexpected exception: ``internal``); ``hold`` does the same for a refusal that is
    not about the events (401, 403, 404, ...); ``resend`` drops the events the service
    named in ``invalid`` (index to message) and posts the rest; ``bisect`` halves the
    part, or drops it when it is a single event. Dropped events get ``drop_reason``.
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
        try:
            answer = _ACCEPTED.decode(response.content)
        except msgspec.MsgspecError:
            pass  # not the documented answer: read what there is, as JSON
        else:
            return Verdict(
                "done", sent=answer.received, duplicates=len(answer.duplicates), status=status
            )
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


class _Accepted(msgspec.Struct):
    # the 202 answer (docs/api.md); the duplicates' ids are counted, not read
    received: int = 0
    duplicates: list[msgspec.Raw] = msgspec.field(default_factory=list)


_ACCEPTED = msgspec.json.Decoder(_Accepted)


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


class _Part(Sequence[_Item]):
    # A run of a batch's events ready to post: the body, and each event's line only when
    # asked (to split the run after a refusal, or to publish the events one by one to NATS).
    # Most batches are posted whole at the first attempt and never split.
    __slots__ = ("_body", "_lines", "events")

    def __init__(
        self,
        events: list[ev.Event],
        *,
        body: bytes | None = None,
        lines: list[bytes] | None = None,
    ) -> None:
        self.events = events
        self._body = body
        self._lines = lines  # each with its newline

    @classmethod
    def of(cls, items: Sequence[_Item]) -> _Part:
        if isinstance(items, _Part):
            return items
        return cls([e for e, _ in items], lines=[line for _, line in items])

    @property
    def body(self) -> bytes:
        if self._body is None:
            self._body = b"".join(self.lines)
        return self._body

    @property
    def lines(self) -> list[bytes]:
        if self._lines is None:
            assert self._body is not None
            self._lines = [line + b"\n" for line in self._body.split(b"\n")[:-1]]
        return self._lines

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[_Item]:
        return zip(self.events, self.lines, strict=True)

    @overload
    def __getitem__(self, index: int) -> _Item: ...
    @overload
    def __getitem__(self, index: slice) -> _Part: ...
    def __getitem__(self, index: int | slice) -> _Item | _Part:
        if isinstance(index, slice):
            return _Part(self.events[index], lines=self.lines[index])
        return self.events[index], self.lines[index]


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
        ids: UlidGenerator | None = None,
    ) -> None:
        self._buffer = buffer
        # the client's (one sender uses it), so ids rise within a millisecond across batches
        self._ids = ids or UlidGenerator()
        self._reporter = reporter
        self._rng = rng
        self._initial = backoff_initial
        self._maximum = backoff_max
        self._attempt = 0
        self.last_error: str | None = None
        # prepared by the first next_part(), inside the sender's guard
        self._unprepared = list(events)
        self._parts: list[_Part] = []

    def _prepare(self) -> None:
        part: _Part | None = None
        unencodable: list[DroppedEvent] = []
        try:
            ids = self._ids
            ids.refill()
            ready = [_with_id(event, ids) for event in self._unprepared]
            part = _Part(ready, body=encode_body(ready))
        except Exception:  # find the bad events one by one
            items: list[_Item] = []
            for event in self._unprepared:
                try:
                    ready_event = _with_id(event, self._ids)
                    items.append((ready_event, ev.encode_event(ready_event) + b"\n"))
                except Exception as exc:  # one bad event must not stop the batch
                    message = f"cannot be encoded: {exc!r}"
                    unencodable.append(DroppedEvent(event, "invalid", message))
            part = _Part.of(items)
        self._unprepared = []
        self._parts = [part] if part else []
        self._settle(unencodable)

    def next_part(self) -> tuple[Sequence[_Item], bytes] | None:
        """Return the next part to post and its NDJSON body, or None when all are settled."""
        if self._unprepared:
            self._prepare()
        if not self._parts:
            return None
        part = self._parts[0]
        return part, part.body

    def record_error(self, part: Sequence[_Item], error: Exception) -> float | None:
        """Account for an attempt at ``part`` that raised ``error``; see :meth:`record`."""
        return self.record(part, classify(None, error), error)

    def record(
        self, part: Sequence[_Item], verdict: Verdict, error: Exception | None = None
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
        part = _Part.of(part)
        events = part.events
        named = {i: m for i, m in verdict.invalid.items() if 0 <= i < len(part)}
        if verdict.action == "resend" and named:
            kept = [item for i, item in enumerate(part) if i not in named]
            drops = [
                DroppedEvent(events[i], verdict.drop_reason, message, verdict.status)
                for i, message in sorted(named.items())
            ]
            if kept:
                self._parts.insert(0, _Part.of(kept))
        elif len(part) > 1:
            half = len(part) // 2
            self._parts[0:0] = [part[:half], part[half:]]
        else:
            detail = verdict.error or "refused"
            drops = [DroppedEvent(events[0], verdict.drop_reason, detail, verdict.status)]
        self._settle(drops)
        return None

    def record_stored(self, part: Sequence[_Item], stored: Mapping[int, bool]) -> Sequence[_Item]:
        """Count the events of ``part`` stored by one attempt; return the others, in order.

        For a transport that settles events one by one (NATS JetStream acknowledges
        each message): ``stored`` maps an index in ``part`` to whether the event was a
        duplicate. The others stay at the head of the queue; pass them to :meth:`record`.
        """
        if not stored:
            return part
        rest = _Part.of([item for i, item in enumerate(part) if i not in stored])
        if rest:
            self._parts[0] = rest
        else:
            self._parts.pop(0)
            self._attempt = 0
        with self._buffer.lock:
            self._buffer.counts.sent += len(stored)
            self._buffer.counts.duplicates += sum(stored.values())
            self._buffer.done.notify_all()
        return rest

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
        drops += [DroppedEvent(e, reason, text) for part in self._parts for e in part.events]
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


def auth_headers(token: str | None) -> dict[str, str]:
    """Return the bearer-token header for ``token`` (none without one)."""
    return {"authorization": f"Bearer {token}"} if token else {}


def tls_verify(base_url: str) -> ssl.SSLContext | bool:
    """Return httpx's ``verify`` for ``base_url``: the CA bundle only for ``https``."""
    # httpx loads the CA bundle for every client it builds (tens of milliseconds of the
    # bot's CPU, a backtest's included) even when no TLS is spoken. A plain-HTTP service
    # gets a context that trusts no certificate: never used, and it could not be by mistake.
    if httpx.URL(base_url).scheme == "https":
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class ClientOptions:
    """The validated constructor options shared by both clients."""

    def __init__(
        self,
        *,
        batch_size: int,
        flush_interval_seconds: float,
        backoff_initial_seconds: float,
        backoff_max_seconds: float,
    ) -> None:
        if batch_size < 1:
            msg = f"batch_size must be >= 1, received {batch_size!r}"
            raise ValueError(msg)
        if flush_interval_seconds <= 0:
            msg = f"flush_interval_seconds must be > 0, received {flush_interval_seconds!r}"
            raise ValueError(msg)
        self.batch_size = batch_size
        self.flush_interval = flush_interval_seconds
        self.backoff_initial = backoff_initial_seconds
        self.backoff_max = backoff_max_seconds
