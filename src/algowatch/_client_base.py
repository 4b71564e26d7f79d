"""Shared parts of the SDK clients: typed event helpers, the bounded buffer, response rules.

Both clients (:class:`~algowatch.client.Client` and :class:`~algowatch.client.AsyncClient`)
use the same pieces: :func:`check_event` validates an event where the caller creates it,
:class:`Delivery` decides, answer by answer, what happens to a batch (retry, split, drop
only the bad events), and :class:`DropReporter` tells the user about every event given up.
"""

from __future__ import annotations

import abc
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal, get_args

import httpx
import msgspec
from ulid import ULID

from algowatch import events as ev
from algowatch.clock import Clock, SystemClock
from algowatch.errors import AlgowatchError, FieldError, InvalidEventError

__all__ = [
    "BufferFullError",
    "ClientClosedError",
    "ClientStats",
    "Delivery",
    "DropReason",
    "DropReporter",
    "DroppedEvent",
    "EventBuffer",
    "EventHelpers",
    "FlushResult",
    "OverflowPolicy",
    "Verdict",
    "assign_ids",
    "backoff_seconds",
    "check_event",
    "classify",
]

OverflowPolicy = Literal["drop_oldest", "raise"]
DropReason = Literal["invalid", "too_large", "rejected", "undelivered", "internal_error"]
_NS = 1_000_000_000
_LOG = logging.getLogger("algowatch.client")
# A repeated problem (same kind) is logged at most once per this many seconds.
_LOG_INTERVAL_SECONDS: Final = 60.0
# Timestamps the SDK takes as ints must be UNIX nanoseconds that fit in an int64. Below
# 10**16 ns (1970-04-26) a value is seconds, milliseconds or microseconds of today's time
# given by mistake; no trading event is that old.
_TS_MIN: Final = 10**16
_TS_MAX: Final = 2**63 - 1
_TS_EXPECTED: Final = (
    "must be UNIX nanoseconds (an int such as time.time_ns()) between "
    f"1970-04-26 and 2262-04-11, i.e. within [{_TS_MIN}, {_TS_MAX}]"
)
_EVENT_TAGS: Final[dict[type, str]] = {
    cls: str(cls.__struct_config__.tag) for cls in get_args(ev.Event)
}


class BufferFullError(AlgowatchError, BufferError):
    """The SDK's buffer is full and its overflow policy is ``"raise"``.

    Raised by an event helper when ``max_buffer_events`` events are waiting (the
    service is down or slow) and no room appeared within ``block_seconds``.
    """


@dataclass(frozen=True, slots=True)
class ClientStats:
    """What happened to the events given to a client.

    Attributes
    ----------
    enqueued
        Events accepted by the helpers.
    sent
        Events the service answered 202 for (new or duplicate).
    duplicates
        Of ``sent``, events the service already knew (a retry of a stored batch).
    dropped
        Events discarded because the buffer was full (``drop_oldest`` policy).
    rejected
        Events the service refused as invalid (422) or too large alone (413), or that
        could not be encoded; discarded (reported to ``on_drop``), the rest of their
        batch delivered.
    failed
        Events still undelivered when the client was closed (service unreachable, or
        refusing the requests), reported to ``on_drop``.
    retries
        Failed attempts that were retried (connection errors, 5xx, 429, 401, ...).
    buffered
        Events waiting in the buffer now.
    refused
        Of ``retries``, attempts the service refused for a reason that is not in the
        events (401 or 403: the token; 404: the URL); the events are kept.
    sender_errors
        Unexpected exceptions the sending thread or task caught (logged) and survived,
        including exceptions raised by the ``on_drop`` callback.

    .. versionchanged:: 0.2.0
       Added ``refused`` and ``sender_errors``; a 401 keeps the events.
    """

    enqueued: int
    sent: int
    duplicates: int
    dropped: int
    rejected: int
    failed: int
    retries: int
    buffered: int
    refused: int = 0
    sender_errors: int = 0


@dataclass(frozen=True, slots=True)
class FlushResult:
    """What :meth:`~algowatch.client.Client.flush` observed; true when all were settled.

    The counts cover the events settled since the previous ``flush`` returned (or since
    the client was created), so a bot can check each flush for losses.

    Attributes
    ----------
    settled
        Whether every event enqueued before the call was settled in time (sent, or
        given up and counted). ``bool(result)`` is this value.
    sent
        Events delivered.
    rejected
        Events given up as bad (invalid, too large); see ``on_drop``.
    dropped
        Events discarded by the overflow policy.
    failed
        Events given up as undeliverable.

    .. versionadded:: 0.2.0
    """

    settled: bool
    sent: int = 0
    rejected: int = 0
    dropped: int = 0
    failed: int = 0

    def __bool__(self) -> bool:
        return self.settled


@dataclass(frozen=True, slots=True)
class DroppedEvent:
    """An event the client gave up, as passed to the ``on_drop`` callback.

    Attributes
    ----------
    event
        The event, with the ``event_id`` it was sent with.
    reason
        ``"invalid"`` (the service answered 422 naming it, or it cannot be encoded),
        ``"too_large"`` (413 for this event alone), ``"rejected"`` (400 for this
        event alone), ``"undelivered"`` (still unsent when the client closed), or
        ``"internal_error"`` (the sender failed unexpectedly while holding it).
    detail
        The service's explanation (every invalid field) or the error.
    status
        The HTTP status that settled it, if any.

    .. versionadded:: 0.2.0
    """

    event: ev.Event
    reason: DropReason
    detail: str
    status: int | None = None


class _Counts:
    # Plain counters guarded by the buffer's lock where several threads write them.
    __slots__ = (
        "dropped",
        "duplicates",
        "enqueued",
        "failed",
        "refused",
        "rejected",
        "retries",
        "sender_errors",
        "sent",
    )

    def __init__(self) -> None:
        self.enqueued = 0
        self.sent = 0
        self.duplicates = 0
        self.dropped = 0
        self.rejected = 0
        self.failed = 0
        self.retries = 0
        self.refused = 0
        self.sender_errors = 0

    @property
    def done(self) -> int:
        return self.sent + self.dropped + self.rejected + self.failed


class EventBuffer:
    """A bounded FIFO of events shared by the caller and the sending thread or task."""

    def __init__(self, max_events: int, policy: OverflowPolicy, block_seconds: float) -> None:
        if max_events < 1:
            msg = f"max_buffer_events must be >= 1, received {max_events!r}"
            raise ValueError(msg)
        if policy not in ("drop_oldest", "raise"):
            msg = f"overflow must be 'drop_oldest' or 'raise', received {policy!r}"
            raise ValueError(msg)
        self.max_events = max_events
        self.policy = policy
        self.block_seconds = max(0.0, block_seconds)
        self.items: deque[ev.Event] = deque()
        self.lock = threading.Lock()
        self.space = threading.Condition(self.lock)
        self.done = threading.Condition(self.lock)
        self.counts = _Counts()
        # (sent, rejected, dropped, failed) when the previous flush returned
        self._flushed = (0, 0, 0, 0)

    def put(self, event: ev.Event, *, may_block: bool) -> int:
        """Append ``event`` (applying the overflow policy); return the buffer's length."""
        with self.lock:
            if len(self.items) >= self.max_events:
                self._make_room(may_block=may_block)
            self.items.append(event)
            self.counts.enqueued += 1
            return len(self.items)

    def _make_room(self, *, may_block: bool) -> None:
        if may_block and self.block_seconds > 0:
            self.space.wait_for(lambda: len(self.items) < self.max_events, self.block_seconds)
            if len(self.items) < self.max_events:
                return
        if self.policy == "raise":
            msg = (
                f"the algowatch client buffer is full ({self.max_events} events waiting); "
                "the service is down or slower than the event rate"
            )
            raise BufferFullError(msg)
        self.items.popleft()
        self.counts.dropped += 1

    def take(self, limit: int) -> list[ev.Event]:
        """Remove and return up to ``limit`` events, oldest first."""
        with self.lock:
            count = min(limit, len(self.items))
            batch = [self.items.popleft() for _ in range(count)]
            if count:
                self.space.notify_all()
            return batch

    def __len__(self) -> int:
        return len(self.items)

    def stats(self) -> ClientStats:
        """Return a consistent copy of the counters."""
        with self.lock:
            c = self.counts
            return ClientStats(
                enqueued=c.enqueued,
                sent=c.sent,
                duplicates=c.duplicates,
                dropped=c.dropped,
                rejected=c.rejected,
                failed=c.failed,
                retries=c.retries,
                buffered=len(self.items),
                refused=c.refused,
                sender_errors=c.sender_errors,
            )

    def flush_result(self, settled: bool) -> FlushResult:
        """Return the outcome of a flush: what was settled since the previous one."""
        with self.lock:
            c = self.counts
            now = (c.sent, c.rejected, c.dropped, c.failed)
            before, self._flushed = self._flushed, now
        sent, rejected, dropped, failed = (a - b for a, b in zip(now, before, strict=True))
        return FlushResult(settled, sent=sent, rejected=rejected, dropped=dropped, failed=failed)


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


# --------------------------------------------------------------------------- validation


def check_event(event: Any) -> ev.Event:
    """Return ``event`` validated by the event contract (normalised as the service would).

    The helpers and ``emit`` call this where the caller is, so a bad argument raises
    there instead of poisoning a batch later. The contract judges the event: first its
    decoder's own typed structs (its constraints, checked in one C call), and when
    they refuse it, its validating path (:func:`algowatch.events.event_from_mapping`),
    which normalises or names every invalid field. On top of it the SDK checks what only
    an SDK can get wrong: integer timestamps in another unit or outside int64
    nanoseconds, and strings that cannot travel (NUL, lone surrogates).

    Raises
    ------
    InvalidEventError
        Naming every invalid field, the received value and the expectation.

    Examples
    --------
    >>> check_event(ev.Mark(ts=1_735_828_200_000_000_000, symbol="AAPL", price=-1.0))
    Traceback (most recent call last):
    ...
    algowatch.errors.InvalidEventError: mark.price must be > 0, received -1.0
    """
    tag = _EVENT_TAGS.get(type(event))
    if tag is None:
        names = ", ".join(sorted(cls.__name__ for cls in _EVENT_TAGS))
        msg = f"must be an algowatch.events event ({names}), received {_short(event)}"
        raise InvalidEventError([FieldError("event", msg)])
    if _canonical(event, tag):
        checked: ev.Event = event
        return checked
    errors = _timestamp_errors(event, tag) or _text_errors(event, tag)
    if errors:
        raise InvalidEventError(errors)
    # The contract's validating path, on the values themselves rather than their JSON
    # (which would turn NaN into null, read as absent): normalises, or names every field.
    checked = ev.event_from_mapping(ev.event_to_dict(event))
    try:
        ev.encode_event(checked)
    except (TypeError, ValueError, OverflowError) as exc:
        msg = f"must hold only JSON values, received {_short(event.extra)} ({exc})"
        raise InvalidEventError([FieldError(f"{tag}.extra", msg)]) from None
    return checked


_TS_TYPE: Final[Any] = Annotated[int, msgspec.Meta(ge=_TS_MIN, le=_TS_MAX)]


def _checked_types() -> dict[str, Any]:
    # One struct per event type with the field types of the contract's typed wire structs
    # (the constraints events.py's decoder applies in C on its fast path), timestamps as
    # int nanoseconds instead of text. Read straight from an event's attributes, it checks
    # a canonical event in one call. events.py does not make its wire structs public yet;
    # without them every check takes the slower, equally strict validating path.
    wire_types: Mapping[str, Any] = getattr(ev, "_WIRE", {})
    checked = {}
    for tag, wire in wire_types.items():
        fields = []
        for info in msgspec.structs.fields(wire):
            kind = info.type
            if info.name == "ts":
                kind = _TS_TYPE
            elif info.name == "exchange_ts":
                kind = _TS_TYPE | None
            fields.append((info.name, kind))
        checked[tag] = msgspec.defstruct(f"_Checked_{tag}", fields, kw_only=True, gc=False)
    return checked


_CHECKED_TYPES: Final = _checked_types()


def _canonical(event: ev.Event, tag: str) -> bool:
    # True when the event is valid as it is (nothing to normalise, no extra fields).
    checked = _CHECKED_TYPES.get(tag)
    if checked is None or event.extra:
        return False
    try:
        msgspec.convert(event, checked, from_attributes=True)
    except (msgspec.ValidationError, TypeError, ValueError):
        return False
    text = "".join([value for value in msgspec.structs.astuple(event) if type(value) is str])
    return "\x00" not in text and _is_utf8(text)


def _is_utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _timestamp_errors(event: ev.Event, tag: str) -> list[FieldError]:
    errors = []
    for name in ("ts", "exchange_ts"):
        value = getattr(event, name, None)
        if value is None and name == "exchange_ts":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not _TS_MIN <= value <= _TS_MAX:
            errors.append(FieldError(f"{tag}.{name}", f"{_TS_EXPECTED}, received {value!r}"))
    return errors


def _text_errors(event: ev.Event, tag: str) -> list[FieldError]:
    errors = []
    texts: list[tuple[str, Any]] = [
        (name, getattr(event, name)) for name in event.__struct_fields__
    ]
    extra: dict[Any, Any] = event.extra
    texts += [(f"extra[{key!r}]", key) for key in extra]
    texts += [(f"extra[{key!r}]", value) for key, value in extra.items()]
    for name, value in texts:
        problem = _text_problem(value)
        if problem is not None:
            errors.append(FieldError(f"{tag}.{name}", f"{problem}, received {_short(value)}"))
    return errors


def _text_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return "must not contain NUL characters ('\\x00')"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no lone surrogates such as '\\ud800')"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------- answers


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


# --------------------------------------------------------------------------- reporting


class DropReporter:
    """Tell the user about trouble: the ``on_drop`` callback and rate-limited log records.

    Each kind of problem (a drop reason, an HTTP refusal, an exception type) is logged
    on the ``algowatch.client`` logger at most once per minute; the next record says
    how many were left out. Used by the sender only (one thread or task).

    Parameters
    ----------
    on_drop
        Called once per dropped event, from the sender; its exceptions are logged and
        counted, never propagated.
    counts
        The client's counters (``sender_errors`` is incremented here).
    lock
        The lock guarding ``counts``.

    Attributes
    ----------
    last_error
        The latest failed answer or exception, as text.
    """

    def __init__(
        self,
        on_drop: Callable[[DroppedEvent], object] | None,
        counts: _Counts,
        lock: threading.Lock,
        *,
        interval_seconds: float = _LOG_INTERVAL_SECONDS,
    ) -> None:
        self._on_drop = on_drop
        self._counts = counts
        self._lock = lock
        self._interval = interval_seconds
        self.last_error: str | None = None
        # kind -> (monotonic time of the last record, occurrences left out since)
        self._logged: dict[str, tuple[float, int]] = {}

    def dropped(self, drops: Sequence[DroppedEvent]) -> None:
        """Report events given up: one callback per event, a log record per reason."""
        if not drops:
            return
        by_reason: dict[str, list[DroppedEvent]] = {}
        for drop in drops:
            by_reason.setdefault(drop.reason, []).append(drop)
        for reason, group in by_reason.items():
            first = group[0]
            level = (
                logging.ERROR if reason in ("undelivered", "internal_error") else logging.WARNING
            )
            self._log(
                f"drop:{reason}",
                level,
                "algowatch client dropped %d event(s) (%s); first: %s event_id=%s: %s",
                len(group),
                reason,
                _EVENT_TAGS.get(type(first.event), "event"),
                first.event.event_id,
                first.detail,
            )
        if self._on_drop is None:
            return
        for drop in drops:
            try:
                self._on_drop(drop)
            except Exception as exc:  # user code must not stop the sender
                self.sender_error(exc, where="the on_drop callback")

    def refused(self, status: int | None, error: str, waiting: int) -> None:
        """Report a refusal that is not about the events (the events are kept)."""
        self._log(
            f"refused:{status}",
            logging.ERROR,
            "algowatch service refused a batch (%s); %d event(s) are kept and retried "
            "with backoff; check the client's token and base URL",
            error,
            waiting,
        )

    def sender_error(self, exc: BaseException, *, where: str = "the sender") -> None:
        """Count and log an unexpected exception caught in the sender."""
        with self._lock:
            self._counts.sender_errors += 1
        self._log(
            f"error:{where}:{type(exc).__qualname__}",
            logging.ERROR,
            "algowatch client: %s raised %r; it keeps running",
            where,
            exc,
            exc_info=exc,
        )

    def _log(self, kind: str, level: int, message: str, *args: object, **kwargs: Any) -> None:
        now = time.monotonic()
        last, left_out = self._logged.get(kind, (-float("inf"), 0))
        if now - last < self._interval:
            self._logged[kind] = (last, left_out + 1)
            return
        self._logged[kind] = (now, 0)
        if left_out:
            message += f" ({left_out} more like this in the last {self._interval:g} s)"
        _LOG.log(level, message, *args, **kwargs)


class EventHelpers(abc.ABC):
    """Typed helpers, one per event type; each builds the event and enqueues it.

    ``ts`` defaults to the client's clock (UNIX ns); ``event_id`` defaults to a ULID
    assigned before the first send; ``strategy`` and ``account`` default to the
    client's. Helpers never wait on the network: they cost a few microseconds,
    most of it the call-site check (:func:`check_event`), which raises
    :class:`~algowatch.errors.InvalidEventError` for a bad argument.
    """

    _clock: Clock
    _strategy: str
    _account: str

    def _init_helpers(self, clock: Clock | None, strategy: str, account: str) -> None:
        self._clock = clock or SystemClock()
        self._strategy = strategy
        self._account = account

    @abc.abstractmethod
    def emit(self, event: ev.Event) -> None:
        """Enqueue an already built event."""

    def order_submitted(
        self,
        order_id: str,
        symbol: str,
        side: ev.Side,
        quantity: float,
        order_type: ev.OrderType = "market",
        *,
        limit_price: float | None = None,
        decision_price: float | None = None,
        arrival_price: float | None = None,
        signal_id: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record that an order left for the broker."""
        self.emit(
            ev.OrderSubmitted(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                order_id=order_id,
                symbol=symbol,
                side=side,
                quantity=quantity,
                order_type=order_type,
                limit_price=limit_price,
                decision_price=decision_price,
                arrival_price=arrival_price,
                signal_id=signal_id,
            )
        )

    def order_acknowledged(
        self,
        order_id: str,
        *,
        broker_order_id: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record that the broker accepted an order."""
        self.emit(
            ev.OrderAcknowledged(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                order_id=order_id,
                broker_order_id=broker_order_id,
            )
        )

    def order_filled(
        self,
        order_id: str,
        fill_id: str,
        quantity: float,
        price: float,
        *,
        fee: float = 0.0,
        vwap: float | None = None,
        liquidity: ev.Liquidity | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record a (partial or complete) fill of an order."""
        self.emit(
            ev.OrderFilled(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                order_id=order_id,
                fill_id=fill_id,
                quantity=quantity,
                price=price,
                fee=fee,
                vwap=vwap,
                liquidity=liquidity,
            )
        )

    def order_rejected(
        self,
        order_id: str,
        reason: str,
        *,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record that an order was rejected."""
        self.emit(
            ev.OrderRejected(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                order_id=order_id,
                reason=reason,
            )
        )

    def order_canceled(
        self,
        order_id: str,
        *,
        reason: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record that an order was canceled."""
        self.emit(
            ev.OrderCanceled(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                order_id=order_id,
                reason=reason,
            )
        )

    def signal(
        self,
        signal_id: str,
        symbol: str,
        direction: ev.Direction,
        *,
        confidence: float | None = None,
        generation_seconds: float | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record a trading signal."""
        self.emit(
            ev.Signal(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                signal_id=signal_id,
                symbol=symbol,
                direction=direction,
                confidence=confidence,
                generation_seconds=generation_seconds,
            )
        )

    def signal_outcome(
        self,
        signal_id: str,
        actual_direction: ev.Direction,
        *,
        pnl: float | None = None,
        bars_to_profit: int | None = None,
        bars_held: int | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record what happened after a signal."""
        self.emit(
            ev.SignalOutcome(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                signal_id=signal_id,
                actual_direction=actual_direction,
                pnl=pnl,
                bars_to_profit=bars_to_profit,
                bars_held=bars_held,
            )
        )

    def mark(
        self,
        symbol: str,
        price: float,
        *,
        bid: float | None = None,
        ask: float | None = None,
        exchange_ts: int | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record a mark price for a symbol."""
        self.emit(
            ev.Mark(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                symbol=symbol,
                price=price,
                bid=bid,
                ask=ask,
                exchange_ts=exchange_ts,
            )
        )

    def account_snapshot(
        self,
        equity: float,
        *,
        cash: float | None = None,
        buying_power: float | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record the account's equity as the broker reports it (an ``account`` event)."""
        self.emit(
            ev.Account(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                equity=equity,
                cash=cash,
                buying_power=buying_power,
            )
        )

    def error(
        self,
        error_type: str,
        component: str,
        *,
        message: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record an error inside the trading system."""
        self.emit(
            ev.Error(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                error_type=error_type,
                component=component,
                message=message,
            )
        )

    def heartbeat(
        self,
        component: str,
        *,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record that ``component`` is alive."""
        self.emit(
            ev.Heartbeat(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                component=component,
            )
        )


class ClientClosedError(AlgowatchError, RuntimeError):
    """An event helper was called after the client was closed."""


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
