"""Tail risk: value at risk, expected shortfall and the tail ratio.

Part of :mod:`algowatch.analytics.returns`, whose conventions apply.
"""

from __future__ import annotations

import math

import numpy as np

from algowatch.analytics import _returns as _k
from algowatch.analytics._common import (
    ArrayLike,
    check_confidence,
    check_periods,
    clean,
    linear_percentile,
    mean,
    percentile_indices,
)

__all__ = [
    "expected_shortfall",
    "tail_ratio",
    "value_at_risk",
]


def value_at_risk(
    returns: ArrayLike,
    *,
    confidence: float = 0.95,
    method: _k.Method = "historical",
    risk_free: float = 0.0,
    periods_per_year: float = 252.0,
) -> float:
    """Return the one-period value at risk, as a return (a loss is negative).

    .. versionadded:: 0.1.0

    Parameters
    ----------
    returns
        Simple per-period returns; NaN values are dropped.
    confidence
        Confidence level in [0, 1]; the tail probability is
        ``alpha = 1 - confidence``.
    method
        ``"historical"``: the ``100 * alpha`` percentile with linear
        interpolation (``numpy.percentile``). ``"parametric"``: the normal
        quantile ``mean + std(ddof=1) * Φ⁻¹(alpha)``.
    risk_free, periods_per_year
        Unused (VaR is not annualised); accepted so that every metric takes the
        same keywords.

    Returns
    -------
    float
        The VaR as a per-period return, e.g. -0.021 for a 2.1 % loss.

    Notes
    -----
    Historical: empty or all-NaN input gives NaN; one value gives that value.
    Parametric: fewer than two observations give NaN; zero dispersion gives
    the mean.

    Confidence 1 gives the worst case: the minimum return (historical) or
    ``-inf`` (parametric, ``Φ⁻¹(0)``); confidence 0 gives the maximum return
    or ``+inf``. Both as empyrical (cutoffs 0 and 1) and quantstats.

    References
    ----------
    ``empyrical.value_at_risk``; ``quantstats.stats.value_at_risk``.

    Examples
    --------
    >>> value_at_risk([-0.05, -0.01, 0.0, 0.01, 0.02])
    -0.042
    >>> round(value_at_risk([-0.02, 0.02], method="parametric"), 6)
    -0.046523
    """
    _k.check_method(method)
    alpha = check_confidence(confidence)
    check_periods(periods_per_year)
    data = clean(returns)
    n = len(data)
    if method == "parametric":
        if n < 2:
            return math.nan
        return _k.parametric_var(*_k.moments(data, float(data.min()), float(data.max())), alpha)
    if n == 0:
        return math.nan
    low, high = percentile_indices(n, alpha)
    return linear_percentile(np.partition(data, (low, high)), alpha)


def expected_shortfall(
    returns: ArrayLike,
    *,
    confidence: float = 0.95,
    method: _k.Method = "historical",
    risk_free: float = 0.0,
    periods_per_year: float = 252.0,
) -> float:
    """Return the expected shortfall (CVaR), as a return (a loss is negative).

    .. versionadded:: 0.1.0

    Parameters
    ----------
    returns
        Simple per-period returns; NaN values are dropped.
    confidence
        Confidence level in [0, 1]; the tail probability is
        ``alpha = 1 - confidence``.
    method
        ``"historical"``: the mean of the ``int((n - 1) * alpha) + 1`` smallest
        returns. ``"parametric"``: the normal expected shortfall
        ``mean - std(ddof=1) * φ(Φ⁻¹(alpha)) / alpha``.
    risk_free, periods_per_year
        Unused; accepted so that every metric takes the same keywords.

    Returns
    -------
    float
        The mean return in the worst ``alpha`` tail.

    Notes
    -----
    Historical: empty or all-NaN input gives NaN; one value gives that value.
    Parametric: fewer than two observations give NaN; zero dispersion gives
    the mean.

    Confidence 0 (the whole distribution is the tail) gives the mean return
    with either method. Confidence 1 gives the minimum return (historical, as
    empyrical's cutoff 0) or ``-inf`` (parametric: the limit of the normal ES,
    which is below the ``-inf`` VaR; quantstats returns NaN there, its 0/0).

    References
    ----------
    ``empyrical.conditional_value_at_risk``;
    ``quantstats.stats.expected_shortfall``.

    Examples
    --------
    >>> expected_shortfall([-0.05, -0.01, 0.0, 0.01, 0.02])
    -0.05
    """
    _k.check_method(method)
    alpha = check_confidence(confidence)
    check_periods(periods_per_year)
    data = clean(returns)
    n = len(data)
    if method == "parametric":
        if n < 2:
            return math.nan
        return _k.parametric_es(*_k.moments(data, float(data.min()), float(data.max())), alpha)
    if n == 0:
        return math.nan
    count = _k.tail_count(n, alpha)
    worst = np.partition(data, count - 1)[:count]
    return mean(worst)


def tail_ratio(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: float = 252.0
) -> float:
    """Return the tail ratio ``|P95(r)| / |P5(r)|``.

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
        Ratio of the right (95th percentile) to the left (5th percentile) tail;
        0.25 means losses in the tail are four times the gains.

    Notes
    -----
    Percentiles use linear interpolation. Empty or all-NaN input gives NaN; a
    zero 5th percentile gives ``+inf`` (NaN if the 95th is zero too).

    References
    ----------
    ``empyrical.tail_ratio``.

    Examples
    --------
    >>> round(tail_ratio([-0.02, -0.01, 0.0, 0.01, 0.04]), 6)
    1.888889
    """
    check_periods(periods_per_year)
    data = clean(returns)
    n = len(data)
    if n == 0:
        return math.nan
    low5, high5 = percentile_indices(n, 0.05)
    low95, high95 = percentile_indices(n, 0.95)
    ordered = np.partition(data, sorted({low5, high5, low95, high95}))
    return _k.tail(linear_percentile(ordered, 0.95), linear_percentile(ordered, 0.05))
