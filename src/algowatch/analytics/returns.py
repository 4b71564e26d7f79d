"""Performance and risk metrics of a series of simple per-period returns.

Conventions (``ANALYTICS.md``), shared by every function here:

* ``returns`` are simple, non-cumulative per-period returns (0.01 = +1 %).
  NaN means *missing* and is dropped before every statistic, including the
  period count ``n``.
* ``risk_free`` is an **annual** rate; the per-period rate is the arithmetic
  ``rf_p = risk_free / periods_per_year``.
* ``periods_per_year`` (N) is explicit: 252 for daily bars, 98,280 for
  1-minute US-equity bars, 365 for 24/7 daily data.
* Undefined values are NaN (too little data, 0/0); a non-zero quantity over a
  zero dispersion is ±inf. Nothing undefined is reported as 0.0.
* Every function takes the same keywords so a caller can pass one set of
  options to all of them; a function that does not use a keyword says so.

The reference implementation is empyrical-reloaded; the test-suite compares
every function against it (and against quantstats for the parametric VaR/ES).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from algowatch.analytics._common import (
    ArrayLike,
    FloatArray,
    check_confidence,
    check_periods,
    clean,
    divide,
    linear_percentile,
    normal_density,
    normal_quantile,
    percentile_indices,
)
from algowatch.analytics._common import (
    dot as _dot,
)

__all__ = [
    "ReturnsSummary",
    "annual_return",
    "annual_volatility",
    "calmar_ratio",
    "current_drawdown",
    "drawdown_series",
    "expected_shortfall",
    "max_drawdown",
    "omega_ratio",
    "sharpe_ratio",
    "sortino_ratio",
    "stability_of_timeseries",
    "summary",
    "tail_ratio",
    "value_at_risk",
]

Method = Literal["historical", "parametric"]


def _std(data: FloatArray) -> float:
    # Sample std (ddof=1), exactly 0.0 when every value is equal (see _sharpe).
    if data.max() == data.min():
        return 0.0
    return float(np.std(data, ddof=1))


def _sharpe(adjusted: FloatArray, periods: float) -> float:
    n = len(adjusted)
    if n < 2:
        return math.nan
    mean = float(adjusted.mean())
    # Zero dispersion is decided by max == min: the floating-point mean of equal
    # values may differ from them in the last bit and leave a ~1e-18 "std".
    if adjusted.max() == adjusted.min():
        return divide(mean, 0.0)
    deviations = adjusted - mean
    std = math.sqrt(float(_dot(deviations, deviations)) / (n - 1))
    return divide(mean, std) * math.sqrt(periods)


def _sortino(adjusted: FloatArray, periods: float) -> float:
    n = len(adjusted)
    if n < 2:
        return math.nan
    downside = np.minimum(adjusted, 0.0)
    downside_deviation = math.sqrt(float(_dot(downside, downside)) / n)
    return divide(float(adjusted.mean()) * periods, downside_deviation * math.sqrt(periods))


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
    return _sharpe(clean(returns) - risk_free / periods, periods)


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
    return _sortino(clean(returns) - risk_free / periods, periods)


def _wealth(returns: FloatArray) -> FloatArray:
    wealth: FloatArray = returns + 1.0
    np.multiply.accumulate(wealth, out=wealth)
    return wealth


def _drawdowns(wealth: FloatArray) -> FloatArray:
    drawdowns: FloatArray = np.maximum.accumulate(wealth)
    # The running peak starts at the initial wealth W_0 = 1: a loss on the very
    # first period is a drawdown.
    np.maximum(drawdowns, 1.0, out=drawdowns)
    np.divide(wealth, drawdowns, out=drawdowns)
    drawdowns -= 1.0
    return drawdowns


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
    Empty or all-NaN input gives an empty array. No annualisation.

    Examples
    --------
    >>> drawdown_series([0.1, -0.5, 0.2]).round(4).tolist()
    [0.0, -0.5, -0.4]
    >>> drawdown_series([-0.1]).round(4).tolist()
    [-0.1]
    """
    check_periods(periods_per_year)
    return _drawdowns(_wealth(clean(returns)))


def max_drawdown(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: float = 252.0
) -> float:
    """Return the maximum drawdown, a fraction in ``[-1, 0]``.

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

    References
    ----------
    ``empyrical.max_drawdown``.

    Examples
    --------
    >>> max_drawdown([0.1, -0.5, 0.2])
    -0.5
    >>> max_drawdown([0.01, 0.02])
    0.0
    """
    check_periods(periods_per_year)
    data = clean(returns)
    if len(data) == 0:
        return math.nan
    return min(float(_drawdowns(_wealth(data)).min()), 0.0)


def current_drawdown(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: float = 252.0
) -> float:
    """Return the drawdown at the last observed period, a fraction in ``[-1, 0]``.

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
    fraction ``-current_drawdown``.

    Examples
    --------
    >>> round(current_drawdown([0.1, -0.5, 0.2]), 4)
    -0.4
    """
    check_periods(periods_per_year)
    data = clean(returns)
    if len(data) == 0:
        return math.nan
    wealth = _wealth(data)
    return float(wealth[-1] / max(float(wealth.max()), 1.0) - 1.0)


def _cagr(final_wealth: float, n: int, periods: float) -> float:
    if n == 0:
        return math.nan
    if final_wealth < 0.0:
        return math.nan
    return float(final_wealth ** (periods / n) - 1.0)


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
    below -100 %) gives NaN.

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
    return _cagr(float(np.prod(data + 1.0)), len(data), periods)


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
    return _std(data) * math.sqrt(periods)


def _calmar(cagr: float, mdd: float) -> float:
    if not mdd < 0.0:
        return math.nan
    ratio = cagr / abs(mdd)
    return math.nan if math.isinf(ratio) else ratio


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
    NaN when there is no drawdown (``max_drawdown == 0``), on empty or all-NaN
    input, and when the CAGR overflows to infinity.

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
    wealth = _wealth(data)
    mdd = min(float(_drawdowns(wealth).min()), 0.0)
    return _calmar(_cagr(float(wealth[-1]), len(data), periods), mdd)


def _check_method(method: str) -> None:
    if method not in ("historical", "parametric"):
        msg = f"method must be 'historical' or 'parametric', received {method!r}"
        raise ValueError(msg)


def _parametric_var(mean: float, std: float, alpha: float) -> float:
    return mean + std * normal_quantile(alpha)


def _parametric_es(mean: float, std: float, alpha: float) -> float:
    if std == 0.0:
        return mean
    return mean - std * normal_density(normal_quantile(alpha)) / alpha


def _tail_count(n: int, alpha: float) -> int:
    return int((n - 1) * alpha) + 1


def value_at_risk(
    returns: ArrayLike,
    *,
    confidence: float = 0.95,
    method: Method = "historical",
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
        Confidence level; the tail probability is ``alpha = 1 - confidence``.
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
    _check_method(method)
    alpha = check_confidence(confidence)
    check_periods(periods_per_year)
    data = clean(returns)
    n = len(data)
    if method == "parametric":
        if n < 2:
            return math.nan
        return _parametric_var(float(data.mean()), _std(data), alpha)
    if n == 0:
        return math.nan
    low, high = percentile_indices(n, alpha)
    return linear_percentile(np.partition(data, (low, high)), alpha)


def expected_shortfall(
    returns: ArrayLike,
    *,
    confidence: float = 0.95,
    method: Method = "historical",
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
        Confidence level; the tail probability is ``alpha = 1 - confidence``.
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

    References
    ----------
    ``empyrical.conditional_value_at_risk``;
    ``quantstats.stats.expected_shortfall``.

    Examples
    --------
    >>> expected_shortfall([-0.05, -0.01, 0.0, 0.01, 0.02])
    -0.05
    """
    _check_method(method)
    alpha = check_confidence(confidence)
    check_periods(periods_per_year)
    data = clean(returns)
    n = len(data)
    if method == "parametric":
        if n < 2:
            return math.nan
        return _parametric_es(float(data.mean()), _std(data), alpha)
    if n == 0:
        return math.nan
    count = _tail_count(n, alpha)
    return float(np.partition(data, count - 1)[:count].mean())


def _omega(excess: FloatArray) -> float:
    if len(excess) < 2:
        return math.nan
    gains = float(excess[excess > 0.0].sum())
    losses = -float(excess[excess < 0.0].sum())
    return divide(gains, losses)


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
    return _omega(clean(returns) - risk_free / periods)


def _tail(p95: float, p5: float) -> float:
    return divide(abs(p95), abs(p5))


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
    return _tail(linear_percentile(ordered, 0.95), linear_percentile(ordered, 0.05))


# Centres `log_wealth` in place (callers pass a buffer they no longer need).
def _stability(log_wealth: FloatArray) -> float:
    n = len(log_wealth)
    if n < 2:
        return math.nan
    x = np.arange(n, dtype=np.float64)
    x -= (n - 1) / 2.0
    with np.errstate(invalid="ignore"):
        y = log_wealth
        y -= y.mean()
        sxy = _dot(x, y)
        syy = _dot(y, y)
    sxx = n * (n * n - 1.0) / 12.0  # sum of (i - mean(i))**2 for i = 0..n-1
    # A return <= -100 % leaves log(W) undefined; min/max would hide the NaN.
    if syy == 0.0 or not (math.isfinite(syy) and math.isfinite(sxy)):
        return math.nan
    r = max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))
    return r * r


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
    return _stability(log_wealth)


@dataclass(frozen=True, slots=True)
class ReturnsSummary:
    """The whole set of return metrics for one series, as computed by :func:`summary`.

    .. versionadded:: 0.1.0

    Every field has the meaning of the function of the same name; ``periods``
    is the number of non-NaN returns and ``total_return`` is ``W_T - 1``.
    The ``*_parametric`` fields use ``method="parametric"``.
    """

    periods: int
    periods_per_year: float
    risk_free: float
    confidence: float
    total_return: float
    annual_return: float
    annual_volatility: float
    sharpe_ratio: float
    sortino_ratio: float
    calmar_ratio: float
    max_drawdown: float
    current_drawdown: float
    value_at_risk: float
    value_at_risk_parametric: float
    expected_shortfall: float
    expected_shortfall_parametric: float
    omega_ratio: float
    tail_ratio: float
    stability_of_timeseries: float

    def to_dict(self) -> dict[str, float | int]:
        """Return the fields as a plain ``dict`` (NaN and ±inf are kept as floats)."""
        return asdict(self)


def summary(
    returns: ArrayLike,
    *,
    risk_free: float = 0.0,
    periods_per_year: float = 252.0,
    confidence: float = 0.95,
) -> ReturnsSummary:
    """Compute every return metric at once, sharing the work between them.

    .. versionadded:: 0.1.0

    One NaN drop, one mean and standard deviation, one cumulative product (for
    drawdowns, CAGR and the stability fit) and one sort (for the minimum and
    maximum, the percentiles and the expected shortfall's tail). Each field
    equals the function of the same name.

    Parameters
    ----------
    returns
        Simple per-period returns; NaN values are dropped.
    risk_free
        Annual risk-free rate.
    periods_per_year
        Number of return periods in a year (N).
    confidence
        Confidence level of the VaR and expected shortfall.

    Returns
    -------
    ReturnsSummary
        Frozen; ``to_dict()`` gives a plain mapping.

    Notes
    -----
    Edge semantics are those of the individual functions: an empty series
    gives ``periods=0`` and NaN everywhere.

    Examples
    --------
    >>> s = summary([0.01, 0.02, -0.01, 0.015])
    >>> s.periods, round(s.sharpe_ratio, 4), round(s.max_drawdown, 12)
    (4, 10.5631, -0.01)
    """
    periods = check_periods(periods_per_year)
    alpha = check_confidence(confidence)
    data = clean(returns)
    n = len(data)
    rf_p = risk_free / periods
    nan = math.nan
    if n == 0:
        return ReturnsSummary(
            0,
            periods,
            risk_free,
            confidence,
            *([nan] * 15),
        )
    wealth = _wealth(data)
    final = float(wealth[-1])
    # Buffers are reused once their values are no longer needed: at 1e6 points
    # fresh 8 MB temporaries (page faults) cost more than the arithmetic.
    drawdowns = _drawdowns(wealth)
    mdd = min(float(drawdowns.min()), 0.0)
    last_drawdown = float(drawdowns[-1])
    cagr = _cagr(final, n, periods)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_wealth = np.log(wealth, out=wealth)
    stability = _stability(log_wealth)

    tail_count = _tail_count(n, alpha)
    # One full sort: numpy's vectorised sort beats a partition around the seven
    # order statistics (minimum, maximum, percentiles, tail) the metrics need.
    ordered = np.sort(data)

    mean = float(data.mean())
    excess_mean = mean - rf_p
    std = sharpe = sortino = omega = nan
    if n >= 2:
        if ordered[0] - rf_p == ordered[-1] - rf_p:
            # Exact, and tested on the excess returns as in sharpe_ratio: a constant
            # series has no rounding residue.
            std, excess_mean = 0.0, float(ordered[0]) - rf_p
        else:
            deviations = np.subtract(data, mean, out=drawdowns)
            std = math.sqrt(_dot(deviations, deviations) / (n - 1))
        sharpe = divide(excess_mean, std) * math.sqrt(periods)
        # The sorted returns split at the threshold give the shortfalls and the
        # gains as slices, without a full-length temporary for each.
        below = int(np.searchsorted(ordered, rf_p, side="left"))
        above = int(np.searchsorted(ordered, rf_p, side="right"))
        shortfalls = ordered[:below] - rf_p
        downside_deviation = math.sqrt(_dot(shortfalls, shortfalls) / n)
        sortino = divide(excess_mean * periods, downside_deviation * math.sqrt(periods))
        gains = float((ordered[above:] - rf_p).sum())
        omega = divide(gains, -float(shortfalls.sum()))

    return ReturnsSummary(
        periods=n,
        periods_per_year=periods,
        risk_free=risk_free,
        confidence=confidence,
        total_return=final - 1.0,
        annual_return=cagr,
        annual_volatility=std * math.sqrt(periods),
        sharpe_ratio=sharpe,
        sortino_ratio=sortino,
        calmar_ratio=_calmar(cagr, mdd),
        max_drawdown=mdd,
        current_drawdown=last_drawdown,
        value_at_risk=linear_percentile(ordered, alpha),
        value_at_risk_parametric=_parametric_var(mean, std, alpha) if n >= 2 else nan,
        expected_shortfall=float(ordered[:tail_count].mean()),
        expected_shortfall_parametric=_parametric_es(mean, std, alpha) if n >= 2 else nan,
        omega_ratio=omega,
        tail_ratio=_tail(linear_percentile(ordered, 0.95), linear_percentile(ordered, 0.05)),
        stability_of_timeseries=stability,
    )
