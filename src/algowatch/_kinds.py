"""The kinds of value of the event contract: one definition per kind, every rule derived.

A kind (an identifier, a positive number, a side...) is declared once, here: its msgspec
type with its ``Meta`` constraints. From it follow the three views of the same rule:

- the type the JSON decoder checks in C (the fast path of :mod:`algowatch._codec`);
- the strict validator of the validating path, which normalises (``"BUY"`` -> ``"buy"``)
  and names the expectation when a value breaks the rule;
- the JSON Schema of the value (the OpenAPI schema of ``POST /api/v1/events``).

The event classes of :mod:`algowatch._event_types` annotate each field with its kind.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal, TypeAlias, get_args, get_origin

import msgspec

from algowatch._storage import LABEL_FORBIDDEN, TEXT_FORBIDDEN, string
from algowatch._storage import MAX_TEXT as _MAX_TEXT
from algowatch._time import parse_timestamp

__all__ = [
    "KINDS",
    "MAX_MAGNITUDE",
    "ORDER_TYPES",
    "Count",
    "Direction",
    "DirectionField",
    "Finite",
    "Id",
    "Kind",
    "KindName",
    "Label",
    "Liquidity",
    "LiquidityField",
    "NonNegative",
    "OrderType",
    "OrderTypeField",
    "Positive",
    "Side",
    "SideField",
    "Symbol",
    "Text",
    "Unit",
    "kind_of",
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


@dataclass(frozen=True, slots=True)
class KindName:
    """The mark of a field's kind in its annotation (``Annotated[str, ..., KindName("id")]``)."""

    name: str


_M = msgspec.Meta
# The kinds, declared once: the type, its constraints (checked by the decoder in C) and the
# kind's name, which selects the validator and the schema below. Event fields use these.
Id: TypeAlias = Annotated[str, _M(min_length=1, max_length=_MAX_ID), KindName("id")]
Label: TypeAlias = Annotated[str, _M(min_length=1, max_length=_MAX_LABEL), KindName("label")]
Symbol: TypeAlias = Annotated[str, _M(min_length=1, max_length=_MAX_SYMBOL), KindName("symbol")]
Text: TypeAlias = Annotated[str, _M(max_length=_MAX_TEXT), KindName("text")]
Positive: TypeAlias = Annotated[float, _M(gt=0.0, le=MAX_MAGNITUDE), KindName("positive")]
NonNegative: TypeAlias = Annotated[float, _M(ge=0.0, le=MAX_MAGNITUDE), KindName("nonnegative")]
Finite: TypeAlias = Annotated[float, _M(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE), KindName("finite")]
Unit: TypeAlias = Annotated[float, _M(ge=0.0, le=1.0), KindName("unit")]
Count: TypeAlias = Annotated[int, _M(ge=0, le=_MAX_COUNT), KindName("count")]
SideField: TypeAlias = Annotated[Side, KindName("side")]
DirectionField: TypeAlias = Annotated[Direction, KindName("direction")]
LiquidityField: TypeAlias = Annotated[Liquidity, KindName("liquidity")]
OrderTypeField: TypeAlias = Annotated[OrderType, KindName("order_type")]


@dataclass(frozen=True, slots=True, eq=False)
class Kind:
    """A kind of value: its name, its decoder type and the rules derived from it.

    Attributes
    ----------
    name
        The kind's name (``"id"``, ``"positive"``...).
    type
        The msgspec type the JSON decoder checks, constraints included.
    check
        The validating path's validator: returns the normalised value or raises
        ``ValueError`` stating the expectation.
    stored_check
        The validator for events read back from a journal: the value rules without the
        storage rules added after events were first journaled.
    forbidden
        The characters a string of this kind may not hold, which the decoder's
        constraints cannot express (the fast path searches for them).
    schema
        The JSON Schema of a value of this kind.
    """

    name: str
    type: Any
    check: Callable[[Any], Any]
    stored_check: Callable[[Any], Any]
    forbidden: re.Pattern[str] | None = None
    schema: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- validators


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


# --------------------------------------------------------------------------- the kinds


def kind_of(annotation: Any) -> str | None:
    """Return the kind's name an annotation carries (``Id | None`` -> ``"id"``), else None."""
    for member in get_args(annotation) if get_origin(annotation) is not Annotated else ():
        name = kind_of(member)
        if name is not None:
            return name
    for item in getattr(annotation, "__metadata__", ()):
        if isinstance(item, KindName):
            return item.name
    return None


def _meta(alias: Any) -> msgspec.Meta:
    metas = [m for m in alias.__metadata__ if isinstance(m, msgspec.Meta)]
    return metas[0] if metas else msgspec.Meta()


def _name(alias: Any) -> str:
    name = kind_of(alias)
    assert name is not None
    return name


def _decoder_type(alias: Any) -> Any:
    # the alias without its kind name: what the decoder checks
    metas = tuple(m for m in alias.__metadata__ if isinstance(m, msgspec.Meta))
    return Annotated[(alias.__origin__, *metas)] if metas else alias.__origin__


def _string_kind(alias: Any, forbidden: re.Pattern[str], pattern: str) -> Kind:
    meta = _meta(alias)
    low = meta.min_length or 0
    high = meta.max_length
    assert high is not None

    def check(value: Any) -> str:
        return string(value, max_length=high, min_length=low, forbidden=forbidden)

    def stored_check(value: Any) -> str:
        return string(value, max_length=high, min_length=low, forbidden=None)

    kind_type = _decoder_type(alias)
    schema = {**msgspec.json.schema(kind_type), "pattern": pattern}
    return Kind(_name(alias), kind_type, check, stored_check, forbidden, schema)


def _number_kind(alias: Any) -> Kind:
    meta = _meta(alias)
    low_open = meta.gt is not None
    low = float(meta.gt if meta.gt is not None else meta.ge)  # type: ignore[arg-type]
    high = float(meta.le)  # type: ignore[arg-type]

    def check(value: Any) -> float:
        return _number(value, low=low, high=high, low_open=low_open)

    kind_type = _decoder_type(alias)
    return Kind(_name(alias), kind_type, check, check, schema=msgspec.json.schema(kind_type))


def _plain_kind(alias: Any, check: Callable[[Any], Any]) -> Kind:
    kind_type = _decoder_type(alias)
    return Kind(_name(alias), kind_type, check, check, schema=msgspec.json.schema(kind_type))


# JSON Schema patterns of the storage rules (LABEL_FORBIDDEN, TEXT_FORBIDDEN) that a
# generated client can check; lone surrogates cannot be written in a valid UTF-8 body
_LABEL_PATTERN: Final = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
_TEXT_PATTERN: Final = "^[^\\u0000]*$"

KINDS: Final[dict[str, Kind]] = {
    kind.name: kind
    for kind in (
        _string_kind(Id, LABEL_FORBIDDEN, _LABEL_PATTERN),
        _string_kind(Label, LABEL_FORBIDDEN, _LABEL_PATTERN),
        _string_kind(Symbol, LABEL_FORBIDDEN, _LABEL_PATTERN),
        _string_kind(Text, TEXT_FORBIDDEN, _TEXT_PATTERN),
        _number_kind(Positive),
        _number_kind(NonNegative),
        _number_kind(Finite),
        _number_kind(Unit),
        _plain_kind(Count, _count),
        _plain_kind(SideField, _choice(get_args(Side))),
        _plain_kind(DirectionField, _choice(get_args(Direction))),
        _plain_kind(LiquidityField, _choice(get_args(Liquidity))),
        _plain_kind(OrderTypeField, _choice(ORDER_TYPES)),
        # RFC 3339 text on the wire (events hold UNIX nanoseconds): the decoder reads text
        Kind(
            "timestamp",
            str,
            _timestamp,
            _timestamp,
            schema={"type": "string", "format": "date-time"},
        ),
    )
}
"""Every kind of value of the contract, by name."""
