"""The Monitor: applies events in order and keeps the whole state."""

from __future__ import annotations

import copy
import heapq
import itertools
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any, Final

from mypy_extensions import mypyc_attr

from algowatch import events as ev
from algowatch.clock import Clock
from algowatch.monitor import _readout
from algowatch.monitor._figures import (
    MonitorFigures,
    OrderFigures,
    ScopeFigures,
    TradeFigures,
)
from algowatch.monitor._orders import OrderState
from algowatch.monitor._scope import Scope
from algowatch.monitor._state import EngineState
from algowatch.settings import MonitorSettings

__all__ = ["Monitor"]

_NS = 1_000_000_000
_TERMINAL_STATUSES = ("filled", "rejected", "canceled", "partially_filled")
_FILL_TOLERANCE = 1e-9
_MARK: Final = ev.Mark
_FILLED: Final = ev.OrderFilled
_SUBMITTED: Final = ev.OrderSubmitted
_ACKNOWLEDGED: Final = ev.OrderAcknowledged


@mypyc_attr(allow_interpreted_subclasses=True)  # tests and users may subclass it
class Monitor(EngineState):
    """The engine: positions, P&L, orders and signals from a stream of events.

    Synchronous, single-threaded and free of I/O. Events are applied in the
    order given; the same events in the same order always give the same state.

    Parameters
    ----------
    settings
        Accounting conventions and memory bounds (``[monitor]``).
    clock
        The wall clock of a live service. ``None`` (replay) means "now" is the
        time of the latest event; with a clock, ``as_of`` and the rollover of
        "today" in :meth:`figures` follow the clock, while the state itself
        only ever follows event time.

    Examples
    --------
    >>> from algowatch.testing import EventFactory
    >>> f = EventFactory()
    >>> m = Monitor()
    >>> m.apply_many([f.submitted("o1", "AAPL", "buy", 10), f.filled("o1", 10, 100.0),
    ...               f.mark("AAPL", 101.0)])
    3
    >>> m.figures().portfolio.trading.unrealized_pnl
    10.0

    .. versionadded:: 0.1.0
    """

    def __init__(
        self, settings: MonitorSettings | None = None, *, clock: Clock | None = None
    ) -> None:
        super().__init__(settings if settings is not None else MonitorSettings(), clock)
        self._handlers: dict[type, Callable[[Any], None]] = {
            ev.OrderSubmitted: self._on_submitted,
            ev.OrderAcknowledged: self._on_acknowledged,
            ev.OrderFilled: self._on_filled,
            ev.OrderRejected: self._on_rejected,
            ev.OrderCanceled: self._on_canceled,
            ev.Signal: self._on_signal,
            ev.SignalOutcome: self._on_outcome,
            ev.Mark: self._on_mark,
            ev.Account: self._on_account,
            ev.Error: self._on_error,
            ev.Heartbeat: self._on_heartbeat,
        }
        self._tags = {
            cls: str(cls.__struct_config__.tag)  # type: ignore[attr-defined]
            for cls in self._handlers
        }

    # ------------------------------------------------------------------ applying

    def apply(self, event: ev.Event) -> bool:
        """Apply one event; return False if its ``event_id`` was seen before (ignored).

        Odd streams never raise: they are counted in ``anomalies``. The engine
        remembers the last ``settings.max_event_ids`` event ids for
        de-duplication (an older duplicate would be applied again).
        """
        self._version += 1
        event_id = event.event_id
        if event_id is not None and not self._event_ids.add(event_id):
            self._anomaly("duplicate_event_id")
            return False
        ts = event.ts
        last = self._last_event_ts
        if last is None:
            self._last_event_ts = ts
            self._session_start, self._session_end = self._calendar.bounds(ts)
        elif ts < last:
            self._anomaly("out_of_order_timestamp")
        else:
            self._last_event_ts = ts
            if ts >= self._session_end:  # type: ignore[operator]
                self._roll_session(ts)
        kind = type(event)
        # the common kinds first, called directly (a compiled build makes these C calls)
        if kind is _MARK:
            self._on_mark(event)  # type: ignore[arg-type]
        elif kind is _FILLED:
            self._on_filled(event)  # type: ignore[arg-type]
        elif kind is _SUBMITTED:
            self._on_submitted(event)  # type: ignore[arg-type]
        elif kind is _ACKNOWLEDGED:
            self._on_acknowledged(event)  # type: ignore[arg-type]
        else:
            self._handlers[kind](event)
        counts = self._event_counts
        counts[kind] = counts.get(kind, 0) + 1
        self._events_applied += 1
        return True

    def apply_many(self, events: Iterable[ev.Event]) -> int:
        """Apply events in order; return how many were applied (duplicates excluded)."""
        apply = self.apply
        return sum(1 for event in events if apply(event))

    def _anomaly(self, kind: str) -> None:
        self._anomalies[kind] = self._anomalies.get(kind, 0) + 1

    def record_anomaly(self, kind: str) -> None:
        """Count one anomaly of ``kind`` found outside the engine.

        The service counts here the events it quarantined because applying them raised
        (kind ``engine_error``), so they show in ``anomalies`` and in
        ``algowatch_anomalies_total`` like the anomalies the engine finds itself.
        """
        self._anomaly(kind)

    def _all_scopes(self) -> Iterable[Scope]:
        return itertools.chain((self._overall,), self._strategies.values(), self._accounts.values())

    def _roll_session(self, ts: int) -> None:
        # the event at `ts` belongs to the new session: close the old one first
        for scope in self._all_scopes():
            if not scope.shared:
                scope.ledger.close_session()
        self._session_start, self._session_end = self._calendar.bounds(ts)

    def _scopes(self, strategy: str, account: str) -> tuple[Scope, ...]:
        key = (strategy, account)
        scopes = self._scope_cache.get(key)
        if scopes is None:
            name = self._strategy_labels(strategy)
            by_strategy = self._strategies.get(name)
            if by_strategy is None:
                by_strategy = self._strategies[name] = self._new_scope("strategy", name)
            name = self._account_labels(account)
            by_account = self._accounts.get(name)
            if by_account is None:
                by_account = self._accounts[name] = self._new_scope("account", name)
            scopes = (self._overall, by_strategy, by_account)
            if len(self._scope_cache) < 4 * (self.settings.max_strategies + 1) * (
                self.settings.max_accounts + 1
            ):
                self._scope_cache[key] = scopes
        return scopes

    def _new_scope(self, kind: str, name: str) -> Scope:
        existing = self._strategies if kind == "strategy" else self._accounts
        overall = self._overall
        if not existing and not overall.ledger.session_returns:
            # the first one: identical to the portfolio for as long as it stays alone
            return Scope(kind, name, self.settings, self._prices, share=overall)
        for other in existing.values():
            if other.shared:
                self._unshare(other)
        # a scope born later starts at the starting capital in the current session
        return Scope(kind, name, self.settings, self._prices)

    def _unshare(self, scope: Scope) -> None:
        overall = self._overall
        memo: dict[int, Any] = {id(self._prices): self._prices}
        scope.ledger = copy.deepcopy(overall.ledger, memo)
        scope.execution = copy.deepcopy(overall.execution)
        scope.signals = copy.deepcopy(overall.signals)
        scope.trades = copy.deepcopy(overall.trades)
        scope.open_orders = overall.open_orders
        scope.shared = False
        for symbol in scope.ledger.symbol_quantity:
            self._holders.setdefault(symbol, {})[scope] = None

    # ------------------------------------------------------------------ orders

    def _on_submitted(self, event: ev.OrderSubmitted) -> None:
        order_id = event.order_id
        if order_id in self._open or order_id in self._finished:
            self._anomaly("duplicate_order_id")
            return
        symbol = event.symbol
        if len(self._known_symbols) < self.settings.max_marked_symbols:
            self._known_symbols.add(symbol)
        label = self._symbol_labels(symbol)
        key = (label, event.side, event.order_type)
        counts = self._order_counts
        if (*key, "filled") not in counts:
            for status in _TERMINAL_STATUSES:
                counts[(*key, status)] = 0
        arrival = event.arrival_price
        if arrival is None:
            arrival = self._mids.get(symbol)
        scopes = self._scopes(event.strategy, event.account)
        order = OrderState(
            order_id=order_id,
            symbol=symbol,
            label_symbol=label,
            side=event.side,
            quantity=event.quantity,
            order_type=event.order_type,
            ts=event.ts,
            strategy=event.strategy,
            account=event.account,
            arrival=arrival,
            decision=event.decision_price,
            signal_id=event.signal_id,
            scopes=scopes,
        )
        open_orders = self._open
        if len(open_orders) >= self.settings.max_open_orders:
            oldest = open_orders.pop(next(iter(open_orders)))
            for scope in oldest.scopes:
                if not scope.shared:
                    scope.open_orders -= 1
                    scope.execution.submitted -= 1
            self._anomaly("open_order_evicted")
        open_orders[order_id] = order
        for scope in scopes:
            if not scope.shared:
                scope.execution.submitted += 1
                scope.open_orders += 1
        self._last_order_ts = event.ts

    def _late(self, order_id: str, what: str) -> OrderState | None:
        order = self._open.get(order_id)
        if order is None:
            finished = self._finished.get(order_id)
            self._anomaly(
                f"{what}_unknown_order" if finished is None else f"{what}_after_{finished.status}"
            )
        return order

    def _on_acknowledged(self, event: ev.OrderAcknowledged) -> None:
        order = self._late(event.order_id, "acknowledgement")
        if order is None:
            return
        if order.ts_ack is not None:
            self._anomaly("duplicate_acknowledgement")
            return
        order.ts_ack = event.ts
        order.last_ts = max(order.last_ts, event.ts)
        if order.status == "submitted":
            order.status = "acknowledged"
        latency = (event.ts - order.ts_submitted) / _NS
        if latency < 0:
            self._anomaly("negative_latency")
            return
        self._ack_latency.observe(latency)
        for scope in order.scopes:
            if not scope.shared:
                stats = scope.execution
                stats.ack_sum += latency
                stats.ack_count += 1
        self._last_order_ts = event.ts

    def _on_filled(self, event: ev.OrderFilled) -> None:  # noqa: PLR0912, PLR0915 - hot path in one frame
        order_id = event.order_id
        order = self._open.get(order_id)
        late = order is None
        if order is None:
            order = self._finished.get(order_id)
            if order is None:
                self._anomaly("fill_unknown_order")
                return
            self._anomaly(f"fill_after_{order.status}")
        fill_ids = order.fill_ids
        if fill_ids is None:
            order.fill_ids = {event.fill_id}
        elif event.fill_id in fill_ids:
            self._anomaly("duplicate_fill")
            return
        else:
            fill_ids.add(event.fill_id)
        ts = event.ts
        quantity = event.quantity
        price = event.price
        fee = event.fee
        if not late and order.filled + quantity > order.quantity * (1.0 + _FILL_TOLERANCE):
            self._anomaly("overfill")
        order.filled += quantity
        order.notional += quantity * price
        order.fees += fee
        if event.vwap is not None:
            order.vwap_notional += quantity * event.vwap
            order.vwap_quantity += quantity
        order.last_ts = max(order.last_ts, ts)
        symbol = order.symbol
        if symbol not in self._marked:
            self._set_price(symbol, price)
        mark = self._prices[symbol]
        signed = quantity * order.sign
        holders = self._holders.get(symbol)
        if holders is None:
            holders = self._holders[symbol] = {}
        key = order.position_key
        strategy = order.strategy
        overall = self._overall
        for scope in order.scopes:
            if scope.shared:
                continue
            ledger = scope.ledger
            ledger.fill(key, strategy, signed, price, fee, mark, ts)
            if symbol in ledger.symbol_quantity:
                holders[scope] = None
            else:
                holders.pop(scope, None)
            closed = ledger.closed_trades
            if closed:
                for trade in closed:
                    scope.trades.add(trade.pnl)
                    if ts >= self._session_start:  # type: ignore[operator]
                        ledger.trades_today += 1
                    if scope is overall:
                        self._trades.append(trade)
                closed.clear()
        self._equity_curve.record(ts, overall.ledger.equity())
        mid = self._mids.get(symbol)
        impact = self._impact
        if (
            mid is not None
            and impact.horizon_ns >= 0
            and not impact.schedule(
                symbol, ts, order.sign, price, mid, quantity * price, order.scopes
            )
        ):
            self._anomaly("impact_measurement_dropped")
        self._last_order_ts = ts
        if late:
            return
        if order.filled >= order.quantity * (1.0 - _FILL_TOLERANCE):
            order.status = "filled"
            self._finish(order)
        else:
            order.status = "partially_filled"

    def _terminal(self, order_id: str, status: str, what: str, ts: int) -> None:
        order = self._late(order_id, what)
        if order is None:
            return
        order.status = status
        order.last_ts = max(order.last_ts, ts)
        self._last_order_ts = ts
        self._finish(order)

    def _on_rejected(self, event: ev.OrderRejected) -> None:
        self._terminal(event.order_id, "rejected", "rejection", event.ts)

    def _on_canceled(self, event: ev.OrderCanceled) -> None:
        self._terminal(event.order_id, "canceled", "cancel", event.ts)

    def _finish(self, order: OrderState) -> None:
        del self._open[order.order_id]
        latency, slippage = order.fold(order.scopes, self._prices.get(order.symbol))
        status = order.status
        if status == "canceled" and order.filled:
            status = "partially_filled"
        key = (order.label_symbol, order.side, order.order_type, status)
        counts = self._order_counts
        counts[key] = counts.get(key, 0) + 1
        if latency == latency:  # noqa: PLR0124 - NaN test without a call on the hot path
            self._order_latency.observe(latency)
        if slippage == slippage:  # noqa: PLR0124 - idem
            self._slippage.observe(slippage)
        self._finished[order.order_id] = order
        ids = self._finished_ids
        ids.append(order.order_id)
        if len(ids) > self._max_recent_orders:
            del self._finished[ids.popleft()]

    # ------------------------------------------------------------------ market data

    def _set_price(self, symbol: str, price: float) -> None:
        old = self._prices.get(symbol)
        self._prices[symbol] = price
        if old is not None and old != price:
            holders = self._holders.get(symbol)
            if holders:
                for scope in holders:
                    scope.ledger.reprice(symbol, old, price)

    def _on_mark(self, event: ev.Mark) -> None:  # noqa: PLR0912 - hot path in one frame
        symbol = event.symbol
        ts = event.ts
        prices = self._prices
        old = prices.get(symbol)
        price = event.price
        if old is None:
            if len(prices) >= self.settings.max_marked_symbols:
                self._anomaly("mark_symbol_overflow")
                return
            self._mark_labels[symbol] = self._symbol_labels(symbol)
        if symbol not in self._marked:
            self._marked.add(symbol)
            if symbol not in self._known_symbols:
                self._anomaly("mark_unknown_symbol")
        prices[symbol] = price
        if old is not None and old != price:
            holders = self._holders.get(symbol)
            if holders:
                for scope in holders:
                    scope.ledger.reprice(symbol, old, price)
        bid, ask = event.bid, event.ask
        mid = (bid + ask) / 2.0 if bid is not None and ask is not None else event.price
        self._mids[symbol] = mid
        self._equity_curve.record(ts, self._overall.ledger.equity())
        if event.exchange_ts is not None:
            latency = (ts - event.exchange_ts) / _NS
            if latency < 0:
                self._anomaly("negative_latency")
            else:
                self._market_data_latency.observe(latency)
                for scope in self._scopes(event.strategy, event.account):
                    if scope.shared:
                        continue
                    stats = scope.execution
                    stats.market_data_sum += latency
                    stats.market_data_count += 1
        self._mark_seen[self._mark_labels.get(symbol) or self._symbol_labels(symbol)] = ts
        if symbol in self._impact.queues:
            self._impact.resolve(symbol, ts, mid)

    # ------------------------------------------------------------------ signals, misc

    def _on_signal(self, event: ev.Signal) -> None:
        scopes = self._scopes(event.strategy, event.account)
        for scope in scopes:
            if not scope.shared:
                scope.signals.add_signal(event.symbol, event.direction, event.confidence)
        key = (scopes[1].name, event.direction)
        self._signal_counts[key] = self._signal_counts.get(key, 0) + 1
        if event.generation_seconds is not None:
            self._signal_generation.observe(event.generation_seconds)
        registry = self._signals
        registry[event.signal_id] = (event.direction, scopes)
        registry.move_to_end(event.signal_id)
        if len(registry) > self.settings.max_open_signals:
            registry.popitem(last=False)
        if len(self._known_symbols) < self.settings.max_marked_symbols:
            self._known_symbols.add(event.symbol)

    def _on_outcome(self, event: ev.SignalOutcome) -> None:
        entry = self._signals.get(event.signal_id)
        if entry is None:
            self._anomaly("outcome_unknown_signal")
            direction = None
            scopes = self._scopes(event.strategy, event.account)
        else:
            direction, scopes = entry
        for scope in scopes:
            if scope.shared:
                continue
            scope.signals.add_outcome(
                direction,
                event.actual_direction,
                event.pnl,
                event.bars_to_profit,
                event.bars_held,
            )

    def _on_account(self, event: ev.Account) -> None:
        name = self._scopes(event.strategy, event.account)[2].name
        self._accounts_reported[name] = (event.equity, event.cash, event.buying_power, event.ts)

    def _on_error(self, event: ev.Error) -> None:
        key = (self._other_labels(event.error_type), self._other_labels(event.component))
        self._error_counts[key] = self._error_counts.get(key, 0) + 1

    def _on_heartbeat(self, event: ev.Heartbeat) -> None:
        self._heartbeats[self._other_labels(event.component)] = event.ts

    # ------------------------------------------------------------------ views

    def figures(self) -> MonitorFigures:
        """Return the whole state as frozen, typed figures in base units.

        Computed once per applied event and cached: reading twice without an
        event in between costs nothing. With a wall clock, ``as_of_ts`` follows
        the clock and the daily figures restart when the clock leaves the session.

        .. versionadded:: 0.2.0
        """
        clock = self._clock
        now = clock.time_ns() if clock is not None else self._last_event_ts
        today = self._is_today()
        cached = self._figures_cache
        if cached is None or cached[0] != self._version or cached[1] != today:
            cached = self._figures_cache = (self._version, today, self._build(now, today))
        built = cached[2]
        if built.as_of_ts == now:
            return built
        return MonitorFigures(
            as_of_ts=now,
            currency=built.currency,
            events_applied=built.events_applied,
            session_start_ts=built.session_start_ts,
            session_end_ts=built.session_end_ts,
            session_timezone=built.session_timezone,
            portfolio=built.portfolio,
            strategies=built.strategies,
            accounts=built.accounts,
            positions=built.positions,
            equity_curve=built.equity_curve,
            anomalies=built.anomalies,
        )

    def _is_today(self) -> bool:
        # with a wall clock, a session with no events yet is still "today": daily figures restart
        end = self._session_end
        if self._clock is None or end is None:
            return True
        return self._clock.time_ns() < end

    def _scope_figures(self, scope: Scope, today: bool) -> ScopeFigures:
        summary = _readout.returns_summary(scope, self.settings, self._summaries)
        open_orders = self._overall.open_orders if scope.shared else scope.open_orders
        return _readout.scope_figures(
            scope, self._prices, summary, self._accounts_reported, open_orders, today=today
        )

    def _build(self, now: int | None, today: bool) -> MonitorFigures:
        return MonitorFigures(
            as_of_ts=now,
            currency=self.settings.currency,
            events_applied=self._events_applied,
            session_start_ts=self._session_start,
            session_end_ts=self._session_end,
            session_timezone=self.settings.session_timezone,
            portfolio=self._scope_figures(self._overall, today),
            # read-only views: one cached object is shared by every reader until the next event
            strategies=MappingProxyType(
                {
                    name: self._scope_figures(scope, today)
                    for name, scope in sorted(self._strategies.items())
                }
            ),
            accounts=MappingProxyType(
                {
                    name: self._scope_figures(scope, today)
                    for name, scope in sorted(self._accounts.items())
                }
            ),
            positions=_readout.positions(
                self._overall.ledger, self._prices, self._symbol_labels.names
            ),
            equity_curve=tuple(self._equity_curve.points()),
            anomalies=MappingProxyType(dict(sorted(self._anomalies.items()))),
        )

    def trade_figures(self, *, offset: int = 0, limit: int = 100) -> list[TradeFigures]:
        """Return recent closed round trips, newest first.

        .. versionadded:: 0.2.0
        """
        newest = itertools.islice(reversed(self._trades), offset, offset + limit)
        return [_readout.trade(record) for record in newest]

    def order_figures(self, *, offset: int = 0, limit: int = 100) -> list[OrderFigures]:
        """Return open and recently finished orders, newest submission first.

        .. versionadded:: 0.2.0
        """
        candidates = itertools.chain(self._open.values(), self._finished.values())
        newest = heapq.nlargest(offset + limit, candidates, key=lambda order: order.ts_submitted)
        return [_readout.order(order) for order in newest[offset:]]
