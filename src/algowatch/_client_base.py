"""Shared parts of the SDK clients: typed event helpers, the bounded buffer, response rules."""

from __future__ import annotations

import abc
import random
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import msgspec
from ulid import ULID

from algowatch import events as ev
from algowatch.clock import Clock, SystemClock
from algowatch.errors import AlgowatchError

__all__ = [
    "BufferFullError",
    "ClientClosedError",
    "ClientStats",
    "Delivery",
    "EventBuffer",
    "EventHelpers",
    "OverflowPolicy",
    "Verdict",
    "assign_ids",
    "backoff_seconds",
    "classify",
]

OverflowPolicy = Literal["drop_oldest", "raise"]
_NS = 1_000_000_000


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
        Events the service refused (422 invalid, 401 token, 413 size, ...), discarded.
    failed
        Events still undelivered when the client was closed (service unreachable).
    retries
        Failed attempts that were retried (connection errors, 5xx, 503).
    buffered
        Events waiting in the buffer now.
    """

    enqueued: int
    sent: int
    duplicates: int
    dropped: int
    rejected: int
    failed: int
    retries: int
    buffered: int


class _Counts:
    # Plain counters guarded by the buffer's lock where several threads write them.
    __slots__ = ("dropped", "duplicates", "enqueued", "failed", "rejected", "retries", "sent")

    def __init__(self) -> None:
        self.enqueued = 0
        self.sent = 0
        self.duplicates = 0
        self.dropped = 0
        self.rejected = 0
        self.failed = 0
        self.retries = 0

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
            )


def assign_ids(events: Sequence[ev.Event]) -> list[ev.Event]:
    """Return ``events`` with a ULID ``event_id`` on each event that has none.

    The id's time part is the event's ``ts``. It is assigned once, before the first
    attempt, so every retry carries the same ids and the service ignores repeats.
    """
    out: list[ev.Event] = []
    for event in events:
        if event.event_id is None:
            ulid = ULID.from_timestamp(event.ts / _NS)
            out.append(msgspec.structs.replace(event, event_id=str(ulid)))
        else:
            out.append(event)
    return out


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a sender does after one attempt."""

    action: Literal["done", "retry", "drop", "split", "resend"]
    sent: int = 0
    duplicates: int = 0
    invalid_indexes: frozenset[int] = frozenset()
    retry_after: float | None = None
    error: str | None = None


def classify(  # noqa: PLR0911 - one return per kind of answer
    response: httpx.Response | None, error: Exception | None
) -> Verdict:
    """Return what to do after posting a batch (``response`` is None on a transport error)."""
    if response is None:
        return Verdict("retry", error=repr(error))
    status = response.status_code
    if status == 202:
        body = _json(response)
        duplicates = body.get("duplicates", []) if isinstance(body, dict) else []
        received = body.get("received", 0) if isinstance(body, dict) else 0
        return Verdict("done", sent=int(received), duplicates=len(duplicates))
    if status == 422:
        body = _json(response)
        invalid = body.get("invalid", []) if isinstance(body, dict) else []
        indexes = frozenset(
            int(item["index"])
            for item in invalid
            if isinstance(item, dict) and isinstance(item.get("index"), int)
        )
        if not indexes:
            return Verdict("drop", error=response.text[:500])
        return Verdict("resend", invalid_indexes=indexes, error=response.text[:500])
    if status == 413:
        return Verdict("split", error=response.text[:200])
    if status == 429 or status >= 500:
        return Verdict("retry", retry_after=_retry_after(response), error=f"HTTP {status}")
    return Verdict("drop", error=f"HTTP {status}: {response.text[:200]}")


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


class EventHelpers(abc.ABC):
    """Typed helpers, one per event type; each builds the event and enqueues it.

    ``ts`` defaults to the client's clock (UNIX ns); ``event_id`` defaults to a ULID
    assigned before the first send; ``strategy`` and ``account`` default to the
    client's. Helpers never wait on the network: they cost about a microsecond.
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


class Delivery:
    """One batch on its way to the service: ids, splits on 413, partial resend on 422.

    The sender (thread or task) asks :meth:`next_part` for the next body to post,
    reports the response with :meth:`record`, and sleeps when told to.
    """

    def __init__(
        self,
        events: Sequence[ev.Event],
        buffer: EventBuffer,
        *,
        rng: random.Random,
        backoff_initial: float,
        backoff_max: float,
    ) -> None:
        self._parts: list[list[ev.Event]] = [assign_ids(events)]
        self._buffer = buffer
        self._rng = rng
        self._initial = backoff_initial
        self._maximum = backoff_max
        self._attempt = 0
        self.last_error: str | None = None

    def next_part(self) -> tuple[list[ev.Event], bytes] | None:
        """Return the next part to post and its NDJSON body, or None when all are settled."""
        if not self._parts:
            return None
        part = self._parts[0]
        return part, ev.encode_events(part)

    def record(self, part: list[ev.Event], verdict: Verdict) -> float | None:
        """Account for one attempt at ``part``; return seconds to wait before a retry."""
        counts = self._buffer.counts
        if verdict.error is not None:
            self.last_error = verdict.error
        if verdict.action == "retry":
            self._attempt += 1
            with self._buffer.lock:
                counts.retries += 1
            wait = backoff_seconds(
                self._attempt, initial=self._initial, maximum=self._maximum, rng=self._rng
            )
            return max(wait, verdict.retry_after or 0.0)
        self._parts.pop(0)
        self._attempt = 0
        with self._buffer.lock:
            if verdict.action == "done":
                counts.sent += len(part)
                counts.duplicates += verdict.duplicates
            elif verdict.action == "resend":
                kept = [e for i, e in enumerate(part) if i not in verdict.invalid_indexes]
                counts.rejected += len(part) - len(kept)
                if kept:
                    self._parts.insert(0, kept)
            elif verdict.action == "split" and len(part) > 1:
                half = len(part) // 2
                self._parts[0:0] = [part[:half], part[half:]]
            else:
                counts.rejected += len(part)
            self._buffer.done.notify_all()
        return None

    def abandon(self) -> None:
        """Count every part not yet delivered as failed (the client is closing)."""
        with self._buffer.lock:
            self._buffer.counts.failed += sum(len(p) for p in self._parts)
            self._parts.clear()
            self._buffer.done.notify_all()
