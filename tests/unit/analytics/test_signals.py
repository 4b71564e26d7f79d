"""Signal metrics against alphalens-reloaded, pandas and hand-worked examples."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from alphalens import performance
from scipy import stats

from algowatch.analytics import signals


def _panel(seed: int, *, dates: int = 40, assets: int = 25) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.MultiIndex.from_product(
        [
            pd.date_range("2024-01-01", periods=dates, freq="D"),
            [f"A{i:02d}" for i in range(assets)],
        ],
        names=["date", "asset"],
    )
    factor = rng.normal(size=len(index)).round(1)  # rounded: ties within a date
    noise = rng.normal(size=len(index))
    frame = pd.DataFrame(
        {
            "1D": 0.01 * (0.3 * factor + noise),
            "5D": 0.02 * (0.1 * factor + noise),
            "factor": factor,
        },
        index=index,
    )
    frame["factor_quantile"] = frame.groupby(level="date")["factor"].transform(
        lambda x: pd.qcut(x.rank(method="first"), 5, labels=False) + 1
    )
    return frame


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_information_coefficient_equals_alphalens(seed) -> None:
    """Per-date cross-sectional Spearman IC equals alphalens, ties included."""
    frame = _panel(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = performance.factor_information_coefficient(frame)
    dates = frame.index.get_level_values("date").to_numpy()
    for column in ("1D", "5D"):
        ours = signals.information_coefficient(dates, frame["factor"], frame[column])
        np.testing.assert_allclose(ours, expected[column].to_numpy(), rtol=1e-12, atol=1e-12)


def test_information_coefficient_by_horizon_is_the_mean_of_alphalens_ic() -> None:
    """IC by horizon equals alphalens' mean_information_coefficient."""
    frame = _panel(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = performance.mean_information_coefficient(frame)
    dates = frame.index.get_level_values("date").to_numpy()
    ours = signals.information_coefficient_by_horizon(
        dates, frame["factor"], {1: frame["1D"], 5: frame["5D"]}
    )
    assert list(ours) == [1, 5]
    assert math.isclose(ours[1], expected["1D"], rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(ours[5], expected["5D"], rel_tol=1e-12, abs_tol=1e-12)


def test_information_coefficient_drops_nan_rows_and_flags_degenerate_dates() -> None:
    """NaN rows are dropped (as scipy on the complete pairs); a constant or 1-row date is NaN."""
    dates = [1, 1, 1, 1, 2, 2, 2, 3]
    factor = [1.0, 2.0, np.nan, 3.0, 5.0, 5.0, 5.0, 1.0]
    forward = [0.1, 0.3, 0.2, 0.2, 0.1, 0.2, 0.3, 0.1]
    ic = signals.information_coefficient(dates, factor, forward)
    expected = stats.spearmanr([1.0, 2.0, 3.0], [0.1, 0.3, 0.2])[0]
    assert math.isclose(ic[0], expected, rel_tol=1e-12)
    assert math.isnan(ic[1])
    assert math.isnan(ic[2])


@pytest.mark.parametrize("period", [1, 3])
@pytest.mark.parametrize("quantile", [1, 5])
def test_quantile_turnover_equals_alphalens(quantile, period) -> None:
    """Share of new names in a quantile equals alphalens' quantile_turnover."""
    frame = _panel(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = performance.quantile_turnover(frame["factor_quantile"], quantile, period)
    ours = signals.quantile_turnover(
        frame.index.get_level_values("date").to_numpy(),
        frame.index.get_level_values("asset").to_numpy(),
        frame["factor_quantile"].to_numpy(),
        quantile,
        period=period,
    )
    np.testing.assert_allclose(ours, expected.to_numpy(), rtol=1e-12, atol=1e-12)


def test_signal_decay_recovers_a_known_half_life() -> None:
    """IC = 0.08 * exp(-ln2 * h / 4): decay rate ln2/4, half-life 4 bars, initial 0.08."""
    horizons = [1, 2, 5, 10, 20]
    ic = [0.08 * math.exp(-math.log(2) * h / 4) for h in horizons]
    fit = signals.signal_decay(horizons, ic)
    assert math.isclose(fit.half_life, 4.0, rel_tol=1e-9)
    assert math.isclose(fit.decay_rate, math.log(2) / 4, rel_tol=1e-9)
    assert math.isclose(fit.initial, 0.08, rel_tol=1e-9)


def test_signal_decay_of_a_negative_signal_keeps_its_sign() -> None:
    """A contrarian factor (negative IC) decays in magnitude; the sign is kept."""
    fit = signals.signal_decay([1, 2, 3], [-0.1, -0.05, -0.025])
    assert math.isclose(fit.half_life, 1.0, rel_tol=1e-9)
    assert math.isclose(fit.initial, -0.2, rel_tol=1e-9)


def test_signal_decay_without_decay_has_infinite_half_life_and_too_few_points_nan() -> None:
    """A flat or growing IC never halves (+inf); fewer than two usable points give NaN."""
    assert signals.signal_decay([1, 2, 3], [0.05, 0.05, 0.06]).half_life == math.inf
    fit = signals.signal_decay([1, 2], [0.05, math.nan])
    assert math.isnan(fit.half_life)
    assert math.isnan(fit.decay_rate)


@pytest.mark.parametrize("lag", [1, 2, 5])
def test_autocorrelation_equals_pandas(lag) -> None:
    """Lag-k autocorrelation equals pandas.Series.autocorr, NaN pairs dropped."""
    rng = np.random.default_rng(11)
    values = np.cumsum(rng.normal(size=300))
    values[[4, 50, 51]] = np.nan
    expected = pd.Series(values).autocorr(lag)
    assert math.isclose(signals.autocorrelation(values, lag=lag), expected, rel_tol=1e-12)


def test_autocorrelation_of_degenerate_series_is_nan() -> None:
    """Too short or constant series have no autocorrelation."""
    assert math.isnan(signals.autocorrelation([1.0]))
    assert math.isnan(signals.autocorrelation([2.0, 2.0, 2.0]))
    with pytest.raises(ValueError, match=r"^lag must be an integer >= 1, received 0$"):
        signals.autocorrelation([1.0, 2.0], lag=0)


def test_inter_signal_correlation_equals_pandas_pairwise_mean() -> None:
    """Mean off-diagonal Pearson correlation equals pandas DataFrame.corr (pairwise)."""
    rng = np.random.default_rng(12)
    base = rng.normal(size=200)
    matrix = np.column_stack(
        [base + rng.normal(size=200), base + rng.normal(size=200), rng.normal(size=200)]
    )
    matrix[3, 1] = np.nan
    corr = pd.DataFrame(matrix).corr().to_numpy()
    expected = corr[np.triu_indices(3, 1)].mean()
    assert math.isclose(signals.inter_signal_correlation(matrix), expected, rel_tol=1e-12)
    assert math.isnan(signals.inter_signal_correlation(matrix[:, :1]))


def test_hit_rate_and_direction_accuracy_hand_worked() -> None:
    """3 of 4 outcomes profitable; 2 of 3 directions right (flat counts as a direction)."""
    assert signals.hit_rate([10.0, -2.0, 3.0, 1.0]) == 0.75
    assert math.isnan(signals.hit_rate([]))
    assert signals.direction_accuracy(["long", "Short", "flat"], ["long", "long", 0]) == 2 / 3
    assert math.isnan(signals.direction_accuracy([], []))


def test_direction_accuracy_rejects_unknown_directions_and_length_mismatch() -> None:
    """An unknown direction is an error naming its position."""
    with pytest.raises(ValueError, match=r"^predicted\[1\] must be long, short, flat or 1, 0, -1"):
        signals.direction_accuracy(["long", "up"], ["long", "long"])
    with pytest.raises(ValueError, match=r"^predicted and actual must have the same length"):
        signals.direction_accuracy(["long"], [])
