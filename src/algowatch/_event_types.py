"""The event vocabulary, declared once: the msgspec event structs, each field with its kind.

Each field of an event class is annotated with a kind of :mod:`algowatch._kinds` (an
identifier, a positive number, a side...), which carries its constraints. Everything else is
derived from these classes: the field table of the validating path (``_SPECS``), the
JSON decoder of the fast path (which decodes straight into these classes), the OpenAPI
schema of ``POST /api/v1/events`` and :func:`event_fields`. The table of every event type
and its required fields is drawn in :mod:`algowatch.events`, the public facade;
:mod:`algowatch._codec` decodes and encodes these structs.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, TypeAlias, get_args

import msgspec

from algowatch._kinds import (
    KINDS,
    MAX_MAGNITUDE,
    ORDER_TYPES,
    Count,
    Direction,
    DirectionField,
    Finite,
    Id,
    KindName,
    Label,
    Liquidity,
    LiquidityField,
    NonNegative,
    OrderType,
    OrderTypeField,
    Positive,
    Side,
    SideField,
    Symbol,
    Text,
    Unit,
    kind_of,
)

__all__ = [
    "MAX_MAGNITUDE",
    "ORDER_TYPES",
    "Account",
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
    "event_fields",
    "event_types",
]

if TYPE_CHECKING:
    Timestamp: TypeAlias = int
    _Extra: TypeAlias = dict[str, Any]
else:
    # The JSON decoder reads an event straight into its class (no second object): a
    # timestamp arrives as RFC 3339 text, which the codec turns into UNIX nanoseconds before
    # the event leaves it (an int here takes the validating path, which rejects it).
    # Unknown fields are never decoded by name: "extra" in a body is an unknown field like
    # any other, so the decoder refuses it and the validating path keeps it in ``extra``.
    Timestamp = Annotated[int | str, KindName("timestamp")]

    class _Extra:
        """A type no JSON value decodes into: ``extra`` is never read from a body by name."""


# gc=False: events are immutable JSON-like data that can never be part of a reference
# cycle, so the cyclic GC need not track them; a replay holds millions of them.
# forbid_unknown_fields: the decoder refuses what is not the contract's; the validating
# path then keeps unknown fields in ``extra`` (or names what is wrong).
class _EventBase(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    tag_field="type",
    omit_defaults=True,
    gc=False,
    forbid_unknown_fields=True,
):
    ts: Timestamp
    event_id: Id | None = None
    strategy: Label = "default"
    account: Label = "default"
    extra: _Extra = {}


class OrderSubmitted(_EventBase, frozen=True, kw_only=True, tag="order_submitted"):
    """An order left the trading system for the broker."""

    order_id: Id
    symbol: Symbol
    side: SideField
    quantity: Positive
    order_type: OrderTypeField
    limit_price: Positive | None = None
    decision_price: Positive | None = None
    arrival_price: Positive | None = None
    signal_id: Id | None = None


class OrderAcknowledged(_EventBase, frozen=True, kw_only=True, tag="order_acknowledged"):
    """The broker accepted the order."""

    order_id: Id
    broker_order_id: Id | None = None


class OrderFilled(_EventBase, frozen=True, kw_only=True, tag="order_filled"):
    """A fill (partial or complete) of an order; ``fee`` is in account currency."""

    order_id: Id
    fill_id: Id
    quantity: Positive
    price: Positive
    fee: Finite = 0.0
    vwap: Positive | None = None
    liquidity: LiquidityField | None = None


class OrderRejected(_EventBase, frozen=True, kw_only=True, tag="order_rejected"):
    """The broker or a risk check rejected the order."""

    order_id: Id
    reason: Text


class OrderCanceled(_EventBase, frozen=True, kw_only=True, tag="order_canceled"):
    """The order was canceled; any unfilled quantity is gone."""

    order_id: Id
    reason: Text | None = None


class Signal(_EventBase, frozen=True, kw_only=True, tag="signal"):
    """A strategy emitted a trading signal."""

    signal_id: Id
    symbol: Symbol
    direction: DirectionField
    confidence: Unit | None = None
    generation_seconds: NonNegative | None = None


class SignalOutcome(_EventBase, frozen=True, kw_only=True, tag="signal_outcome"):
    """What happened after a signal: the realised direction and optional P&L."""

    signal_id: Id
    actual_direction: DirectionField
    pnl: Finite | None = None
    bars_to_profit: Count | None = None
    bars_held: Count | None = None


class Mark(_EventBase, frozen=True, kw_only=True, tag="mark"):
    """A mark price for a symbol; ``exchange_ts`` in UNIX nanoseconds when known."""

    symbol: Symbol
    price: Positive
    bid: Positive | None = None
    ask: Positive | None = None
    exchange_ts: Timestamp | None = None


class Account(_EventBase, frozen=True, kw_only=True, tag="account"):
    """An account snapshot reported by the broker."""

    equity: Finite
    cash: Finite | None = None
    buying_power: Finite | None = None


class Error(_EventBase, frozen=True, kw_only=True, tag="error"):
    """An error inside the trading system."""

    error_type: Label
    component: Label
    message: Text | None = None


class Heartbeat(_EventBase, frozen=True, kw_only=True, tag="heartbeat"):
    """A liveness signal from a component of the trading system."""

    component: Label


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


@dataclass(frozen=True, slots=True)
class EventField:
    """One field of an event type, as the contract declares it.

    Attributes
    ----------
    name
        The field's name in JSON and on the event.
    kind
        The kind of value (``"id"``, ``"positive"``, ``"timestamp"``...).
    required
        Whether an event must carry it (``ts`` may be given by a receiving service).
    default
        The value of an absent optional field (``None`` for a required one).
    type
        The msgspec type the JSON decoder checks, constraints included: timestamps
        as RFC 3339 text; an optional field whose default is ``None`` accepts ``null``.
    schema
        The JSON Schema of a present value.

    .. versionadded:: 0.2.0
    """

    name: str
    kind: str
    required: bool
    default: Any
    type: Any
    schema: dict[str, Any]


def _fields_of(cls: type[_EventBase]) -> tuple[EventField, ...]:
    fields = []
    for info in msgspec.structs.fields(cls):
        if info.name == "extra":
            continue
        kind_name = kind_of(info.type)
        assert kind_name is not None, f"{cls.__name__}.{info.name} has no kind"
        kind = KINDS[kind_name]
        default = None if info.required else info.default
        nullable = not info.required and default is None
        fields.append(
            EventField(
                info.name,
                kind_name,
                info.required,
                default,
                kind.type | None if nullable else kind.type,
                kind.schema,
            )
        )
    return tuple(fields)


_FIELDS: Final[dict[str, tuple[EventField, ...]]] = {
    tag: _fields_of(cls) for tag, cls in _BY_TAG.items()
}


def event_fields(event_type: str) -> tuple[EventField, ...]:
    """Return the fields of ``event_type``: the common ones first, then its own.

    Raises
    ------
    KeyError
        If ``event_type`` is not a ``type`` of the contract.

    Examples
    --------
    >>> [(f.name, f.kind, f.required) for f in event_fields("heartbeat")]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('ts', 'timestamp', True), ('event_id', 'id', False), ('strategy', 'label', False),
     ('account', 'label', False), ('component', 'label', True)]

    .. versionadded:: 0.2.0
    """
    return _FIELDS[event_type]


# The validating path's tables, derived from the classes: field -> (kind, required)
_COMMON: Final[dict[str, tuple[str, bool]]] = {
    f.name: (f.kind, f.required)
    for f in _FIELDS["heartbeat"]
    if f.name in _EventBase.__struct_fields__
}
_SPECS: Final[dict[str, dict[str, tuple[str, bool]]]] = {
    tag: {f.name: (f.kind, f.required) for f in fields if f.name not in _COMMON}
    for tag, fields in _FIELDS.items()
}
# The checks for events read back from a journal: the value rules, without the storage rules
# added after events were first journaled (so an older journal still replays).
_STORED_CHECKS: Final[dict[str, Callable[[Any], Any]]] = {
    name: kind.stored_check for name, kind in KINDS.items()
}
_BOUNDARY_CHECKS: Final[dict[str, Callable[[Any], Any]]] = {
    name: kind.check for name, kind in KINDS.items()
}
