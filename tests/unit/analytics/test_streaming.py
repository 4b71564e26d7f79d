"""Streaming forms agree with the batch forms after any sequence of updates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from algowatch.analytics import returns as metrics
from algowatch.analytics.streaming import DrawdownTracker, RollingReturns, RunningMoments

# Returns on a 1 bp grid (as P&L data is), plus missing values.
RETURN = st.integers(-3000, 3000).map(lambda bps: bps / 10_000)
RETURN_OR_NAN = st.one_of(RETURN, RETURN, RETURN, st.just(math.nan))


def assert_same(ours: float, reference: float) -> None:
    if math.isnan(reference) or math.isinf(reference):
        assert (math.isnan(ours) and math.isnan(reference)) or ours == reference, (
            ours,
            reference,
        )
    else:
        assert math.isclose(ours, reference, rel_tol=1e-9, abs_tol=1e-12), (ours, reference)


@given(
    values=st.lists(RETURN_OR_NAN, max_size=160),
    window=st.integers(1, 30),
    risk_free=st.sampled_from([0.0, 0.05]),
    confidence=st.sampled_from([0.95, 0.99, 0.9]),
)
def test_rolling_returns_equal_batch_after_every_update(
    values, window, risk_free, confidence
) -> None:
    """Every rolling metric equals the batch function on the window's returns."""
    rolling = RollingReturns(window, risk_free=risk_free, confidence=confidence)
    seen: list[float] = []
    for value in values:
        rolling.update(value)
        if not math.isnan(value):
            seen.append(value)
        current = seen[-window:]
        assert rolling.values() == current
        assert rolling.count == len(current)
        options = {"risk_free": risk_free}
        assert_same(rolling.sharpe_ratio, metrics.sharpe_ratio(current, **options))
        assert_same(rolling.sortino_ratio, metrics.sortino_ratio(current, **options))
        assert_same(rolling.value_at_risk, metrics.value_at_risk(current, confidence=confidence))
        assert_same(
            rolling.expected_shortfall, metrics.expected_shortfall(current, confidence=confidence)
        )
        if current:
            assert_same(rolling.mean, float(np.mean(current)))
        if len(current) >= 2:
            assert_same(rolling.variance, float(np.var(current, ddof=1)))


def test_rolling_returns_survive_many_rebuilds_on_a_long_stream() -> None:
    """After 20 windows of real-valued data the rolling figures still equal the batch ones."""
    rng = np.random.default_rng(7)
    values = rng.standard_t(3, 5000) * 0.01
    rolling = RollingReturns(250, periods_per_year=365, risk_free=0.03)
    for value in values:
        rolling.update(float(value))
    window = values[-250:]
    options = {"risk_free": 0.03, "periods_per_year": 365}
    assert_same(rolling.sharpe_ratio, metrics.sharpe_ratio(window, **options))
    assert_same(rolling.sortino_ratio, metrics.sortino_ratio(window, **options))
    assert_same(rolling.value_at_risk, metrics.value_at_risk(window))
    assert_same(rolling.expected_shortfall, metrics.expected_shortfall(window))


def test_rolling_returns_given_empty_window_return_nan() -> None:
    """Before any update every metric is undefined (NaN)."""
    rolling = RollingReturns(10)
    for name in ("mean", "variance", "sharpe_ratio", "sortino_ratio"):
        assert math.isnan(getattr(rolling, name)), name
    assert math.isnan(rolling.value_at_risk)
    assert math.isnan(rolling.expected_shortfall)


def test_rolling_returns_given_constant_window_report_infinite_sharpe() -> None:
    """Zero dispersion is detected exactly, even after unequal values left the window."""
    rolling = RollingReturns(3)
    for value in (-0.05, 0.1, 0.1, 0.1):
        rolling.update(value)
    assert rolling.variance == 0.0
    assert rolling.sharpe_ratio == math.inf
    assert rolling.sortino_ratio == math.inf


@pytest.mark.parametrize("window", [0, -1, 2.5, True])
def test_rolling_returns_reject_a_bad_window(window) -> None:
    """The window must be a positive integer."""
    with pytest.raises(ValueError, match=r"^window must be an integer >= 1, received "):
        RollingReturns(window)


@given(st.lists(RETURN_OR_NAN.filter(lambda r: math.isnan(r) or r > -1.0), max_size=200))
def test_drawdown_tracker_equals_batch_drawdowns(values) -> None:
    """Running high-water mark drawdowns equal current_drawdown and max_drawdown."""
    tracker = DrawdownTracker()
    for value in values:
        tracker.update_return(value)
        drawdown = -tracker.current_drawdown
        assert 0.0 <= drawdown <= 1.0  # as a positive fraction of the high-water mark
    if not [v for v in values if not math.isnan(v)]:
        assert tracker.current_drawdown == 0.0
        return
    assert_same(tracker.current_drawdown, metrics.current_drawdown(values))
    assert_same(tracker.max_drawdown, metrics.max_drawdown(values))
    assert -1.0 <= tracker.max_drawdown <= 0.0


def test_drawdown_tracker_on_equity_counts_a_first_day_loss() -> None:
    """The starting capital is the first high-water mark."""
    tracker = DrawdownTracker(100_000.0)
    assert math.isclose(tracker.update(95_000.0), -0.05)
    assert tracker.high_water_mark == 100_000.0
    tracker.update(120_000.0)
    assert tracker.current_drawdown == 0.0
    assert math.isclose(tracker.max_drawdown, -0.05)
    assert tracker.value == 120_000.0


def test_drawdown_tracker_rejects_a_non_finite_start() -> None:
    """The initial value must be finite."""
    with pytest.raises(ValueError, match=r"^initial must be a finite number, received nan$"):
        DrawdownTracker(math.nan)


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False) | st.just(math.nan), max_size=100))
def test_running_moments_equal_numpy(values) -> None:
    """Welford's mean and ddof=1 variance equal numpy's on the non-NaN values."""
    moments = RunningMoments()
    for value in values:
        moments.update(value)
    clean = [v for v in values if not math.isnan(v)]
    assert moments.count == len(clean)
    if not clean:
        assert math.isnan(moments.mean)
        return
    assert math.isclose(moments.mean, float(np.mean(clean)), rel_tol=1e-9, abs_tol=1e-6)
    if len(clean) < 2:
        assert math.isnan(moments.variance)
    else:
        reference = float(np.var(clean, ddof=1))
        assert math.isclose(moments.variance, reference, rel_tol=1e-7, abs_tol=1e-3)
        assert math.isclose(moments.std, math.sqrt(moments.variance))


@given(
    st.lists(RETURN, min_size=2, max_size=100),
    st.sampled_from([0.5, 2.0, 3.7, 10.0]),
)
def test_sharpe_ratio_is_unchanged_by_scaling_returns(values, scale) -> None:
    """Sharpe (rf = 0) is scale-invariant: sharpe(c * r) == sharpe(r) for c > 0."""
    scaled = [scale * v for v in values]
    original = metrics.sharpe_ratio(values)
    if math.isnan(original) or math.isinf(original):
        assert_same(metrics.sharpe_ratio(scaled), original)
    else:
        assert math.isclose(metrics.sharpe_ratio(scaled), original, rel_tol=1e-9, abs_tol=1e-9)


@given(st.lists(st.floats(-1.0, 5.0, allow_nan=False), max_size=100))
def test_drawdowns_stay_within_minus_one_and_zero(values) -> None:
    """Every drawdown is a fraction in [-1, 0] (a positive loss fraction in [0, 1])."""
    series = metrics.drawdown_series(values)
    assert ((series >= -1.0) & (series <= 0.0)).all()
    if values:
        assert -1.0 <= metrics.max_drawdown(values) <= 0.0
