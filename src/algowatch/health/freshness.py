"""Freshness checks over what the engine last saw: marks, heartbeats and orders.

They read a ``last_seen()`` provider (``Monitor.last_seen``, returning
:class:`algowatch.monitor.LastSeen`) and compare ages, measured on the injected
clock, with ``max_age_seconds``. The provider is called on the event loop and must
not block (the monitor's is an in-memory copy).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from algowatch.clock import Clock
from algowatch.errors import ConfigError
from algowatch.events import format_timestamp
from algowatch.health._base import Check, CheckStatus, Outcome

__all__ = [
    "BrokerHeartbeatCheck",
    "HeartbeatCheck",
    "LastSeenLike",
    "MarketDataCheck",
    "OrderFlowCheck",
    "TradingHours",
]

_NS = 1_000_000_000
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class LastSeenLike(Protocol):
    """What the freshness checks read (``algowatch.monitor.LastSeen`` satisfies it)."""

    @property
    def marks(self) -> Mapping[str, int]:
        """Return UNIX ns of the last mark per symbol."""
        ...

    @property
    def heartbeats(self) -> Mapping[str, int]:
        """Return UNIX ns of the last heartbeat per component."""
        ...

    @property
    def last_order_ts(self) -> int | None:
        """Return UNIX ns of the last order event, if any."""
        ...


LastSeenProvider = Callable[[], LastSeenLike]


def _seconds(ns: int) -> float:
    return max(0, ns) / _NS


def _freshness(
    what: str,
    seen: Mapping[str, int],
    watched: tuple[str, ...],
    now_ns: int,
    max_age_seconds: float,
) -> Outcome:
    # Every watched key (all seen keys when none are named) is fresh or stale; the
    # check is connected when all are fresh, disconnected when all are stale and
    # degraded in between. Its age is the stalest key's.
    keys = watched or tuple(sorted(seen))
    if not keys:
        return Outcome("unknown", error=f"no {what} seen yet")
    ages: dict[str, float | None] = {}
    stale: list[str] = []
    for key in keys:
        ts = seen.get(key)
        age = None if ts is None else _seconds(now_ns - ts)
        ages[key] = age
        if age is None or age > max_age_seconds:
            stale.append(key)
    known = [a for a in ages.values() if a is not None]
    oldest = None if len(known) < len(ages) else max(known)
    details: dict[str, Any] = {"max_age_seconds": max_age_seconds, "ages_seconds": ages}
    if not stale:
        return Outcome("connected", age_seconds=oldest, details=details)
    parts = [
        f"{key} never seen" if ages[key] is None else f"{key} {ages[key]:.1f} s old"
        for key in stale
    ]
    error = f"stale {what} (older than {max_age_seconds:g} s): " + ", ".join(parts)
    status: CheckStatus = "disconnected" if len(stale) == len(keys) else "degraded"
    return Outcome(status, error=error, age_seconds=oldest, details=details)


def _split(target: str | None) -> tuple[str, ...]:
    if not target:
        return ()
    return tuple(part.strip() for part in target.split(",") if part.strip())


class MarketDataCheck(Check):
    """Age of the last mark per symbol against ``max_age_seconds``.

    Watches the symbols named in ``symbols`` (a symbol never seen counts as stale),
    or every symbol seen so far. All fresh: ``connected``; some stale: ``degraded``;
    all stale: ``disconnected``; nothing seen and nothing named: ``unknown``.

    .. versionadded:: 0.1.0
    """

    kind = "market_data"

    def __init__(
        self,
        name: str,
        last_seen: LastSeenProvider,
        clock: Clock,
        *,
        max_age_seconds: float = 30.0,
        symbols: Iterable[str] | str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name, **options)
        self._last_seen = last_seen
        self._clock = clock
        self.max_age_seconds = max_age_seconds
        self.symbols = _split(symbols) if isinstance(symbols, str | None) else tuple(symbols)

    async def probe(self) -> Outcome:
        """Compare each watched symbol's last mark with the clock."""
        marks = self._last_seen().marks
        return _freshness("marks", marks, self.symbols, self._clock.time_ns(), self.max_age_seconds)


class HeartbeatCheck(Check):
    """Age of the last ``heartbeat`` event per component against ``max_age_seconds``.

    Watches the named components (comma separated) or every component seen so far,
    with the same statuses as :class:`MarketDataCheck`.

    .. versionadded:: 0.1.0
    """

    kind = "heartbeat"

    def __init__(
        self,
        name: str,
        last_seen: LastSeenProvider,
        clock: Clock,
        *,
        max_age_seconds: float = 30.0,
        components: Iterable[str] | str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name, **options)
        self._last_seen = last_seen
        self._clock = clock
        self.max_age_seconds = max_age_seconds
        self.components = (
            _split(components) if isinstance(components, str | None) else tuple(components)
        )

    async def probe(self) -> Outcome:
        """Compare each watched component's last heartbeat with the clock."""
        beats = self._last_seen().heartbeats
        return _freshness(
            "heartbeats", beats, self.components, self._clock.time_ns(), self.max_age_seconds
        )


class BrokerHeartbeatCheck(HeartbeatCheck):
    """A :class:`HeartbeatCheck` that stands for a broker connection.

    It probes like a heartbeat check (the components default to the check's name;
    ``unknown`` until the first of them is seen) but counts as a broker:
    ``trading_broker_up{broker=<name>}`` is exported for it and the risk guard's
    ``broker_down`` limit reads it. Use it where the bot relays the broker's
    liveness as ``heartbeat`` events (the demo does).

    .. versionadded:: 0.2.0
    """

    kind = "broker_heartbeat"

    async def probe(self) -> Outcome:
        """As :meth:`HeartbeatCheck.probe`, but ``unknown`` until a broker heartbeat is seen.

        A broker that has not reported yet (a start) is not known to be down, so the
        risk guard does not stop entries for it; ``trading_broker_up`` is 0 meanwhile.
        """
        beats = self._last_seen().heartbeats
        if self.components and not any(c in beats for c in self.components):
            return Outcome("unknown", error="no broker heartbeat seen yet")
        return await super().probe()


class TradingHours:
    """Trading sessions: a daily time window on some weekdays, in a time zone.

    Parameters
    ----------
    hours
        ``"HH:MM-HH:MM"``; an end at or before the start crosses midnight (the
        session belongs to the day it opens). ``None`` means all day.
    days
        Weekdays as ranges and lists, ``"mon-fri"``, ``"sun-thu"``, ``"mon,wed,fri"``;
        ``None`` means every day.
    timezone
        An IANA zone name, such as ``"America/New_York"``.
    field
        The configuration key named in errors.

    Raises
    ------
    ConfigError
        If a value cannot be parsed; the message names the key.

    Examples
    --------
    >>> from algowatch.events import parse_timestamp
    >>> nyse = TradingHours("09:30-16:00", "mon-fri", "America/New_York")
    >>> nyse.session_open(parse_timestamp("2025-01-02T15:00:00Z")) is not None  # 10:00 EST
    True
    >>> nyse.session_open(parse_timestamp("2025-01-04T15:00:00Z")) is None  # a Saturday
    True
    >>> TradingHours("9:30 to 16:00", None, "UTC")
    Traceback (most recent call last):
    ...
    algowatch.errors.ConfigError: trading_hours must be 'HH:MM-HH:MM' such as '09:30-16:00', \
received '9:30 to 16:00'

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        hours: str | None,
        days: str | None,
        timezone: str = "UTC",
        *,
        field: str = "",
    ) -> None:
        prefix = f"{field}." if field else ""
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"{prefix}timezone must be an IANA time zone such as 'America/New_York', "
            msg += f"received {timezone!r}"
            raise ConfigError(msg) from None
        self.start: time | None
        self.end: time | None
        self.start, self.end = self._parse_hours(hours, f"{prefix}trading_hours")
        self.days = self._parse_days(days, f"{prefix}trading_days")

    @staticmethod
    def _parse_hours(hours: str | None, key: str) -> tuple[time, time] | tuple[None, None]:
        if hours is None:
            return None, None
        match = _HOURS_RE.match(hours)
        values = [int(g) for g in match.groups()] if match else []
        if not match or values[0] > 23 or values[2] > 23 or values[1] > 59 or values[3] > 59:
            msg = f"{key} must be 'HH:MM-HH:MM' such as '09:30-16:00', received {hours!r}"
            raise ConfigError(msg)
        return time(values[0], values[1]), time(values[2], values[3])

    @staticmethod
    def _parse_days(days: str | None, key: str) -> frozenset[int]:
        if days is None:
            return frozenset(range(7))
        chosen: set[int] = set()
        for part in days.lower().replace(" ", "").split(","):
            first, _, last = part.partition("-")
            if first not in _DAYS or (last and last not in _DAYS):
                msg = f"{key} must list weekdays such as 'mon-fri' or 'mon,wed,fri', "
                msg += f"received {days!r}"
                raise ConfigError(msg)
            lo = _DAYS.index(first)
            hi = _DAYS.index(last) if last else lo
            span = (hi - lo) % 7
            chosen.update((lo + i) % 7 for i in range(span + 1))
        return frozenset(chosen)

    def session_open(self, now_ns: int) -> int | None:
        """Return UNIX ns of the open of the session in progress at ``now_ns``, else None."""
        now = datetime.fromtimestamp(now_ns / _NS, tz=UTC).astimezone(self.zone)
        if self.start is None or self.end is None:
            if now.weekday() not in self.days:
                return None
            opened = datetime.combine(now.date(), time(0), tzinfo=self.zone)
            return int(opened.timestamp()) * _NS
        for day in (now.date(), now.date() - timedelta(days=1)):
            span = self._session(day)
            if span is not None and span[0] <= now < span[1]:
                return int(span[0].timestamp()) * _NS
        return None

    def _session(self, day: date) -> tuple[datetime, datetime] | None:
        assert self.start is not None
        assert self.end is not None
        if day.weekday() not in self.days:
            return None
        opened = datetime.combine(day, self.start, tzinfo=self.zone)
        closes_on = day if self.end > self.start else day + timedelta(days=1)
        return opened, datetime.combine(closes_on, self.end, tzinfo=self.zone)


class OrderFlowCheck(Check):
    """Alive but not trading: no order for longer than ``max_age_seconds`` in a session.

    Inside a trading session the quiet time is measured from the later of the last
    order and the session's open (so yesterday's last order does not page at the
    open), or, when no order was ever seen, from the later of the open and the
    check's creation (so a fresh start does not page at once). Quiet longer than
    ``max_age_seconds`` is
    ``disconnected``; outside sessions the check is ``connected``. ``age_seconds``
    is the time since the last order (``None`` when none was seen).

    .. versionadded:: 0.1.0
    """

    kind = "order_flow"

    def __init__(
        self,
        name: str,
        last_seen: LastSeenProvider,
        clock: Clock,
        *,
        max_age_seconds: float = 900.0,
        hours: TradingHours | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name, **options)
        self._last_seen = last_seen
        self._clock = clock
        self.max_age_seconds = max_age_seconds
        self.hours = hours or TradingHours(None, None)
        self._created_ns = clock.time_ns()

    async def probe(self) -> Outcome:
        """Measure the quiet time in the current session."""
        now = self._clock.time_ns()
        last = self._last_seen().last_order_ts
        age = None if last is None else _seconds(now - last)
        opened = self.hours.session_open(now)
        details: dict[str, Any] = {
            "in_trading_hours": opened is not None,
            "max_age_seconds": self.max_age_seconds,
            "last_order": None if last is None else format_timestamp(last),
        }
        if opened is None:
            return Outcome("connected", age_seconds=age, details=details)
        since = max(opened, self._created_ns if last is None else last)
        quiet = _seconds(now - since)
        details["quiet_seconds"] = quiet
        if quiet <= self.max_age_seconds:
            return Outcome("connected", age_seconds=age, details=details)
        last_text = "no order seen" if last is None else f"last order {age:.1f} s ago"
        error = (
            f"no orders for {quiet:.1f} s during trading hours "
            f"(threshold {self.max_age_seconds:g} s; {last_text})"
        )
        return Outcome("disconnected", error=error, age_seconds=age, details=details)
