"""The per-scope metrics: one family per figure, read by attribute from :class:`ScopeFigures`.

Each row names the metric and the figure it exports, so a renamed figure is a type
error, not a gauge that silently turns NaN. The portfolio family is
``trading_<words>_<unit>``; the per strategy and per account families insert
``strategy_`` and ``account_`` and carry that label. Every name is built by
:func:`~algowatch.exporters.metric_name`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from algowatch.exporters._families import trading_name
from algowatch.monitor import ScopeFigures

__all__ = ["SCOPE_METRICS", "ScopeMetric"]


@dataclass(frozen=True, slots=True)
class ScopeMetric:
    """One figure of a scope and the metric that exports it."""

    words: str
    unit: str | None
    help: str
    figure: Callable[[ScopeFigures], float]
    counter: bool = False

    def family(self, scope: str | None = None) -> str:
        """Return the family name for the portfolio, or ``scope`` (``strategy``, ``account``)."""
        words = (scope, self.words) if scope else (self.words,)
        return trading_name(*words, unit=self.unit, total=self.counter)


def _m(
    words: str,
    unit: str | None,
    help_text: str,
    figure: Callable[[ScopeFigures], float],
    *,
    counter: bool = False,
) -> ScopeMetric:
    return ScopeMetric(words, unit, help_text, figure, counter)


SCOPE_METRICS: tuple[ScopeMetric, ...] = (
    _m("realized_pnl", "usd", "Realized P&L since start (FIFO lots, fees included).",
       lambda s: s.trading.realized_pnl),
    _m("unrealized_pnl", "usd", "Unrealized P&L of open lots at the last marks.",
       lambda s: s.trading.unrealized_pnl),
    _m("total_pnl", "usd", "Realized plus unrealized P&L.", lambda s: s.trading.total_pnl),
    _m("daily_pnl", "usd", "P&L since the start of the current session.",
       lambda s: s.trading.daily_pnl),
    _m("total_return", "ratio", "Return since start as a fraction of starting capital.",
       lambda s: s.trading.total_return),
    _m("daily_return", "ratio", "Return of the current session as a fraction.",
       lambda s: s.trading.daily_return),
    _m("sharpe", "ratio", "Annualized Sharpe ratio of session returns (NaN when undefined).",
       lambda s: s.trading.sharpe_ratio),
    _m("sortino", "ratio", "Annualized Sortino ratio of session returns (NaN when undefined).",
       lambda s: s.trading.sortino_ratio),
    _m("calmar", "ratio",
       "Calmar ratio: annualized return over maximum drawdown (NaN when undefined).",
       lambda s: s.trading.calmar_ratio),
    _m("drawdown", "ratio",
       "Current drawdown as a positive fraction of the high-water mark (0.15 = 15%).",
       lambda s: s.trading.current_drawdown),
    _m("max_drawdown", "ratio",
       "Maximum drawdown since start as a positive fraction of the high-water mark.",
       lambda s: s.trading.max_drawdown),
    _m("value_at_risk_95", "ratio",
       "Historical one-period 95% value at risk as a positive loss fraction.",
       lambda s: s.trading.value_at_risk_95),
    _m("expected_shortfall_95", "ratio",
       "95% expected shortfall (CVaR) as a positive loss fraction.",
       lambda s: s.trading.expected_shortfall_95),
    _m("trades_today", None, "Round-trip trades closed in the current session.",
       lambda s: s.trading.trades_today),
    _m("trades", None, "Round-trip trades closed since start.", lambda s: s.trading.trades,
       counter=True),
    _m("win", "ratio", "Share of closed trades with a positive P&L.",
       lambda s: s.trading.win_rate),
    _m("profit_factor", None, "Gross profit over gross loss of closed trades.",
       lambda s: s.trading.profit_factor),
    _m("average_win", "usd", "Mean P&L of winning trades.", lambda s: s.trading.average_win),
    _m("average_loss", "usd", "Mean P&L of losing trades.", lambda s: s.trading.average_loss),
    _m("largest_win", "usd", "Largest P&L of a closed trade.", lambda s: s.trading.largest_win),
    _m("largest_loss", "usd", "Most negative P&L of a closed trade.",
       lambda s: s.trading.largest_loss),
    _m("expectancy", "usd", "Expected P&L per closed trade.", lambda s: s.trading.expectancy),
    _m("open_positions", None, "Symbols with a non-zero position.",
       lambda s: s.trading.open_positions),
    _m("gross_exposure", "usd", "Sum of absolute position values at the last marks.",
       lambda s: s.trading.gross_exposure),
    _m("net_exposure", "usd", "Long minus short position value at the last marks.",
       lambda s: s.trading.net_exposure),
    _m("buying_power_used", "ratio", "Share of buying power in use.",
       lambda s: s.trading.buying_power_used),
    _m("buying_power", "usd", "Available buying power (from account events when reported).",
       lambda s: s.trading.buying_power),
    _m("portfolio_value", "usd", "Portfolio value (equity).",
       lambda s: s.trading.portfolio_value),
    _m("high_water_mark", "usd", "Highest portfolio value so far.",
       lambda s: s.trading.high_water_mark),
    _m("starting_capital", "usd", "Configured starting capital.",
       lambda s: s.trading.starting_capital),
    _m("fees", "usd", "Fees paid since start.", lambda s: s.trading.fees),
    _m("reconciliation_gap", "usd", "Reported equity minus computed portfolio value.",
       lambda s: s.trading.reconciliation_gap),
    _m("mean_order_ack", "seconds", "Mean submit-to-acknowledgement latency.",
       lambda s: s.execution.mean_ack_latency_seconds),
    _m("mean_order_fill", "seconds", "Mean submit-to-completing-fill latency.",
       lambda s: s.execution.mean_fill_latency_seconds),
    _m("mean_market_data_latency", "seconds", "Mean exchange-to-receipt delay of marks.",
       lambda s: s.execution.mean_market_data_latency_seconds),
    _m("mean_slippage", "basis_points",
       "Notional-weighted mean slippage of filled orders vs arrival (positive = unfavourable).",
       lambda s: s.execution.mean_slippage_bps),
    _m("slippage_vs_arrival", "usd",
       "Slippage cost of filled orders against their arrival prices (positive = cost).",
       lambda s: s.execution.slippage_vs_arrival),
    _m("slippage_vs_vwap", "basis_points", "Notional-weighted slippage against the VWAP benchmark.",
       lambda s: s.execution.slippage_vs_vwap_bps),
    _m("fill", "ratio", "Share of submitted orders completely filled.",
       lambda s: s.execution.fill_rate),
    _m("partial_fill", "ratio", "Share of submitted orders filled in part only.",
       lambda s: s.execution.partial_fill_rate),
    _m("rejection", "ratio", "Share of submitted orders rejected.",
       lambda s: s.execution.rejection_rate),
    _m("realized_spread", "basis_points", "Notional-weighted realized spread of fills.",
       lambda s: s.execution.realized_spread_bps),
    _m("price_impact", "basis_points",
       "Notional-weighted price impact of fills over the impact horizon.",
       lambda s: s.execution.price_impact_bps),
    _m("implementation_shortfall", "usd",
       "Implementation shortfall against decision prices (Perold).",
       lambda s: s.execution.implementation_shortfall),
    _m("implementation_shortfall", "basis_points",
       "Implementation shortfall in basis points of decision notional.",
       lambda s: s.execution.implementation_shortfall_bps),
    _m("orders_submitted", None, "Orders submitted since start.",
       lambda s: s.execution.orders_submitted, counter=True),
    _m("open_orders", None, "Orders submitted and not yet in a terminal status.",
       lambda s: s.execution.orders_open),
    _m("signal_accuracy", "ratio", "Share of signal outcomes with a positive P&L.",
       lambda s: s.signals.accuracy),
    _m("signal_direction_accuracy", "ratio", "Share of signal outcomes whose direction was right.",
       lambda s: s.signals.direction_accuracy),
    _m("signal_mean_bars_to_profit", None, "Mean bars from signal to first profit.",
       lambda s: s.signals.mean_bars_to_profit),
    _m("signal_mean_bars_held", None, "Mean bars a signal's position was held.",
       lambda s: s.signals.mean_bars_held),
    _m("signal_mean_confidence", "ratio", "Mean confidence of signals.",
       lambda s: s.signals.mean_confidence),
    _m("signal_volatility", None, "Volatility of signal outcomes (docs/snapshot.md).",
       lambda s: s.signals.volatility),
    _m("signal_decay_rate", None, "Decay rate of signal accuracy (docs/snapshot.md).",
       lambda s: s.signals.decay_rate),
    _m("signal_half_life", "bars",
       "Half-life of signal accuracy (ln 2 over the fitted decay rate), in bars.",
       lambda s: s.signals.half_life_bars),
    _m("signal_autocorrelation", None, "Autocorrelation of the signal series (docs/snapshot.md).",
       lambda s: s.signals.autocorrelation),
    _m("inter_signal_correlation", None,
       "Correlation between strategies' signals (docs/snapshot.md).",
       lambda s: s.signals.inter_signal_correlation),
    _m("signal_outcomes", None, "Signal outcomes recorded since start.",
       lambda s: s.signals.outcomes, counter=True),
)  # fmt: skip
