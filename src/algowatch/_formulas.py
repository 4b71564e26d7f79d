"""The scalar formulas the engine and the analytics share: one home per formula.

The engine (:mod:`algowatch.monitor`) folds every order, fill and mark into
running sums with these functions, and the public functions of
:mod:`algowatch.analytics` validate their inputs and then call the same ones, so
the live figures and the batch metrics agree by construction. The module imports
only :mod:`math`: it is compiled with the engine (mypyc, see
:mod:`algowatch._native`) and loads without numpy.

Conventions (``DESIGN.md``, ``ANALYTICS.md``): ``sign`` is +1.0 for a buy and
-1.0 for a sell; every cost is positive when unfavourable to the order; basis
points are ``1e4`` times a relative difference; drawdowns are positive
fractions of the high-water mark. The functions trust their inputs (the engine
gets validated events; the analytics validate first).

.. versionadded:: 0.2.0

Examples
--------
>>> round(slippage_bps(-1.0, 100.05, 100.0), 9)
-5.0
>>> drawdown(110.0, 88.0)
0.2
>>> profit_factor(15.0, 5.0), profit_factor(3.0, 0.0), profit_factor(0.0, 0.0)
(3.0, inf, nan)
"""

from __future__ import annotations

import math
from typing import Final

__all__ = [
    "BPS",
    "divide",
    "drawdown",
    "execution_cost",
    "half_price_impact_bps",
    "half_realized_spread_bps",
    "implementation_shortfall",
    "opportunity_cost",
    "profit_factor",
    "side_sign",
    "slippage_bps",
]

#: Basis points per unit of relative difference.
BPS: Final = 1e4


def divide(numerator: float, denominator: float) -> float:
    """Return ``numerator / denominator``, ±inf for ``x / 0`` and NaN for ``0 / 0``.

    The sign of an infinite result is the numerator's: a zero denominator (often a
    negated empty sum) carries no sign worth keeping. No warning, no exception.

    Examples
    --------
    >>> divide(1.0, 4.0), divide(-2.0, 0.0), divide(0.0, -0.0)
    (0.25, -inf, nan)
    """
    if denominator == 0.0:
        if numerator == 0.0 or math.isnan(numerator):
            return math.nan
        return math.copysign(math.inf, numerator)
    return numerator / denominator


def side_sign(side: str) -> float:
    """Return +1.0 for ``"buy"`` and -1.0 for ``"sell"`` (exact spelling), else raise.

    Raises
    ------
    ValueError
        For any other value; an unknown side is never taken for a sell.

    Examples
    --------
    >>> side_sign("sell")
    -1.0
    >>> side_sign("short")
    Traceback (most recent call last):
    ...
    ValueError: side must be 'buy' or 'sell', received 'short'
    """
    if side == "buy":
        return 1.0
    if side == "sell":
        return -1.0
    msg = f"side must be 'buy' or 'sell', received {side!r}"
    raise ValueError(msg)


def slippage_bps(sign: float, price: float, benchmark: float) -> float:
    """Return the slippage of ``price`` against ``benchmark`` in bps (positive = cost).

    ``sign * (price - benchmark) / benchmark * 1e4``. For an order, ``price`` is its
    volume-weighted fill price; ``benchmark`` the arrival price, the decision price or
    the interval VWAP (VWAP deviation).
    """
    return sign * (price - benchmark) / benchmark * BPS


def execution_cost(sign: float, notional: float, benchmark: float, filled: float) -> float:
    """Return the cost in currency of ``filled`` units traded for ``notional``, against a price.

    ``sign * (notional - benchmark * filled)``: the slippage cost against the arrival
    price, or the execution part of the implementation shortfall against the decision
    price.
    """
    return sign * (notional - benchmark * filled)


def opportunity_cost(sign: float, last_price: float, decision: float, unfilled: float) -> float:
    """Return the cost in currency of not filling ``unfilled`` units (Perold).

    ``sign * (last_price - decision) * unfilled``: the move since the decision that the
    unfilled part missed.
    """
    return sign * (last_price - decision) * unfilled


def implementation_shortfall(  # noqa: PLR0917 - the formula's six inputs
    sign: float,
    decision: float,
    quantity: float,
    filled: float,
    notional: float,
    fees: float,
    last_price: float,
) -> float:
    """Return Perold's implementation shortfall of one order, in currency.

    ``execution_cost + fees + opportunity_cost`` with the unfilled part
    ``quantity - filled`` valued at ``last_price``; a NaN ``last_price`` (no mark yet)
    leaves the opportunity cost out. Positive is a cost.

    References
    ----------
    Perold, A. F. (1988). The implementation shortfall: Paper versus reality.
    *Journal of Portfolio Management* 14(3), 4-9.

    Examples
    --------
    Buy 1,000 decided at 10.00; 600 filled for 6,030, last mark 10.20, fees 3:

    >>> round(implementation_shortfall(1.0, 10.0, 1000.0, 600.0, 6030.0, 3.0, 10.2), 9)
    113.0
    """
    total = execution_cost(sign, notional, decision, filled) + fees
    unfilled = quantity - filled
    if unfilled > 0.0 and last_price == last_price:  # noqa: PLR0124 - NaN test, no call
        total += opportunity_cost(sign, last_price, decision, unfilled)
    return total


def half_realized_spread_bps(
    sign: float, price: float, mid_at_fill: float, mid_after: float
) -> float:
    """Return half the realized spread of a fill, in bps of the mid at the fill.

    ``sign * (price - mid_after) / mid_at_fill * 1e4``. The realized spread of
    Huang & Stoll (and SEC Rule 605) is twice this; the engine's snapshot field
    ``realized_spread_bps`` reports this half form, and
    :func:`algowatch.analytics.realized_spread_bps` the full one.
    """
    return sign * (price - mid_after) / mid_at_fill * BPS


def half_price_impact_bps(sign: float, mid_at_fill: float, mid_after: float) -> float:
    """Return half the price impact of a fill, in bps of the mid at the fill.

    ``sign * (mid_after - mid_at_fill) / mid_at_fill * 1e4``; with
    :func:`half_realized_spread_bps` it sums to the effective half spread.
    """
    return sign * (mid_after - mid_at_fill) / mid_at_fill * BPS


def profit_factor(gross_profit: float, gross_loss: float) -> float:
    """Return gross profit over gross loss (both >= 0).

    ``inf`` with profit and no loss, NaN with neither (0/0 is undefined, never a
    misleading 0), as ``ANALYTICS.md`` requires.
    """
    return divide(gross_profit, gross_loss)


def drawdown(high_water_mark: float, value: float) -> float:
    """Return the drawdown of ``value`` from ``high_water_mark``, a positive fraction.

    ``(high_water_mark - value) / high_water_mark`` (0.15 = 15 % below the mark);
    NaN when the high-water mark is not positive. Written as a difference first so
    that a small drawdown keeps its relative precision.
    """
    if high_water_mark > 0.0:
        return (high_water_mark - value) / high_water_mark
    return math.nan
