"""The SDK's call-site check: an event is validated where the caller creates it.

:func:`check_event` judges an event by the event contract (its decoder's typed structs, then
its validating path, which also holds the storage rules: no NUL, lone surrogate or control
character where the journals cannot store one) and adds what only an SDK can get wrong:
integer timestamps in another unit or outside int64 nanoseconds.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, get_args

import msgspec

from algowatch import events as ev
from algowatch.errors import FieldError, InvalidEventError

__all__ = ["check_event"]

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


def check_event(event: Any) -> ev.Event:
    """Return ``event`` validated by the event contract (normalised as the service would).

    The helpers and ``emit`` call this where the caller is, so a bad argument raises
    there instead of poisoning a batch later. The contract judges the event: first its
    decoder's own typed structs (its constraints, checked in one C call), and when
    they refuse it, its validating path (:func:`algowatch.events.event_from_mapping`),
    which normalises or names every invalid field (strings that cannot be stored
    included). On top of it the SDK checks what only an SDK can get wrong: integer
    timestamps in another unit or outside int64 nanoseconds.

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
    errors = _timestamp_errors(event, tag)
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
    # One struct per event type with the field types of the contract (the constraints its
    # decoder applies in C, from events.event_fields), timestamps as int nanoseconds instead
    # of text. Read straight from an event's attributes, it checks a canonical event in one
    # call.
    checked = {}
    for tag in ev.event_types():
        fields = []
        for field in ev.event_fields(tag):
            kind = field.type
            if field.kind == "timestamp":
                kind = _TS_TYPE if field.required else _TS_TYPE | None
            fields.append((field.name, kind))
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
    # Printable text cannot break a storage rule (NUL, lone surrogates and control
    # characters are not printable); anything else goes to the contract's validating path.
    text = "".join([value for value in msgspec.structs.astuple(event) if type(value) is str])
    return text.isprintable()


def _timestamp_errors(event: ev.Event, tag: str) -> list[FieldError]:
    errors = []
    for name in ("ts", "exchange_ts"):
        value = getattr(event, name, None)
        if value is None and name == "exchange_ts":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not _TS_MIN <= value <= _TS_MAX:
            errors.append(FieldError(f"{tag}.{name}", f"{_TS_EXPECTED}, received {value!r}"))
    return errors


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
