"""The table from snapshot fields to metric names (one row per exported field).

Fields left out duplicate another metric (``orders_filled`` is
``trading_orders_total{status="filled"}``) and are listed in
:data:`NOT_EXPORTED` with the metric that carries them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from algowatch.exporters._naming import metric_name

__all__ = ["FIELDS", "NOT_EXPORTED", "Field"]

Kind = Literal["gauge", "counter"]
Scale = Literal["one", "milli"]


@dataclass(frozen=True, slots=True)
class Field:
    """One snapshot field and the metric it becomes.

    ``name`` is the family name without the ``trading_`` namespace (the per
    strategy and per account families insert ``strategy_`` or ``account_``);
    counters carry ``_total``. ``scale`` converts the snapshot's milliseconds to
    seconds (``milli``).
    """

    section: Literal["trading", "execution", "signals"]
    key: str
    name: str
    kind: Kind
    help: str
    scale: Scale = "one"

    @property
    def metric(self) -> str:
        """Return the portfolio-level metric name."""
        return f"trading_{self.name}"


def _f(
    section: Literal["trading", "execution", "signals"],
    key: str,
    words: str,
    unit: str | None,
    help_text: str,
    *,
    kind: Kind = "gauge",
    scale: Scale = "one",
) -> Field:
    full = metric_name("trading", words, unit=unit, total=kind == "counter")
    return Field(section, key, full.removeprefix("trading_"), kind, help_text, scale)


FIELDS: tuple[Field, ...] = (
    _f(
        "trading",
        "realized_pnl",
        "realized_pnl",
        "usd",
        "Realized P&L since start (FIFO lots, fees included).",
    ),
    _f(
        "trading",
        "unrealized_pnl",
        "unrealized_pnl",
        "usd",
        "Unrealized P&L of open lots at the last marks.",
    ),
    _f("trading", "total_pnl", "total_pnl", "usd", "Realized plus unrealized P&L."),
    _f("trading", "daily_pnl", "daily_pnl", "usd", "P&L since the start of the current session."),
    _f(
        "trading",
        "total_return",
        "total_return",
        "ratio",
        "Return since start as a fraction of starting capital.",
    ),
    _f(
        "trading",
        "daily_return",
        "daily_return",
        "ratio",
        "Return of the current session as a fraction.",
    ),
    _f(
        "trading",
        "sharpe_ratio",
        "sharpe",
        "ratio",
        "Annualized Sharpe ratio of session returns (NaN when undefined).",
    ),
    _f(
        "trading",
        "sortino_ratio",
        "sortino",
        "ratio",
        "Annualized Sortino ratio of session returns (NaN when undefined).",
    ),
    _f(
        "trading",
        "calmar_ratio",
        "calmar",
        "ratio",
        "Calmar ratio: annualized return over maximum drawdown (NaN when undefined).",
    ),
    _f(
        "trading",
        "current_drawdown",
        "drawdown",
        "ratio",
        "Current drawdown as a positive fraction of the high-water mark (0.15 = 15%).",
    ),
    _f(
        "trading",
        "max_drawdown",
        "max_drawdown",
        "ratio",
        "Maximum drawdown since start as a positive fraction of the high-water mark.",
    ),
    _f(
        "trading",
        "var_95",
        "value_at_risk_95",
        "ratio",
        "Historical one-period 95% value at risk as a positive loss fraction.",
    ),
    _f(
        "trading",
        "expected_shortfall",
        "expected_shortfall_95",
        "ratio",
        "95% expected shortfall (CVaR) as a positive loss fraction.",
    ),
    _f(
        "trading",
        "num_trades_today",
        "trades_today",
        None,
        "Round-trip trades closed in the current session.",
    ),
    _f(
        "trading",
        "num_trades",
        "trades",
        None,
        "Round-trip trades closed since start.",
        kind="counter",
    ),
    _f("trading", "win_rate", "win", "ratio", "Share of closed trades with a positive P&L."),
    _f(
        "trading",
        "profit_factor",
        "profit_factor",
        None,
        "Gross profit over gross loss of closed trades.",
    ),
    _f("trading", "avg_win", "average_win", "usd", "Mean P&L of winning trades."),
    _f("trading", "avg_loss", "average_loss", "usd", "Mean P&L of losing trades."),
    _f("trading", "largest_win", "largest_win", "usd", "Largest P&L of a closed trade."),
    _f("trading", "largest_loss", "largest_loss", "usd", "Most negative P&L of a closed trade."),
    _f("trading", "expectancy", "expectancy", "usd", "Expected P&L per closed trade."),
    _f("trading", "num_positions", "open_positions", None, "Symbols with a non-zero position."),
    _f(
        "trading",
        "gross_exposure",
        "gross_exposure",
        "usd",
        "Sum of absolute position values at the last marks.",
    ),
    _f(
        "trading",
        "net_exposure",
        "net_exposure",
        "usd",
        "Long minus short position value at the last marks.",
    ),
    _f(
        "trading",
        "buying_power_used",
        "buying_power_used",
        "ratio",
        "Share of buying power in use.",
    ),
    _f(
        "trading",
        "buying_power",
        "buying_power",
        "usd",
        "Available buying power (from account events when reported).",
    ),
    _f("trading", "portfolio_value", "portfolio_value", "usd", "Portfolio value (equity)."),
    _f("trading", "high_water_mark", "high_water_mark", "usd", "Highest portfolio value so far."),
    _f("trading", "starting_capital", "starting_capital", "usd", "Configured starting capital."),
    _f("trading", "fees", "fees", "usd", "Fees paid since start."),
    _f(
        "trading",
        "reconciliation_gap",
        "reconciliation_gap",
        "usd",
        "Reported equity minus computed portfolio value.",
    ),
    _f(
        "execution",
        "order_to_ack_ms",
        "mean_order_ack",
        "seconds",
        "Mean submit-to-acknowledgement latency.",
        scale="milli",
    ),
    _f(
        "execution",
        "order_to_fill_ms",
        "mean_order_fill",
        "seconds",
        "Mean submit-to-completing-fill latency.",
        scale="milli",
    ),
    _f(
        "execution",
        "market_data_latency_ms",
        "mean_market_data_latency",
        "seconds",
        "Mean exchange-to-receipt delay of marks.",
        scale="milli",
    ),
    _f(
        "execution",
        "avg_slippage_bps",
        "mean_slippage",
        "basis_points",
        "Notional-weighted mean slippage of filled orders vs arrival (positive = unfavourable).",
    ),
    _f(
        "execution",
        "slippage_vs_arrival",
        "slippage_vs_arrival",
        "usd",
        "Slippage cost of filled orders against their arrival prices (positive = cost).",
    ),
    _f(
        "execution",
        "slippage_vs_vwap",
        "slippage_vs_vwap",
        "basis_points",
        "Notional-weighted slippage against the VWAP benchmark.",
    ),
    _f("execution", "fill_rate", "fill", "ratio", "Share of submitted orders completely filled."),
    _f(
        "execution",
        "partial_fill_rate",
        "partial_fill",
        "ratio",
        "Share of submitted orders filled in part only.",
    ),
    _f("execution", "rejection_rate", "rejection", "ratio", "Share of submitted orders rejected."),
    _f(
        "execution",
        "realized_spread_bps",
        "realized_spread",
        "basis_points",
        "Notional-weighted realized spread of fills.",
    ),
    _f(
        "execution",
        "price_impact_bps",
        "price_impact",
        "basis_points",
        "Notional-weighted price impact of fills over the impact horizon.",
    ),
    _f(
        "execution",
        "implementation_shortfall",
        "implementation_shortfall",
        "usd",
        "Implementation shortfall against decision prices (Perold).",
    ),
    _f(
        "execution",
        "implementation_shortfall_bps",
        "implementation_shortfall",
        "basis_points",
        "Implementation shortfall in basis points of decision notional.",
    ),
    _f(
        "execution",
        "orders_submitted",
        "orders_submitted",
        None,
        "Orders submitted since start.",
        kind="counter",
    ),
    _f(
        "execution",
        "orders_open",
        "open_orders",
        None,
        "Orders submitted and not yet in a terminal status.",
    ),
    _f(
        "signals",
        "signal_accuracy",
        "signal_accuracy",
        "ratio",
        "Share of signal outcomes with a positive P&L.",
    ),
    _f(
        "signals",
        "direction_accuracy",
        "signal_direction_accuracy",
        "ratio",
        "Share of signal outcomes whose direction was right.",
    ),
    _f(
        "signals",
        "avg_bars_to_profit",
        "signal_mean_bars_to_profit",
        None,
        "Mean bars from signal to first profit.",
    ),
    _f(
        "signals",
        "avg_bars_held",
        "signal_mean_bars_held",
        None,
        "Mean bars a signal's position was held.",
    ),
    _f(
        "signals",
        "avg_signal_confidence",
        "signal_mean_confidence",
        "ratio",
        "Mean confidence of signals.",
    ),
    _f(
        "signals",
        "signal_volatility",
        "signal_volatility",
        None,
        "Volatility of signal outcomes (docs/snapshot.md).",
    ),
    _f(
        "signals",
        "signal_decay_rate",
        "signal_decay_rate",
        None,
        "Decay rate of signal accuracy (docs/snapshot.md).",
    ),
    _f(
        "signals",
        "signal_half_life",
        "signal_half_life",
        "bars",
        "Half-life of signal accuracy (ln 2 over the fitted decay rate), in bars.",
    ),
    _f(
        "signals",
        "signal_autocorrelation",
        "signal_autocorrelation",
        None,
        "Autocorrelation of the signal series (docs/snapshot.md).",
    ),
    _f(
        "signals",
        "inter_signal_correlation",
        "inter_signal_correlation",
        None,
        "Correlation between strategies' signals (docs/snapshot.md).",
    ),
    _f(
        "signals",
        "outcomes_total",
        "signal_outcomes",
        None,
        "Signal outcomes recorded since start.",
        kind="counter",
    ),
)

#: Snapshot fields not exported on their own, and the metric that carries them.
NOT_EXPORTED: dict[str, str] = {
    "trading.avg_slippage": "trading_mean_slippage_basis_points",
    "trading.avg_fill_time_ms": "trading_mean_order_fill_seconds",
    "trading.order_rejection_rate": "trading_rejection_ratio",
    "execution.orders_filled": 'trading_orders_total{status="filled"}',
    "execution.orders_partially_filled": 'trading_orders_total{status="partially_filled"}',
    "execution.orders_rejected": 'trading_orders_total{status="rejected"}',
    "execution.orders_canceled": 'trading_orders_total{status="canceled"}',
    "signals.signals_total": "trading_signals_total",
}
