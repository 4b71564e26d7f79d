"""The engine's read side: frozen, typed figures in base units.

:meth:`Monitor.figures <algowatch.monitor.Monitor.figures>` returns one
:class:`MonitorFigures`, cached until the next applied event. Every number is in
base units: money in the account currency, durations in seconds, fractions (not
percent), quantities signed (negative = short), timestamps in UNIX nanoseconds;
an undefined value (too little data, zero variance) is NaN, never 0.

The JSON snapshot (``docs/snapshot.md``) is a rendering of these figures made at
the HTTP edge (:mod:`algowatch.server`), and the Prometheus collectors
(:mod:`algowatch.exporters`) read them attribute by attribute.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "ExecutionFigures",
    "MonitorFigures",
    "OrderFigures",
    "PositionFigures",
    "ScopeFigures",
    "SignalFigures",
    "TradeFigures",
    "TradingFigures",
]


@dataclass(frozen=True, slots=True)
class TradingFigures:
    """P&L, returns, risk, trade statistics and exposure of one scope.

    Attributes
    ----------
    realized_pnl, unrealized_pnl, total_pnl
        FIFO realized P&L (fees included), unrealized P&L of the open lots at the
        last marks, and their sum.
    daily_pnl
        Equity minus the equity at the start of the current session (0 once a
        live service's clock has left the session with no event yet).
    total_return, daily_return
        ``total_pnl`` over the starting capital; ``daily_pnl`` over the
        session's opening equity (fractions).
    sharpe_ratio, sortino_ratio, calmar_ratio
        Of the session returns (``ANALYTICS.md``).
    current_drawdown, max_drawdown
        Positive fractions of the high-water mark (0.15 = 15%).
    value_at_risk_95, expected_shortfall_95
        Historical one-session 95% VaR and expected shortfall as positive loss
        fractions.
    trades_today, trades
        Round trips closed in the current session and since start.
    win_rate, profit_factor
        Share of winning trades; gross profit over gross loss (``inf`` with no
        loss, NaN with no trade).
    average_win, average_loss, largest_win, largest_loss, expectancy
        Per-trade P&L statistics (currency).
    open_positions
        ``(account, symbol)`` pairs with an open position.
    gross_exposure, net_exposure
        Sum of absolute position values; long minus short value.
    buying_power, buying_power_used
        From ``account`` events (NaN when none reported) and the share in use.
    portfolio_value
        The reported equity when ``account`` events report it, else ``equity``.
    equity, high_water_mark, starting_capital, fees
        Computed equity (starting capital + P&L), its highest value, the
        configured capital and the fees paid.
    reconciliation_gap
        Reported equity minus computed equity (NaN when none is reported).
    sessions
        Session returns recorded (closed sessions in the rolling window).
    """

    realized_pnl: float
    unrealized_pnl: float
    total_pnl: float
    daily_pnl: float
    total_return: float
    daily_return: float
    sharpe_ratio: float
    sortino_ratio: float
    calmar_ratio: float
    current_drawdown: float
    max_drawdown: float
    value_at_risk_95: float
    expected_shortfall_95: float
    trades_today: int
    trades: int
    win_rate: float
    profit_factor: float
    average_win: float
    average_loss: float
    largest_win: float
    largest_loss: float
    expectancy: float
    open_positions: int
    gross_exposure: float
    net_exposure: float
    buying_power_used: float
    buying_power: float
    portfolio_value: float
    equity: float
    high_water_mark: float
    starting_capital: float
    fees: float
    reconciliation_gap: float
    sessions: int


@dataclass(frozen=True, slots=True)
class ExecutionFigures:
    """Order latency, fill quality, slippage and order counts of one scope.

    Attributes
    ----------
    mean_ack_latency_seconds, mean_fill_latency_seconds
        Mean submit-to-acknowledgement and submit-to-completing-fill latency.
    mean_market_data_latency_seconds
        Mean exchange-to-receipt delay of marks that carry ``exchange_ts``.
    mean_slippage_bps
        Notional-weighted slippage of filled orders against arrival (positive =
        unfavourable).
    slippage_vs_arrival
        The same as a cost in currency.
    slippage_vs_vwap_bps
        Notional-weighted slippage against the VWAP the fills report.
    fill_rate, partial_fill_rate, rejection_rate
        Completely filled, partly filled then canceled, and rejected orders over
        orders submitted.
    realized_spread_bps, price_impact_bps
        Notional-weighted realized spread and price impact over the impact horizon.
    implementation_shortfall, implementation_shortfall_bps
        Perold's shortfall against decision prices, in currency and in bps of
        the decision notional.
    orders_submitted, orders_filled, orders_partially_filled, orders_rejected,
    orders_canceled, orders_open
        Order counts since start (``orders_open``: not yet terminal).
    """

    mean_ack_latency_seconds: float
    mean_fill_latency_seconds: float
    mean_market_data_latency_seconds: float
    mean_slippage_bps: float
    slippage_vs_arrival: float
    slippage_vs_vwap_bps: float
    fill_rate: float
    partial_fill_rate: float
    rejection_rate: float
    realized_spread_bps: float
    price_impact_bps: float
    implementation_shortfall: float
    implementation_shortfall_bps: float
    orders_submitted: int
    orders_filled: int
    orders_partially_filled: int
    orders_rejected: int
    orders_canceled: int
    orders_open: int


@dataclass(frozen=True, slots=True)
class SignalFigures:
    """Signal quality of one scope (definitions in :mod:`algowatch.monitor._signals`).

    Attributes
    ----------
    accuracy
        Outcomes with a positive P&L over outcomes that report one.
    direction_accuracy
        Matched outcomes whose direction was right.
    mean_bars_to_profit, mean_bars_held, mean_confidence
        Means over the outcomes (signals) that report them.
    volatility, autocorrelation
        Sample standard deviation and lag-1 autocorrelation of the signed strengths.
    decay_rate, half_life_bars
        The fitted decay of the edge by horizon, and ``ln 2`` over it in bars.
    inter_signal_correlation
        Mean pairwise correlation of the per-symbol strength series.
    signals, outcomes
        Signals and outcomes recorded since start.
    """

    accuracy: float
    direction_accuracy: float
    mean_bars_to_profit: float
    mean_bars_held: float
    mean_confidence: float
    volatility: float
    decay_rate: float
    half_life_bars: float
    autocorrelation: float
    inter_signal_correlation: float
    signals: int
    outcomes: int


@dataclass(frozen=True, slots=True)
class ScopeFigures:
    """The trading, execution and signal figures of the portfolio, a strategy or an account."""

    trading: TradingFigures
    execution: ExecutionFigures
    signals: SignalFigures


@dataclass(frozen=True, slots=True)
class PositionFigures:
    """One open position of the portfolio on ``(account, symbol)``.

    Attributes
    ----------
    account, symbol
        Where the position is held.
    label
        The symbol's Prometheus label: the symbol itself, or ``"other"`` when it
        came after the first ``max_symbols`` symbols the engine saw (the engine's
        one folding decision, shared by every exporter).
    quantity
        Signed open quantity (negative = short).
    average_cost
        Cost basis per unit (opening fees included).
    mark, market_value, unrealized_pnl
        The last price (NaN before any), ``quantity * mark`` and its P&L.
    lots
        Open FIFO lots.
    """

    account: str
    symbol: str
    label: str
    quantity: float
    average_cost: float
    mark: float
    market_value: float
    unrealized_pnl: float
    lots: int


@dataclass(frozen=True, slots=True)
class MonitorFigures:
    """Everything the engine knows, as of one moment.

    Attributes
    ----------
    as_of_ts
        "Now" in UNIX ns: the wall clock of a live service, the latest event's time
        in a replay (``None`` before any event).
    currency
        The account currency of every amount.
    events_applied
        Events applied since start (duplicates excluded).
    session_start_ts, session_end_ts, session_timezone
        The current session (UNIX ns; ``None`` before the first event).
    portfolio
        The whole portfolio.
    strategies, accounts
        Per strategy and per account, sorted by name (labels past the caps are
        folded into ``"other"``).
    positions
        Open positions, sorted by account and symbol.
    equity_curve
        ``(ts, equity)`` points of the portfolio, oldest first: the last equity of
        each ``equity_curve_interval_seconds`` interval.
    anomalies
        Odd events the engine tolerated, by kind, sorted.
    """

    as_of_ts: int | None
    currency: str
    events_applied: int
    session_start_ts: int | None
    session_end_ts: int | None
    session_timezone: str
    portfolio: ScopeFigures
    strategies: Mapping[str, ScopeFigures]
    accounts: Mapping[str, ScopeFigures]
    positions: tuple[PositionFigures, ...]
    equity_curve: tuple[tuple[int, float], ...]
    anomalies: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class TradeFigures:
    """One closed round trip (flat to flat) on ``(account, symbol)``.

    Attributes
    ----------
    account, symbol, strategy
        Where it was traded and by which strategy (the one that opened it).
    side
        ``"long"`` or ``"short"``.
    quantity
        The largest absolute position of the round trip.
    entry_ts, exit_ts
        First and last fill (UNIX ns).
    entry_price, exit_price
        Volume-weighted prices of the opening and closing fills (NaN if none).
    pnl, fees
        Realized P&L (fees included) and the fees paid.
    fills
        Fills that took part.
    duration_seconds
        ``exit_ts - entry_ts`` in seconds.
    """

    account: str
    symbol: str
    strategy: str
    side: str
    quantity: float
    entry_ts: int
    exit_ts: int
    entry_price: float
    exit_price: float
    pnl: float
    fees: float
    fills: int
    duration_seconds: float


@dataclass(frozen=True, slots=True)
class OrderFigures:
    """One open or recently finished order.

    Attributes
    ----------
    order_id, symbol, side, order_type, strategy, account
        As submitted.
    quantity, filled_quantity
        Ordered and filled so far.
    average_price
        Volume-weighted fill price (NaN before any fill).
    fees
        Fees of its fills.
    status
        ``submitted``, ``acknowledged``, ``partially_filled``, ``filled``,
        ``rejected`` or ``canceled``.
    submitted_ts, acknowledged_ts, updated_ts
        UNIX ns (``acknowledged_ts`` is ``None`` before an acknowledgement).
    arrival_price, decision_price
        The benchmarks it is judged against (``None`` when unknown).
    slippage_bps
        Slippage of its fills against the arrival price (NaN when undefined).
    """

    order_id: str
    symbol: str
    side: str
    order_type: str
    quantity: float
    filled_quantity: float
    average_price: float
    fees: float
    status: str
    strategy: str
    account: str
    submitted_ts: int
    acknowledged_ts: int | None
    updated_ts: int
    arrival_price: float | None
    decision_price: float | None
    slippage_bps: float


@dataclass(frozen=True, slots=True)
class FillFigures:
    """One fill of a recent order.

    Attributes
    ----------
    fill_id, order_id
        As reported.
    symbol, side, strategy, account
        Those of its order.
    quantity, price, fee
        As reported (``fee`` in account currency).
    liquidity
        ``maker``, ``taker`` or ``None`` when not reported.
    ts
        Event time, UNIX ns.

    .. versionadded:: 0.3.0
    """

    fill_id: str
    order_id: str
    symbol: str
    side: str
    quantity: float
    price: float
    fee: float
    liquidity: str | None
    strategy: str
    account: str
    ts: int
