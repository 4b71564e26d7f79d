"""Trade statistics against a plain-Python reference (math.fsum) and hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from algowatch.analytics import trades


def reference(pnl: list[float]) -> dict[str, float]:
    """Plain-Python statistics, written from the definitions in ANALYTICS.md."""
    pnl = [p for p in pnl if not math.isnan(p)]
    wins = [p for p in pnl if p > 0]
    losses = [p for p in pnl if p < 0]
    nan = math.nan
    if not pnl:
        return dict.fromkeys(
            [
                "win_rate",
                "profit_factor",
                "average_win",
                "average_loss",
                "largest_win",
                "largest_loss",
                "expectancy",
                "payoff_ratio",
            ],
            nan,
        )
    profit, loss = math.fsum(wins), -math.fsum(losses)
    factor = profit / loss if loss > 0 else (math.inf if profit > 0 else nan)
    average_win = math.fsum(wins) / len(wins) if wins else nan
    average_loss = math.fsum(losses) / len(losses) if losses else nan
    return {
        "win_rate": len(wins) / len(pnl),
        "profit_factor": factor,
        "average_win": average_win,
        "average_loss": average_loss,
        "largest_win": max(wins) if wins else nan,
        "largest_loss": min(losses) if losses else nan,
        "expectancy": math.fsum(pnl) / len(pnl),
        "payoff_ratio": average_win / abs(average_loss) if wins and losses else nan,
    }


def assert_same(ours: float, expected: float) -> None:
    if math.isnan(expected) or math.isinf(expected):
        assert (math.isnan(ours) and math.isnan(expected)) or ours == expected, (ours, expected)
    else:
        assert math.isclose(ours, expected, rel_tol=1e-9, abs_tol=1e-9), (ours, expected)


CASES = {
    "mixed": [120.0, -40.0, 0.0, 35.5, -80.25, 10.0],
    "no_loss": [5.0, 10.0, 0.0],
    "all_loss": [-5.0, -1.5],
    "scratch_only": [0.0, 0.0],
    "single_win": [42.0],
    "empty": [],
    "with_nan": [10.0, math.nan, -4.0],
    "seeded": list(np.random.default_rng(3).normal(5, 100, 500)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_trade_statistic_equals_the_reference(name) -> None:
    """Each function and trade_summary equal the plain-Python reference."""
    pnl = CASES[name]
    expected = reference(pnl)
    summary = trades.trade_summary(pnl)
    assert summary.num_trades == len([p for p in pnl if not math.isnan(p)])
    for field, value in expected.items():
        assert_same(getattr(trades, field)(pnl), value)
        assert_same(getattr(summary, field), value)
    assert summary.to_dict()["num_trades"] == summary.num_trades


def test_hand_worked_example() -> None:
    """Trades +100, -50, 0, +50: win rate 2/4, profit factor 150/50, expectancy 25."""
    pnl = [100.0, -50.0, 0.0, 50.0]
    assert trades.win_rate(pnl) == 0.5
    assert trades.profit_factor(pnl) == 3.0
    assert trades.average_win(pnl) == 75.0
    assert trades.average_loss(pnl) == -50.0  # keeps its negative sign
    assert trades.largest_win(pnl) == 100.0
    assert trades.largest_loss(pnl) == -50.0
    assert trades.expectancy(pnl) == 25.0
    assert trades.payoff_ratio(pnl) == 1.5


def test_profit_factor_given_profit_without_loss_is_inf_and_neither_is_nan() -> None:
    """Profit and no loss gives +inf; only scratch trades give NaN (0/0); no trades NaN."""
    assert trades.profit_factor([1.0]) == math.inf
    assert math.isnan(trades.profit_factor([0.0]))
    assert math.isnan(trades.trade_summary([0.0, 0.0]).profit_factor)
    assert math.isnan(trades.profit_factor([]))


@given(st.lists(st.floats(-1e9, 1e9, allow_nan=False) | st.just(math.nan), max_size=200))
def test_win_rate_stays_within_zero_and_one(pnl) -> None:
    """The win rate is a fraction in [0, 1] (NaN without trades)."""
    rate = trades.win_rate(pnl)
    if all(math.isnan(p) for p in pnl):
        assert math.isnan(rate)
    else:
        assert 0.0 <= rate <= 1.0


def test_two_dimensional_pnl_is_rejected() -> None:
    """Per-trade P&L must be a flat sequence."""
    with pytest.raises(ValueError, match=r"^pnl must be one-dimensional"):
        trades.win_rate([[1.0, 2.0]])
