"""The Monitor: applies events in order and keeps the whole state."""

from __future__ import annotations

import copy
import heapq
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any, Final

from mypy_extensions import mypyc_attr

from algowatch import events as ev
from algowatch._formulas import half_price_impact_bps, half_realized_spread_bps
from algowatch.analytics.returns import ReturnsSummary, summary
from algowatch.clock import Clock
from algowatch.monitor import _readout
from algowatch.monitor._figures import (
    MonitorFigures,
    OrderFigures,
    ScopeFigures,
    TradeFigures,
)
from algowatch.monitor._histogram import Histogram
from algowatch.monitor._ledger import Ledger, TradeRecord
from algowatch.monitor._orders import OrderState
from algowatch.monitor._scope import Scope
from algowatch.monitor._types import (
    ACK_LATENCY_BOUNDS,
    MARKET_DATA_LATENCY_BOUNDS,
    ORDER_LATENCY_BOUNDS,
    SIGNAL_GENERATION_BOUNDS,
    SLIPPAGE_BPS_BOUNDS,
    CounterState,
    LastSeen,
)
from algowatch.monitor.sessions import SessionCalendar
from algowatch.settings import MonitorSettings

__all__ = ["Monitor"]

_NS = 1_000_000_000
_OTHER = "other"
_TERMINAL_STATUSES = ("filled", "rejected", "canceled", "partially_filled")
_FILL_TOLERANCE = 1e-9
_MARK: Final = ev.Mark
_FILLED: Final = ev.OrderFilled
_SUBMITTED: Final = ev.OrderSubmitted
_ACKNOWLEDGED: Final = ev.OrderAcknowledged
# a fill awaiting its impact horizon: (due ts, side sign, price, mid at fill, notional, scopes)
_Pending = tuple[int, float, float, float, float, tuple[Scope, ...]]


class _Folder:
    # bounded label set: the first `limit` names are kept, later ones become "other"
    __slots__ = ("folded", "limit", "names")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.names: set[str] = set()
        self.folded = 0

    def __call__(self, name: str) -> str:
        if name in self.names:
            return name
        if len(self.names) < self.limit:
            self.names.add(name)
            return name
        self.folded += 1
        return _OTHER


@mypyc_attr(allow_interpreted_subclasses=True)  # tests and users may subclass it
class Monitor:
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
        self.settings = settings = settings if settings is not None else MonitorSettings()
        self._clock = clock
        self._calendar = SessionCalendar(settings.session_timezone, settings.session_start)
        self._prices: dict[str, float] = {}
        self._mids: dict[str, float] = {}
        self._marked: set[str] = set()
        self._mark_labels: dict[str, str] = {}
        self._known_symbols: set[str] = set()
        self._holders: dict[str, dict[Scope, None]] = {}
        self._overall = Scope("portfolio", "portfolio", settings, self._prices)
        self._strategies: dict[str, Scope] = {}
        self._accounts: dict[str, Scope] = {}
        self._scope_cache: dict[tuple[str, str], tuple[Scope, ...]] = {}
        self._open: dict[str, OrderState] = {}
        # recently finished orders, oldest first; the deque gives the eviction order cheaply
        self._finished: dict[str, OrderState] = {}
        self._finished_ids: deque[str] = deque()
        self._signals: OrderedDict[str, tuple[str, tuple[Scope, ...]]] = OrderedDict()
        self._seen: set[str] = set()
        # the last max_event_ids ids in a ring, to forget the oldest (a list: no method calls)
        self._seen_ring: list[str] = []
        self._seen_next = 0
        self._trades: deque[TradeRecord] = deque(maxlen=settings.max_recent_trades)
        self._pending_impact: dict[str, deque[_Pending]] = {}
        self._pending_count = 0
        self._impact_ns = round(settings.impact_horizon_seconds * _NS)
        # the equity curve: closed points in the deque, the open interval's point in fields
        self._equity_curve: deque[tuple[int, float]] = deque(
            maxlen=max(0, settings.equity_curve_points - 1)
        )
        self._curve_ns = max(1, round(settings.equity_curve_interval_seconds * _NS))
        self._curve_open = False
        self._curve_bucket = 0
        self._curve_ts = 0
        self._curve_equity = 0.0
        self._accounts_reported: dict[str, tuple[float, float | None, float | None, int]] = {}
        self._init_counters(settings)
        self._mark_seen: dict[str, int] = {}
        self._heartbeats: dict[str, int] = {}
        self._last_order_ts: int | None = None
        self._last_event_ts: int | None = None
        self._session_start: int | None = None
        self._session_end: int | None = None
        self._events_applied = 0
        # bumped by every apply (a duplicate changes the anomaly counts too): the figures
        # are cached per version
        self._version = 0
        self._figures_cache: tuple[int, bool, MonitorFigures] | None = None
        self._summaries: dict[Scope, tuple[Ledger, int, ReturnsSummary]] = {}
        self._max_event_ids = settings.max_event_ids
        self._max_recent_orders = settings.max_recent_orders
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
        self._tags: dict[type, str] = {
            cls: str(cls.__struct_config__.tag)  # type: ignore[attr-defined]
            for cls in self._handlers
        }

    def _init_counters(self, settings: MonitorSettings) -> None:
        # labels (bounded cardinality), counters and histograms for the Prometheus view
        self._symbol_labels = _Folder(settings.max_symbols)
        self._strategy_labels = _Folder(settings.max_strategies)
        self._account_labels = _Folder(settings.max_accounts)
        self._other_labels = _Folder(settings.max_symbols)
        self._order_counts: dict[tuple[str, str, str, str], int] = {}
        self._signal_counts: dict[tuple[str, str], int] = {}
        self._error_counts: dict[tuple[str, str], int] = {}
        self._event_counts: dict[type, int] = {}
        self._anomalies: dict[str, int] = {}
        self._order_latency = Histogram(ORDER_LATENCY_BOUNDS)
        self._ack_latency = Histogram(ACK_LATENCY_BOUNDS)
        self._signal_generation = Histogram(SIGNAL_GENERATION_BOUNDS)
        self._slippage = Histogram(SLIPPAGE_BPS_BOUNDS)
        self._market_data_latency = Histogram(MARKET_DATA_LATENCY_BOUNDS)

    # ------------------------------------------------------------------ applying

    def apply(self, event: ev.Event) -> bool:  # noqa: PLR0912 - hot path in one frame
        """Apply one event; return False if its ``event_id`` was seen before (ignored).

        Odd streams never raise: they are counted in ``anomalies``. The engine
        remembers the last ``settings.max_event_ids`` event ids for
        de-duplication (an older duplicate would be applied again).
        """
        self._version += 1
        event_id = event.event_id
        if event_id is not None:
            seen = self._seen
            if event_id in seen:
                self._anomaly("duplicate_event_id")
                return False
            seen.add(event_id)
            ring = self._seen_ring
            if len(ring) < self._max_event_ids:
                ring.append(event_id)
            elif ring:
                slot = self._seen_next
                seen.discard(ring[slot])
                ring[slot] = event_id
                self._seen_next = slot + 1 if slot + 1 < len(ring) else 0
            else:  # max_event_ids = 0: remember nothing
                seen.discard(event_id)
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
        self._record_equity(ts, overall.ledger)
        mid = self._mids.get(symbol)
        if mid is not None and self._impact_ns >= 0:
            self._schedule_impact(order, ts, price, mid, quantity * price)
        self._last_order_ts = ts
        if late:
            return
        if order.filled >= order.quantity * (1.0 - _FILL_TOLERANCE):
            order.status = "filled"
            self._finish(order)
        else:
            order.status = "partially_filled"

    def _schedule_impact(
        self, order: OrderState, ts: int, price: float, mid: float, notional: float
    ) -> None:
        symbol = order.symbol
        queue = self._pending_impact.get(symbol)
        if queue is None:
            queue = self._pending_impact[symbol] = deque()
        queue.append((ts + self._impact_ns, order.sign, price, mid, notional, order.scopes))
        self._pending_count += 1
        if self._pending_count > self.settings.max_pending_impact:
            # drop the oldest pending measurement of the busiest symbol
            busiest = max(self._pending_impact.values(), key=len)
            busiest.popleft()
            self._pending_count -= 1
            self._anomaly("impact_measurement_dropped")

    def _resolve_impact(self, symbol: str, ts: int, mid: float) -> None:
        queue = self._pending_impact.get(symbol)
        if not queue:
            return
        while queue and queue[0][0] <= ts:
            _, sign, price, mid0, notional, scopes = queue.popleft()
            self._pending_count -= 1
            spread = half_realized_spread_bps(sign, price, mid0, mid)
            impact = half_price_impact_bps(sign, mid0, mid)
            for scope in scopes:
                if scope.shared:
                    continue
                stats = scope.execution
                stats.spread_sum += spread * notional
                stats.impact_sum += impact * notional
                stats.impact_notional += notional
        if not queue:
            del self._pending_impact[symbol]

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
        self._record_equity(ts, self._overall.ledger)
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
        if symbol in self._pending_impact:
            self._resolve_impact(symbol, ts, mid)

    def _record_equity(self, ts: int, ledger: Ledger) -> None:
        # one point per interval (the last equity seen in it); the deque bounds the history
        equity = ledger.equity()
        bucket = ts // self._curve_ns
        if self._curve_open:
            if bucket == self._curve_bucket:
                if ts >= self._curve_ts:
                    self._curve_ts = ts
                    self._curve_equity = equity
                return
            self._equity_curve.append((self._curve_ts, self._curve_equity))
        self._curve_open = True
        self._curve_bucket = bucket
        self._curve_ts = ts
        self._curve_equity = equity

    def _equity_points(self) -> list[tuple[int, float]]:
        # the curve, oldest first: the deque holds at most equity_curve_points - 1 closed points
        if self.settings.equity_curve_points <= 0:
            return []
        points = list(self._equity_curve)
        if self._curve_open:
            points.append((self._curve_ts, self._curve_equity))
        return points

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

    def counters(self) -> CounterState:
        """Return every counter and histogram as plain numbers (copies)."""
        return CounterState(
            orders=dict(self._order_counts),
            signals=dict(self._signal_counts),
            errors=dict(self._error_counts),
            events={self._tags[kind]: n for kind, n in self._event_counts.items()},
            anomalies=dict(self._anomalies),
            folded_labels=self._symbol_labels.folded
            + self._strategy_labels.folded
            + self._account_labels.folded
            + self._other_labels.folded,
            order_latency_seconds=self._order_latency.data(),
            ack_latency_seconds=self._ack_latency.data(),
            signal_generation_seconds=self._signal_generation.data(),
            slippage_bps=self._slippage.data(),
            market_data_latency_seconds=self._market_data_latency.data(),
        )

    def last_seen(self) -> LastSeen:
        """Return when each source was last heard of, in event time."""
        return LastSeen(
            marks=dict(self._mark_seen),
            heartbeats=dict(self._heartbeats),
            last_order_ts=self._last_order_ts,
            last_event_ts=self._last_event_ts,
        )

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

    def _summary(self, scope: Scope) -> ReturnsSummary:
        # the session returns change only when a session closes: keep their summary till then
        ledger = scope.ledger
        cached = self._summaries.get(scope)
        if cached is None or cached[0] is not ledger or cached[1] != ledger.sessions_closed:
            settings = self.settings
            result = summary(
                list(ledger.session_returns),
                risk_free=settings.risk_free,
                periods_per_year=settings.periods_per_year,
                confidence=0.95,
            )
            cached = self._summaries[scope] = (ledger, ledger.sessions_closed, result)
        return cached[2]

    def _scope_figures(self, scope: Scope, today: bool) -> ScopeFigures:
        open_orders = self._overall.open_orders if scope.shared else scope.open_orders
        account = _readout.reported(scope, self._accounts_reported)
        return ScopeFigures(
            trading=_readout.trading(
                scope, self._prices, self._summary(scope), account, today=today
            ),
            execution=_readout.execution(scope.execution, open_orders),
            signals=_readout.signals(scope.signals),
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
            equity_curve=tuple(self._equity_points()),
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
