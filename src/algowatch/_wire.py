"""The codec's fast path: RFC 3339 timestamps, wire structs to events, events to dicts.

Compiled with mypyc with the engine (:mod:`algowatch._native`); the sources are the
reference and run unchanged where no compiled build exists. The public entry
points are in :mod:`algowatch.events`.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Final

import msgspec

__all__ = [
    "TS_EXPECTED",
    "TS_MAX",
    "TS_MIN",
    "TS_RANGE",
    "event_to_dict",
    "format_timestamp",
    "parse_timestamp",
    "settle",
]

TS_EXPECTED: Final = "must be an RFC 3339 timestamp such as '2025-01-02T14:30:00.123456789Z'"
# Timestamps are stored as signed 64-bit nanoseconds (SQLite INTEGER, PostgreSQL BIGINT).
TS_MIN: Final = -(2**63)
TS_MAX: Final = 2**63 - 1
TS_RANGE: Final = (
    "must be within the 64-bit nanosecond range "
    "1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z"
)

_TS_RE: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_MINUTE_RE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})", re.ASCII)
_SHORT_BOUND: Final = 4_000_000_000_000_000_000
_UNIX_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_NS: Final = 1_000_000_000
_MINUTE_CACHE_SIZE: Final = 8192
_force_setattr: Final = msgspec.structs.force_setattr
# "YYYY-MM-DDTHH:MM" -> UNIX seconds; consecutive events share their minutes
_minutes: dict[str, int] = {}
_SECOND_CACHE_SIZE: Final = 8192
# "YYYY-MM-DDTHH:MM:SS" -> UNIX nanoseconds; consecutive events share their seconds
_seconds: dict[str, int] = {}


def _minute_seconds(prefix: str) -> int:
    cached = _minutes.get(prefix)
    if cached is not None:
        return cached
    match = _MINUTE_RE.fullmatch(prefix)
    if match is None:
        raise ValueError(TS_EXPECTED)
    year, month, day, hour, minute = (int(g) for g in match.groups())
    try:
        ordinal = date(year, month, day).toordinal()
    except ValueError:
        msg = "has an impossible calendar date"
        raise ValueError(msg) from None
    if hour > 23 or minute > 59:
        msg = "has an impossible time of day"
        raise ValueError(msg)
    seconds = (ordinal - _UNIX_EPOCH_ORDINAL) * 86400 + hour * 3600 + minute * 60
    if len(_minutes) >= _MINUTE_CACHE_SIZE:
        _minutes.clear()
    _minutes[prefix] = seconds
    return seconds


def parse_timestamp(text: str) -> int:
    """Return UNIX nanoseconds for an RFC 3339 timestamp (:func:`algowatch.events.parse_timestamp`).

    Raises
    ------
    ValueError
        If ``text`` is not an RFC 3339 date-time with a time zone, or is outside the
        signed 64-bit nanosecond range (years 1677 to 2262).
    """
    # Fastest path, a stream's own shape "YYYY-MM-DDTHH:MM:SS.fffffffffZ" in a second seen
    # before (its first 19 characters already validated): one dict lookup and the digits.
    size = len(text)
    if size == 30 and text[29] == "Z" and text[19] == "." and text.isascii():
        base = _seconds.get(text[:19])
        if base is not None:
            frac = text[20:29]
            if frac.isdigit():
                return _in_range(base + int(frac))
    # Fast path, the common shape "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z", all ASCII digits checked.
    if 20 <= size <= 30 and text[16] == ":" and text[-1] in "Zz" and text.isascii():
        second = text[17:19]
        frac = text[20:-1]
        if (
            second.isdigit()
            and (size == 20 or (text[19] == "." and 1 <= len(frac) <= 9 and frac.isdigit()))
            and int(second) <= 59
        ):
            base = (_minute_seconds(text[:16]) + int(second)) * _NS
            if len(_seconds) >= _SECOND_CACHE_SIZE:
                _seconds.clear()
            _seconds[text[:19]] = base
            nanos = int(frac.ljust(9, "0")) if frac else 0
            return _in_range(base + nanos)
    match = _TS_RE.fullmatch(text)
    if match is None:
        raise ValueError(TS_EXPECTED)
    seconds = _minute_seconds(text[:16])
    s = int(text[17:19])
    if s > 59:
        msg = "has an impossible time of day"
        raise ValueError(msg)
    seconds += s
    frac_group: str | None = match.group(7)
    sign: str | None = match.group(9)
    if sign is not None:
        oh, om = int(match.group(10)), int(match.group(11))
        if oh > 23 or om > 59:
            msg = "has an impossible UTC offset"
            raise ValueError(msg)
        offset = oh * 3600 + om * 60
        seconds -= offset if sign == "+" else -offset
    nanos = int(frac_group.ljust(9, "0")) if frac_group else 0
    return _in_range(seconds * _NS + nanos)


def _in_range(ts_ns: int) -> int:
    # Bounds well inside int64 first: a compiled build compares them as machine words (the
    # int64 limits themselves do not fit its short integers and take the slow path).
    if -_SHORT_BOUND < ts_ns < _SHORT_BOUND or TS_MIN <= ts_ns <= TS_MAX:
        return ts_ns
    raise ValueError(TS_RANGE)


def settle(events: list[Any], with_exchange_ts: frozenset[type], max_ts: int | None) -> list[int]:
    """Turn freshly decoded events' RFC 3339 text into UNIX nanoseconds, in place.

    The JSON decoder reads an event straight into its class, timestamps as text; this
    finishes the events before anyone sees them. Return the positions of the events that
    need the validating path (a timestamp that is not RFC 3339 text or is out of range, a
    ``ts`` later than ``max_ts``): those are left as decoded. ``with_exchange_ts`` holds the
    event classes that have an ``exchange_ts`` field.
    """
    failed: list[int] = []
    index = -1
    for event in events:
        index += 1
        text = event.ts
        if type(text) is not str:
            failed.append(index)
            continue
        raw = event.exchange_ts if type(event) in with_exchange_ts else None
        if raw is not None and type(raw) is not str:
            failed.append(index)
            continue
        try:
            ts = parse_timestamp(text)
            exchange_ts = None if raw is None else parse_timestamp(raw)
        except ValueError:
            failed.append(index)
            continue
        if max_ts is not None and ts > max_ts:
            failed.append(index)
            continue
        _force_setattr(event, "ts", ts)
        if exchange_ts is not None:
            _force_setattr(event, "exchange_ts", exchange_ts)
    return failed


_PREFIX_CACHE_SIZE: Final = 4096
# UNIX second -> "YYYY-MM-DDTHH:MM:SS."; a stream shares its seconds
_prefixes: dict[int, str] = {}


def format_timestamp(ts_ns: int) -> str:
    """Return ``ts_ns`` as RFC 3339 UTC with nine fractional digits."""
    seconds, nanos = divmod(ts_ns, _NS)
    prefix = _prefixes.get(seconds)
    if prefix is None:
        days, rem = divmod(seconds, 86400)
        day = date.fromordinal(days + _UNIX_EPOCH_ORDINAL)
        hour, rem = divmod(rem, 3600)
        minute, second = divmod(rem, 60)
        prefix = f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}."
        if len(_prefixes) >= _PREFIX_CACHE_SIZE:
            _prefixes.clear()
        _prefixes[seconds] = prefix
    digits = str(nanos)  # zero-padded by hand: a format spec is a slow str.format call
    return prefix + "000000000"[len(digits) :] + digits + "Z"


# event type -> (tag, field names)
_layouts: dict[type, tuple[str, tuple[str, ...]]] = {}


def event_to_dict(event: Any) -> dict[str, Any]:
    """Return the JSON-ready form of ``event`` (see :func:`algowatch.events.event_to_dict`)."""
    kind = type(event)
    layout = _layouts.get(kind)
    if layout is None:
        layout = _layouts[kind] = (str(kind.__struct_config__.tag), kind.__struct_fields__)
    tag, names = layout
    out: dict[str, Any] = {"type": tag}
    for name in names:
        if name == "extra":
            continue
        value = getattr(event, name)
        if value is None:
            continue
        if name in {"strategy", "account"}:
            if value == "default":
                continue
        elif name == "fee":
            if value == 0.0:
                continue
        elif name in {"ts", "exchange_ts"}:
            value = format_timestamp(value)
        out[name] = value
    extra: dict[str, Any] = event.extra
    for key, item in extra.items():
        out.setdefault(key, item)
    return out
