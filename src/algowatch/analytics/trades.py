"""Statistics of closed trades, from a sequence of per-trade P&L.

A *trade* is a round trip from flat to flat (``DESIGN.md``); its P&L is its
realized P&L in the account currency, fees included. NaN entries are missing
data and are dropped. A trade with P&L exactly 0 (a scratch) is neither a win
nor a loss but stays in the win-rate denominator. No trades at all gives NaN
for every statistic: undefined, never a misleading 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from algowatch import _formulas
from algowatch.analytics._common import (
    ArrayLike,
    FloatArray,
    clean,
    mean,
    scale_of,
    signed_sums,
)

__all__ = [
    "TradeSummary",
    "average_loss",
    "average_win",
    "expectancy",
    "largest_loss",
    "largest_win",
    "payoff_ratio",
    "profit_factor",
    "trade_summary",
    "win_rate",
]


def _pnl(pnl: ArrayLike) -> FloatArray:
    return clean(pnl, name="pnl")


# Gross profit and gross loss (positive), scaled by a common power of two when
# they would overflow: only their ratio is reported.
def _profit_and_loss(data: FloatArray) -> tuple[float, float]:
    profit, loss = signed_sums(data, scale_of(float(data.min()), float(data.max())))
    return profit, -loss


def win_rate(pnl: ArrayLike) -> float:
    """Return the fraction of trades with a positive P&L, in [0, 1].

    .. versionadded:: 0.1.0

    Parameters
    ----------
    pnl
        Per-trade P&L; NaN values are dropped.

    Returns
    -------
    float
        ``count(pnl > 0) / count(pnl)``; scratch trades (0) count in the
        denominator. NaN without trades.

    Examples
    --------
    >>> win_rate([10.0, -5.0, 0.0, 2.5])
    0.5
    >>> win_rate([])
    nan
    """
    data = _pnl(pnl)
    if len(data) == 0:
        return math.nan
    return int(np.count_nonzero(data > 0.0)) / len(data)


def profit_factor(pnl: ArrayLike) -> float:
    """Return gross profit over gross loss.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    pnl
        Per-trade P&L; NaN values are dropped.

    Returns
    -------
    float
        ``sum(pnl[pnl > 0]) / abs(sum(pnl[pnl < 0]))``: ``+inf`` with profit
        and no loss, NaN with neither profit nor loss (only scratch trades,
        0/0) and without trades.

    Notes
    -----
    Only scratch trades (P&L exactly 0) give NaN, not 0.0: a profit factor of
    0 would read as "every trade lost", and no profit over no loss is
    undefined (``ANALYTICS.md``). The engine's snapshot field
    ``profit_factor`` uses the same scalar formula.

    Examples
    --------
    >>> profit_factor([10.0, -5.0, 5.0])
    3.0
    >>> profit_factor([1.0, 2.0])
    inf
    >>> profit_factor([0.0, 0.0])
    nan
    """
    data = _pnl(pnl)
    if len(data) == 0:
        return math.nan
    profit, loss = _profit_and_loss(data)
    return _formulas.profit_factor(profit, loss)


def average_win(pnl: ArrayLike) -> float:
    """Return the mean P&L of the winning trades (NaN without a win).

    .. versionadded:: 0.1.0

    Examples
    --------
    >>> average_win([10.0, -5.0, 5.0])
    7.5
    """
    data = _pnl(pnl)
    wins = data[data > 0.0]
    return mean(wins) if len(wins) else math.nan


def average_loss(pnl: ArrayLike) -> float:
    """Return the mean P&L of the losing trades, negative (NaN without a loss).

    .. versionadded:: 0.1.0

    Examples
    --------
    >>> average_loss([10.0, -5.0, -3.0])
    -4.0
    """
    data = _pnl(pnl)
    losses = data[data < 0.0]
    return mean(losses) if len(losses) else math.nan


def largest_win(pnl: ArrayLike) -> float:
    """Return the largest winning trade's P&L (NaN without a win).

    .. versionadded:: 0.1.0

    Examples
    --------
    >>> largest_win([10.0, -5.0, 5.0])
    10.0
    """
    data = _pnl(pnl)
    wins = data[data > 0.0]
    return float(wins.max()) if len(wins) else math.nan


def largest_loss(pnl: ArrayLike) -> float:
    """Return the largest losing trade's P&L, negative (NaN without a loss).

    .. versionadded:: 0.1.0

    Examples
    --------
    >>> largest_loss([10.0, -5.0, -8.0])
    -8.0
    """
    data = _pnl(pnl)
    losses = data[data < 0.0]
    return float(losses.min()) if len(losses) else math.nan


def expectancy(pnl: ArrayLike) -> float:
    """Return the mean P&L per trade, scratch trades included (NaN without trades).

    .. versionadded:: 0.1.0

    Examples
    --------
    >>> expectancy([10.0, -5.0, 0.0, 3.0])
    2.0
    """
    data = _pnl(pnl)
    return mean(data) if len(data) else math.nan


def payoff_ratio(pnl: ArrayLike) -> float:
    """Return the average win over the absolute average loss.

    .. versionadded:: 0.1.0

    Returns
    -------
    float
        ``average_win / abs(average_loss)``; NaN unless there is at least one
        win and one loss (either average is undefined otherwise).

    Examples
    --------
    >>> payoff_ratio([10.0, -5.0, 5.0])
    1.5
    """
    return average_win(pnl) / abs(average_loss(pnl))


@dataclass(frozen=True, slots=True)
class TradeSummary:
    """Every trade statistic of :mod:`algowatch.analytics.trades` at once.

    .. versionadded:: 0.1.0

    ``num_trades`` counts the non-NaN trades; every other field has the meaning
    of the function of the same name (``avg_*`` in the snapshot contract).
    """

    num_trades: int
    win_rate: float
    profit_factor: float
    average_win: float
    average_loss: float
    largest_win: float
    largest_loss: float
    expectancy: float
    payoff_ratio: float

    def to_dict(self) -> dict[str, float | int]:
        """Return the fields as a plain ``dict``."""
        return asdict(self)


def trade_summary(pnl: ArrayLike) -> TradeSummary:
    """Compute every trade statistic with one pass over wins and losses.

    .. versionadded:: 0.1.0

    Examples
    --------
    >>> s = trade_summary([10.0, -5.0, 0.0, 5.0])
    >>> s.num_trades, s.win_rate, s.profit_factor, s.expectancy
    (4, 0.5, 3.0, 2.5)
    """
    data = _pnl(pnl)
    n = len(data)
    nan = math.nan
    if n == 0:
        return TradeSummary(0, nan, nan, nan, nan, nan, nan, nan, nan)
    wins = data[data > 0.0]
    losses = data[data < 0.0]
    profit, loss = _profit_and_loss(data)
    avg_win = mean(wins) if len(wins) else nan
    avg_loss = mean(losses) if len(losses) else nan
    return TradeSummary(
        num_trades=n,
        win_rate=len(wins) / n,
        profit_factor=_formulas.profit_factor(profit, loss),
        average_win=avg_win,
        average_loss=avg_loss,
        largest_win=float(wins.max()) if len(wins) else nan,
        largest_loss=float(losses.min()) if len(losses) else nan,
        expectancy=mean(data),
        payoff_ratio=avg_win / abs(avg_loss),
    )
