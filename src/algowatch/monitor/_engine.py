"""The Monitor: applies events in order and keeps the whole state."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

import msgspec
from mypy_extensions import mypyc_attr

from algowatch import events as ev
from algowatch.clock import Clock
from algowatch.monitor._orders import TERMINAL_STATUSES, OrderState
from algowatch.monitor._state import EngineState
from algowatch.settings import MonitorSettings

__all__ = ["Monitor"]

_NS: Final = 1_000_000_000
_FILL_TOLERANCE: Final = 1e-9
_MARK: Final = ev.Mark
_FILLED: Final = ev.OrderFilled
_SUBMITTED: Final = ev.OrderSubmitted
_ACKNOWLEDGED: Final = ev.OrderAcknowledged
# The hot handlers read an event's fields from one msgspec.structs.astuple() instead of one
# attribute lookup each: on a compiled build a field read of a msgspec struct is a generic
# getattr (~170 instructions), a tuple item ~10.
_astuple: Final = msgspec.structs.astuple


def _at(cls: type, name: str) -> int:
    fields: tuple[str, ...] = cls.__struct_fields__  # type: ignore[attr-defined]
    return fields.index(name)


# the common fields come first in every event class
_TS: Final = _at(ev.Mark, "ts")
_EVENT_ID: Final = _at(ev.Mark, "event_id")
_STRATEGY: Final = _at(ev.Mark, "strategy")
_ACCOUNT: Final = _at(ev.Mark, "account")
_MARK_SYMBOL: Final = _at(ev.Mark, "symbol")
_MARK_PRICE: Final = _at(ev.Mark, "price")
_MARK_BID: Final = _at(ev.Mark, "bid")
_MARK_ASK: Final = _at(ev.Mark, "ask")
_MARK_EXCHANGE_TS: Final = _at(ev.Mark, "exchange_ts")
_FILL_ORDER_ID: Final = _at(ev.OrderFilled, "order_id")
_FILL_ID: Final = _at(ev.OrderFilled, "fill_id")
_FILL_QUANTITY: Final = _at(ev.OrderFilled, "quantity")
_FILL_PRICE: Final = _at(ev.OrderFilled, "price")
_FILL_FEE: Final = _at(ev.OrderFilled, "fee")
_FILL_VWAP: Final = _at(ev.OrderFilled, "vwap")
_FILL_LIQUIDITY: Final = _at(ev.OrderFilled, "liquidity")
_SUB_ORDER_ID: Final = _at(ev.OrderSubmitted, "order_id")
_SUB_SYMBOL: Final = _at(ev.OrderSubmitted, "symbol")
_SUB_SIDE: Final = _at(ev.OrderSubmitted, "side")
_SUB_QUANTITY: Final = _at(ev.OrderSubmitted, "quantity")
_SUB_ORDER_TYPE: Final = _at(ev.OrderSubmitted, "order_type")
_SUB_DECISION: Final = _at(ev.OrderSubmitted, "decision_price")
_SUB_ARRIVAL: Final = _at(ev.OrderSubmitted, "arrival_price")
_SUB_SIGNAL_ID: Final = _at(ev.OrderSubmitted, "signal_id")
_ACK_ORDER_ID: Final = _at(ev.OrderAcknowledged, "order_id")


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

    def apply(self, event: ev.Event) -> bool:  # noqa: PLR0912 - the hot path in one frame
        """Apply one event; return False if its ``event_id`` was seen before (ignored).

        Odd streams never raise: they are counted in ``anomalies``. The engine
        remembers the last ``settings.max_event_ids`` event ids for
        de-duplication (an older duplicate would be applied again).
        """
        self._version += 1
        values: tuple[Any, ...] = _astuple(event)
        event_id: str | None = values[_EVENT_ID]
        if event_id is not None and not self._event_ids.add(event_id):
            self._anomaly("duplicate_event_id")
            return False
        # the event's own int object is stored where a boxed int is kept (no new object)
        event_ts: Any = values[_TS]
        ts: int = event_ts
        last = self._last_event_ts
        if last is None:
            self._last_event_ts = event_ts
            self._session_start, self._session_end = self._calendar.bounds(ts)
        elif ts < last:
            self._anomaly("out_of_order_timestamp")
        else:
            self._last_event_ts = event_ts
            end = self._session_end
            if end is not None and ts >= end:
                self._roll_session(ts)
        kind = type(event)
        # the common kinds first, called directly (a compiled build makes these C calls) and
        # counted in plain ints; the dict keeps every kind in first-seen order
        counts = self._event_counts
        if kind is _MARK:
            self._mark(values)
            if not self._marks_counted:
                counts[kind] = 0
            self._marks_counted += 1
        elif kind is _FILLED:
            self._fill(values)
            if not self._fills_counted:
                counts[kind] = 0
            self._fills_counted += 1
        elif kind is _SUBMITTED:
            self._submit(values)
            if not self._submits_counted:
                counts[kind] = 0
            self._submits_counted += 1
        elif kind is _ACKNOWLEDGED:
            self._acknowledge(values)
            if not self._acks_counted:
                counts[kind] = 0
            self._acks_counted += 1
        else:
            self._handlers[kind](event)
            counts[kind] = counts.get(kind, 0) + 1
        self._events_applied += 1
        return True

    def apply_many(self, events: Iterable[ev.Event]) -> int:
        """Apply events in order; return how many were applied (duplicates excluded)."""
        apply = self.apply
        return sum(1 for event in events if apply(event))

    # ------------------------------------------------------------------ orders

    def _on_submitted(self, event: ev.OrderSubmitted) -> None:
        self._submit(_astuple(event))

    def _submit(self, values: tuple[Any, ...]) -> None:
        order_id: str = values[_SUB_ORDER_ID]
        if order_id in self._open or order_id in self._finished:
            self._anomaly("duplicate_order_id")
            return
        symbol: str = values[_SUB_SYMBOL]
        side: str = values[_SUB_SIDE]
        order_type: str = values[_SUB_ORDER_TYPE]
        strategy: str = values[_STRATEGY]
        account: str = values[_ACCOUNT]
        ts: int = values[_TS]
        if len(self._known_symbols) < self.settings.max_marked_symbols:
            self._known_symbols.add(symbol)
        label = self._symbol_labels(symbol)
        # the order's terminal-status counters, one per TERMINAL_STATUSES entry
        counts_key = (label, side, order_type)
        counts = self._order_counts.get(counts_key)
        if counts is None:
            counts = self._order_counts[counts_key] = [0] * len(TERMINAL_STATUSES)
        arrival: float | None = values[_SUB_ARRIVAL]
        if arrival is None:
            arrival = self._mids.get(symbol)
        scopes = self._scopes(strategy, account)
        order = OrderState(
            order_id=order_id,
            symbol=symbol,
            label_symbol=label,
            side=side,
            quantity=values[_SUB_QUANTITY],
            order_type=order_type,
            ts=ts,
            strategy=strategy,
            account=account,
            arrival=arrival,
            decision=values[_SUB_DECISION],
            signal_id=values[_SUB_SIGNAL_ID],
            scopes=scopes,
            counts=counts,
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
        self._last_order_ts = values[_TS]

    def _late(self, order_id: str, what: str) -> OrderState | None:
        order = self._open.get(order_id)
        if order is None:
            finished = self._finished.get(order_id)
            self._anomaly(
                f"{what}_unknown_order" if finished is None else f"{what}_after_{finished.status}"
            )
        return order

    def _on_acknowledged(self, event: ev.OrderAcknowledged) -> None:
        self._acknowledge(_astuple(event))

    def _acknowledge(self, values: tuple[Any, ...]) -> None:
        order = self._late(values[_ACK_ORDER_ID], "acknowledgement")
        if order is None:
            return
        if order.ts_ack is not None:
            self._anomaly("duplicate_acknowledgement")
            return
        ts: int = values[_TS]
        order.ts_ack = values[_TS]
        order.last_ts = max(order.last_ts, ts)
        if order.status == "submitted":
            order.status = "acknowledged"
        latency = (ts - order.ts_submitted) / _NS
        if latency < 0:
            self._anomaly("negative_latency")
            return
        self._ack_latency.observe(latency)
        for scope in order.scopes:
            if not scope.shared:
                stats = scope.execution
                stats.ack_sum += latency
                stats.ack_count += 1
        self._last_order_ts = values[_TS]

    def _on_filled(self, event: ev.OrderFilled) -> None:
        self._fill(_astuple(event))

    def _fill(self, values: tuple[Any, ...]) -> None:  # noqa: PLR0912, PLR0915 - hot path in one frame
        order_id: str = values[_FILL_ORDER_ID]
        order = self._open.get(order_id)
        late = order is None
        if order is None:
            order = self._finished.get(order_id)
            if order is None:
                self._anomaly("fill_unknown_order")
                return
            self._anomaly(f"fill_after_{order.status}")
        fill_id: str = values[_FILL_ID]
        fill_ids = order.fill_ids
        if fill_ids is None:
            order.fill_ids = {fill_id}
        elif fill_id in fill_ids:
            self._anomaly("duplicate_fill")
            return
        else:
            fill_ids.add(fill_id)
        ts: int = values[_TS]
        quantity: float = values[_FILL_QUANTITY]
        price: float = values[_FILL_PRICE]
        fee: float = values[_FILL_FEE]
        vwap: float | None = values[_FILL_VWAP]
        self._keep_fill(
            order,
            ts=ts,
            fill_id=fill_id,
            quantity=quantity,
            price=price,
            fee=fee,
            liquidity=values[_FILL_LIQUIDITY],
        )
        if not late and order.filled + quantity > order.quantity * (1.0 + _FILL_TOLERANCE):
            self._anomaly("overfill")
        order.filled += quantity
        order.notional += quantity * price
        order.fees += fee
        if vwap is not None:
            order.vwap_notional += quantity * vwap
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
        session_start = self._session_start
        for scope in order.scopes:
            if scope.shared:
                continue
            ledger = scope.ledger
            ledger.fill(key, strategy, signed, price, fee, mark, ts)
            held = ledger.symbol_quantity.get(symbol)
            if held is not None:
                holders[scope] = held
            else:
                holders.pop(scope, None)
            closed = ledger.closed_trades
            if closed:
                for trade in closed:
                    scope.trades.add(trade.pnl)
                    if session_start is not None and ts >= session_start:
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
        self._last_order_ts = values[_TS]
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
        # counts[i] = counts[i] + 1 compiles to a machine add (counts[i] += 1: a generic call)
        if status == "filled":
            slot = 0
        elif status == "rejected":
            slot = 1
        elif status == "canceled":
            slot = 2
        else:
            slot = 3
        counts = order.counts
        counts[slot] = counts[slot] + 1
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
                for scope, held in holders.items():
                    scope.ledger.reprice_held(held, old, price)

    def _on_mark(self, event: ev.Mark) -> None:
        self._mark(_astuple(event))

    def _mark(self, values: tuple[Any, ...]) -> None:  # noqa: PLR0912 - hot path in one frame
        symbol: str = values[_MARK_SYMBOL]
        ts: int = values[_TS]
        prices = self._prices
        price: float = values[_MARK_PRICE]
        # A symbol whose first price came from a mark has its label kept here, and is priced
        # and in _marked (none of the three ever forgets a symbol): one lookup answers all.
        label = self._mark_labels.get(symbol)
        old: float | None
        if label is not None:
            old = prices[symbol]
        else:
            old = prices.get(symbol)
            if old is None:
                if len(prices) >= self.settings.max_marked_symbols:
                    self._anomaly("mark_symbol_overflow")
                    return
                label = self._mark_labels[symbol] = self._symbol_labels(symbol)
            if symbol not in self._marked:
                self._marked.add(symbol)
                if symbol not in self._known_symbols:
                    self._anomaly("mark_unknown_symbol")
        prices[symbol] = price
        if old is not None and old != price:
            holders = self._holders.get(symbol)
            if holders:
                for scope, held in holders.items():
                    scope.ledger.reprice_held(held, old, price)
        bid: float | None = values[_MARK_BID]
        ask: float | None = values[_MARK_ASK]
        mid = (bid + ask) / 2.0 if bid is not None and ask is not None else price
        self._mids[symbol] = mid
        self._equity_curve.record(ts, self._overall.ledger.equity())
        exchange_ts: int | None = values[_MARK_EXCHANGE_TS]
        if exchange_ts is not None:
            latency = (ts - exchange_ts) / _NS
            if latency < 0:
                self._anomaly("negative_latency")
            else:
                self._market_data_latency.observe(latency)
                for scope in self._scopes(values[_STRATEGY], values[_ACCOUNT]):
                    if scope.shared:
                        continue
                    stats = scope.execution
                    stats.market_data_sum += latency
                    stats.market_data_count += 1
        self._mark_seen[label if label is not None else self._symbol_labels(symbol)] = values[_TS]
        due = self._impact.due.get(symbol)
        if due is not None and due <= ts:
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
