"""Edge inputs the peers' own test suites define: algowatch equals the peer, or states its choice.

References: empyrical-reloaded, quantstats and alphalens-reloaded, called here. Where algowatch
differs on purpose, the test says so in its name and docstring and asserts the documented value
(docs/metrics.md, "Edge inputs").
"""

from __future__ import annotations

import math
import warnings

import empyrical
import numpy as np
import pandas as pd
import pytest
import quantstats
from alphalens import performance

from algowatch import analytics
from algowatch.analytics import returns as metrics
from algowatch.analytics import signals, trades
from algowatch.monitor import Monitor
from algowatch.server import render_snapshot
from algowatch.testing import EventFactory, FakeClock

DATA = [-0.05, -0.01, 0.0, 0.01, 0.02]
INF = math.inf


def _same(ours: float, expected: float) -> bool:
    if math.isnan(expected):
        return math.isnan(ours)
    if math.isinf(expected):
        return ours == expected
    return math.isclose(ours, expected, rel_tol=1e-9, abs_tol=1e-12)


def _quiet(function, *args, **kwargs):
    # The peers warn (RuntimeWarning, FutureWarning) on exactly these edge inputs.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


# --- VaR and expected shortfall at confidence 0 and 1 ----------------------------------------


@pytest.mark.parametrize(("confidence", "expected"), [(1.0, -0.05), (0.0, 0.02)])
def test_historical_value_at_risk_at_confidence_bounds_is_the_minimum_or_maximum(
    confidence, expected
) -> None:
    """Confidence 1 is the worst return, 0 the best: empyrical's cutoffs 0 and 1."""
    ours = metrics.value_at_risk(DATA, confidence=confidence)
    assert ours == expected
    assert ours == empyrical.value_at_risk(np.array(DATA), cutoff=1.0 - confidence)


@pytest.mark.parametrize(("confidence", "expected"), [(1.0, -0.05), (0.0, -0.006)])
def test_historical_expected_shortfall_at_confidence_bounds_equals_empyrical_and_quantstats(
    confidence, expected
) -> None:
    """Confidence 1: the minimum; confidence 0: the mean of every return (the whole tail)."""
    ours = metrics.expected_shortfall(DATA, confidence=confidence)
    assert _same(ours, expected)
    cutoff = 1.0 - confidence
    assert _same(ours, empyrical.conditional_value_at_risk(np.array(DATA), cutoff=cutoff))
    qs = _quiet(
        quantstats.stats.conditional_value_at_risk,
        pd.Series(DATA),
        confidence=confidence,
        prepare_returns=False,
        method="historical",
    )
    assert _same(ours, qs)


@pytest.mark.parametrize(("confidence", "expected"), [(1.0, -INF), (0.0, INF)])
def test_parametric_value_at_risk_at_confidence_bounds_is_infinite_as_quantstats(
    confidence, expected
) -> None:
    """Φ⁻¹(0) = -inf and Φ⁻¹(1) = +inf: the normal VaR is unbounded at the ends."""
    ours = metrics.value_at_risk(DATA, confidence=confidence, method="parametric")
    qs = _quiet(
        quantstats.stats.value_at_risk,
        pd.Series(DATA),
        confidence=confidence,
        prepare_returns=False,
    )
    assert ours == expected == qs


def test_parametric_expected_shortfall_at_confidence_0_is_the_mean_as_quantstats() -> None:
    """The whole distribution is the tail: the ES is the mean return."""
    ours = metrics.expected_shortfall(DATA, confidence=0.0, method="parametric")
    qs = _quiet(
        quantstats.stats.conditional_value_at_risk,
        pd.Series(DATA),
        confidence=0.0,
        prepare_returns=False,
    )
    assert _same(ours, -0.006)
    assert _same(ours, qs)


def test_parametric_expected_shortfall_at_confidence_1_is_minus_inf_where_quantstats_is_nan() -> (
    None
):
    """Documented choice: the limit of the normal ES as alpha -> 0 is -inf (below the -inf VaR);
    quantstats computes 0/0 there and returns NaN."""
    ours = metrics.expected_shortfall(DATA, confidence=1.0, method="parametric")
    qs = _quiet(
        quantstats.stats.conditional_value_at_risk,
        pd.Series(DATA),
        confidence=1.0,
        prepare_returns=False,
    )
    assert ours == -INF
    assert math.isnan(qs)
    assert metrics.summary(DATA, confidence=1.0).expected_shortfall_parametric == -INF


@pytest.mark.parametrize("confidence", [0.0, 1.0])
def test_summary_and_rolling_window_at_confidence_bounds_equal_the_functions(confidence) -> None:
    """summary() and RollingReturns give the same VaR and ES as the functions at 0 and 1."""
    result = metrics.summary(DATA, confidence=confidence)
    rolling = analytics.RollingReturns(len(DATA), confidence=confidence)
    for value in DATA:
        rolling.update(value)
    for method in ("historical", "parametric"):
        suffix = "" if method == "historical" else "_parametric"
        var = metrics.value_at_risk(DATA, confidence=confidence, method=method)
        es = metrics.expected_shortfall(DATA, confidence=confidence, method=method)
        assert _same(getattr(result, "value_at_risk" + suffix), var)
        assert _same(getattr(result, "expected_shortfall" + suffix), es)
    assert _same(rolling.value_at_risk, result.value_at_risk)
    assert _same(rolling.expected_shortfall, result.expected_shortfall)


@pytest.mark.parametrize("confidence", [-0.01, 1.5, math.nan])
def test_confidence_outside_zero_one_is_rejected_naming_the_field(confidence) -> None:
    """Only [0, 1] is a confidence level."""
    message = rf"^confidence must be in \[0, 1\], e.g. 0.95, received {confidence!r}$"
    with pytest.raises(ValueError, match=message):
        metrics.value_at_risk(DATA, confidence=confidence)


def test_expected_shortfall_of_empty_input_is_nan_without_a_warning() -> None:
    """ES of nothing is NaN, as empyrical; the suite turns any warning into an error."""
    assert math.isnan(metrics.expected_shortfall([], confidence=1.0))
    assert math.isnan(empyrical.conditional_value_at_risk(np.array([]), cutoff=0.0))


# --- a scalar is a one-element series ---------------------------------------------------------


def test_scalar_returns_give_the_peer_value_at_risk_and_expected_shortfall() -> None:
    """empyrical answers a scalar's VaR and CVaR with the value itself; so do we."""
    assert metrics.value_at_risk(0.01) == empyrical.value_at_risk(0.01) == 0.01
    assert metrics.expected_shortfall(0.01) == empyrical.conditional_value_at_risk(0.01) == 0.01


@pytest.mark.parametrize(
    "function",
    [
        metrics.sharpe_ratio,
        metrics.sortino_ratio,
        metrics.max_drawdown,
        metrics.current_drawdown,
        metrics.annual_return,
        metrics.annual_volatility,
        metrics.calmar_ratio,
        metrics.omega_ratio,
        metrics.tail_ratio,
        metrics.stability_of_timeseries,
        trades.profit_factor,
        trades.win_rate,
    ],
)
def test_scalar_input_is_a_one_element_series(function) -> None:
    """Documented choice where empyrical raises (AttributeError/TypeError): f(x) == f([x])."""
    for value in (0.01, -0.02, np.float64(0.03)):
        assert _same(function(value), function([value]))


# --- [inf, inf] --------------------------------------------------------------------------------

INFINITE = [INF, INF]


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (metrics.sharpe_ratio, empyrical.sharpe_ratio),
        (metrics.sortino_ratio, empyrical.sortino_ratio),
        (metrics.max_drawdown, empyrical.max_drawdown),
        (metrics.annual_return, empyrical.annual_return),
        (metrics.annual_volatility, empyrical.annual_volatility),
        (metrics.value_at_risk, empyrical.value_at_risk),
        (metrics.expected_shortfall, empyrical.conditional_value_at_risk),
        (metrics.tail_ratio, empyrical.tail_ratio),
        (metrics.calmar_ratio, empyrical.calmar_ratio),
        (metrics.stability_of_timeseries, empyrical.stability_of_timeseries),
    ],
)
def test_infinite_returns_give_what_empyrical_gives(ours, theirs) -> None:
    """[inf, inf]: undefined dispersion (Sharpe, volatility NaN), unbounded growth (inf)."""
    expected = _quiet(theirs, np.array(INFINITE))
    assert _same(ours(INFINITE), expected), (ours.__name__, ours(INFINITE), expected)


def test_sharpe_ratio_of_equal_infinite_returns_is_nan_in_every_form() -> None:
    """inf - inf has no dispersion to divide by: NaN in the function, summary and streaming."""
    assert math.isnan(metrics.sharpe_ratio(INFINITE))
    assert math.isnan(metrics.summary(INFINITE).sharpe_ratio)
    assert math.isnan(metrics.summary(INFINITE).annual_volatility)
    rolling = analytics.RollingReturns(2)
    for value in INFINITE:
        rolling.update(value)
    assert math.isnan(rolling.sharpe_ratio)
    assert math.isnan(rolling.variance)


def test_omega_ratio_of_infinite_gains_without_loss_is_inf_where_empyrical_is_nan() -> None:
    """Documented choice (ANALYTICS.md): gains over no loss are +inf; empyrical answers NaN."""
    assert metrics.omega_ratio(INFINITE) == INF
    assert math.isnan(_quiet(empyrical.omega_ratio, np.array(INFINITE)))


# --- two-dimensional input ---------------------------------------------------------------------


def test_dataframe_is_rejected_naming_the_argument_where_quantstats_goes_per_column() -> None:
    """Documented choice (STYLE rule 20, no shape-shifting returns): a table is an error that
    says to call once per column; doing so gives quantstats' per-column values."""
    frame = pd.DataFrame({"a": DATA, "b": [2 * r for r in DATA]})
    message = (
        r"^returns must be one-dimensional \(one series; call once per column of a table\), "
        r"received an array of shape \(5, 2\)$"
    )
    with pytest.raises(ValueError, match=message):
        metrics.sharpe_ratio(frame)
    with pytest.raises(ValueError, match=r"^pnl must be one-dimensional"):
        trades.profit_factor(frame)
    per_column = {name: metrics.sharpe_ratio(frame[name]) for name in frame}
    expected = _quiet(quantstats.stats.sharpe, frame)
    for name, value in per_column.items():
        assert _same(value, float(expected[name]))


def test_one_column_table_is_rejected_too() -> None:
    """Shape (n, 1) is still a table: no silent flattening."""
    with pytest.raises(ValueError, match=r"received an array of shape \(5, 1\)$"):
        metrics.max_drawdown(np.array(DATA).reshape(-1, 1))


# --- returns below -100 % ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "returns",
    [[-1.5], [0.1, -1.5, 0.2], [-2.0, -2.0], [0.05, -1.0, 0.3], [0.2, -3.0, 0.1, -0.5]],
)
def test_drawdown_below_minus_one_when_wealth_goes_negative_equals_empyrical(returns) -> None:
    """Documented: W_t / peak - 1 leaves [-1, 0] once the wealth is negative (a loss beyond the
    capital, as with leverage); the value is kept, as empyrical, not clamped to -100 %."""
    series = np.array(returns)
    expected_mdd = empyrical.max_drawdown(series)
    assert _same(metrics.max_drawdown(returns), expected_mdd)
    expected_series = _quiet(empyrical.stats.drawdown_series, series)
    np.testing.assert_allclose(
        metrics.drawdown_series(returns), expected_series, rtol=1e-9, atol=1e-12
    )
    tracker = analytics.DrawdownTracker()
    for value in returns:
        tracker.update_return(value)
    assert _same(tracker.max_drawdown, expected_mdd)
    assert _same(metrics.summary(returns).max_drawdown, expected_mdd)


def test_max_drawdown_of_a_150_percent_loss_is_minus_1_5_by_hand() -> None:
    """W_0 = 1, r = -1.5: W_1 = -0.5, peak 1, drawdown -0.5 / 1 - 1 = -1.5."""
    assert metrics.max_drawdown([-1.5]) == -1.5
    assert metrics.current_drawdown([-1.5]) == -1.5


# --- profit factor of scratch trades only -------------------------------------------------------


def test_profit_factor_of_scratch_trades_only_is_nan_in_analytics_and_the_engine() -> None:
    """No profit over no loss is 0/0: NaN (null in the snapshot), never a misleading 0.0.
    The engine's snapshot field follows the same rule (one definition)."""
    assert math.isnan(trades.profit_factor([0.0, 0.0, 0.0]))
    assert math.isnan(trades.trade_summary([0.0]).profit_factor)
    factory = EventFactory(FakeClock("2025-01-02T15:00:00Z"), step_seconds=1.0)
    monitor = Monitor()
    monitor.apply_many(
        [
            factory.submitted("in", "X", "buy", 10),
            factory.filled("in", 10, 100.0),
            factory.submitted("out", "X", "sell", 10),
            factory.filled("out", 10, 100.0),
        ]
    )
    trading = render_snapshot(monitor.figures())["trading"]
    assert trading["num_trades"] == 1
    assert trading["profit_factor"] is None
    assert trading["win_rate"] == 0.0


# --- quantile turnover with no earlier members ---------------------------------------------------


def test_quantile_turnover_without_earlier_members_is_nan_as_alphalens() -> None:
    """Quantile 1 is empty on day 2: day 3 has no earlier members to turn over from (NaN),
    day 4 compares with day 3 (half new)."""
    rows = [
        ("2024-01-01", "a", 1),
        ("2024-01-01", "b", 2),
        ("2024-01-02", "a", 2),
        ("2024-01-02", "b", 2),
        ("2024-01-03", "a", 1),
        ("2024-01-03", "b", 1),
        ("2024-01-04", "a", 1),
        ("2024-01-04", "c", 1),
    ]
    index = pd.MultiIndex.from_arrays(
        [pd.DatetimeIndex([r[0] for r in rows]), [r[1] for r in rows]], names=["date", "asset"]
    )
    quantiles = pd.Series([r[2] for r in rows], index=index)
    # alphalens follows the index's frequency grid; the dates here are daily.
    quantiles.index = quantiles.index.set_levels(
        pd.DatetimeIndex(quantiles.index.levels[0], freq="D"), level="date"
    )
    expected = _quiet(performance.quantile_turnover, quantiles, 1, 1)
    ours = signals.quantile_turnover(
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], 1
    )
    assert np.isnan(ours[:3]).all()
    assert ours[3] == 0.5
    by_date = expected.reindex(pd.DatetimeIndex(sorted({r[0] for r in rows})))
    np.testing.assert_allclose(ours, by_date.to_numpy(dtype=float), rtol=1e-12, atol=1e-12)
