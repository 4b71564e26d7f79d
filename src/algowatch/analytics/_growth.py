"""Annualised growth and volatility, and the stability of the growth.

Part of :mod:`algowatch.analytics.returns`, whose conventions apply.
"""

from __future__ import annotations

import math

import numpy as np

from algowatch.analytics import _returns as _k
from algowatch.analytics._common import ArrayLike, check_periods, clean

__all__ = [
    "annual_return",
    "annual_volatility",
    "stability_of_timeseries",
]


def annual_return(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: float = 252.0
) -> float:
    """Return the compound annual growth rate (CAGR).

    .. versionadded:: 0.1.0

    Parameters
    ----------
    returns
        Simple per-period returns; NaN values are dropped.
    risk_free
        Unused; accepted so that every metric takes the same keywords.
    periods_per_year
        Number of return periods in a year (N).

    Returns
    -------
    float
        ``W_T ** (N / n) - 1`` where n is the number of non-NaN returns.

    Notes
    -----
    Empty or all-NaN input gives NaN; a final wealth below zero (a return
    below -100 %) gives NaN. A growth rate beyond the double range is
    ``+inf`` (one +1 % bar at N = 98,280 one-minute bars a year compounds to
    ``1.01 ** 98280``), as in empyrical; it is never an ``OverflowError``. A
    final wealth that itself overflows is taken in log space, so a long
    series still gets its finite annual rate.

    References
    ----------
    ``empyrical.annual_return`` (on the NaN-dropped series).

    Examples
    --------
    >>> round(annual_return([0.01] * 12, periods_per_year=12), 6)
    0.126825
    """
    periods = check_periods(periods_per_year)
    data = clean(returns)
    if len(data) == 0:
        return math.nan
    final, log_final = _k.final_wealth(data)
    return _k.cagr(final, len(data), periods, log_final)


def annual_volatility(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: float = 252.0
) -> float:
    """Return the annualised volatility ``std(r, ddof=1) * sqrt(N)``.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    returns
        Simple per-period returns; NaN values are dropped.
    risk_free
        Unused; accepted so that every metric takes the same keywords.
    periods_per_year
        Number of return periods in a year (N).

    Returns
    -------
    float
        Sample standard deviation (``ddof=1``) times ``sqrt(N)``.

    Notes
    -----
    Fewer than two observations give NaN; zero dispersion gives 0.0.

    Examples
    --------
    >>> round(annual_volatility([0.01, -0.01], periods_per_year=4), 6)
    0.028284
    """
    periods = check_periods(periods_per_year)
    data = clean(returns)
    if len(data) < 2:
        return math.nan
    _, std, scale = _k.moments(data, float(data.min()), float(data.max()))
    return std * scale * math.sqrt(periods)


def stability_of_timeseries(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: float = 252.0
) -> float:
    """Return the R² of a linear fit to the cumulative log returns.

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
        Squared Pearson correlation between ``t`` and ``log(W_t)``, in [0, 1].

    Notes
    -----
    Fewer than two observations give NaN. A flat cumulative log return (every
    return zero) gives NaN, the 0/0 it is; empyrical returns 0.0 there. A
    return of -100 % gives NaN.

    References
    ----------
    ``empyrical.stability_of_timeseries``.

    Examples
    --------
    >>> stability_of_timeseries([0.01, 0.01, 0.01])
    1.0
    """
    check_periods(periods_per_year)
    data = clean(returns)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_wealth = np.cumsum(np.log1p(data))
    return _k.stability(log_wealth)
