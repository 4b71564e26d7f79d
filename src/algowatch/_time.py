"""RFC 3339 timestamps of the event contract: parsing to and formatting from UNIX nanoseconds.

The public entry points are in :mod:`algowatch.events`; the work is done by the fast
path (:mod:`algowatch._wire`, compiled where a build exists).

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from algowatch import _wire

__all__ = ["format_timestamp", "parse_timestamp"]


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
