"""The simulated trading system: market, strategies and broker on one simulated clock.

:class:`Simulation` is the core loop. It owns no I/O: every event it produces
goes to a *sink* (any ``Callable[[Event], None]``), in timestamp order. In the
demo the sink is the SDK client (:class:`algowatch.client.Client`), exactly as
a user's bot would send events; in tests it is a list's ``append`` or a
:class:`~algowatch.monitor.Monitor`'s ``apply``.

Time is simulated: :meth:`Simulation.advance_to` produces everything that
happens up to a timestamp, so a caller may run it faster than real time
(:class:`~algowatch.sim.runner.SimulationRunner`) or as fast as possible
(tests). For a seed and a start time the events are identical on every run.

The strategies obey the risk guard through ``risk_level`` (a callable returning
``"ok"``, ``"warn"``, ``"stop_entries"`` or ``"flatten"``): at ``stop_entries``
only orders that reduce a position are sent; at ``flatten`` every position is
closed (each closing order under the strategy that holds the position) and nothing
is opened.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from algowatch import events as ev
from algowatch.sim.broker import BrokerConditions, PaperBroker
from algowatch.sim.market import Quote, SyntheticMarket, per_bar_drift
from algowatch.sim.scenarios import Scenario, get_scenario
from algowatch.sim.strategies import MeanReversion, MovingAverageCrossover, Strategy

__all__ = ["DEFAULT_PRICES", "Simulation", "Sink"]

Sink = Callable[[ev.Event], None]

_NS = 1_000_000_000
DEFAULT_PRICES: Mapping[str, float] = {
    "SPY": 500.0,
    "AAPL": 190.0,
    "NVDA": 120.0,
    "MSFT": 410.0,
    "AMZN": 180.0,
}
_CORE = "core"
_CORE_SYMBOL = "SPY"
_HISTORY = 200
_OUTCOME_BARS = 20
_HEARTBEAT_EVERY = 5
_ACCOUNT_EVERY = 10
_POSITION_FRACTION = 0.08


@dataclass(slots=True)
class _Order:
    strategy: str
    symbol: str
    side: ev.Side
    quantity: float
    filled: float = 0.0


@dataclass(slots=True)
class _PendingOutcome:
    signal_id: str
    strategy: str
    symbol: str
    direction: ev.Direction
    price: float
    quantity: float
    due_bar: int
    path: list[float] = field(default_factory=list)


class Simulation:
    """A seeded, deterministic trading system that emits algowatch events.

    Parameters
    ----------
    scenario
        A :class:`~algowatch.sim.scenarios.Scenario` or its name.
    seed
        Seed of the one ``numpy.random.default_rng`` every random draw comes from.
    start_ns
        Simulated UNIX time of bar 0, in nanoseconds.
    sink
        Receives every event, in timestamp order.
    risk_level
        Returns the risk guard's level; the strategies obey it.
    bar_seconds
        Simulated seconds between bars.
    starting_capital
        Cash at the start, in account currency.
    prices
        Starting price of each symbol traded (``SPY`` is the core book's).
    account
        The ``account`` label of every event (one per bot in a fleet).

        .. versionadded:: 0.2.0

    Examples
    --------
    >>> out = []
    >>> sim = Simulation("normal", seed=1, start_ns=1_700_000_000 * 10**9, sink=out.append)
    >>> sim.run_bars(60) == len(out)
    True
    >>> sorted({type(e).__name__ for e in out})[:3]
    ['Account', 'Heartbeat', 'Mark']
    """

    def __init__(
        self,
        scenario: Scenario | str = "normal",
        *,
        seed: int = 0,
        start_ns: int,
        sink: Sink,
        risk_level: Callable[[], str] | None = None,
        bar_seconds: float = 1.0,
        starting_capital: float = 100_000.0,
        prices: Mapping[str, float] = DEFAULT_PRICES,
        account: str = "default",
    ) -> None:
        self.scenario = get_scenario(scenario) if isinstance(scenario, str) else scenario
        self.seed = seed
        self.sink = sink
        self.risk_level = risk_level or (lambda: "ok")
        self.starting_capital = starting_capital
        self.account = account
        self._bar_ns = round(bar_seconds * _NS)
        self._start_ns = start_ns
        self._now_ns = start_ns
        self._run = f"{seed}.{start_ns // _NS:x}"
        rng = np.random.default_rng(seed)
        self._rng = rng
        self.market = SyntheticMarket(prices, rng)
        self.broker = PaperBroker(rng)
        symbols = [s for s in prices if s != _CORE_SYMBOL]
        half = len(symbols) // 2
        self.strategies: tuple[Strategy, ...] = (
            MovingAverageCrossover("momentum", tuple(symbols[:half])),
            MeanReversion("mean_reversion", tuple(symbols[half:])),
        )
        # each symbol is traded by one strategy (the core book holds SPY)
        self._owner: dict[str, str] = {_CORE_SYMBOL: _CORE} | {
            sym: strategy.name for strategy in self.strategies for sym in strategy.symbols
        }
        self.bar = 0
        self.cash = starting_capital
        self.positions: dict[str, float] = dict.fromkeys(prices, 0.0)
        self.marks: dict[str, Quote] = self.market.quotes()
        self._history: dict[str, deque[float]] = {s: deque(maxlen=_HISTORY) for s in prices}
        self._holding: dict[str, ev.Direction] = dict.fromkeys(prices, "flat")
        self._orders: dict[str, _Order] = {}
        self._open_by_symbol: dict[str, str] = {}
        self._outcomes: list[_PendingOutcome] = []
        self._core_target = 0.0
        self._core_signal: str | None = None
        self._queue: list[tuple[int, int, ev.Event]] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self.emitted = 0

    # ------------------------------------------------------------------ clock

    @property
    def now_ns(self) -> int:
        """Return the simulated time reached so far."""
        return self._now_ns

    def equity(self) -> float:
        """Return cash plus positions at the last published mid prices."""
        return self.cash + sum(q * self.marks[s].mid for s, q in self.positions.items())

    def advance_to(self, ts_ns: int) -> int:
        """Produce every event up to and including ``ts_ns``; return how many."""
        before = self.emitted
        while True:
            next_bar = self._start_ns + (self.bar + 1) * self._bar_ns
            next_due = self._queue[0][0] if self._queue else math.inf
            if min(next_bar, next_due) > ts_ns:
                break
            if next_due <= next_bar:
                _, _, event = heapq.heappop(self._queue)
                self._now_ns = event.ts
                self._deliver(event)
            else:
                self._now_ns = next_bar
                self._on_bar(next_bar)
        self._now_ns = max(self._now_ns, ts_ns)
        return self.emitted - before

    def run_bars(self, bars: int) -> int:
        """Advance ``bars`` bars of simulated time; return how many events were produced."""
        return self.advance_to(self._start_ns + (self.bar + bars) * self._bar_ns)

    # ------------------------------------------------------------------ internals

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}-{self._run}-{next(self._ids)}"

    def _meta(self, ts: int, strategy: str = "default") -> dict[str, Any]:
        return {
            "ts": ts,
            "event_id": self._next_id("e"),
            "strategy": strategy,
            "account": self.account,
        }

    def _schedule(self, event: ev.Event) -> None:
        heapq.heappush(self._queue, (event.ts, next(self._seq), event))

    def _emit(self, event: ev.Event) -> None:
        self.emitted += 1
        self.sink(event)

    def _deliver(self, event: ev.Event) -> None:
        # An event reaching its due time: update our books, then publish it.
        if isinstance(event, ev.OrderSubmitted):
            self._emit(event)
            answers = self.broker.submit(event, self.marks[event.symbol], self._conditions())
            for _, answer in answers:
                self._schedule(answer)
            return
        if isinstance(event, ev.OrderFilled):
            order = self._orders[event.order_id]
            sign = 1.0 if order.side == "buy" else -1.0
            self.positions[order.symbol] += sign * event.quantity
            self.cash -= sign * event.quantity * event.price + event.fee
            order.filled += event.quantity
            if order.filled >= order.quantity:
                self._close_order(event.order_id)
        elif isinstance(event, ev.OrderRejected | ev.OrderCanceled):
            self._close_order(event.order_id)
        self._emit(event)

    def _close_order(self, order_id: str) -> None:
        order = self._orders.pop(order_id)
        self._open_by_symbol.pop(order.symbol, None)

    def _conditions(self) -> BrokerConditions:
        s = self.scenario
        bar = self.bar
        return BrokerConditions(
            outage=s.outage is not None and s.outage.contains(bar),
            latency_multiple=(
                s.latency_multiple
                if s.latency_spike is not None and s.latency_spike.contains(bar)
                else 1.0
            ),
            reject_probability=(
                s.reject_probability
                if s.reject_storm is not None and s.reject_storm.contains(bar)
                else None
            ),
        )

    def _on_bar(self, ts: int) -> None:
        self.bar += 1
        bar, s = self.bar, self.scenario
        drift = 0.0
        if s.crash is not None and s.crash.contains(bar):
            drift = per_bar_drift(s.crash_return, s.crash.length)
        quotes = self.market.step(extra_drift=drift)
        stale = s.stale_data is not None and s.stale_data.contains(bar)
        if not stale:
            self._publish_marks(ts, quotes)
        self._publish_status(ts, outage=s.outage is not None and s.outage.contains(bar))
        self._settle_outcomes(ts)
        if not stale:
            self._trade(ts)

    def _publish_marks(self, ts: int, quotes: dict[str, Quote]) -> None:
        self.marks = quotes
        latency_ns = 2_000_000 + int(self._rng.integers(0, 3_000_000))
        for sym, q in quotes.items():
            self._emit(
                ev.Mark(
                    symbol=sym,
                    price=round(q.mid, 4),
                    bid=round(q.bid, 4),
                    ask=round(q.ask, 4),
                    exchange_ts=ts - latency_ns,
                    **self._meta(ts),
                )
            )
            self._history[sym].append(q.mid)

    def _publish_status(self, ts: int, *, outage: bool) -> None:
        bar = self.bar
        if bar % _HEARTBEAT_EVERY == 0:
            self._emit(ev.Heartbeat(component="engine", **self._meta(ts)))
            if not outage:
                self._emit(ev.Heartbeat(component="broker", **self._meta(ts)))
        if outage and bar % 10 == 0:
            self._emit(
                ev.Error(
                    error_type="connection_error",
                    component="broker",
                    message="broker connection lost; reconnecting",
                    **self._meta(ts),
                )
            )
        if bar % _ACCOUNT_EVERY == 0:
            self._emit(
                ev.Account(
                    equity=round(self.equity(), 2), cash=round(self.cash, 2), **self._meta(ts)
                )
            )

    def _trade(self, ts: int) -> None:
        level = self.risk_level()
        if level == "flatten":
            self._core_target = 0.0
            for sym, qty in self.positions.items():
                if qty != 0 and sym not in self._open_by_symbol:
                    # booked to the strategy that holds the position, so that its
                    # exposure closes with the book's
                    self._order(ts, self._owner[sym], sym, -qty, None)
            return
        entries = level != "stop_entries"
        if self.bar == 1 and self.scenario.core_fraction > 0 and entries:
            self._decide(
                ts,
                _CORE,
                _CORE_SYMBOL,
                direction="long",
                confidence=1.0,
                fraction=self.scenario.core_fraction,
            )
            self._core_target = self.positions[_CORE_SYMBOL] + (
                self._orders[self._open_by_symbol[_CORE_SYMBOL]].quantity
                if _CORE_SYMBOL in self._open_by_symbol
                else 0.0
            )
        held = self.positions[_CORE_SYMBOL]
        if entries and _CORE_SYMBOL not in self._open_by_symbol and held < 0.95 * self._core_target:
            # the core book tops up what a canceled remainder left unfilled
            self._order(ts, _CORE, _CORE_SYMBOL, self._core_target - held, self._core_signal)
        for strategy in self.strategies:
            for sym in strategy.symbols:
                decision = strategy.decide(self._history[sym], self._holding[sym])
                if decision is not None:
                    self._decide(
                        ts,
                        strategy.name,
                        sym,
                        direction=decision.direction,
                        confidence=decision.confidence,
                        fraction=_POSITION_FRACTION,
                        entries=entries,
                    )

    def _decide(
        self,
        ts: int,
        strategy: str,
        symbol: str,
        *,
        direction: ev.Direction,
        confidence: float,
        fraction: float,
        entries: bool = True,
    ) -> None:
        generation = float(self._rng.uniform(0.0005, 0.004))
        signal_ts = ts + round(generation * _NS)
        signal_id = self._next_id(f"s-{strategy}")
        if strategy == _CORE:
            self._core_signal = signal_id
        self._schedule(
            ev.Signal(
                signal_id=signal_id,
                symbol=symbol,
                direction=direction,
                confidence=confidence,
                generation_seconds=round(generation, 6),
                **self._meta(signal_ts, strategy),
            )
        )
        self._holding[symbol] = direction
        mid = self.marks[symbol].mid
        size = round(self.starting_capital * fraction / mid)
        target = {"long": size, "short": -size, "flat": 0}[direction]
        if direction != "flat":
            self._outcomes.append(
                _PendingOutcome(
                    signal_id, strategy, symbol, direction, mid, size, self.bar + _OUTCOME_BARS
                )
            )
        if symbol in self._open_by_symbol:
            return
        current = self.positions[symbol]
        delta = target - current
        if delta == 0:
            return
        if not entries and (abs(target) > abs(current) or target * current < 0):
            # stop_entries: only reduce what is held, never open or flip
            delta = -current
            if delta == 0:
                return
        self._order(signal_ts + 100_000, strategy, symbol, delta, signal_id)

    def _order(
        self, ts: int, strategy: str, symbol: str, delta: float, signal_id: str | None
    ) -> None:
        side: ev.Side = "buy" if delta > 0 else "sell"
        order_id = self._next_id("o")
        mid = self.marks[symbol].mid
        self._orders[order_id] = _Order(strategy, symbol, side, abs(delta))
        self._open_by_symbol[symbol] = order_id
        self._schedule(
            ev.OrderSubmitted(
                order_id=order_id,
                symbol=symbol,
                side=side,
                quantity=abs(delta),
                order_type="market",
                decision_price=round(mid, 4),
                arrival_price=round(mid, 4),
                signal_id=signal_id,
                **self._meta(ts, strategy),
            )
        )

    def _settle_outcomes(self, ts: int) -> None:
        keep: list[_PendingOutcome] = []
        for pending in self._outcomes:
            mid = self.marks[pending.symbol].mid
            pending.path.append(mid)
            if self.bar < pending.due_bar:
                keep.append(pending)
                continue
            sign = 1.0 if pending.direction == "long" else -1.0
            move = mid / pending.price - 1.0
            actual: ev.Direction = "long" if move > 1e-4 else "short" if move < -1e-4 else "flat"
            to_profit = next(
                (n for n, p in enumerate(pending.path, 1) if sign * (p - pending.price) > 0),
                None,
            )
            self._emit(
                ev.SignalOutcome(
                    signal_id=pending.signal_id,
                    actual_direction=actual,
                    pnl=round(sign * (mid - pending.price) * pending.quantity, 2),
                    bars_to_profit=to_profit,
                    bars_held=len(pending.path),
                    **self._meta(ts, pending.strategy),
                )
            )
        self._outcomes = keep
