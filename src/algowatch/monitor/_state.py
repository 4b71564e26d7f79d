"""Everything the engine keeps: the fields of :class:`~algowatch.monitor.Monitor`.

:class:`EngineState` builds them from the settings, with their bounds, and
returns its counters and "last seen" times as plain numbers; the ``Monitor``
subclass adds the behaviour (applying events, building the figures). Each field
is bounded by a setting (``docs/engine.md``, "Memory"). Compiled with the engine
(see :mod:`algowatch._native`).
"""

from __future__ import annotations

from collections import OrderedDict, deque

from mypy_extensions import mypyc_attr

from algowatch.analytics.returns import ReturnsSummary
from algowatch.clock import Clock
from algowatch.monitor._bounded import LabelFolder, RecentIds
from algowatch.monitor._curve import EquityCurve
from algowatch.monitor._figures import MonitorFigures
from algowatch.monitor._histogram import Histogram
from algowatch.monitor._impact import ImpactQueue
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

__all__ = ["EngineState"]

_NS = 1_000_000_000


@mypyc_attr(allow_interpreted_subclasses=True)  # Monitor, and through it tests and users
class EngineState:
    """The engine's fields, built from ``settings``; ``clock`` is a live service's wall clock."""

    def __init__(self, settings: MonitorSettings, clock: Clock | None) -> None:
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
        self._holders: dict[str, dict[Scope, None]] = {}
        self._overall = Scope("portfolio", "portfolio", settings, self._prices)
        self._strategies: dict[str, Scope] = {}
        self._accounts: dict[str, Scope] = {}
        self._scope_cache: dict[tuple[str, str], tuple[Scope, ...]] = {}
        # orders: open, and recently finished oldest first (the deque gives the eviction order)
        self._open: dict[str, OrderState] = {}
        self._finished: dict[str, OrderState] = {}
        self._finished_ids: deque[str] = deque()
        self._max_recent_orders = settings.max_recent_orders
        self._signals: OrderedDict[str, tuple[str, tuple[Scope, ...]]] = OrderedDict()
        self._event_ids = RecentIds(settings.max_event_ids)
        self._trades: deque[TradeRecord] = deque(maxlen=settings.max_recent_trades)
        self._impact = ImpactQueue(
            round(settings.impact_horizon_seconds * _NS), settings.max_pending_impact
        )
        self._equity_curve = EquityCurve(
            settings.equity_curve_points, round(settings.equity_curve_interval_seconds * _NS)
        )
        self._accounts_reported: dict[str, tuple[float, float | None, float | None, int]] = {}
        # labels (bounded cardinality), counters and histograms for the Prometheus view
        self._symbol_labels = LabelFolder(settings.max_symbols)
        self._strategy_labels = LabelFolder(settings.max_strategies)
        self._account_labels = LabelFolder(settings.max_accounts)
        self._other_labels = LabelFolder(settings.max_symbols)
        self._order_counts: dict[tuple[str, str, str, str], int] = {}
        self._signal_counts: dict[tuple[str, str], int] = {}
        self._error_counts: dict[tuple[str, str], int] = {}
        self._event_counts: dict[type, int] = {}
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
