"""The event vocabulary (contract v1) every source speaks and the engine applies.

Events are JSON objects with a ``type`` discriminator. Every event carries
``ts`` (RFC 3339 UTC with up to nanosecond precision, stored as integer UNIX
nanoseconds), and may carry ``event_id`` (makes ingestion idempotent),
``strategy`` and ``account`` (both default ``"default"``). Fields the contract
does not know are kept in ``extra``, never dropped.

- ``order_submitted``: order_id, symbol, side, quantity, order_type; optional limit_price,
  decision_price, arrival_price, signal_id
- ``order_acknowledged``: order_id; optional broker_order_id
- ``order_filled``: order_id, fill_id, quantity, price; optional fee, vwap, liquidity
- ``order_rejected``: order_id, reason
- ``order_canceled``: order_id; optional reason
- ``signal``: signal_id, symbol, direction; optional confidence, generation_seconds
- ``signal_outcome``: signal_id, actual_direction; optional pnl, bars_to_profit, bars_held
- ``mark``: symbol, price; optional bid, ask, exchange_ts
- ``account``: equity; optional cash, buying_power
- ``error``: error_type, component; optional message
- ``heartbeat``: component

Value rules: quantities and prices are finite and ``> 0`` (at most 1e15);
``side`` is ``buy``/``sell`` and ``direction`` ``long``/``short``/``flat``, any
letter case (normalised to lower case); ``confidence`` is within [0, 1];
``fee``, ``pnl``, ``equity``, ``cash`` and ``buying_power`` are finite with
magnitude at most 1e15; ``bars_*`` are integers ``>= 0``; identifiers are
non-empty strings of at most 256 characters (symbols 64, labels 128).
A ``null`` optional field is the same as an absent one. :func:`event_fields` gives each
type's fields with their kind, constraints and JSON Schema, all derived from the event
classes, which declare the contract once.

Storage rules (what a journal can store, identical for SQLite and PostgreSQL):
``ts`` and ``exchange_ts`` are within the signed 64-bit nanosecond range
(1677-09-21 to 2262-04-11); no string, known field or unknown, key or value,
holds a lone surrogate or a NUL character; identifiers, symbols and labels
hold no control character. Unknown fields: at most 64 per event, names of at
most 128 characters, strings of at most 4096 characters, numbers finite
(integers within 64 bits), nesting at most 8 levels deep and at most 1000
values in all.

Decoding is strict and reports every invalid field of an event at once::

    >>> decode_event(b'{"type":"order_filled","ts":"2025-01-02T14:30:00Z",'
    ...              b'"order_id":"o1","fill_id":"f1","quantity":-5,"price":"x"}')
    Traceback (most recent call last):
    ...
    algowatch.errors.InvalidEventError: order_filled.quantity must be > 0, received -5; \
order_filled.price must be a number, received 'x'

.. versionadded:: 0.1.0
"""

# MAX_MAGNITUDE is not in __all__ but was always importable from here: the redundant alias
# keeps it an explicit re-export for type checkers.
from algowatch._codec import (
    BatchResult,
    decode_batch,
    decode_event,
    decode_stored,
    encode_event,
    encode_events,
    event_from_mapping,
    event_to_dict,
)
from algowatch._event_types import MAX_MAGNITUDE as MAX_MAGNITUDE  # noqa: PLC0414
from algowatch._event_types import (
    ORDER_TYPES,
    Account,
    Direction,
    Error,
    Event,
    EventField,
    EventType,
    Heartbeat,
    Liquidity,
    Mark,
    OrderAcknowledged,
    OrderCanceled,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    OrderType,
    Side,
    Signal,
    SignalOutcome,
    event_fields,
    event_types,
)
from algowatch._storage import MAX_EXTRA_DEPTH, MAX_EXTRA_FIELDS, MAX_EXTRA_VALUES
from algowatch._time import format_timestamp, parse_timestamp

__all__ = [
    "MAX_EXTRA_DEPTH",
    "MAX_EXTRA_FIELDS",
    "MAX_EXTRA_VALUES",
    "ORDER_TYPES",
    "Account",
    "BatchResult",
    "Direction",
    "Error",
    "Event",
    "EventField",
    "EventType",
    "Heartbeat",
    "Liquidity",
    "Mark",
    "OrderAcknowledged",
    "OrderCanceled",
    "OrderFilled",
    "OrderRejected",
    "OrderSubmitted",
    "OrderType",
    "Side",
    "Signal",
    "SignalOutcome",
    "decode_batch",
    "decode_event",
    "decode_stored",
    "encode_event",
    "encode_events",
    "event_fields",
    "event_from_mapping",
    "event_to_dict",
    "event_types",
    "format_timestamp",
    "parse_timestamp",
]
