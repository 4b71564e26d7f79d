"""Decode a fetched batch of NATS messages into events, deterministically (pure, no I/O).

One message holds one event, as the JSON object ``POST /api/v1/events`` accepts. The
batch is decoded in one call of :func:`~algowatch._codec.decode_batch_payloads` (the fast
NDJSON path), with the same validation as HTTP ingest; an event keeps its message's data
as its payload, which the journal stores as received. Two rules differ from HTTP, so
that every replica reaches the same verdict on the same message whatever its clock
and however its fetches cut the stream into batches:

- the time an event without ``ts`` gets, and the reference of the
  ``server.max_future_seconds`` limit, is the message's JetStream timestamp (when the
  stream stored it), not the replica's clock;
- an event must carry ``event_id``: delivery is at-least-once, and the journal's
  de-duplication by ``event_id`` is what makes a redelivered message a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from algowatch._codec import decode_batch_payloads
from algowatch.errors import InvalidEventError
from algowatch.events import Event, decode_event

__all__ = ["DecodedBatch", "decode_messages"]


@dataclass(slots=True)
class DecodedBatch:
    """The events of a batch in message order, and the messages that were refused.

    Attributes
    ----------
    events
        The valid events, in message (stream) order.
    payloads
        Per event, its message's data, or ``None`` when its ``ts`` may have been filled in
        from the message's timestamp (the data alone would not give back the event: it
        is journaled re-encoded).
    rejected
        ``(index, reason)`` per refused message, ``index`` into the decoded payloads.
    """

    events: list[Event] = field(default_factory=list)
    payloads: list[bytes | None] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def decode_messages(
    payloads: Sequence[bytes], stamps: Sequence[int], max_future_ns: int | None
) -> DecodedBatch:
    """Decode one event per payload; refuse (never raise on) the invalid ones.

    Parameters
    ----------
    payloads
        The message bodies, in stream order.
    stamps
        Each message's JetStream timestamp (UNIX nanoseconds).
    max_future_ns
        How far past its message's timestamp an event's ``ts`` may be; None for no limit.

    Examples
    --------
    >>> good = b'{"type":"heartbeat","component":"bot","event_id":"h-1"}'
    >>> batch = decode_messages([good, b"{"], [1_000, 2_000], None)
    >>> [(e.ts, e.event_id) for e in batch.events]
    [(1000, 'h-1')]
    >>> batch.rejected[0][0]
    1
    """
    out = DecodedBatch()
    if not payloads:
        return out
    # canonical one-line objects go through one batch decode; anything else (a payload
    # with a newline, blank, not an object) is decoded on its own so lines map to messages
    single = [i for i, p in enumerate(payloads) if p[:1] != b"{" or b"\n" in p]
    lines = payloads if not single else [p for i, p in enumerate(payloads) if i not in single]
    limit = None if max_future_ns is None else max(stamps) + max_future_ns
    # line i is message i's event: decode_batch_payloads never lets two share a line
    decoded = decode_batch_payloads(b"\n".join(lines), max_ts=limit)[0] if lines else None
    failed = set() if decoded is None else {e.index for e in decoded.errors}
    good = iter(() if decoded is None else decoded.events)
    redo = set(single)
    line = 0
    for index, payload in enumerate(payloads):
        stamp = stamps[index]
        if index in redo:
            event = _decode_alone(payload, stamp, max_future_ns, out, index)
        else:
            in_batch = line in failed
            line += 1
            if in_batch:
                event = _decode_alone(payload, stamp, max_future_ns, out, index)
            else:
                event = next(good)
        if event is None:
            continue
        problem = _problem(event, stamp, max_future_ns)
        if problem is not None:
            out.rejected.append((index, problem))
            continue
        out.events.append(event)
        # a ts equal to the stamp may have been filled in from it: journal that event encoded
        out.payloads.append(None if event.ts == stamp else payload)
    return out


def _decode_alone(
    payload: bytes, stamp: int, max_future_ns: int | None, out: DecodedBatch, index: int
) -> Event | None:
    # the message's own timestamp fills a missing ts (the batch decode has no default)
    limit = None if max_future_ns is None else stamp + max_future_ns
    try:
        return decode_event(payload, default_ts=stamp, max_ts=limit)
    except InvalidEventError as exc:
        out.rejected.append((index, str(exc)))
        return None


def _problem(event: Event, stamp: int, max_future_ns: int | None) -> str | None:
    if event.event_id is None:
        tag = event.__struct_config__.tag
        return (
            f"{tag}.event_id is required on NATS (delivery is at-least-once; the "
            "event_id makes a redelivered message a no-op)"
        )
    if max_future_ns is not None and event.ts > stamp + max_future_ns:
        tag = event.__struct_config__.tag
        return (
            f"{tag}.ts is more than {max_future_ns / 1e9:g} s after the time the stream "
            "stored the message"
        )
    return None
