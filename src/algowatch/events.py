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
A ``null`` optional field is the same as an absent one.

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

from __future__ import annotations

import functools
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, TypeAlias, get_args

import msgspec

from algowatch import _wire
from algowatch._storage import (
    LABEL_FORBIDDEN,
    MAX_EXTRA_DEPTH,
    MAX_EXTRA_FIELDS,
    MAX_EXTRA_VALUES,
    TEXT_FORBIDDEN,
    extra_errors,
    short_repr,
    string,
)
from algowatch._storage import MAX_TEXT as _MAX_TEXT
from algowatch.errors import FieldError, InvalidEventError

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
    "event_from_mapping",
    "event_to_dict",
    "event_types",
    "format_timestamp",
    "parse_timestamp",
]

Side: TypeAlias = Literal["buy", "sell"]
Direction: TypeAlias = Literal["long", "short", "flat"]
Liquidity: TypeAlias = Literal["maker", "taker"]
OrderType: TypeAlias = Literal[
    "market",
    "limit",
    "stop",
    "stop_limit",
    "trailing_stop",
    "market_on_open",
    "market_on_close",
    "limit_on_open",
    "limit_on_close",
    "pegged",
    "iceberg",
]
ORDER_TYPES: Final[tuple[str, ...]] = get_args(OrderType)

MAX_MAGNITUDE: Final = 1e15
_MAX_ID: Final = 256
_MAX_LABEL: Final = 128
_MAX_SYMBOL: Final = 64
_MAX_COUNT: Final = 10**9


# gc=False: events are immutable JSON-like data that can never be part of a reference
# cycle, so the cyclic GC need not track them; a replay holds millions of them.
class _EventBase(
    msgspec.Struct, frozen=True, kw_only=True, tag_field="type", omit_defaults=True, gc=False
):
    ts: int
    event_id: str | None = None
    strategy: str = "default"
    account: str = "default"
    extra: dict[str, Any] = {}


class OrderSubmitted(_EventBase, frozen=True, kw_only=True, tag="order_submitted"):
    """An order left the trading system for the broker."""

    order_id: str
    symbol: str
    side: Side
    quantity: float
    order_type: OrderType
    limit_price: float | None = None
    decision_price: float | None = None
    arrival_price: float | None = None
    signal_id: str | None = None


class OrderAcknowledged(_EventBase, frozen=True, kw_only=True, tag="order_acknowledged"):
    """The broker accepted the order."""

    order_id: str
    broker_order_id: str | None = None


class OrderFilled(_EventBase, frozen=True, kw_only=True, tag="order_filled"):
    """A fill (partial or complete) of an order; ``fee`` is in account currency."""

    order_id: str
    fill_id: str
    quantity: float
    price: float
    fee: float = 0.0
    vwap: float | None = None
    liquidity: Liquidity | None = None


class OrderRejected(_EventBase, frozen=True, kw_only=True, tag="order_rejected"):
    """The broker or a risk check rejected the order."""

    order_id: str
    reason: str


class OrderCanceled(_EventBase, frozen=True, kw_only=True, tag="order_canceled"):
    """The order was canceled; any unfilled quantity is gone."""

    order_id: str
    reason: str | None = None


class Signal(_EventBase, frozen=True, kw_only=True, tag="signal"):
    """A strategy emitted a trading signal."""

    signal_id: str
    symbol: str
    direction: Direction
    confidence: float | None = None
    generation_seconds: float | None = None


class SignalOutcome(_EventBase, frozen=True, kw_only=True, tag="signal_outcome"):
    """What happened after a signal: the realised direction and optional P&L."""

    signal_id: str
    actual_direction: Direction
    pnl: float | None = None
    bars_to_profit: int | None = None
    bars_held: int | None = None


class Mark(_EventBase, frozen=True, kw_only=True, tag="mark"):
    """A mark price for a symbol; ``exchange_ts`` in UNIX nanoseconds when known."""

    symbol: str
    price: float
    bid: float | None = None
    ask: float | None = None
    exchange_ts: int | None = None


class Account(_EventBase, frozen=True, kw_only=True, tag="account"):
    """An account snapshot reported by the broker."""

    equity: float
    cash: float | None = None
    buying_power: float | None = None


class Error(_EventBase, frozen=True, kw_only=True, tag="error"):
    """An error inside the trading system."""

    error_type: str
    component: str
    message: str | None = None


class Heartbeat(_EventBase, frozen=True, kw_only=True, tag="heartbeat"):
    """A liveness signal from a component of the trading system."""

    component: str


Event: TypeAlias = (
    OrderSubmitted
    | OrderAcknowledged
    | OrderFilled
    | OrderRejected
    | OrderCanceled
    | Signal
    | SignalOutcome
    | Mark
    | Account
    | Error
    | Heartbeat
)
EventType: TypeAlias = Literal[
    "order_submitted",
    "order_acknowledged",
    "order_filled",
    "order_rejected",
    "order_canceled",
    "signal",
    "signal_outcome",
    "mark",
    "account",
    "error",
    "heartbeat",
]

_CLASSES: Final[tuple[type[_EventBase], ...]] = get_args(Event)
_BY_TAG: Final[dict[str, type[_EventBase]]] = {
    str(cls.__struct_config__.tag): cls for cls in _CLASSES
}


def event_types() -> tuple[str, ...]:
    """Return the ``type`` names of the contract, in contract order."""
    return tuple(_BY_TAG)


# --------------------------------------------------------------------------- timestamps


def parse_timestamp(text: str) -> int:
    """Return UNIX nanoseconds for an RFC 3339 timestamp.

    Accepts ``Z`` or a numeric offset and 0 to 9 fractional digits; the result is UTC.

    Raises
    ------
    ValueError
        If ``text`` is not an RFC 3339 date-time with a time zone.

    Examples
    --------
    >>> parse_timestamp("1970-01-01T00:00:01.000000001Z")
    1000000001
    >>> parse_timestamp("2025-01-02T10:00:00-05:00") == parse_timestamp("2025-01-02T15:00:00Z")
    True
    """
    return _wire.parse_timestamp(text)


def format_timestamp(ts_ns: int) -> str:
    """Return ``ts_ns`` as RFC 3339 UTC with nine fractional digits.

    Examples
    --------
    >>> format_timestamp(1000000001)
    '1970-01-01T00:00:01.000000001Z'
    """
    return _wire.format_timestamp(ts_ns)


# --------------------------------------------------------------------------- field kinds

# Each kind has a strict validator for the slow path (returns the normalised value or raises
# ValueError with the expectation) and a msgspec type for the fast path; the two accept exactly
# the same inputs, except that the fast path refuses anything needing normalisation (upper-case
# enums, unknown fields, nulls), which then takes the slow path.


def _number(value: Any, *, low: float, high: float, low_open: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = "must be a number"
        raise ValueError(msg)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        msg = "must be a finite number"
        raise ValueError(msg)
    if low_open and number <= low:
        msg = f"must be > {low:g}"
        raise ValueError(msg)
    if number < low:
        msg = f"must be >= {low:g}"
        raise ValueError(msg)
    if number > high:
        msg = f"must be <= {high:g}"
        raise ValueError(msg)
    return number


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    expected = ", ".join(repr(c) for c in choices)

    def check(value: Any) -> str:
        if isinstance(value, str) and value.lower() in choices:
            return value.lower()
        msg = f"must be one of {expected}"
        raise ValueError(msg)

    return check


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = "must be an integer"
        raise ValueError(msg)
    if not 0 <= value <= _MAX_COUNT:
        msg = f"must be within [0, {_MAX_COUNT}]"
        raise ValueError(msg)
    return value


def _timestamp(value: Any) -> int:
    if not isinstance(value, str):
        msg = "must be an RFC 3339 timestamp string"
        raise ValueError(msg)
    return parse_timestamp(value)


@dataclass(frozen=True, slots=True)
class _Kind:
    check: Callable[[Any], Any]
    wire: Any
    # characters the fast path must look for (its decoder cannot express the rule)
    forbidden: re.Pattern[str] | None = None


_M = msgspec.Meta
_STRING_LIMITS: Final[dict[str, tuple[int, int, re.Pattern[str]]]] = {
    "id": (1, _MAX_ID, LABEL_FORBIDDEN),
    "label": (1, _MAX_LABEL, LABEL_FORBIDDEN),
    "symbol": (1, _MAX_SYMBOL, LABEL_FORBIDDEN),
    "text": (0, _MAX_TEXT, TEXT_FORBIDDEN),
}


def _string_kind(name: str, *, stored: bool = False) -> _Kind:
    low, high, forbidden = _STRING_LIMITS[name]
    meta = _M(min_length=low, max_length=high) if low else _M(max_length=high)
    check_forbidden = None if stored else forbidden
    return _Kind(
        lambda v: string(v, max_length=high, min_length=low, forbidden=check_forbidden),
        Annotated[str, meta],
        forbidden,
    )


_KINDS: Final[dict[str, _Kind]] = {
    "id": _string_kind("id"),
    "label": _string_kind("label"),
    "symbol": _string_kind("symbol"),
    "text": _string_kind("text"),
    "positive": _Kind(
        lambda v: _number(v, low=0.0, high=MAX_MAGNITUDE, low_open=True),
        Annotated[float, _M(gt=0.0, le=MAX_MAGNITUDE)],
    ),
    "nonnegative": _Kind(
        lambda v: _number(v, low=0.0, high=MAX_MAGNITUDE, low_open=False),
        Annotated[float, _M(ge=0.0, le=MAX_MAGNITUDE)],
    ),
    "finite": _Kind(
        lambda v: _number(v, low=-MAX_MAGNITUDE, high=MAX_MAGNITUDE, low_open=False),
        Annotated[float, _M(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)],
    ),
    "unit": _Kind(
        lambda v: _number(v, low=0.0, high=1.0, low_open=False),
        Annotated[float, _M(ge=0.0, le=1.0)],
    ),
    "count": _Kind(_count, Annotated[int, _M(ge=0, le=_MAX_COUNT)]),
    "side": _Kind(_choice(get_args(Side)), Side),
    "direction": _Kind(_choice(get_args(Direction)), Direction),
    "liquidity": _Kind(_choice(get_args(Liquidity)), Liquidity),
    "order_type": _Kind(_choice(ORDER_TYPES), OrderType),
    "timestamp": _Kind(_timestamp, str),
}

_COMMON: Final[dict[str, tuple[str, bool]]] = {
    "ts": ("timestamp", True),
    "event_id": ("id", False),
    "strategy": ("label", False),
    "account": ("label", False),
}

# field -> (kind, required), in contract order
_SPECS: Final[dict[str, dict[str, tuple[str, bool]]]] = {
    "order_submitted": {
        "order_id": ("id", True),
        "symbol": ("symbol", True),
        "side": ("side", True),
        "quantity": ("positive", True),
        "order_type": ("order_type", True),
        "limit_price": ("positive", False),
        "decision_price": ("positive", False),
        "arrival_price": ("positive", False),
        "signal_id": ("id", False),
    },
    "order_acknowledged": {"order_id": ("id", True), "broker_order_id": ("id", False)},
    "order_filled": {
        "order_id": ("id", True),
        "fill_id": ("id", True),
        "quantity": ("positive", True),
        "price": ("positive", True),
        "fee": ("finite", False),
        "vwap": ("positive", False),
        "liquidity": ("liquidity", False),
    },
    "order_rejected": {"order_id": ("id", True), "reason": ("text", True)},
    "order_canceled": {"order_id": ("id", True), "reason": ("text", False)},
    "signal": {
        "signal_id": ("id", True),
        "symbol": ("symbol", True),
        "direction": ("direction", True),
        "confidence": ("unit", False),
        "generation_seconds": ("nonnegative", False),
    },
    "signal_outcome": {
        "signal_id": ("id", True),
        "actual_direction": ("direction", True),
        "pnl": ("finite", False),
        "bars_to_profit": ("count", False),
        "bars_held": ("count", False),
    },
    "mark": {
        "symbol": ("symbol", True),
        "price": ("positive", True),
        "bid": ("positive", False),
        "ask": ("positive", False),
        "exchange_ts": ("timestamp", False),
    },
    "account": {
        "equity": ("finite", True),
        "cash": ("finite", False),
        "buying_power": ("finite", False),
    },
    "error": {
        "error_type": ("label", True),
        "component": ("label", True),
        "message": ("text", False),
    },
    "heartbeat": {"component": ("label", True)},
}
assert set(_SPECS) == set(_BY_TAG)

# The checks for events read back from a journal: the value rules, without the storage rules
# added after events were first journaled (so an older journal still replays).
_STORED_CHECKS: Final[dict[str, Callable[[Any], Any]]] = {
    name: (_string_kind(name, stored=True) if name in _STRING_LIMITS else kind).check
    for name, kind in _KINDS.items()
}
_BOUNDARY_CHECKS: Final[dict[str, Callable[[Any], Any]]] = {
    name: kind.check for name, kind in _KINDS.items()
}


# --------------------------------------------------------------------------- slow path


@dataclass(frozen=True, slots=True)
class _Rules:
    # what one decode call enforces: the value checks, whether the storage rules on
    # unknown fields apply, and the latest acceptable ts (None: no limit)
    checks: Mapping[str, Callable[[Any], Any]]
    boundary: bool
    max_ts: int | None = None


_BOUNDARY: Final = _Rules(_BOUNDARY_CHECKS, boundary=True)
_STORED: Final = _Rules(_STORED_CHECKS, boundary=False)


def _rules(max_ts: int | None) -> _Rules:
    return _BOUNDARY if max_ts is None else _Rules(_BOUNDARY_CHECKS, True, max_ts)


def _field_errors(
    obj: Mapping[str, Any], default_ts: int | None, rules: _Rules
) -> tuple[Event | None, list[FieldError]]:
    raw_type = obj.get("type")
    if not isinstance(raw_type, str) or raw_type not in _SPECS:
        expected = ", ".join(repr(t) for t in _SPECS)
        shown = "missing" if raw_type is None else f"received {short_repr(raw_type)}"
        return None, [FieldError("type", f"must be one of {expected}; {shown}")]
    spec = _SPECS[raw_type]
    checks = rules.checks
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in obj.items():
        if key == "type":
            continue
        field = spec.get(key) or _COMMON.get(key)
        if field is None:
            extra[key] = value
            continue
        if value is None:
            continue
        try:
            values[key] = checks[field[0]](value)
        except ValueError as exc:
            errors.append(FieldError(f"{raw_type}.{key}", f"{exc}, received {short_repr(value)}"))
    if "ts" not in values and default_ts is not None and obj.get("ts") is None:
        values["ts"] = default_ts
    for key, (_kind, required) in (*_COMMON.items(), *spec.items()):
        if required and obj.get(key) is None and key not in values:
            errors.append(FieldError(f"{raw_type}.{key}", "is required"))
    errors.extend(_rule_errors(raw_type, obj.get("ts"), values, extra, rules))
    if errors:
        return None, errors
    if extra:
        values["extra"] = extra
    return _BY_TAG[raw_type](**values), []  # type: ignore[return-value]


def _rule_errors(
    raw_type: str, raw_ts: Any, values: dict[str, Any], extra: dict[str, Any], rules: _Rules
) -> list[FieldError]:
    # the rules beyond each field's own value: the time window and the unknown fields
    errors: list[FieldError] = []
    max_ts = rules.max_ts
    if max_ts is not None and values.get("ts", max_ts) > max_ts:
        msg = (
            f"must be at most {format_timestamp(max_ts)} (the receiver's clock plus the "
            f"future it allows), received {short_repr(raw_ts)}"
        )
        errors.append(FieldError(f"{raw_type}.ts", msg))
    if extra and rules.boundary:
        errors.extend(extra_errors(raw_type, extra))
    return errors


def event_from_mapping(
    obj: Any, *, default_ts: int | None = None, max_ts: int | None = None
) -> Event:
    """Return the event described by a decoded JSON object.

    Parameters
    ----------
    obj
        A mapping as decoded from JSON.
    default_ts
        UNIX nanoseconds to use when ``ts`` is absent (a service passes its receive
        time); ``None`` makes ``ts`` required.
    max_ts
        The latest acceptable ``ts`` in UNIX nanoseconds (a service passes its clock
        plus the future it allows); ``None`` accepts any ``ts`` in range.

    Raises
    ------
    InvalidEventError
        Listing every invalid field at once.
    """
    return _event_from_mapping(obj, default_ts, _rules(max_ts))


def _event_from_mapping(obj: Any, default_ts: int | None, rules: _Rules) -> Event:
    if not isinstance(obj, Mapping):
        raise InvalidEventError(
            [FieldError("event", f"must be a JSON object, received {short_repr(obj)}")]
        )
    event, errors = _field_errors(obj, default_ts, rules)
    if event is None:
        raise InvalidEventError(errors)
    return event


# --------------------------------------------------------------------------- fast path


def _wire_struct(tag: str) -> type[msgspec.Struct]:
    # Optional wire fields take the domain's default; where that default is not None the wire
    # field is not nullable, so an explicit null takes the validating path, which drops it.
    defaults = {f.name: f.default for f in msgspec.structs.fields(_BY_TAG[tag])}
    fields: list[tuple[str, Any, Any] | tuple[str, Any]] = []
    for name, (kind, required) in (*_COMMON.items(), *_SPECS[tag].items()):
        wire = _KINDS[kind].wire
        if required:
            fields.append((name, wire))
        elif defaults[name] is None:
            fields.append((name, wire | None, None))
        else:
            fields.append((name, wire, defaults[name]))
    return msgspec.defstruct(
        f"_Wire_{tag}",
        fields,
        tag=tag,
        tag_field="type",
        kw_only=True,
        forbid_unknown_fields=True,
        gc=False,
    )


_WIRE: Final[dict[str, type[msgspec.Struct]]] = {tag: _wire_struct(tag) for tag in _SPECS}
_WIRE_UNION: Final[Any] = functools.reduce(operator.or_, _WIRE.values())
_WIRE_DECODER: Final = msgspec.json.Decoder(type=_WIRE_UNION)
_WIRE_LIST_DECODER: Final = msgspec.json.Decoder(type=list[_WIRE_UNION])


_WIRE_TARGETS: Final[dict[type[msgspec.Struct], tuple[type[_EventBase], bool]]] = {
    wire: (_BY_TAG[tag], "exchange_ts" in wire.__struct_fields__) for tag, wire in _WIRE.items()
}


# per wire type, the string fields whose characters the decoder's constraints cannot check
_WIRE_STRINGS: Final[dict[type[msgspec.Struct], tuple[tuple[str, re.Pattern[str]], ...]]] = {
    wire: tuple(
        (name, forbidden)
        for name, (kind, _required) in (*_COMMON.items(), *_SPECS[tag].items())
        if (forbidden := _KINDS[kind].forbidden) is not None
    )
    for tag, wire in _WIRE.items()
}


def _suspect(data: bytes | str) -> bool:
    # JSON can carry a control character or a surrogate only as an escape (a backslash),
    # except DEL and the C1 controls, which may be raw (UTF-8 C2 80..C2 9F). Bodies without
    # any of these need no per-string scan: three memchr passes over the raw body.
    if isinstance(data, str):
        return "\\" in data or "\x7f" in data or not data.isascii()
    return b"\\" in data or b"\x7f" in data or b"\xc2" in data


def _wire_strings_ok(wire: msgspec.Struct) -> bool:
    for name, forbidden in _WIRE_STRINGS[type(wire)]:
        value = getattr(wire, name)
        if value is not None and forbidden.search(value) is not None:
            return False
    return True


def _from_wire(
    wire: msgspec.Struct, suspect: bool, max_ts: int | None, rules: _Rules
) -> Event | None:
    # The wire's ts is required, so an event without ts never gets here: the validating path
    # applies default_ts. None means "take the validating path", which reports the problem
    # (a bad timestamp, a forbidden character, a ts too far in the future).
    if suspect and rules.boundary and not _wire_strings_ok(wire):
        return None
    event: Event | None = _wire.from_wire(wire, _WIRE_TARGETS)
    if event is not None and max_ts is not None and event.ts > max_ts:
        return None
    return event


def decode_event(
    data: bytes | str, *, default_ts: int | None = None, max_ts: int | None = None
) -> Event:
    """Decode and validate one JSON-encoded event.

    Parameters
    ----------
    data
        One JSON object.
    default_ts
        UNIX nanoseconds to use when ``ts`` is absent; ``None`` makes ``ts`` required.
    max_ts
        The latest acceptable ``ts`` in UNIX nanoseconds; ``None`` accepts any ``ts``
        in range.

    Raises
    ------
    InvalidEventError
        When the JSON is malformed or any field is invalid (all fields are reported).

    Examples
    --------
    >>> decode_event('{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"feed"}')
    Heartbeat(ts=1735828200000000000, event_id=None, strategy='default', account='default', \
extra={}, component='feed')
    """
    return _decode_one(data, default_ts, _rules(max_ts))


def decode_stored(data: bytes | str) -> Event:
    """Decode an event as a journal stored it (:func:`encode_event`'s output).

    The value rules apply; the storage rules (characters, unknown fields) do not, so that a
    journal written before a rule existed still replays. Never use it on untrusted input.

    Raises
    ------
    InvalidEventError
        When the stored JSON is not an event.

    .. versionadded:: 0.1.0
    """
    return _decode_one(data, None, _STORED)


def _decode_one(data: bytes | str, default_ts: int | None, rules: _Rules) -> Event:
    try:
        wire = _WIRE_DECODER.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        pass
    else:
        event = _from_wire(wire, rules.boundary and _suspect(data), rules.max_ts, rules)
        if event is not None:
            return event
    return _event_from_mapping(_decode_json(data), default_ts, rules)


def _decode_json(data: bytes | str) -> Any:
    # The validating path parses with the standard library on purpose: it turns 1e999 and the
    # NaN/Infinity literals into floats, so the validator can name the offending field.
    try:
        return json.loads(data)
    except RecursionError:
        raise InvalidEventError([FieldError("body", "is nested too deeply")]) from None
    except UnicodeDecodeError as exc:
        msg = f"is not valid UTF-8: {exc.reason} at byte {exc.start}"
        raise InvalidEventError([FieldError("body", msg)]) from None
    except ValueError as exc:
        raise InvalidEventError([FieldError("body", f"is not valid JSON: {exc}")]) from None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The outcome of decoding a batch: valid events in order, and every error.

    Attributes
    ----------
    events
        The valid events, in input order.
    errors
        One :class:`~algowatch.errors.InvalidEventError` per invalid record, with
        ``index`` (0-based position among records) and, for NDJSON, ``line`` (1-based).
    """

    events: list[Event]
    errors: list[InvalidEventError]

    @property
    def ok(self) -> bool:
        """Return whether every record was valid."""
        return not self.errors


def decode_batch(
    data: bytes | str, *, default_ts: int | None = None, max_ts: int | None = None
) -> BatchResult:
    """Decode a JSON array of events or NDJSON (one event per line).

    A body whose first non-blank character is ``[`` is a JSON array; anything
    else is NDJSON, where blank lines are skipped. Invalid records do not stop
    the decoding: each is reported in :attr:`BatchResult.errors`. ``default_ts``
    and ``max_ts`` are as for :func:`decode_event`.
    """
    raw = data.encode() if isinstance(data, str) else data
    rules = _rules(max_ts)
    suspect = _suspect(raw)
    stripped = raw.lstrip()
    if stripped[:1] == b"[":
        return _decode_array(stripped, default_ts, rules, suspect)
    fast = _decode_ndjson_fast(raw, rules, suspect)
    if fast is not None:
        return BatchResult(fast, [])
    events: list[Event] = []
    errors: list[InvalidEventError] = []
    for index, (line_no, line) in enumerate(_ndjson_lines(raw)):
        try:
            events.append(_decode_one(line, default_ts, rules))
        except InvalidEventError as exc:
            errors.append(_located(exc, index, line_no))
    return BatchResult(events, errors)


def _decode_ndjson_fast(raw: bytes, rules: _Rules, suspect: bool) -> list[Event] | None:
    # All lines valid and in canonical shape: one C-level decode of the lines joined as an
    # array. Anything else returns None and the caller takes the per-line path.
    lines = [line for line in raw.split(b"\n") if line]
    try:
        wires = _WIRE_LIST_DECODER.decode(b"[" + b",".join(lines) + b"]")
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    events: list[Event] = []
    max_ts = rules.max_ts
    for wire in wires:
        event = _from_wire(wire, suspect, max_ts, rules)
        if event is None:
            return None
        events.append(event)
    return events


def _ndjson_lines(raw: bytes) -> Iterator[tuple[int, bytes]]:
    for line_no, line in enumerate(raw.split(b"\n"), start=1):
        if line.strip():
            yield line_no, line


def _located(exc: InvalidEventError, index: int, line: int | None) -> InvalidEventError:
    return InvalidEventError(exc.errors, index=index, line=line)


def _decode_array(raw: bytes, default_ts: int | None, rules: _Rules, suspect: bool) -> BatchResult:
    try:
        wires = _WIRE_LIST_DECODER.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        wires = None
    events: list[Event] = []
    errors: list[InvalidEventError] = []
    if wires is not None:
        for index, wire in enumerate(wires):
            event = _from_wire(wire, suspect, rules.max_ts, rules)
            if event is None:
                try:
                    event = _event_from_mapping(
                        json.loads(msgspec.json.encode(wire)), default_ts, rules
                    )
                except InvalidEventError as exc:
                    errors.append(_located(exc, index, None))
                    continue
            events.append(event)
        return BatchResult(events, errors)
    items = _decode_json(raw)
    if not isinstance(items, list):  # pragma: no cover - a body starting with '[' decodes to a list
        raise InvalidEventError([FieldError("body", "must be a JSON array or NDJSON")])
    for index, item in enumerate(items):
        try:
            events.append(_event_from_mapping(item, default_ts, rules))
        except InvalidEventError as exc:
            errors.append(_located(exc, index, None))
    return BatchResult(events, errors)


# --------------------------------------------------------------------------- encoding


def event_to_dict(event: Event) -> dict[str, Any]:
    """Return the JSON-ready form of ``event``: ``type`` first, timestamps as RFC 3339.

    Fields left at their defaults are omitted; ``extra`` fields appear at top level.
    """
    return _wire.event_to_dict(event)


_ENCODER: Final = msgspec.json.Encoder()


def encode_event(event: Event) -> bytes:
    """Return ``event`` as compact JSON; :func:`decode_event` gives it back unchanged.

    Examples
    --------
    >>> e = decode_event('{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"feed"}')
    >>> encode_event(e)
    b'{"type":"heartbeat","ts":"2025-01-02T14:30:00.000000000Z","component":"feed"}'
    >>> decode_event(encode_event(e)) == e
    True
    """
    return _ENCODER.encode(_wire.event_to_dict(event))


def encode_events(events: Iterable[Event]) -> bytes:
    """Return ``events`` as NDJSON, one line per event, newline-terminated."""
    return b"".join(encode_event(e) + b"\n" for e in events)
