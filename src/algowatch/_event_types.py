"""The event vocabulary: the msgspec event structs and the table of their fields.

Each field of the contract has a kind (an identifier, a positive number, a side...); a kind
carries the strict validator of the validating path and the msgspec type of the fast path.
The table of every event type and its required fields is drawn in :mod:`algowatch.events`,
the public facade; :mod:`algowatch._codec` decodes and encodes these structs.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, TypeAlias, get_args

import msgspec

from algowatch._storage import LABEL_FORBIDDEN, TEXT_FORBIDDEN, string
from algowatch._storage import MAX_TEXT as _MAX_TEXT
from algowatch._time import parse_timestamp

__all__ = [
    "MAX_MAGNITUDE",
    "ORDER_TYPES",
    "Account",
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
    "event_types",
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
