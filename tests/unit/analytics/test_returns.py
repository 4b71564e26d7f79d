"""Return metrics against empyrical-reloaded and quantstats, called here on seeded series."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import empyrical
import numpy as np
import pandas as pd
import pytest
import quantstats
from hypothesis import given
from hypothesis import strategies as st

from algowatch.analytics import returns as metrics

RTOL, ATOL = 1e-9, 1e-12
MINUTE_BARS = 252 * 390


def _series() -> dict[str, tuple[np.ndarray, float]]:
    """Seeded series -> (returns, periods_per_year)."""
    rng = np.random.default_rng(20240601)
    normal = rng.normal(0.0005, 0.01, 1000)
    with_nan = rng.normal(0.0003, 0.012, 800)
    with_nan[rng.random(800) < 0.1] = np.nan
    with_nan[0] = np.nan
    crash = rng.normal(0.0008, 0.009, 600)
    crash[300:303] = [-0.22, -0.12, -0.08]
    return {
        "normal": (normal, 252.0),
        "fat_tailed": (rng.standard_t(3, 1500) * 0.008 + 0.0002, 252.0),
        "no_loss": (np.abs(rng.normal(0.001, 0.01, 300)), 252.0),
        "all_loss": (-np.abs(rng.normal(0.001, 0.01, 300)) - 1e-5, 252.0),
        "with_nan": (with_nan, 252.0),
        "all_zero": (np.zeros(60), 252.0),
        "constant": (np.full(40, 0.001), 365.0),
        "length_0": (np.array([]), 252.0),
        "length_1": (np.array([0.013]), 252.0),
        "length_1_loss": (np.array([-0.02]), 252.0),
        "length_2": (np.array([0.01, -0.004]), 252.0),
        "all_nan": (np.full(5, np.nan), 252.0),
        "crash": (crash, 252.0),
        "wipeout": (np.array([0.01, -0.5, -1.0, 0.02, 0.0, 0.03]), 252.0),
        "leveraged_below_minus_one": (np.array([0.05, -0.2, -1.3, 0.1, 0.02]), 252.0),
        "minute_bars": (rng.normal(2e-6, 4e-4, MINUTE_BARS // 4), float(MINUTE_BARS)),
        "crypto_daily": (rng.normal(0.001, 0.04, 730), 365.0),
    }


SERIES = _series()
RISK_FREE = [0.0, 0.04]


def _reference(function: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    # The references warn on degenerate input (division by zero in numpy);
    # we compare their values, so silence their warnings here only.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(function(*args, **kwargs))


def assert_same(ours: float, reference: float) -> None:
    if math.isnan(reference) or math.isinf(reference):
        assert (math.isnan(ours) and math.isnan(reference)) or ours == reference, (
            ours,
            reference,
        )
    else:
        assert math.isclose(ours, reference, rel_tol=RTOL, abs_tol=ATOL), (ours, reference)


def _dropna(returns: np.ndarray) -> np.ndarray:
    return returns[~np.isnan(returns)]


@pytest.fixture(params=sorted(SERIES))
def series(request: pytest.FixtureRequest) -> tuple[str, np.ndarray, float]:
    returns, periods = SERIES[request.param]
    return request.param, returns, periods


@pytest.mark.parametrize("risk_free", RISK_FREE)
def test_sharpe_ratio_equals_empyrical(series, risk_free) -> None:
    """Sharpe = mean(r - rf/N) / std(ddof=1) * sqrt(N), as empyrical."""
    _, returns, periods = series
    expected = _reference(
        empyrical.sharpe_ratio,
        _dropna(returns),
        risk_free=risk_free / periods,
        annualization=periods,
    )
    assert_same(
        metrics.sharpe_ratio(returns, risk_free=risk_free, periods_per_year=periods), expected
    )


@pytest.mark.parametrize("risk_free", RISK_FREE)
def test_sortino_ratio_equals_empyrical(series, risk_free) -> None:
    """Sortino uses the target downside deviation over all n, as empyrical."""
    _, returns, periods = series
    expected = _reference(
        empyrical.sortino_ratio,
        _dropna(returns),
        required_return=risk_free / periods,
        annualization=periods,
    )
    assert_same(
        metrics.sortino_ratio(returns, risk_free=risk_free, periods_per_year=periods), expected
    )


def test_max_drawdown_equals_empyrical(series) -> None:
    """Maximum drawdown is anchored at W_0 = 1, as empyrical."""
    _, returns, _ = series
    expected = _reference(empyrical.max_drawdown, _dropna(returns))
    assert_same(metrics.max_drawdown(returns), expected)


def test_drawdown_series_and_current_drawdown_equal_empyrical(series) -> None:
    """Each drawdown equals empyrical's series; current drawdown is its last value."""
    _, returns, _ = series
    clean = _dropna(returns)
    if len(clean) == 0:
        assert metrics.drawdown_series(returns).shape == (0,)
        assert math.isnan(metrics.current_drawdown(returns))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.asarray(empyrical.stats.drawdown_series(clean))
    np.testing.assert_allclose(metrics.drawdown_series(returns), expected, rtol=RTOL, atol=ATOL)
    assert_same(metrics.current_drawdown(returns), float(expected[-1]))


def test_annual_return_equals_empyrical(series) -> None:
    """CAGR over the non-NaN period count, as empyrical on the NaN-dropped series."""
    _, returns, periods = series
    expected = _reference(empyrical.annual_return, _dropna(returns), annualization=periods)
    assert_same(metrics.annual_return(returns, periods_per_year=periods), expected)


def test_annual_volatility_equals_empyrical(series) -> None:
    """std(ddof=1) * sqrt(N), as empyrical."""
    _, returns, periods = series
    expected = _reference(empyrical.annual_volatility, _dropna(returns), annualization=periods)
    assert_same(metrics.annual_volatility(returns, periods_per_year=periods), expected)


def test_calmar_ratio_equals_empyrical(series) -> None:
    """CAGR / |MDD| over the full window, NaN without drawdown, as empyrical."""
    _, returns, periods = series
    expected = _reference(empyrical.calmar_ratio, _dropna(returns), annualization=periods)
    assert_same(metrics.calmar_ratio(returns, periods_per_year=periods), expected)


def test_historical_value_at_risk_equals_empyrical(series) -> None:
    """Historical VaR 95 is numpy's linear 5th percentile, as empyrical."""
    _, returns, _ = series
    expected = _reference(empyrical.value_at_risk, _dropna(returns), 0.05)
    assert_same(metrics.value_at_risk(returns), expected)


def test_historical_expected_shortfall_equals_empyrical(series) -> None:
    """ES 95 is the mean of the int((n-1)*0.05)+1 smallest returns, as empyrical."""
    _, returns, _ = series
    expected = _reference(empyrical.conditional_value_at_risk, _dropna(returns), 0.05)
    assert_same(metrics.expected_shortfall(returns), expected)


def test_parametric_value_at_risk_equals_quantstats(series) -> None:
    """Parametric VaR = mean + std(ddof=1) * norm.ppf(0.05), as quantstats."""
    _, returns, _ = series
    clean = pd.Series(_dropna(returns))
    ours = metrics.value_at_risk(returns, method="parametric")
    if len(clean) < 2:
        assert math.isnan(ours)
        return
    expected = _reference(quantstats.stats.value_at_risk, clean, prepare_returns=False)
    if clean.max() == clean.min():
        # A degenerate normal: ours is its mean, as quantstats' parametric ES is;
        # quantstats' VaR passes scale=0 to scipy and gets NaN.
        assert math.isnan(expected) or math.isclose(expected, clean.iloc[0], rel_tol=1e-9)
        assert ours == clean.iloc[0]
        return
    assert_same(ours, expected)


def test_parametric_expected_shortfall_equals_quantstats(series) -> None:
    """Parametric ES = mean - std * pdf(ppf(0.05)) / 0.05, as quantstats."""
    _, returns, _ = series
    clean = pd.Series(_dropna(returns))
    ours = metrics.expected_shortfall(returns, method="parametric")
    if len(clean) < 2:
        # quantstats returns the single value as its own ES; with one observation
        # the standard deviation is undefined, so ours is NaN (ANALYTICS.md).
        assert math.isnan(ours)
        return
    expected = _reference(
        quantstats.stats.conditional_value_at_risk,
        clean,
        prepare_returns=False,
        method="parametric",
    )
    assert_same(ours, expected)


@pytest.mark.parametrize("risk_free", RISK_FREE)
def test_omega_ratio_equals_empyrical(series, risk_free) -> None:
    """Omega at threshold rf/N equals empyrical, except +inf for gains without losses."""
    name, returns, periods = series
    expected = _reference(
        empyrical.omega_ratio,
        _dropna(returns),
        risk_free=risk_free / periods,
        required_return=0.0,
    )
    ours = metrics.omega_ratio(returns, risk_free=risk_free, periods_per_year=periods)
    excess = _dropna(returns) - risk_free / periods
    if len(excess) >= 2 and (excess > 0).any() and not (excess < 0).any():
        # empyrical returns NaN; ANALYTICS.md rules a non-zero/0 to be +inf.
        assert math.isnan(expected)
        assert ours == math.inf, name
    else:
        assert_same(ours, expected)


def test_tail_ratio_equals_empyrical(series) -> None:
    """|P95| / |P5| with linear percentiles, as empyrical."""
    _, returns, _ = series
    expected = _reference(empyrical.tail_ratio, _dropna(returns))
    assert_same(metrics.tail_ratio(returns), expected)


def test_stability_of_timeseries_equals_empyrical(series) -> None:
    """R² of the cumulative log returns, as empyrical (NaN, 0/0, for a flat curve)."""
    _, returns, _ = series
    expected = _reference(empyrical.stability_of_timeseries, _dropna(returns))
    assert_same(metrics.stability_of_timeseries(returns), expected)


@pytest.mark.parametrize("risk_free", RISK_FREE)
def test_summary_equals_the_individual_functions(series, risk_free) -> None:
    """Every summary field equals the function of the same name on the same input."""
    _, returns, periods = series
    options = {"risk_free": risk_free, "periods_per_year": periods}
    result = metrics.summary(returns, **options)
    assert result.periods == len(_dropna(returns))
    for field, value in result.to_dict().items():
        if field in ("periods", "periods_per_year", "risk_free", "confidence"):
            continue
        if field == "total_return":
            expected = float(np.prod(_dropna(returns) + 1) - 1) if result.periods else math.nan
        elif field.endswith("_parametric"):
            function = getattr(metrics, field.removesuffix("_parametric"))
            expected = function(returns, method="parametric", **options)
        else:
            expected = getattr(metrics, field)(returns, **options)
        assert_same(value, expected)


def test_summary_to_dict_lists_every_metric_in_declaration_order() -> None:
    """to_dict() is a plain dict of the frozen dataclass fields."""
    result = metrics.summary([0.01, -0.02, 0.03])
    data = result.to_dict()
    assert list(data)[:5] == [
        "periods",
        "periods_per_year",
        "risk_free",
        "confidence",
        "total_return",
    ]
    assert len(data) == 19
    with pytest.raises(AttributeError):
        result.sharpe_ratio = 1.0  # type: ignore[misc]


def test_sharpe_ratio_given_zero_dispersion_returns_signed_infinity() -> None:
    """Constant returns give ±inf (non-zero / 0) and NaN for 0 / 0, never a finite number."""
    assert metrics.sharpe_ratio([0.001] * 5) == math.inf
    assert metrics.sharpe_ratio([-0.001] * 5) == -math.inf
    assert math.isnan(metrics.sharpe_ratio([0.0] * 5))
    # 0.1 has no exact binary form: the floating mean differs from the values in the
    # last bit, and a std test would report a huge finite Sharpe here.
    assert metrics.sharpe_ratio([0.1] * 3) == math.inf


def test_sortino_ratio_given_no_downside_returns_inf() -> None:
    """No return below the target gives +inf, not 0.0."""
    assert metrics.sortino_ratio([0.01, 0.02, 0.0]) == math.inf


def test_max_drawdown_given_first_period_loss_counts_it() -> None:
    """A day-1 loss is a drawdown from the starting capital (W_0 = 1)."""
    assert math.isclose(metrics.max_drawdown([-0.1, 0.05]), -0.1, rel_tol=1e-12)


def test_metrics_given_empty_input_return_nan() -> None:
    """Empty input is undefined: NaN, never 0.0."""
    for function in (
        metrics.sharpe_ratio,
        metrics.sortino_ratio,
        metrics.max_drawdown,
        metrics.current_drawdown,
        metrics.annual_return,
        metrics.annual_volatility,
        metrics.calmar_ratio,
        metrics.value_at_risk,
        metrics.expected_shortfall,
        metrics.omega_ratio,
        metrics.tail_ratio,
        metrics.stability_of_timeseries,
    ):
        assert math.isnan(function([])), function.__name__


def test_minute_bar_sharpe_uses_the_given_periods_per_year() -> None:
    """Annualisation uses the stream's N, not a hard-coded 252."""
    returns, _ = SERIES["minute_bars"]
    daily = metrics.sharpe_ratio(returns, periods_per_year=252)
    minute = metrics.sharpe_ratio(returns, periods_per_year=MINUTE_BARS)
    assert math.isclose(minute / daily, math.sqrt(390), rel_tol=1e-12)


@pytest.mark.parametrize(
    ("function", "kwargs", "message"),
    [
        (
            metrics.sharpe_ratio,
            {"periods_per_year": 0},
            "periods_per_year must be a finite number > 0, received 0",
        ),
        (
            metrics.value_at_risk,
            {"method": "monte-carlo"},
            "method must be 'historical' or 'parametric', received 'monte-carlo'",
        ),
        (
            metrics.expected_shortfall,
            {"confidence": 95},
            r"confidence must be in \[0, 1\], e.g. 0.95, received 95",
        ),
    ],
)
def test_invalid_options_raise_a_message_naming_the_field(function, kwargs, message) -> None:
    """Errors name the field, show the value received and the expectation."""
    with pytest.raises(ValueError, match=f"^{message}$"):
        function([0.01, 0.02], **kwargs)


def test_two_dimensional_returns_are_rejected() -> None:
    """A 2-D array is not silently flattened."""
    message = (
        r"^returns must be one-dimensional \(one series; call once per column of a table\), "
        r"received an array of shape \(3, 2\)$"
    )
    with pytest.raises(ValueError, match=message):
        metrics.sharpe_ratio(np.zeros((3, 2)))


@given(
    st.lists(
        st.one_of(
            # returns below 1e-9 in magnitude vanish in 1 + r; real data has none
            st.floats(-0.99, 2.0).filter(lambda r: r == 0 or abs(r) > 1e-9),
            st.just(math.nan),
        ),
        max_size=80,
    ),
    st.sampled_from([0.0, 0.05]),
)
def test_summary_equals_the_functions_on_any_series(values, risk_free) -> None:
    """The shared-work summary agrees with each standalone function on arbitrary input."""
    result = metrics.summary(values, risk_free=risk_free)
    for field in ("sharpe_ratio", "sortino_ratio", "max_drawdown", "current_drawdown"):
        assert_same(getattr(result, field), getattr(metrics, field)(values, risk_free=risk_free))
    for field in ("annual_return", "calmar_ratio", "omega_ratio", "tail_ratio"):
        assert_same(getattr(result, field), getattr(metrics, field)(values, risk_free=risk_free))
    assert_same(result.value_at_risk, metrics.value_at_risk(values))
    assert_same(result.expected_shortfall, metrics.expected_shortfall(values))
    ours = result.stability_of_timeseries
    expected = metrics.stability_of_timeseries(values)
    if math.isnan(expected):
        assert math.isnan(ours)
    else:
        # log(cumprod) here, cumsum(log1p) standalone: equal up to rounding
        assert math.isclose(ours, expected, rel_tol=1e-7, abs_tol=1e-9)
