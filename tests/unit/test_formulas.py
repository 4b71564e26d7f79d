"""The shared scalar formulas (``algowatch._formulas``): hand-worked values and one home.

Every expected number below is worked out by hand in the comment next to it; the
engine-level tests check that the engine's figures and the public analytics functions
give the same numbers for the same order, since both now call these formulas.
"""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from algowatch import _formulas as formulas
from algowatch import analytics
from algowatch.monitor import Monitor
from algowatch.settings import MonitorSettings
from algowatch.testing import EventFactory


def test_divide_given_zero_denominators_returns_inf_or_nan() -> None:
    """x/0 is ±inf with the numerator's sign, 0/0 and NaN/0 are NaN."""
    assert formulas.divide(3.0, 0.0) == math.inf
    assert formulas.divide(-3.0, -0.0) == -math.inf
    assert math.isnan(formulas.divide(0.0, 0.0))
    assert math.isnan(formulas.divide(math.nan, 0.0))
    assert formulas.divide(1.0, 8.0) == 0.125


def test_side_sign_given_an_unknown_side_raises() -> None:
    """An unknown side is never a sell."""
    assert formulas.side_sign("buy") == 1.0
    assert formulas.side_sign("sell") == -1.0
    with pytest.raises(ValueError, match=r"side must be 'buy' or 'sell', received 'BUY'"):
        formulas.side_sign("BUY")


def test_slippage_and_execution_cost_of_a_buy_and_a_sell() -> None:
    """Buy 10 at 100.10 against 100.00: 10 bps and 1.00 of cost; the sell mirrors it."""
    # (100.10 - 100) / 100 * 1e4 = 10 bps; 10 * 100.10 - 10 * 100 = 1.00
    assert formulas.slippage_bps(1.0, 100.10, 100.0) == pytest.approx(10.0, rel=1e-12)
    assert formulas.slippage_bps(-1.0, 100.10, 100.0) == pytest.approx(-10.0, rel=1e-12)
    assert formulas.execution_cost(1.0, 1001.0, 100.0, 10.0) == pytest.approx(1.0, rel=1e-12)
    assert formulas.execution_cost(-1.0, 1001.0, 100.0, 10.0) == pytest.approx(-1.0, rel=1e-12)


def test_implementation_shortfall_of_a_partly_filled_sell() -> None:
    """Sell 500 decided at 40: 300 filled at 39.90, last 39.50, fees 6 -> 30 + 150 + 6 = 186."""
    # execution: -1 * (300 * 39.90 - 300 * 40) = 30; opportunity: -1 * (39.5 - 40) * 200 = 100
    total = formulas.implementation_shortfall(-1.0, 40.0, 500.0, 300.0, 11_970.0, 6.0, 39.5)
    assert total == pytest.approx(30.0 + 100.0 + 6.0, rel=1e-12)


def test_implementation_shortfall_without_a_last_price_leaves_opportunity_cost_out() -> None:
    """NaN last price (no mark yet): execution cost and fees only."""
    total = formulas.implementation_shortfall(1.0, 10.0, 1000.0, 600.0, 6030.0, 3.0, math.nan)
    assert total == pytest.approx(30.0 + 3.0, rel=1e-12)


def test_half_spread_and_impact_sum_to_the_effective_half_spread() -> None:
    """Buy at 100.02, mid 100.00 at the fill and 100.01 later: 1 bp + 1 bp = 2 bps."""
    # realized half: (100.02 - 100.01) / 100 * 1e4 = 1; impact half: (100.01 - 100) / 100 * 1e4 = 1
    spread = formulas.half_realized_spread_bps(1.0, 100.02, 100.0, 100.01)
    impact = formulas.half_price_impact_bps(1.0, 100.0, 100.01)
    assert spread == pytest.approx(1.0, rel=1e-9)
    assert impact == pytest.approx(1.0, rel=1e-9)
    assert spread + impact == pytest.approx(2.0, rel=1e-9)  # (100.02 - 100) / 100 * 1e4
    # the published (Huang & Stoll) forms are twice the halves, exactly
    assert analytics.realized_spread_bps("buy", 100.02, 100.0, 100.01) == 2.0 * spread
    assert analytics.price_impact_bps("buy", 100.0, 100.01) == 2.0 * impact


def test_profit_factor_given_no_loss_or_no_trade() -> None:
    """15 of profit over 5 of loss is 3; profit with no loss is inf; nothing at all is NaN."""
    assert formulas.profit_factor(15.0, 5.0) == 3.0
    assert formulas.profit_factor(2.0, 0.0) == math.inf
    assert math.isnan(formulas.profit_factor(0.0, 0.0))


def test_drawdown_is_a_positive_fraction_and_nan_without_a_positive_mark() -> None:
    """110 down to 88 is 20 %; at the mark it is 0; a mark <= 0 gives NaN."""
    assert formulas.drawdown(110.0, 88.0) == pytest.approx(0.2, rel=1e-12)
    assert formulas.drawdown(110.0, 110.0) == 0.0
    assert math.isnan(formulas.drawdown(0.0, -5.0))
    assert math.isnan(formulas.drawdown(-10.0, -20.0))


def test_formulas_load_without_numpy() -> None:
    """The engine's formula module imports nothing but the standard library."""
    code = "import sys, algowatch._formulas; print('numpy' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


def test_engine_and_analytics_agree_on_one_order() -> None:
    """The engine's slippage, shortfall and spread figures equal the analytics functions'."""
    f = EventFactory()
    monitor = Monitor(MonitorSettings(impact_horizon_seconds=60.0))
    monitor.apply_many(
        [
            f.mark("X", 50.0, bid=49.99, ask=50.01),
            f.submitted("o1", "X", "sell", 300, arrival_price=50.0, decision_price=50.2),
            f.filled("o1", 100, 49.95, fee=1.5),
            f.filled("o1", 100, 49.90, fee=1.5),
        ]
    )
    f.clock.advance(61.0)
    monitor.apply_many([f.mark("X", 49.80, bid=49.79, ask=49.81), f.canceled("o1")])
    execution = monitor.figures().portfolio.execution
    average = (100 * 49.95 + 100 * 49.90) / 200
    assert execution.mean_slippage_bps == pytest.approx(
        analytics.slippage_bps("sell", average, 50.0), rel=1e-12
    )
    expected = analytics.implementation_shortfall(
        "sell",
        decision_price=50.2,
        quantity=300,
        filled_quantity=200,
        average_fill_price=average,
        last_price=49.80,
        fees=3.0,
    )
    assert execution.implementation_shortfall == pytest.approx(expected.total, rel=1e-12)
    # both fills were measured against the mid 60 s later, weighted by notional
    spreads = [analytics.realized_spread_bps("sell", p, 50.0, 49.80) / 2 for p in (49.95, 49.90)]
    weights = [100 * 49.95, 100 * 49.90]
    weighted = sum(s * w for s, w in zip(spreads, weights, strict=True)) / sum(weights)
    assert execution.realized_spread_bps == pytest.approx(weighted, rel=1e-12)


def test_engine_drawdown_without_a_positive_high_water_mark() -> None:
    """Capital 0 and a loss: the mark stays 0, max drawdown 0.0, current drawdown NaN."""
    f = EventFactory()
    monitor = Monitor(MonitorSettings(starting_capital=0.0))
    monitor.apply_many(
        [
            f.submitted("o1", "X", "buy", 10),
            f.filled("o1", 10, 10.0, fee=1.0),
            f.mark("X", 5.0),  # equity 10 * (5 - 10) - 1 = -51, below the mark of 0
        ]
    )
    trading = monitor.figures().portfolio.trading
    assert trading.high_water_mark == 0.0
    assert trading.max_drawdown == 0.0
    assert math.isnan(trading.current_drawdown)
