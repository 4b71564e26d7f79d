"""Drawdown episodes, monthly returns and rolling windows, against hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algowatch.analytics import annual_volatility, sharpe_ratio
from algowatch.report import ReturnSeries
from algowatch.report._stats import clip_to, monthly_returns, rolling, worst_drawdowns

DAY = 86_400 * 1_000_000_000
T0 = 1_735_776_000 * 1_000_000_000  # 2025-01-02


def _series(values: list[float], step: int = DAY) -> ReturnSeries:
    ts = np.array([T0 + i * step for i in range(len(values))], dtype=np.int64)
    return ReturnSeries("s", ts, np.array(values, dtype=np.float64))


def test_worst_drawdowns_given_no_loss_is_empty() -> None:
    assert worst_drawdowns(_series([0.01, 0.0, 0.02])) == []


def test_worst_drawdowns_hand_worked() -> None:
    """Wealth 1 -> 0.9 -> 0.99 -> 1.0395 (recovered on day 2) -> 0.98 ... never recovered.

    Episode A: the peak is the start (W_0 = 1, one period before day 0), valley day 0
    (-10 %), recovered on day 2 (1.0395 >= 1): 3 days. Episode B: peak day 2 (1.0395),
    valley day 4, still open at day 4.
    """
    s = _series([-0.10, 0.10, 0.05, -0.02, -0.03])
    a, b = worst_drawdowns(s)
    assert a.depth == pytest.approx(-0.10)
    assert (a.start_ts, a.valley_ts, a.end_ts) == (T0 - DAY, T0, T0 + 2 * DAY)
    assert a.days == pytest.approx(3.0)
    assert b.depth == pytest.approx(0.98 * 0.97 - 1)
    assert (b.start_ts, b.valley_ts, b.end_ts) == (T0 + 2 * DAY, T0 + 4 * DAY, None)
    assert b.days == pytest.approx(2.0)


def test_worst_drawdowns_keeps_the_deepest_first() -> None:
    s = _series([-0.01, 0.02, -0.05, 0.10, -0.02, 0.05])
    depths = [e.depth for e in worst_drawdowns(s, count=2)]
    assert depths == pytest.approx([-0.05, -0.02])


def test_monthly_returns_compound_within_a_month() -> None:
    """Jan: (1.1)(0.9) - 1 = -1 %; Feb: +5 %; the other months are NaN."""
    ts = np.array([T0, T0 + 5 * DAY, T0 + 31 * DAY], dtype=np.int64)
    table = monthly_returns(ReturnSeries("s", ts, np.array([0.1, -0.1, 0.05])))
    assert list(table) == [2025]
    assert table[2025][0] == pytest.approx(-0.01)
    assert table[2025][1] == pytest.approx(0.05)
    assert all(math.isnan(v) for v in table[2025][2:])


def test_rolling_windows_are_the_analytics_functions_on_each_window() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(0.001, 0.01, 40)
    roll = rolling(_series(values.tolist()), 252.0, 0.0, window=10)
    assert roll.ts.size == 31
    assert roll.sharpe[0] == pytest.approx(sharpe_ratio(values[:10]))
    assert roll.volatility[-1] == pytest.approx(annual_volatility(values[-10:]))


def test_rolling_given_too_few_periods_is_empty() -> None:
    assert rolling(_series([0.01] * 4), 252.0, 0.0).ts.size == 0


def test_clip_to_keeps_the_benchmark_inside_the_strategy_span() -> None:
    bench = _series([0.01] * 10)
    strategy = ReturnSeries("s", bench.ts[3:6], np.zeros(3))
    assert clip_to(bench, strategy).ts.tolist() == bench.ts[3:6].tolist()
    later = ReturnSeries("s", bench.ts + 100 * DAY, np.zeros(10))
    assert clip_to(bench, later) is bench
