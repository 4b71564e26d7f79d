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
_minutes: Final[dict[str, int]] = {}
_SECOND_CACHE_SIZE: Final = 8192
# "YYYY-MM-DDTHH:MM:SS" -> UNIX nanoseconds; consecutive events share their seconds
_seconds: Final[dict[str, int]] = {}


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


class _LastSecond:
    # The second of the last timestamp parsed on a fast path: consecutive timestamps of a
    # stream mostly share it, so most need no slice, no hash and no dict lookup. One tuple,
    # replaced whole: threads parsing at once never see one second's prefix with another's
    # nanoseconds.
    __slots__ = ("second",)

    def __init__(self) -> None:
        # ("YYYY-MM-DDTHH:MM:SS" validated, its UNIX nanoseconds); "" matches nothing below
        self.second: tuple[str, int] = ("", 0)


_last: Final = _LastSecond()


def _nine_digits(text: str) -> int:
    # text[20:29] as an int if all nine are ASCII digits, else -1 (ord(s[i]) compiles inline)
    value = 0
    for i in range(20, 29):
        digit = ord(text[i]) - 48
        if digit < 0 or digit > 9:
            return -1
        value = value * 10 + digit
    return value


def parse_timestamp(text: str) -> int:  # noqa: PLR0912 - the hot path in one frame
    """Return UNIX nanoseconds for an RFC 3339 timestamp (:func:`algowatch.events.parse_timestamp`).

    Raises
    ------
    ValueError
        If ``text`` is not an RFC 3339 date-time with a time zone, or is outside the
        signed 64-bit nanosecond range (years 1677 to 2262).
    """
    # Fastest path, a stream's own shape "YYYY-MM-DDTHH:MM:SS.fffffffffZ" in the second of
    # the previous timestamp, or in a second seen before (its first 19 characters already
    # validated): a prefix comparison or one dict lookup, and the digits.
    size = len(text)
    if size == 30 and ord(text[29]) == 90 and ord(text[19]) == 46:  # "Z", "."
        prefix, base = _last.second
        if prefix and text.startswith(prefix):
            nanos = _nine_digits(text)
            if nanos >= 0:
                return _in_range(base + nanos)
        elif text.isascii():
            prefix = text[:19]
            cached = _seconds.get(prefix)
            if cached is not None:
                nanos = _nine_digits(text)
                if nanos >= 0:
                    _last.second = (prefix, cached)
                    return _in_range(cached + nanos)
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
            _last.second = (text[:19], base)
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
# UNIX day -> "YYYY-MM-DDT", and the clock's parts: a second not seen yet costs lookups, not a
# date's isoformat and a formatted string (a backtest's bars are each a new second)
_days: dict[int, str] = {}
_CLOCK_MINUTES: Final = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_CLOCK_SECONDS: Final = tuple(f"{s:02d}." for s in range(60))


def format_timestamp(ts_ns: int) -> str:
    """Return ``ts_ns`` as RFC 3339 UTC with nine fractional digits."""
    seconds, nanos = divmod(ts_ns, _NS)
    prefix = _prefixes.get(seconds)
    if prefix is None:
        days, rem = divmod(seconds, 86400)
        day = _days.get(days)
        if day is None:
            day = date.fromordinal(days + _UNIX_EPOCH_ORDINAL).isoformat() + "T"
            if len(_days) >= _PREFIX_CACHE_SIZE:
                _days.clear()
            _days[days] = day
        minute, second = divmod(rem, 60)
        prefix = day + _CLOCK_MINUTES[minute] + _CLOCK_SECONDS[second]
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
