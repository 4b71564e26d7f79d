"""Drawdown of the wealth curve: the series, its maximum and its current value.

Part of :mod:`algowatch.analytics.returns`, whose conventions apply.
"""

from __future__ import annotations

import math

from algowatch.analytics import _returns as _k
from algowatch.analytics._common import ArrayLike, FloatArray, check_periods, clean

__all__ = [
    "current_drawdown",
    "drawdown_series",
    "max_drawdown",
]


def drawdown_series(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: float = 252.0
) -> FloatArray:
    """Return the drawdown after each observed period, as fractions ``<= 0``.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    returns
        Simple per-period returns; NaN values are dropped, so the result has
        one value per non-NaN return.
    risk_free, periods_per_year
        Unused; accepted so that every metric takes the same keywords.

    Returns
    -------
    numpy.ndarray
        ``W_t / max(W_0, ..., W_t) - 1`` with ``W_0 = 1`` and
        ``W_t = prod(1 + r_1..r_t)``.

    Notes
    -----
    Empty or all-NaN input gives an empty array. No annualisation. Values
    are in ``[-1, 0]`` unless the wealth goes negative (a return below
    -100 %, see :func:`max_drawdown`).

    Examples
    --------
    >>> drawdown_series([0.1, -0.5, 0.2]).round(4).tolist()
    [0.0, -0.5, -0.4]
    >>> drawdown_series([-0.1]).round(4).tolist()
    [-0.1]
    """
    check_periods(periods_per_year)
    return _k.curve(clean(returns))[0]


def max_drawdown(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: float = 252.0
) -> float:
    """Return the maximum drawdown, a fraction ``<= 0``.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    returns
        Simple per-period returns; NaN values are dropped.
    risk_free, periods_per_year
        Unused; accepted so that every metric takes the same keywords.

    Returns
    -------
    float
        ``min_t(W_t / max(W_0..W_t) - 1)`` with ``W_0 = 1``: 0.0 without a loss,
        -0.25 for a 25 % peak-to-trough fall.

    Notes
    -----
    Empty or all-NaN input gives NaN. No annualisation.

    A return below -100 % makes the wealth negative (a loss beyond the
    capital, as with leverage) and the drawdown goes below -1: ``[-1.5]``
    gives -1.5. The value is kept, as empyrical does, not clamped to -1, so
    that the loss beyond the capital shows. A wealth curve beyond the double
    range is followed in log space (no overflow).

    References
    ----------
    ``empyrical.max_drawdown``.

    Examples
    --------
    >>> max_drawdown([0.1, -0.5, 0.2])
    -0.5
    >>> max_drawdown([0.01, 0.02])
    0.0
    >>> max_drawdown([-1.5])
    -1.5
    """
    check_periods(periods_per_year)
    data = clean(returns)
    if len(data) == 0:
        return math.nan
    return min(float(_k.curve(data)[0].min()), 0.0)


def current_drawdown(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: float = 252.0
) -> float:
    """Return the drawdown at the last observed period, a fraction ``<= 0``.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    returns
        Simple per-period returns; NaN values are dropped.
    risk_free, periods_per_year
        Unused; accepted so that every metric takes the same keywords.

    Returns
    -------
    float
        ``W_T / max(W_0..W_T) - 1`` with ``W_0 = 1``.

    Notes
    -----
    Empty or all-NaN input gives NaN. Exported to Prometheus as the positive
    fraction ``-current_drawdown``. In ``[-1, 0]`` unless the wealth goes
    negative (see :func:`max_drawdown`).

    Examples
    --------
    >>> round(current_drawdown([0.1, -0.5, 0.2]), 4)
    -0.4
    """
    check_periods(periods_per_year)
    data = clean(returns)
    if len(data) == 0:
        return math.nan
    return float(_k.curve(data)[0][-1])
