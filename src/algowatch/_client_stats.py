"""What happened to the events given to a client: counters, flush results, dropped events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from algowatch import events as ev

__all__ = ["ClientStats", "DropReason", "DroppedEvent", "FlushResult"]

DropReason = Literal["invalid", "too_large", "rejected", "undelivered", "internal_error"]


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
