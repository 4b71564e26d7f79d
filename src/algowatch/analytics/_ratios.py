"""Risk-adjusted return ratios: Sharpe, Sortino, Calmar and Omega.

Part of :mod:`algowatch.analytics.returns`, whose conventions apply.
"""

from __future__ import annotations

import math

from algowatch.analytics import _returns as _k
from algowatch.analytics._common import ArrayLike, check_periods, clean

__all__ = [
    "calmar_ratio",
    "omega_ratio",
    "sharpe_ratio",
    "sortino_ratio",
]


def sharpe_ratio(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: float = 252.0
) -> float:
    """Return the annualised Sharpe ratio.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    returns
        Simple per-period returns; NaN values are dropped.
    risk_free
        Annual risk-free rate, converted to ``risk_free / periods_per_year``.
    periods_per_year
        Number of return periods in a year (N).

    Returns
    -------
    float
        ``mean(r - rf_p) / std(r - rf_p, ddof=1) * sqrt(N)``.

    Notes
    -----
    Sample standard deviation (``ddof=1``), annualised by ``sqrt(N)``.
    Fewer than two observations (empty, length-1, all-NaN) give NaN. With
    zero dispersion (every excess return equal, tested as ``max == min``) the
    ratio is ``+inf``/``-inf`` for a positive/negative mean and NaN for a zero
    mean.

    References
    ----------
    Sharpe, W. F. (1994). The Sharpe Ratio. *Journal of Portfolio Management*.
    ``empyrical.sharpe_ratio``.

    Examples
    --------
    >>> round(sharpe_ratio([0.01, 0.02, -0.01, 0.015]), 4)
    10.5631
    >>> sharpe_ratio([0.01, 0.01, 0.01])
    inf
    >>> sharpe_ratio([0.01])
    nan
    """
    periods = check_periods(periods_per_year)
    return _k.sharpe(clean(returns) - risk_free / periods, periods)


def sortino_ratio(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: float = 252.0
) -> float:
    """Return the annualised Sortino ratio with target downside deviation.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    returns
        Simple per-period returns; NaN values are dropped.
    risk_free
        Annual rate used as the target ``T = risk_free / periods_per_year``.
    periods_per_year
        Number of return periods in a year (N).

    Returns
    -------
    float
        ``mean(r - T) / sqrt(mean(min(r - T, 0)**2)) * sqrt(N)``.

    Notes
    -----
    The downside deviation averages the squared shortfalls over **all** n
    observations (Sortino & Price), not the standard deviation of the negative
    returns. Annualised by ``sqrt(N)``. Fewer than two observations give NaN;
    no return below the target gives ``+inf`` for a positive mean and NaN for a
    zero mean.

    References
    ----------
    Sortino, F. A. & Price, L. N. (1994). Performance measurement in a
    downside risk framework. *Journal of Investing*. ``empyrical.sortino_ratio``.

    Examples
    --------
    >>> round(sortino_ratio([0.01, 0.02, -0.01, 0.015]), 4)
    27.7804
    >>> sortino_ratio([0.01, 0.02])
    inf
    """
    periods = check_periods(periods_per_year)
    return _k.sortino(clean(returns) - risk_free / periods, periods)


def calmar_ratio(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: float = 252.0
) -> float:
    """Return the Calmar ratio: full-window CAGR over the absolute maximum drawdown.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    returns
        Simple per-period returns; NaN values are dropped.
    risk_free
        Unused; accepted so that every metric takes the same keywords.
    periods_per_year
        Number of return periods in a year (N), used by the CAGR.

    Returns
    -------
    float
        ``annual_return / abs(max_drawdown)`` over the whole window.

    Notes
    -----
    NaN when there is no drawdown (``max_drawdown == 0``) and on empty or
    all-NaN input. An unbounded CAGR (see :func:`annual_return`) gives
    ``+inf``, as in empyrical.

    References
    ----------
    Young, T. W. (1991). Calmar Ratio: A Smoother Tool. *Futures*.
    ``empyrical.calmar_ratio``.

    Examples
    --------
    >>> calmar_ratio([0.01, 0.02])
    nan
    """
    periods = check_periods(periods_per_year)
    data = clean(returns)
    if len(data) == 0:
        return math.nan
    drawdowns, final, log_final = _k.curve(data)
    mdd = min(float(drawdowns.min()), 0.0)
    return _k.calmar(_k.cagr(final, len(data), periods, log_final), mdd)


def omega_ratio(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: float = 252.0
) -> float:
    """Return the Omega ratio at the threshold ``rf_p = risk_free / N``.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    returns
        Simple per-period returns; NaN values are dropped.
    risk_free
        Annual rate; its per-period value is the threshold.
    periods_per_year
        Number of return periods in a year (N).

    Returns
    -------
    float
        ``sum(max(r - rf_p, 0)) / sum(max(rf_p - r, 0))``.

    Notes
    -----
    Fewer than two observations give NaN. Gains without any loss give
    ``+inf`` (empyrical returns NaN there; ``ANALYTICS.md`` rules a non-zero
    quantity over zero to be infinite); neither gains nor losses give NaN.

    References
    ----------
    Keating, C. & Shadwick, W. F. (2002). A Universal Performance Measure.
    ``empyrical.omega_ratio`` with ``required_return=0``.

    Examples
    --------
    >>> omega_ratio([0.02, -0.01, 0.01, -0.01])
    1.5
    """
    periods = check_periods(periods_per_year)
    return _k.omega(clean(returns) - risk_free / periods)
