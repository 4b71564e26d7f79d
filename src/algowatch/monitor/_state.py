"""Everything the engine keeps: the fields of :class:`~algowatch.monitor.Monitor`.

:class:`EngineState` builds them from the settings, with their bounds, finds the
scopes an event books into (creating and unsharing them on demand), counts anomalies
and returns its counters and "last seen" times as plain numbers; the ``Monitor``
subclass adds the behaviour (applying events, building the figures). Each field
is bounded by a setting (``docs/engine.md``, "Memory"). Compiled with the engine
(see :mod:`algowatch._native`).
"""

from __future__ import annotations

import copy
import heapq
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any, Final, TypeVar

from mypy_extensions import mypyc_attr

from algowatch import events as ev
from algowatch.analytics.returns import ReturnsSummary
from algowatch.clock import Clock
from algowatch.monitor import _readout
from algowatch.monitor._bounded import LabelFolder, RecentIds
from algowatch.monitor._curve import EquityCurve
from algowatch.monitor._figures import (
    ExecutionFigures,
    FillFigures,
    MonitorFigures,
    OrderFigures,
    ScopeFigures,
    TradeFigures,
    TradingFigures,
)
from algowatch.monitor._histogram import Histogram
from algowatch.monitor._impact import ImpactQueue
from algowatch.monitor._ledger import Ledger, TradeRecord
from algowatch.monitor._orders import TERMINAL_STATUSES, OrderState
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

__all__ = ["EngineState", "FillRecord"]

_NS: Final = 1_000_000_000

#: One fill as kept: ts, fill_id, order_id, symbol, side, quantity, price, fee,
#: liquidity, strategy, account.
FillRecord = tuple[int, str, str, str, str, float, float, float, str | None, str, str]


_Row = TypeVar("_Row")


def _page(
    rows: Iterable[_Row],
    offset: int,
    limit: int,
    labels: Callable[[_Row], tuple[str, str]],
    *,
    strategy: str | None,
    account: str | None,
) -> tuple[int, list[_Row]]:
    # count every row of the scope, hold only the page
    total = 0
    page: list[_Row] = []
    end = offset + limit
    scoped = strategy is not None or account is not None
    for row in rows:
        if scoped:
            row_strategy, row_account = labels(row)
            if (strategy is not None and row_strategy != strategy) or (
                account is not None and row_account != account
            ):
                continue
        if offset <= total < end:
            page.append(row)
        total += 1
    return total, page


def _order_labels(order: OrderState) -> tuple[str, str]:
    return order.strategy, order.account


def _trade_labels(trade: TradeRecord) -> tuple[str, str]:
    return trade.strategy, trade.account


def _fill_labels(fill: FillRecord) -> tuple[str, str]:
    return fill[9], fill[10]


@mypyc_attr(allow_interpreted_subclasses=True)  # Monitor, and through it tests and users
class EngineState:
    """The engine's fields, built from ``settings``; ``clock`` is a live service's wall clock."""

    def __init__(self, settings: MonitorSettings, clock: Clock | None) -> None:  # noqa: PLR0915 - one line per field
        self.settings = settings
        self._clock = clock
        self._calendar = SessionCalendar(settings.session_timezone, settings.session_start)
        # market data: last price and mid per symbol, and which symbols had a mark
        self._prices: dict[str, float] = {}
        self._mids: dict[str, float] = {}
        self._marked: set[str] = set()
        self._mark_labels: dict[str, str] = {}
        self._known_symbols: set[str] = set()
        # scopes: the portfolio, one per strategy and per account; who holds each symbol
        # symbol -> the unshared scopes holding it, with the quantity each holds (kept equal to
        # their ledger's symbol_quantity by every fill: a mark needs no lookup per scope)
        self._holders: dict[str, dict[Scope, float]] = {}
        self._overall = Scope("portfolio", "portfolio", settings, self._prices)
        self._strategies: dict[str, Scope] = {}
        self._accounts: dict[str, Scope] = {}
        self._scope_cache: dict[str, dict[str, tuple[Scope, ...]]] = {}  # strategy, account
        self._scope_cached = 0  # entries in the scope cache
        # the last key found in the scope cache and its scopes (most events repeat it)
        self._last_strategy = ""
        self._last_account = ""
        self._last_scopes: tuple[Scope, ...] = ()
        # orders: open, and recently finished oldest first (the deque gives the eviction order)
        self._open: dict[str, OrderState] = {}
        self._finished: dict[str, OrderState] = {}
        self._finished_ids: deque[str] = deque()
        self._max_recent_orders = settings.max_recent_orders
        self._signals: OrderedDict[str, tuple[str, tuple[Scope, ...]]] = OrderedDict()
        self._event_ids = RecentIds(settings.max_event_ids)
        self._trades: deque[TradeRecord] = deque(maxlen=settings.max_recent_trades)
        self._fills: deque[FillRecord] = deque(maxlen=settings.max_recent_fills)
        self._impact = ImpactQueue(
            round(settings.impact_horizon_seconds * _NS), settings.max_pending_impact
        )
        self._equity_curve = EquityCurve(
            settings.equity_curve_points,
            round(settings.equity_curve_interval_seconds * _NS),
            settings.equity_history_points,
            round(settings.equity_history_interval_seconds * _NS),
        )
        self._accounts_reported: dict[str, tuple[float, float | None, float | None, int]] = {}
        # labels (bounded cardinality), counters and histograms for the Prometheus view
        self._symbol_labels = LabelFolder(settings.max_symbols)
        self._strategy_labels = LabelFolder(settings.max_strategies)
        self._account_labels = LabelFolder(settings.max_accounts)
        self._other_labels = LabelFolder(settings.max_symbols)
        # (symbol label, side, order type) -> orders ended per status of TERMINAL_STATUSES
        self._order_counts: dict[tuple[str, str, str], list[int]] = {}
        self._signal_counts: dict[tuple[str, str], int] = {}
        self._error_counts: dict[tuple[str, str], int] = {}
        # events applied per class, in first-seen order; the four common classes count in the
        # plain ints below (their entries here stay 0) and counters() adds them up
        self._event_counts: dict[type, int] = {}
        self._marks_counted = 0
        self._fills_counted = 0
        self._submits_counted = 0
        self._acks_counted = 0
        self._tags: dict[type, str] = {}  # event class -> its type tag, set by the Monitor
        self._anomalies: dict[str, int] = {}
        self._order_latency = Histogram(ORDER_LATENCY_BOUNDS)
        self._ack_latency = Histogram(ACK_LATENCY_BOUNDS)
        self._signal_generation = Histogram(SIGNAL_GENERATION_BOUNDS)
        self._slippage = Histogram(SLIPPAGE_BPS_BOUNDS)
        self._market_data_latency = Histogram(MARKET_DATA_LATENCY_BOUNDS)
        # times, in event time
        self._mark_seen: dict[str, int] = {}
        self._heartbeats: dict[str, int] = {}
        self._last_order_ts: int | None = None
        self._last_event_ts: int | None = None
        self._session_start: int | None = None
        self._session_end: int | None = None
        self._events_applied = 0
        # bumped by every apply (a duplicate changes the anomaly counts too): the figures
        # are cached per version, the returns summaries per session close
        self._version = 0
        self._figures_cache: tuple[int, bool, MonitorFigures] | None = None
        self._summaries: dict[Scope, tuple[Ledger, int, ReturnsSummary]] = {}

    # ------------------------------------------------------------------ scopes, anomalies

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
        if strategy == self._last_strategy and account == self._last_account:
            return self._last_scopes  # a cached key: the same scopes as the cache's
        # the cache by strategy, then account: two string lookups, no key tuple to hash
        cached = self._scope_cache.get(strategy)
        scopes = cached.get(account) if cached is not None else None
        if scopes is not None:
            self._last_strategy = strategy
            self._last_account = account
            self._last_scopes = scopes
        else:
            name = self._strategy_labels(strategy)
            by_strategy = self._strategies.get(name)
            if by_strategy is None:
                by_strategy = self._strategies[name] = self._new_scope("strategy", name)
            name = self._account_labels(account)
            by_account = self._accounts.get(name)
            if by_account is None:
                by_account = self._accounts[name] = self._new_scope("account", name)
            scopes = (self._overall, by_strategy, by_account)
            if self._scope_cached < 4 * (self.settings.max_strategies + 1) * (
                self.settings.max_accounts + 1
            ):
                if cached is None:
                    cached = self._scope_cache[strategy] = {}
                cached[account] = scopes
                self._scope_cached += 1
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
        for symbol, held in scope.ledger.symbol_quantity.items():
            self._holders.setdefault(symbol, {})[scope] = held

    # ------------------------------------------------------------------ plain numbers

    def counters(self) -> CounterState:
        """Return every counter and histogram as plain numbers (copies)."""
        return CounterState(
            orders={
                (*key, status): counts[i]
                for key, counts in self._order_counts.items()
                for i, status in enumerate(TERMINAL_STATUSES)
            },
            signals=dict(self._signal_counts),
            errors=dict(self._error_counts),
            events={
                self._tags[kind]: n + self._counted(kind) for kind, n in self._event_counts.items()
            },
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

    def _counted(self, kind: type) -> int:
        if kind is ev.Mark:
            return self._marks_counted
        if kind is ev.OrderFilled:
            return self._fills_counted
        if kind is ev.OrderSubmitted:
            return self._submits_counted
        if kind is ev.OrderAcknowledged:
            return self._acks_counted
        return 0

    def last_seen(self) -> LastSeen:
        """Return when each source was last heard of, in event time."""
        return LastSeen(
            marks=dict(self._mark_seen),
            heartbeats=dict(self._heartbeats),
            last_order_ts=self._last_order_ts,
            last_event_ts=self._last_event_ts,
        )

    def _keep_fill(
        self,
        order: OrderState,
        *,
        ts: int,
        fill_id: str,
        quantity: float,
        price: float,
        fee: float,
        liquidity: str | None,
    ) -> None:
        # the fills list of /api/v1/fills, with its order's labels
        self._fills.append(
            (
                ts,
                fill_id,
                order.order_id,
                order.symbol,
                order.side,
                quantity,
                price,
                fee,
                liquidity,
                order.strategy,
                order.account,
            )
        )

    # ------------------------------------------------------------------ pages (newest first)

    def order_page(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        strategy: str | None = None,
        account: str | None = None,
    ) -> tuple[int, list[OrderFigures]]:
        """Return ``(total, page)`` of the open and recent orders, newest submission first.

        ``total`` counts the orders that match ``strategy`` and ``account`` (each
        ``None`` for any); ``page`` holds ``limit`` of them from ``offset``.

        .. versionadded:: 0.3.0
        """
        orders = sorted(
            itertools.chain(self._open.values(), self._finished.values()),
            key=lambda order: order.ts_submitted,
            reverse=True,
        )
        total, page = _page(
            orders, offset, limit, _order_labels, strategy=strategy, account=account
        )
        return total, [_readout.order(order) for order in page]

    def trade_page(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        strategy: str | None = None,
        account: str | None = None,
    ) -> tuple[int, list[TradeFigures]]:
        """Return ``(total, page)`` of the recent closed round trips, newest first.

        .. versionadded:: 0.3.0
        """
        total, page = _page(
            reversed(self._trades), offset, limit, _trade_labels, strategy=strategy, account=account
        )
        return total, [_readout.trade(record) for record in page]

    def fill_page(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        strategy: str | None = None,
        account: str | None = None,
    ) -> tuple[int, list[FillFigures]]:
        """Return ``(total, page)`` of the last ``max_recent_fills`` fills, newest first.

        .. versionadded:: 0.3.0
        """
        total, page = _page(
            reversed(self._fills), offset, limit, _fill_labels, strategy=strategy, account=account
        )
        return total, [
            FillFigures(
                fill_id=f[1],
                order_id=f[2],
                symbol=f[3],
                side=f[4],
                quantity=f[5],
                price=f[6],
                fee=f[7],
                liquidity=f[8],
                strategy=f[9],
                account=f[10],
                ts=f[0],
            )
            for f in page
        ]

    def equity_history(self) -> list[tuple[int, float]]:
        """Return the portfolio's equity at the finest resolution kept, oldest first.

        One point per ``equity_history_interval_seconds`` over the last
        ``equity_history_points``, the interval points of ``equity_curve`` before that.

        .. versionadded:: 0.3.0
        """
        return self._equity_curve.history()

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

    def trading_figures(self) -> TradingFigures:
        """Return the portfolio's trading figures alone, as :meth:`figures` has them.

        Cheap (no other scope, no signal windows, no positions or equity curve): what the
        risk guard's state limits read after every applied group of events.

        .. versionadded:: 0.2.0
        """
        overall = self._overall
        summary = _readout.returns_summary(overall, self.settings, self._summaries)
        account = _readout.reported(overall, self._accounts_reported)
        return _readout.trading(overall, self._prices, summary, account, today=self._is_today())

    def execution_figures(self) -> ExecutionFigures:
        """Return the portfolio's execution figures alone, as :meth:`figures` has them.

        Cheap, like :meth:`trading_figures`: what the risk guard's rejection rate reads.

        .. versionadded:: 0.2.0
        """
        overall = self._overall
        return _readout.execution(overall.execution, overall.open_orders)

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
