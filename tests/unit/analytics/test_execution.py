"""Execution metrics against hand-worked examples (no library covers them)."""

from __future__ import annotations

import math

import pytest

from algowatch.analytics import execution


@pytest.mark.parametrize("side", ["buy", "BUY", "Buy", " buy "])
def test_side_spellings_of_buy_are_normalised(side) -> None:
    """Any case and surrounding blanks are accepted."""
    assert execution.normalize_side(side) == "buy"
    assert execution.side_sign(side) == 1.0


@pytest.mark.parametrize("side", ["short", "", "b", None, 1])
def test_unknown_sides_are_rejected_not_treated_as_sells(side) -> None:
    """Anything but buy or sell raises, naming the value received."""
    with pytest.raises(ValueError, match=r"^side must be 'buy' or 'sell' \(any case\), received "):
        execution.slippage_bps(side, 100.0, 100.0)


def test_slippage_hand_worked() -> None:
    """Buy at 100.10 vs arrival 100.00: 10 bps cost; a sell there: 10 bps gain (-10)."""
    assert math.isclose(execution.slippage_bps("buy", 100.10, 100.0), 10.0, rel_tol=1e-9)
    assert math.isclose(execution.slippage_bps("sell", 100.10, 100.0), -10.0, rel_tol=1e-9)
    assert math.isclose(execution.slippage_bps("Sell", 49.95, 50.0), 10.0, rel_tol=1e-9)


def test_vwap_deviation_hand_worked() -> None:
    """Sell averaging 20.00 vs interval VWAP 20.04: (20.00-20.04)/20.04 * -1e4 = 19.96 bps."""
    expected = -1.0 * (20.00 - 20.04) / 20.04 * 1e4
    assert math.isclose(execution.vwap_deviation_bps("sell", 20.00, 20.04), expected, rel_tol=1e-12)
    assert math.isclose(expected, 19.960079840319, rel_tol=1e-9)


def test_implementation_shortfall_of_a_partly_filled_sell() -> None:
    """Sell 500 decided at 40.00; 300 at 39.90, rest marked 39.50, fees 6.

    execution = -1 * (39.90 - 40.00) * 300 = 30; opportunity = -1 * (39.50 - 40.00) * 200
    = 100; total = 136 on a notional of 20,000 = 68 bps.
    """
    result = execution.implementation_shortfall(
        "SELL",
        decision_price=40.0,
        quantity=500,
        filled_quantity=300,
        average_fill_price=39.9,
        last_price=39.5,
        fees=6.0,
    )
    assert math.isclose(result.execution_cost, 30.0, rel_tol=1e-9)
    assert math.isclose(result.opportunity_cost, 100.0, rel_tol=1e-9)
    assert result.fees == 6.0
    assert math.isclose(result.total, 136.0, rel_tol=1e-9)
    assert result.decision_notional == 20_000.0
    assert math.isclose(result.total_bps, 68.0, rel_tol=1e-9)
    assert set(result.to_dict()) == {
        "execution_cost",
        "opportunity_cost",
        "fees",
        "total",
        "decision_notional",
        "total_bps",
    }


def test_implementation_shortfall_of_an_unfilled_buy_is_all_opportunity_cost() -> None:
    """Nothing filled: the fill price is ignored; the price ran away 2 %: 200 bps."""
    result = execution.implementation_shortfall(
        "buy",
        decision_price=10.0,
        quantity=100,
        filled_quantity=0,
        average_fill_price=math.nan,
        last_price=10.2,
    )
    assert result.execution_cost == 0.0
    assert math.isclose(result.opportunity_cost, 20.0, rel_tol=1e-9)
    assert math.isclose(result.total_bps, 200.0, rel_tol=1e-9)


def test_implementation_shortfall_rejects_overfill() -> None:
    """filled_quantity above quantity is an error naming both."""
    with pytest.raises(
        ValueError, match=r"^filled_quantity must be in \[0, quantity=100\], received 120$"
    ):
        execution.implementation_shortfall(
            "buy",
            decision_price=10.0,
            quantity=100,
            filled_quantity=120,
            average_fill_price=10.0,
            last_price=10.0,
        )


def test_realized_spread_plus_price_impact_is_the_effective_spread() -> None:
    """Buy at 100.03, mid 100.00 at fill, 100.02 five minutes later.

    effective = 2 * (100.03 - 100.00) / 100 * 1e4 = 6 bps; realized = 2 * (100.03 - 100.02)
    / 100 * 1e4 = 2 bps; impact = 2 * (100.02 - 100.00) / 100 * 1e4 = 4 bps.
    """
    realized = execution.realized_spread_bps("buy", 100.03, 100.0, 100.02)
    impact = execution.price_impact_bps("buy", 100.0, 100.02)
    assert math.isclose(realized, 2.0, rel_tol=1e-9)
    assert math.isclose(impact, 4.0, rel_tol=1e-9)
    assert math.isclose(realized + impact, 6.0, rel_tol=1e-9)


def test_sell_side_spread_signs() -> None:
    """A sell at 99.97 with the mid falling to 99.98: realized 2 bps, impact 4 bps."""
    assert math.isclose(
        execution.realized_spread_bps("sell", 99.97, 100.0, 99.98), 2.0, rel_tol=1e-9
    )
    assert math.isclose(execution.price_impact_bps("sell", 100.0, 99.98), 4.0, rel_tol=1e-9)


@pytest.mark.parametrize("price", [0.0, -1.0, math.nan, math.inf])
def test_non_positive_or_non_finite_prices_are_rejected(price) -> None:
    """Prices must be finite and > 0; the message names the field."""
    with pytest.raises(ValueError, match=r"^benchmark_price must be a finite number > 0, received"):
        execution.slippage_bps("buy", 100.0, price)
