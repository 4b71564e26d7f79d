"""Pure analytics over numpy arrays: returns, trades, execution, signals, streaming.

No I/O, no logging, no clock and no global state. Batch forms live in
:mod:`~algowatch.analytics.returns`, :mod:`~algowatch.analytics.trades`,
:mod:`~algowatch.analytics.execution` and :mod:`~algowatch.analytics.signals`;
incremental forms for live loops are in :mod:`~algowatch.analytics.streaming`
and agree with the batch forms. The scalar formulas the engine shares with
these functions (slippage, implementation shortfall, spread and impact, profit
factor, drawdown) have one home, ``algowatch._formulas``: the public functions
here validate their inputs and call it.
Definitions and tolerances follow ``ANALYTICS.md`` and are documented in
``docs/metrics.md``.
"""

from algowatch.analytics.downsample import largest_triangle_three_buckets
from algowatch.analytics.execution import (
    ImplementationShortfall,
    implementation_shortfall,
    normalize_side,
    price_impact_bps,
    realized_spread_bps,
    side_sign,
    slippage_bps,
    vwap_deviation_bps,
)
from algowatch.analytics.returns import (
    ReturnsSummary,
    annual_return,
    annual_volatility,
    calmar_ratio,
    current_drawdown,
    drawdown_series,
    expected_shortfall,
    max_drawdown,
    omega_ratio,
    sharpe_ratio,
    sortino_ratio,
    stability_of_timeseries,
    summary,
    tail_ratio,
    value_at_risk,
)
from algowatch.analytics.signals import (
    SignalDecay,
    autocorrelation,
    direction_accuracy,
    hit_rate,
    information_coefficient,
    information_coefficient_by_horizon,
    inter_signal_correlation,
    quantile_turnover,
    signal_decay,
)
from algowatch.analytics.streaming import DrawdownTracker, RollingReturns, RunningMoments
from algowatch.analytics.trades import (
    TradeSummary,
    average_loss,
    average_win,
    expectancy,
    largest_loss,
    largest_win,
    payoff_ratio,
    profit_factor,
    trade_summary,
    win_rate,
)

__all__ = [
    "DrawdownTracker",
    "ImplementationShortfall",
    "ReturnsSummary",
    "RollingReturns",
    "RunningMoments",
    "SignalDecay",
    "TradeSummary",
    "annual_return",
    "annual_volatility",
    "autocorrelation",
    "average_loss",
    "average_win",
    "calmar_ratio",
    "current_drawdown",
    "direction_accuracy",
    "drawdown_series",
    "expectancy",
    "expected_shortfall",
    "hit_rate",
    "implementation_shortfall",
    "information_coefficient",
    "information_coefficient_by_horizon",
    "inter_signal_correlation",
    "largest_loss",
    "largest_triangle_three_buckets",
    "largest_win",
    "max_drawdown",
    "normalize_side",
    "omega_ratio",
    "payoff_ratio",
    "price_impact_bps",
    "profit_factor",
    "quantile_turnover",
    "realized_spread_bps",
    "sharpe_ratio",
    "side_sign",
    "signal_decay",
    "slippage_bps",
    "sortino_ratio",
    "stability_of_timeseries",
    "summary",
    "tail_ratio",
    "trade_summary",
    "value_at_risk",
    "vwap_deviation_bps",
    "win_rate",
]
