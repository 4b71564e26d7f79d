"""Build the typed figures from one scope's state (the engine passes its state in).

The engine owns this module: it does not import the engine, so there is no import
cycle, and it reads no private attribute of anything but the scope objects it is
given. The window-derived signal figures (numpy) are cached on the
:class:`~algowatch.monitor._signals.SignalStats` until a signal or outcome arrives.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from algowatch._formulas import profit_factor
from algowatch.analytics import returns as return_metrics
from algowatch.analytics import signals as signal_metrics
from algowatch.analytics.returns import ReturnsSummary
from algowatch.monitor._figures import (
    ExecutionFigures,
    OrderFigures,
    PositionFigures,
    ScopeFigures,
    SignalFigures,
    TradeFigures,
    TradingFigures,
)

if TYPE_CHECKING:
    from algowatch.monitor._ledger import Ledger, TradeRecord
    from algowatch.monitor._orders import ExecutionStats, OrderState
    from algowatch.monitor._scope import Scope
    from algowatch.monitor._signals import SignalStats
    from algowatch.settings import MonitorSettings

__all__ = [
    "execution",
    "order",
    "positions",
    "reported",
    "returns_summary",
    "scope_figures",
    "signals",
    "trade",
    "trading",
]

_OTHER = "other"
# an account event's (equity, cash, buying power, ts)
Reported = tuple[float, float | None, float | None, int]


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def reported(scope: Scope, accounts: Mapping[str, Reported]) -> tuple[float, float | None] | None:
    """Return ``(equity, buying power)`` reported for ``scope`` by ``account`` events.

    A strategy has none; an account has its own; the portfolio sums all accounts.
    """
    if scope.kind == "strategy" or not accounts:
        return None
    if scope.kind == "account":
        entry = accounts.get(scope.name)
        return None if entry is None else (entry[0], entry[2])
    equity = math.fsum(entry[0] for entry in accounts.values())
    powers = [entry[2] for entry in accounts.values() if entry[2] is not None]
    return equity, (math.fsum(powers) if powers else None)


def returns_summary(
    scope: Scope,
    settings: MonitorSettings,
    cache: dict[Scope, tuple[Ledger, int, ReturnsSummary]],
) -> ReturnsSummary:
    """Return the summary of ``scope``'s session returns (kept in ``cache`` until a session closes).

    The session returns change only when a session closes, so the numpy summary is
    computed once per session and scope, not on every read.
    """
    ledger = scope.ledger
    cached = cache.get(scope)
    if cached is None or cached[0] is not ledger or cached[1] != ledger.sessions_closed:
        result = return_metrics.summary(
            list(ledger.session_returns),
            risk_free=settings.risk_free,
            periods_per_year=settings.periods_per_year,
            confidence=0.95,
        )
        cached = cache[scope] = (ledger, ledger.sessions_closed, result)
    return cached[2]


def scope_figures(
    scope: Scope,
    prices: dict[str, float],
    summary: ReturnsSummary,
    accounts: Mapping[str, Reported],
    open_orders: int,
    *,
    today: bool,
) -> ScopeFigures:
    """Return the trading, execution and signal figures of ``scope``."""
    account = reported(scope, accounts)
    return ScopeFigures(
        trading=trading(scope, prices, summary, account, today=today),
        execution=execution(scope.execution, open_orders),
        signals=signals(scope.signals),
    )


def trading(
    scope: Scope,
    prices: dict[str, float],
    summary: ReturnsSummary,
    account: tuple[float, float | None] | None,
    *,
    today: bool,
) -> TradingFigures:
    """Return the trading figures of ``scope`` (``summary``: of its session returns)."""
    ledger = scope.ledger
    unrealized = ledger.unrealized(prices)
    realized = ledger.realized
    capital = ledger.starting_capital
    total = realized + unrealized
    equity = capital + total
    daily_pnl = equity - ledger.session_open_equity if today else 0.0
    trades = scope.trades
    gross, net = ledger.exposures(prices)
    if account is None:
        portfolio_value = equity
        buying_power = math.nan
        gap = math.nan
    else:
        reported_equity, reported_power = account
        portfolio_value = reported_equity
        buying_power = math.nan if reported_power is None else reported_power
        gap = reported_equity - equity
    return TradingFigures(
        realized_pnl=realized,
        unrealized_pnl=unrealized,
        total_pnl=total,
        daily_pnl=daily_pnl,
        total_return=_ratio(total, capital),
        daily_return=_ratio(daily_pnl, ledger.session_open_equity),
        sharpe_ratio=summary.sharpe_ratio,
        sortino_ratio=summary.sortino_ratio,
        calmar_ratio=summary.calmar_ratio,
        current_drawdown=ledger.current_drawdown(),
        max_drawdown=ledger.max_drawdown,
        value_at_risk_95=-summary.value_at_risk,
        expected_shortfall_95=-summary.expected_shortfall,
        trades_today=ledger.trades_today if today else 0,
        trades=trades.count,
        win_rate=_ratio(trades.wins, trades.count),
        profit_factor=profit_factor(trades.gross_profit, -trades.gross_loss),
        average_win=_ratio(trades.gross_profit, trades.wins),
        average_loss=_ratio(trades.gross_loss, trades.losses),
        largest_win=trades.largest_win,
        largest_loss=trades.largest_loss,
        expectancy=_ratio(trades.total, trades.count),
        open_positions=len(ledger.positions),
        gross_exposure=gross,
        net_exposure=net,
        buying_power_used=_ratio(gross, gross + buying_power),
        buying_power=buying_power,
        portfolio_value=portfolio_value,
        equity=equity,
        high_water_mark=ledger.high_water_mark,
        starting_capital=capital,
        fees=ledger.fees,
        reconciliation_gap=gap,
        sessions=len(ledger.session_returns),
    )


def execution(stats: ExecutionStats, open_orders: int) -> ExecutionFigures:
    """Return the execution figures of one scope's folded orders."""
    submitted = stats.submitted
    return ExecutionFigures(
        mean_ack_latency_seconds=_ratio(stats.ack_sum, stats.ack_count),
        mean_fill_latency_seconds=_ratio(stats.fill_latency_sum, stats.fill_latency_count),
        mean_market_data_latency_seconds=_ratio(stats.market_data_sum, stats.market_data_count),
        mean_slippage_bps=_ratio(stats.slippage_sum, stats.slippage_notional),
        slippage_vs_arrival=stats.slippage_cost if stats.slippage_notional else math.nan,
        slippage_vs_vwap_bps=_ratio(stats.vwap_sum, stats.vwap_notional),
        fill_rate=_ratio(stats.filled, submitted),
        partial_fill_rate=_ratio(stats.partially_filled, submitted),
        rejection_rate=_ratio(stats.rejected, submitted),
        realized_spread_bps=_ratio(stats.spread_sum, stats.impact_notional),
        price_impact_bps=_ratio(stats.impact_sum, stats.impact_notional),
        implementation_shortfall=stats.shortfall if stats.shortfall_notional else math.nan,
        implementation_shortfall_bps=_ratio(stats.shortfall * 1e4, stats.shortfall_notional),
        orders_submitted=submitted,
        orders_filled=stats.filled,
        orders_partially_filled=stats.partially_filled,
        orders_rejected=stats.rejected,
        orders_canceled=stats.canceled,
        orders_open=open_orders,
    )


def _volatility(values: np.ndarray) -> float:
    # sample standard deviation (ddof=1) of the signed strengths; NaN below two values
    if values.shape[0] < 2:
        return math.nan
    return float(np.std(values, ddof=1))


def _decay(buckets: dict[int, list[int]]) -> signal_metrics.SignalDecay:
    # the edge 2 * accuracy - 1 at each horizon plays the part of the IC by horizon
    horizons = sorted(buckets)
    edges = [2.0 * buckets[h][0] / buckets[h][1] - 1.0 for h in horizons]
    return signal_metrics.signal_decay(np.asarray(horizons, dtype=float), np.asarray(edges))


def _inter_correlation(rows: list[tuple[float, ...]]) -> float:
    width = len(rows[-1]) if rows else 0
    if width < 2:
        return math.nan
    matrix = np.full((len(rows), width), np.nan)
    for index, row in enumerate(rows):
        matrix[index, : len(row)] = row
    return signal_metrics.inter_signal_correlation(matrix)


def _windows(stats: SignalStats) -> tuple[float, float, float, float, float]:
    # (volatility, decay rate, half-life, autocorrelation, inter-signal correlation)
    strengths = np.fromiter(stats.strengths, dtype=float, count=len(stats.strengths))
    decay = _decay(stats.decay)
    autocorrelation = (
        signal_metrics.autocorrelation(strengths) if strengths.shape[0] >= 2 else math.nan
    )
    return (
        _volatility(strengths),
        decay.decay_rate,
        decay.half_life,
        autocorrelation,
        _inter_correlation(list(stats.rows)),
    )


def signals(stats: SignalStats) -> SignalFigures:
    """Return the signal figures of one scope.

    The window-derived figures (pairwise correlations, decay fit) are recomputed only
    when a signal or outcome arrived since they were last computed.
    """
    cached = stats.cached_windows
    if cached is None or cached[0] != stats.version:
        cached = stats.cached_windows = (stats.version, _windows(stats))
    volatility, decay_rate, half_life, autocorrelation, correlation = cached[1]
    return SignalFigures(
        accuracy=_ratio(stats.profitable, stats.pnl_known),
        direction_accuracy=_ratio(stats.direction_hits, stats.matched),
        mean_bars_to_profit=_ratio(stats.bars_to_profit_sum, stats.bars_to_profit_count),
        mean_bars_held=_ratio(stats.bars_held_sum, stats.bars_held_count),
        mean_confidence=_ratio(stats.confidence_sum, stats.confidence_count),
        volatility=volatility,
        decay_rate=decay_rate,
        half_life_bars=half_life,
        autocorrelation=autocorrelation,
        inter_signal_correlation=correlation,
        signals=stats.signals,
        outcomes=stats.outcomes,
    )


def positions(
    ledger: Ledger, prices: dict[str, float], labels: set[str]
) -> tuple[PositionFigures, ...]:
    """Return the open positions of ``ledger``, sorted by account and symbol.

    ``labels`` is the set of symbols the engine keeps as their own label; every
    other symbol's label is ``"other"``.
    """
    rows = []
    for (account, symbol), position in sorted(ledger.positions.items()):
        quantity = position.quantity
        mark = prices.get(symbol, math.nan)
        value = quantity * mark
        rows.append(
            PositionFigures(
                account=account,
                symbol=symbol,
                label=symbol if symbol in labels else _OTHER,
                quantity=quantity,
                average_cost=position.cost / quantity if quantity else math.nan,
                mark=mark,
                market_value=value,
                unrealized_pnl=value - position.cost,
                lots=position.open_lots(),
            )
        )
    return tuple(rows)


def trade(record: TradeRecord) -> TradeFigures:
    """Return the figures of one closed round trip."""
    return TradeFigures(
        account=record.account,
        symbol=record.symbol,
        strategy=record.strategy,
        side=record.side,
        quantity=record.max_quantity,
        entry_ts=record.entry_ts,
        exit_ts=record.exit_ts,
        entry_price=_ratio(record.entry_notional, record.entry_quantity),
        exit_price=_ratio(record.exit_notional, record.exit_quantity),
        pnl=record.pnl,
        fees=record.fees,
        fills=record.fills,
        duration_seconds=(record.exit_ts - record.entry_ts) / 1e9,
    )


def order(state: OrderState) -> OrderFigures:
    """Return the figures of one open or finished order."""
    return OrderFigures(
        order_id=state.order_id,
        symbol=state.symbol,
        side=state.side,
        order_type=state.order_type,
        quantity=state.quantity,
        filled_quantity=state.filled,
        average_price=state.average_price(),
        fees=state.fees,
        status=state.status,
        strategy=state.strategy,
        account=state.account,
        submitted_ts=state.ts_submitted,
        acknowledged_ts=state.ts_ack,
        updated_ts=state.last_ts,
        arrival_price=state.arrival,
        decision_price=state.decision,
        slippage_bps=state.slippage_bps(),
    )
