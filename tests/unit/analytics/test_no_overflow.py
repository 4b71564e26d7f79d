"""No public analytics function overflows: unbounded values are inf, never an exception.

Property tests over the whole finite float range (and NaN as missing data), with
``periods_per_year`` up to 525,600 (one-minute bars, 24/7). The suite runs with
``filterwarnings = error``, so a numpy overflow warning fails here too.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import astuple

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from algowatch import analytics
from algowatch.analytics import returns as metrics

# Every finite double, plus NaN (missing data): sums, products and powers of these overflow.
values = st.floats(allow_nan=True, allow_infinity=False)
series = st.lists(values, max_size=40)
# Modest returns too, since the wide strategy rarely hits "small but compounding".
small_returns = st.lists(
    st.floats(min_value=-0.999, max_value=10.0, allow_nan=False), min_size=1, max_size=40
)
periods = st.sampled_from([1.0, 12.0, 252.0, 365.0, 98_280.0, 525_600.0]) | st.floats(
    min_value=1e-3, max_value=525_600.0
)

SERIES_FUNCTIONS = [
    metrics.annual_return,
    metrics.annual_volatility,
    metrics.calmar_ratio,
    metrics.current_drawdown,
    metrics.max_drawdown,
    metrics.omega_ratio,
    metrics.sharpe_ratio,
    metrics.sortino_ratio,
    metrics.stability_of_timeseries,
    metrics.tail_ratio,
]
TRADE_FUNCTIONS = [
    analytics.average_loss,
    analytics.average_win,
    analytics.expectancy,
    analytics.largest_loss,
    analytics.largest_win,
    analytics.payoff_ratio,
    analytics.profit_factor,
    analytics.win_rate,
    analytics.hit_rate,
]


def _is_float(value: object) -> bool:
    return isinstance(value, float) and not isinstance(value, bool)


def test_annual_return_at_minute_bars_is_inf_not_overflow_error() -> None:
    """One +1 % minute bar compounded 98,280 times a year is unbounded: inf, as in empyrical."""
    assert metrics.annual_return([0.01], periods_per_year=98_280) == math.inf
    assert metrics.summary([0.01], periods_per_year=98_280).annual_return == math.inf


def test_calmar_ratio_with_an_unbounded_annual_return_is_inf() -> None:
    """An infinite CAGR over a finite drawdown is +inf (it was NaN, and an OverflowError before)."""
    data = [0.5, -0.01, 0.5]
    assert metrics.calmar_ratio(data, periods_per_year=525_600) == math.inf
    assert metrics.summary(data, periods_per_year=525_600).calmar_ratio == math.inf


def test_ratios_of_values_near_the_double_limit_equal_the_ratios_of_ordinary_values() -> None:
    """Sharpe, Sortino and Omega are scale-free: x * 2**1000 gives the ratio of x (whose squares
    would overflow unscaled, turning the ratio into 0.0 or NaN)."""
    x = np.random.default_rng(2).normal(0.001, 0.01, 50)
    huge = x * 2.0**1000
    for function in (metrics.sharpe_ratio, metrics.sortino_ratio, metrics.omega_ratio):
        assert function(huge) == function(x), function.__name__
    assert math.isclose(metrics.annual_volatility(huge), metrics.annual_volatility(x) * 2.0**1000)
    assert metrics.summary(huge).sharpe_ratio == metrics.sharpe_ratio(x)


def test_wealth_beyond_the_double_range_still_gives_drawdown_and_annual_return() -> None:
    """Hand-worked: 1e200 twice makes W = 1e400 (beyond doubles); halving it is a 50 % drawdown,
    and 1e400 over 1,002 daily periods is a CAGR of 10**(400 * 252 / 1002) - 1."""
    crash = [1e200, 1e200, -0.5]
    assert math.isclose(metrics.max_drawdown(crash), -0.5, rel_tol=1e-12)
    assert math.isclose(metrics.current_drawdown(crash), -0.5, rel_tol=1e-12)
    assert math.isclose(metrics.summary(crash).max_drawdown, -0.5, rel_tol=1e-12)
    long = [1e200, 1e200] + [0.0] * 1000
    expected = 10.0 ** (400 * 252 / 1002) - 1.0
    assert math.isclose(metrics.annual_return(long), expected, rel_tol=1e-9)
    assert math.isclose(metrics.summary(long).annual_return, expected, rel_tol=1e-9)


def test_trade_statistics_of_huge_pnl_are_finite_where_the_value_is() -> None:
    """2e308 of profit over 1e308 of loss is a profit factor of 2, not inf/inf = NaN."""
    summary = analytics.trade_summary([1e308, 1e308, -1e308])
    assert summary.profit_factor == analytics.profit_factor([1e308, 1e308, -1e308]) == 2.0
    assert math.isclose(summary.expectancy, 1e308 / 3)
    assert analytics.average_win([1e308, 1e308]) == 1e308


@settings(max_examples=300, deadline=None)
@given(returns=series | small_returns, periods_per_year=periods)
def test_return_metrics_return_a_float_and_raise_nothing(
    returns: list[float], periods_per_year: float
) -> None:
    """Each return metric answers a float (finite, inf or NaN) for any finite input."""
    for function in SERIES_FUNCTIONS:
        assert _is_float(function(returns, periods_per_year=periods_per_year)), function
    for method in ("historical", "parametric"):
        for confidence in (0.0, 0.5, 0.95, 1.0):
            var = metrics.value_at_risk(returns, confidence=confidence, method=method)
            es = metrics.expected_shortfall(returns, confidence=confidence, method=method)
            assert _is_float(var)
            assert _is_float(es)
    drawdowns = metrics.drawdown_series(returns, periods_per_year=periods_per_year)
    assert drawdowns.dtype == np.float64
    result = metrics.summary(returns, periods_per_year=periods_per_year)
    assert all(_is_float(v) for v in astuple(result)[1:])


@settings(max_examples=200, deadline=None)
@given(returns=small_returns, periods_per_year=periods)
def test_summary_fields_equal_the_functions_on_any_input(
    returns: list[float], periods_per_year: float
) -> None:
    """summary() gives what each function gives, overflow included (inf == inf, NaN is NaN)."""
    result = metrics.summary(returns, periods_per_year=periods_per_year).to_dict()
    for function in SERIES_FUNCTIONS:
        expected = function(returns, periods_per_year=periods_per_year)
        got = result[function.__name__]
        assert (math.isnan(got) and math.isnan(expected)) or math.isclose(
            got, expected, rel_tol=1e-9, abs_tol=1e-12
        ), (function.__name__, got, expected)


@settings(max_examples=200, deadline=None)
@given(pnl=series)
def test_trade_and_signal_statistics_return_a_float_and_raise_nothing(pnl: list[float]) -> None:
    """Trade statistics over any finite P&L are floats; the summary too."""
    for function in TRADE_FUNCTIONS:
        assert _is_float(function(pnl)), function
    assert all(_is_float(v) for v in astuple(analytics.trade_summary(pnl))[1:])


@settings(max_examples=200, deadline=None)
@given(data=series, lag=st.integers(min_value=1, max_value=5))
def test_signal_statistics_return_floats_and_raise_nothing(data: list[float], lag: int) -> None:
    """Autocorrelation, IC, decay and inter-signal correlation over any finite values."""
    assert _is_float(analytics.autocorrelation(data, lag=lag))
    dates = [i // 3 for i in range(len(data))]
    ic = analytics.information_coefficient(dates, data, data[::-1])
    assert ic.dtype == np.float64
    assert all(
        _is_float(v)
        for v in analytics.information_coefficient_by_horizon(dates, data, {1: data[::-1]}).values()
    )
    fit = analytics.signal_decay(list(range(1, len(data) + 1)), data)
    assert all(_is_float(v) for v in astuple(fit))
    if len(data) >= 2:
        pairs = np.asarray(data[: len(data) // 2 * 2]).reshape(-1, 2)
        assert _is_float(analytics.inter_signal_correlation(pairs))


@settings(max_examples=200, deadline=None)
@given(
    horizons=st.lists(st.floats(min_value=-1e300, max_value=1e300), min_size=2, max_size=6),
    ic=st.lists(st.floats(min_value=1e-300, max_value=1e300), min_size=6, max_size=6),
)
def test_signal_decay_with_extreme_fits_raises_nothing(
    horizons: list[float], ic: list[float]
) -> None:
    """An exponential fit whose intercept or slope is out of range gives inf/0/NaN fields."""
    fit = analytics.signal_decay(horizons, ic[: len(horizons)])
    assert all(_is_float(v) for v in astuple(fit))


positive_prices = st.floats(min_value=5e-324, max_value=1.7e308)


@settings(max_examples=200, deadline=None)
@given(
    fill=positive_prices,
    benchmark=positive_prices,
    later=positive_prices,
    side=st.sampled_from(["buy", "sell"]),
)
def test_execution_costs_return_floats_and_raise_nothing(
    fill: float, benchmark: float, later: float, side: str
) -> None:
    """Slippage, VWAP deviation, spread, impact and shortfall over any positive prices."""
    assert _is_float(analytics.slippage_bps(side, fill, benchmark))
    assert _is_float(analytics.vwap_deviation_bps(side, fill, benchmark))
    assert _is_float(analytics.realized_spread_bps(side, fill, benchmark, later))
    assert _is_float(analytics.price_impact_bps(side, benchmark, later))
    shortfall = analytics.implementation_shortfall(
        side,
        decision_price=benchmark,
        quantity=1e300,
        filled_quantity=5e299,
        average_fill_price=fill,
        last_price=later,
        fees=1e308,
    )
    assert all(_is_float(v) for v in astuple(shortfall))


@settings(max_examples=200, deadline=None)
@given(data=series, periods_per_year=periods, window=st.integers(min_value=1, max_value=8))
def test_streaming_forms_return_floats_and_raise_nothing(
    data: list[float], periods_per_year: float, window: int
) -> None:
    """DrawdownTracker, RunningMoments and RollingReturns accept any finite stream."""
    tracker = analytics.DrawdownTracker()
    moments = analytics.RunningMoments()
    rolling = analytics.RollingReturns(window, periods_per_year=periods_per_year)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for value in data:
            assert _is_float(tracker.update_return(value))
            moments.update(value)
            rolling.update(value)
            for name in (
                "mean",
                "variance",
                "sharpe_ratio",
                "sortino_ratio",
                "value_at_risk",
                "expected_shortfall",
            ):
                assert _is_float(getattr(rolling, name)), name
        for name in ("mean", "variance", "std"):
            assert _is_float(getattr(moments, name)), name
        assert _is_float(tracker.max_drawdown)
