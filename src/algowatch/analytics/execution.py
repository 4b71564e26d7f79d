"""Execution-quality metrics: slippage, VWAP deviation, implementation shortfall, spreads.

Sign convention: every cost is **positive when unfavourable** to the order
(a buy filled above its benchmark, a sell below). ``side`` is normalised
(``"BUY"``, ``" Buy "`` are buys) and anything other than buy or sell is
rejected: an unknown side is never treated as a sell. Prices must be finite
and > 0; basis points are ``1e4`` times the relative difference.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

from algowatch import _formulas

__all__ = [
    "ImplementationShortfall",
    "implementation_shortfall",
    "normalize_side",
    "price_impact_bps",
    "realized_spread_bps",
    "side_sign",
    "slippage_bps",
    "vwap_deviation_bps",
]

Side = Literal["buy", "sell"]


def normalize_side(side: str) -> Side:
    """Return ``"buy"`` or ``"sell"`` for any spelling of them, or raise.

    .. versionadded:: 0.1.0

    Raises
    ------
    ValueError
        If ``side`` is not a string spelling buy or sell.

    Examples
    --------
    >>> normalize_side(" BUY ")
    'buy'
    >>> normalize_side("short")
    Traceback (most recent call last):
    ...
    ValueError: side must be 'buy' or 'sell' (any case), received 'short'
    """
    if isinstance(side, str):
        folded = side.strip().lower()
        if folded == "buy":
            return "buy"
        if folded == "sell":
            return "sell"
    msg = f"side must be 'buy' or 'sell' (any case), received {side!r}"
    raise ValueError(msg)


def side_sign(side: str) -> float:
    """Return +1.0 for a buy and -1.0 for a sell (see :func:`normalize_side`).

    .. versionadded:: 0.1.0

    Examples
    --------
    >>> side_sign("Sell")
    -1.0
    """
    return _formulas.side_sign(normalize_side(side))


def _price(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        msg = f"{name} must be a finite number > 0, received {value!r}"
        raise ValueError(msg)
    return float(value)


def slippage_bps(side: str, fill_price: float, benchmark_price: float) -> float:
    """Return the slippage of a fill against a benchmark price, in basis points.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    side
        ``"buy"`` or ``"sell"`` (any case).
    fill_price
        Execution price (for an order: its volume-weighted average fill price).
    benchmark_price
        Arrival (or decision) price.

    Returns
    -------
    float
        ``sign * (fill - benchmark) / benchmark * 1e4`` with sign +1 for a buy
        and -1 for a sell; positive is a cost.

    Examples
    --------
    >>> round(slippage_bps("buy", 100.05, 100.0), 6)
    5.0
    >>> round(slippage_bps("SELL", 100.05, 100.0), 6)
    -5.0
    """
    sign = side_sign(side)
    fill = _price("fill_price", fill_price)
    benchmark = _price("benchmark_price", benchmark_price)
    return _formulas.slippage_bps(sign, fill, benchmark)


def vwap_deviation_bps(side: str, average_fill_price: float, interval_vwap: float) -> float:
    """Return the deviation of an order's average fill price from the interval VWAP, in bps.

    .. versionadded:: 0.1.0

    ``sign * (average_fill_price - interval_vwap) / interval_vwap * 1e4``;
    positive means the order did worse than the market's VWAP over its life.

    Examples
    --------
    >>> round(vwap_deviation_bps("buy", 50.01, 50.0), 6)
    2.0
    """
    sign = side_sign(side)
    fill = _price("average_fill_price", average_fill_price)
    vwap = _price("interval_vwap", interval_vwap)
    return _formulas.slippage_bps(sign, fill, vwap)


@dataclass(frozen=True, slots=True)
class ImplementationShortfall:
    """Perold's implementation shortfall of one order, split into its parts.

    .. versionadded:: 0.1.0

    Attributes
    ----------
    execution_cost
        ``sign * (average_fill_price - decision_price) * filled_quantity``.
    opportunity_cost
        ``sign * (last_price - decision_price) * (quantity - filled_quantity)``.
    fees
        Explicit fees and commissions.
    total
        ``execution_cost + opportunity_cost + fees``, in currency.
    decision_notional
        ``decision_price * quantity``.
    total_bps
        ``total / decision_notional * 1e4``.
    """

    execution_cost: float
    opportunity_cost: float
    fees: float
    total: float
    decision_notional: float
    total_bps: float

    def to_dict(self) -> dict[str, float]:
        """Return the fields as a plain ``dict``."""
        return asdict(self)


def implementation_shortfall(
    side: str,
    *,
    decision_price: float,
    quantity: float,
    filled_quantity: float,
    average_fill_price: float,
    last_price: float,
    fees: float = 0.0,
) -> ImplementationShortfall:
    """Return the implementation shortfall of an order after Perold (1988).

    .. versionadded:: 0.1.0

    Parameters
    ----------
    side
        ``"buy"`` or ``"sell"`` (any case).
    decision_price
        Price when the decision to trade was taken (the paper portfolio's price).
    quantity
        Quantity the decision asked for (> 0).
    filled_quantity
        Quantity actually filled, in ``[0, quantity]``.
    average_fill_price
        Volume-weighted fill price; ignored (may be NaN) when nothing filled.
    last_price
        Last mark, at which the unfilled part is valued.
    fees
        Explicit costs in currency (>= 0).

    Returns
    -------
    ImplementationShortfall
        The parts and the total, in currency and in bps of decision notional;
        positive is a cost.

    References
    ----------
    Perold, A. F. (1988). The implementation shortfall: Paper versus reality.
    *Journal of Portfolio Management* 14(3), 4-9.

    Examples
    --------
    Buy 1,000 decided at 10.00; 600 filled at 10.05, last mark 10.20, fees 3:

    >>> result = implementation_shortfall(
    ...     "buy", decision_price=10.0, quantity=1000, filled_quantity=600,
    ...     average_fill_price=10.05, last_price=10.2, fees=3.0)
    >>> round(result.execution_cost, 6), round(result.opportunity_cost, 6)
    (30.0, 80.0)
    >>> round(result.total, 6), round(result.total_bps, 6)
    (113.0, 113.0)
    """
    sign = side_sign(side)
    decision = _price("decision_price", decision_price)
    last = _price("last_price", last_price)
    if not (math.isfinite(quantity) and quantity > 0):
        msg = f"quantity must be a finite number > 0, received {quantity!r}"
        raise ValueError(msg)
    if not (math.isfinite(filled_quantity) and 0 <= filled_quantity <= quantity):
        msg = f"filled_quantity must be in [0, quantity={quantity!r}], received {filled_quantity!r}"
        raise ValueError(msg)
    if not (math.isfinite(fees) and fees >= 0):
        msg = f"fees must be a finite number >= 0, received {fees!r}"
        raise ValueError(msg)
    fill_notional = 0.0
    if filled_quantity > 0:
        fill_notional = _price("average_fill_price", average_fill_price) * filled_quantity
    # the engine's formulas, on the notional the engine accumulates from the fills
    total = _formulas.implementation_shortfall(
        sign, decision, quantity, filled_quantity, fill_notional, fees, last
    )
    notional = decision * quantity
    return ImplementationShortfall(
        execution_cost=_formulas.execution_cost(sign, fill_notional, decision, filled_quantity),
        opportunity_cost=_formulas.opportunity_cost(
            sign, last, decision, quantity - filled_quantity
        ),
        fees=float(fees),
        total=total,
        decision_notional=notional,
        total_bps=total / notional * _formulas.BPS,
    )


def realized_spread_bps(
    side: str, fill_price: float, mid_at_fill: float, mid_after: float
) -> float:
    """Return the realized spread of a fill, in bps of the mid at fill time.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    side
        ``"buy"`` or ``"sell"`` (any case) of our order.
    fill_price
        Execution price.
    mid_at_fill
        Quote midpoint when the fill happened (``M_t``).
    mid_after
        Quote midpoint a horizon after the fill (``M_{t+Δ}``; 5 minutes by
        default in the monitor's settings).

    Returns
    -------
    float
        ``2 * sign * (fill - M_{t+Δ}) / M_t * 1e4``: the part of the effective
        spread ``2 * sign * (fill - M_t) / M_t`` that was not taken back by the
        subsequent price move; the effective spread equals realized spread
        plus :func:`price_impact_bps`.

    References
    ----------
    Huang, R. D. & Stoll, H. R. (1996). Dealer versus auction markets.
    *Journal of Financial Economics* 41(3). SEC Rule 605 definitions.

    Examples
    --------
    >>> round(realized_spread_bps("buy", 100.02, 100.0, 100.01), 6)
    2.0
    """
    sign = side_sign(side)
    fill = _price("fill_price", fill_price)
    mid = _price("mid_at_fill", mid_at_fill)
    later = _price("mid_after", mid_after)
    return 2.0 * _formulas.half_realized_spread_bps(sign, fill, mid, later)


def price_impact_bps(side: str, mid_at_fill: float, mid_after: float) -> float:
    """Return the price impact of a fill, in bps of the mid at fill time.

    .. versionadded:: 0.1.0

    ``2 * sign * (M_{t+Δ} - M_t) / M_t * 1e4``: how far the mid moved in the
    direction of the trade over the horizon (see :func:`realized_spread_bps`).

    Examples
    --------
    >>> round(price_impact_bps("sell", 100.0, 99.99), 6)
    2.0
    """
    sign = side_sign(side)
    mid = _price("mid_at_fill", mid_at_fill)
    later = _price("mid_after", mid_after)
    return 2.0 * _formulas.half_price_impact_bps(sign, mid, later)
