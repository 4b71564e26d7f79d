"""Trading sessions: the calendar that decides what "today" means.

A session starts every day at ``session_start`` (``"HH:MM"``) local time in
``session_timezone`` (an IANA name, via :mod:`zoneinfo`) and ends when the next
one starts, so daylight-saving days are 23 or 25 hours long.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from algowatch.errors import ConfigError

__all__ = ["SessionCalendar"]

_NS = 1_000_000_000
_FAR_FUTURE = 2**100  # beyond any RFC 3339 time (year 9999 is about 2**68 ns)


class SessionCalendar:
    """Map event times to sessions.

    Parameters
    ----------
    timezone
        IANA time zone name, e.g. ``"America/New_York"``.
    start
        Local start time of each session, ``"HH:MM"``.

    Raises
    ------
    ConfigError
        If the time zone is unknown or ``start`` is not ``HH:MM``.

    Examples
    --------
    >>> from algowatch.events import parse_timestamp, format_timestamp
    >>> cal = SessionCalendar("America/New_York", "09:30")
    >>> start, end = cal.bounds(parse_timestamp("2025-01-02T15:00:00Z"))
    >>> format_timestamp(start), format_timestamp(end)
    ('2025-01-02T14:30:00.000000000Z', '2025-01-03T14:30:00.000000000Z')
    >>> SessionCalendar("UTC", "25:00")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    algowatch.errors.ConfigError: monitor.session_start must be 'HH:MM' ..., received '25:00'
    """

    def __init__(self, timezone: str = "UTC", start: str = "00:00") -> None:
        try:
            self._zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"monitor.session_timezone must be an IANA time zone name, received {timezone!r}"
            raise ConfigError(msg) from None
        try:
            hour_text, minute_text = start.split(":")
            self._start = time(int(hour_text), int(minute_text))
        except ValueError:
            msg = f"monitor.session_start must be 'HH:MM' (00:00 to 23:59), received {start!r}"
            raise ConfigError(msg) from None

    def _start_of(self, day: date) -> int:
        local = datetime.combine(day, self._start, tzinfo=self._zone)
        return int(local.timestamp()) * _NS

    def bounds(self, ts_ns: int) -> tuple[int, int]:
        """Return ``(start, end)`` in UNIX nanoseconds of the session holding ``ts_ns``.

        A time outside the calendar's range (before year 2 or after year 9998)
        gets an open-ended session ``(ts_ns, 2**100)`` instead of an error.
        """
        try:
            day = datetime.fromtimestamp(ts_ns // _NS, tz=self._zone).date()
            start = self._start_of(day)
            if start > ts_ns:
                day -= timedelta(days=1)
                start = self._start_of(day)
            end = self._start_of(day + timedelta(days=1))
        except (OverflowError, ValueError, OSError):
            return ts_ns, _FAR_FUTURE
        return start, end

    def label(self, ts_ns: int) -> str:
        """Return the session's local start date (``YYYY-MM-DD``) for ``ts_ns``."""
        start, _ = self.bounds(ts_ns)
        return datetime.fromtimestamp(start // _NS, tz=self._zone).date().isoformat()
