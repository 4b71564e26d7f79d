"""Helpers for testing code that uses algowatch, and for algowatch's own tests.

- :class:`FakeClock`: a settable :class:`~algowatch.clock.Clock`.
- :class:`EventFactory`: builds valid events with sensible defaults, a running
  clock and unique ids, so a test states only what matters to it.
- :func:`event_strategy`: a Hypothesis strategy for valid events of every type.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import itertools
from typing import Any

from algowatch import events as ev
from algowatch.errors import MissingDependencyError
from algowatch.events import parse_timestamp

__all__ = ["EventFactory", "FakeClock", "event_strategy"]

_NS = 1_000_000_000


class FakeClock:
    """A clock that moves only when told to.

    Examples
    --------
    >>> clock = FakeClock("2025-01-02T14:30:00Z")
    >>> clock.advance(1.5)
    >>> clock.time_ns() - parse_timestamp("2025-01-02T14:30:00Z")
    1500000000
    """

    def __init__(self, start: str | int = "2025-01-02T14:30:00Z") -> None:
        self._now = parse_timestamp(start) if isinstance(start, str) else start
        self._mono = 0

    def time_ns(self) -> int:
        """Return the current fake UNIX time in nanoseconds."""
        return self._now

    def monotonic_ns(self) -> int:
        """Return the fake monotonic reading in nanoseconds."""
        return self._mono

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds``."""
        step = round(seconds * _NS)
        self._now += step
        self._mono += step

    def set(self, when: str | int) -> None:
        """Jump the wall clock to ``when`` (the monotonic clock moves by the same amount)."""
        target = parse_timestamp(when) if isinstance(when, str) else when
        self._mono += max(0, target - self._now)
        self._now = target


class EventFactory:
    """Build valid events; every method returns a typed event.

    Each event gets ``ts`` from the factory's clock (advanced by ``step_seconds``
    per event unless ``ts`` is passed) and a unique ``event_id``.

    Examples
    --------
    >>> f = EventFactory()
    >>> f.submitted("o1", "AAPL", "buy", 10).side
    'buy'
    >>> f.filled("o1", 10, 101.0).price
    101.0
    """

    def __init__(
        self,
        clock: FakeClock | None = None,
        *,
        step_seconds: float = 0.001,
        strategy: str = "default",
        account: str = "default",
    ) -> None:
        self.clock = clock or FakeClock()
        self.step_seconds = step_seconds
        self.strategy = strategy
        self.account = account
        self._ids = itertools.count(1)

    def _common(self, kw: dict[str, Any]) -> dict[str, Any]:
        ts = kw.pop("ts", None)
        if ts is None:
            self.clock.advance(self.step_seconds)
            ts = self.clock.time_ns()
        elif isinstance(ts, str):
            ts = parse_timestamp(ts)
        base: dict[str, Any] = {
            "ts": ts,
            "event_id": f"evt-{next(self._ids)}",
            "strategy": self.strategy,
            "account": self.account,
        }
        base.update(kw)
        return base

    def submitted(
        self, order_id: str, symbol: str, side: ev.Side, quantity: float, **kw: Any
    ) -> ev.OrderSubmitted:
        """Return an ``order_submitted`` (market order unless ``order_type`` is given)."""
        kw.setdefault("order_type", "market")
        return ev.OrderSubmitted(
            order_id=order_id, symbol=symbol, side=side, quantity=quantity, **self._common(kw)
        )

    def acknowledged(self, order_id: str, **kw: Any) -> ev.OrderAcknowledged:
        """Return an ``order_acknowledged``."""
        return ev.OrderAcknowledged(order_id=order_id, **self._common(kw))

    def filled(
        self, order_id: str, quantity: float, price: float, *, fill_id: str | None = None, **kw: Any
    ) -> ev.OrderFilled:
        """Return an ``order_filled`` with a generated ``fill_id`` unless given."""
        common = self._common(kw)
        return ev.OrderFilled(
            order_id=order_id,
            fill_id=fill_id or f"fill-{common['event_id']}",
            quantity=quantity,
            price=price,
            **common,
        )

    def rejected(self, order_id: str, reason: str = "rejected", **kw: Any) -> ev.OrderRejected:
        """Return an ``order_rejected``."""
        return ev.OrderRejected(order_id=order_id, reason=reason, **self._common(kw))

    def canceled(self, order_id: str, **kw: Any) -> ev.OrderCanceled:
        """Return an ``order_canceled``."""
        return ev.OrderCanceled(order_id=order_id, **self._common(kw))

    def signal(self, signal_id: str, symbol: str, direction: ev.Direction, **kw: Any) -> ev.Signal:
        """Return a ``signal``."""
        return ev.Signal(
            signal_id=signal_id, symbol=symbol, direction=direction, **self._common(kw)
        )

    def outcome(
        self, signal_id: str, actual_direction: ev.Direction, **kw: Any
    ) -> ev.SignalOutcome:
        """Return a ``signal_outcome``."""
        return ev.SignalOutcome(
            signal_id=signal_id, actual_direction=actual_direction, **self._common(kw)
        )

    def mark(self, symbol: str, price: float, **kw: Any) -> ev.Mark:
        """Return a ``mark``."""
        return ev.Mark(symbol=symbol, price=price, **self._common(kw))

    def account_snapshot(self, equity: float, **kw: Any) -> ev.Account:
        """Return an ``account`` event."""
        return ev.Account(equity=equity, **self._common(kw))

    def error(self, error_type: str, component: str, **kw: Any) -> ev.Error:
        """Return an ``error`` event."""
        return ev.Error(error_type=error_type, component=component, **self._common(kw))

    def heartbeat(self, component: str = "engine", **kw: Any) -> ev.Heartbeat:
        """Return a ``heartbeat``."""
        return ev.Heartbeat(component=component, **self._common(kw))


def event_strategy() -> Any:
    """Return a Hypothesis strategy producing valid events of every type.

    Needs the ``hypothesis`` package (a test dependency).

    Raises
    ------
    MissingDependencyError
        If Hypothesis is not installed.
    """
    try:
        from hypothesis import strategies as st  # noqa: PLC0415 - optional test dependency
    except ImportError as exc:  # pragma: no cover - hypothesis is a test dependency
        msg = "algowatch.testing.event_strategy needs hypothesis: pip install hypothesis"
        raise MissingDependencyError(msg) from exc

    ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
    labels = st.sampled_from(["default", "mean_rev", "momentum"])
    positive = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)
    finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
    ts = st.integers(min_value=0, max_value=4_102_444_800 * _NS)
    # free text: any character a journal can store (no NUL; Hypothesis never draws surrogates)
    text = st.text(alphabet=st.characters(exclude_characters="\x00"), max_size=20)
    extra = st.dictionaries(
        st.sampled_from(["venue", "note", "tags"]),
        st.one_of(
            st.integers(-5, 5),
            st.text(st.characters(exclude_characters="\x00"), max_size=5),
            st.booleans(),
        ),
        max_size=2,
    )

    def common() -> dict[str, Any]:
        return {
            "ts": ts,
            "event_id": st.none() | ids,
            "strategy": labels,
            "account": labels,
            "extra": extra,
        }

    return st.one_of(
        st.builds(
            ev.OrderSubmitted,
            order_id=ids,
            symbol=st.sampled_from(["AAPL", "MSFT", "BTC-USD"]),
            side=st.sampled_from(["buy", "sell"]),
            quantity=positive,
            order_type=st.sampled_from(ev.ORDER_TYPES),
            limit_price=st.none() | positive,
            decision_price=st.none() | positive,
            arrival_price=st.none() | positive,
            signal_id=st.none() | ids,
            **common(),
        ),
        st.builds(ev.OrderAcknowledged, order_id=ids, broker_order_id=st.none() | ids, **common()),
        st.builds(
            ev.OrderFilled,
            order_id=ids,
            fill_id=ids,
            quantity=positive,
            price=positive,
            fee=finite,
            vwap=st.none() | positive,
            liquidity=st.none() | st.sampled_from(["maker", "taker"]),
            **common(),
        ),
        st.builds(ev.OrderRejected, order_id=ids, reason=text, **common()),
        st.builds(ev.OrderCanceled, order_id=ids, reason=st.none() | text, **common()),
        st.builds(
            ev.Signal,
            signal_id=ids,
            symbol=st.sampled_from(["AAPL", "MSFT"]),
            direction=st.sampled_from(["long", "short", "flat"]),
            confidence=st.none() | st.floats(0.0, 1.0),
            generation_seconds=st.none() | st.floats(0.0, 10.0),
            **common(),
        ),
        st.builds(
            ev.SignalOutcome,
            signal_id=ids,
            actual_direction=st.sampled_from(["long", "short", "flat"]),
            pnl=st.none() | finite,
            bars_to_profit=st.none() | st.integers(0, 1000),
            bars_held=st.none() | st.integers(0, 1000),
            **common(),
        ),
        st.builds(
            ev.Mark,
            symbol=st.sampled_from(["AAPL", "MSFT"]),
            price=positive,
            bid=st.none() | positive,
            ask=st.none() | positive,
            exchange_ts=st.none() | ts,
            **common(),
        ),
        st.builds(
            ev.Account,
            equity=finite,
            cash=st.none() | finite,
            buying_power=st.none() | finite,
            **common(),
        ),
        st.builds(
            ev.Error,
            error_type=ids,
            component=ids,
            message=st.none() | text,
            **common(),
        ),
        st.builds(ev.Heartbeat, component=ids, **common()),
    )
