"""Performance and risk metrics of a series of simple per-period returns.

Conventions (``ANALYTICS.md``), shared by every function here:

* ``returns`` are simple, non-cumulative per-period returns (0.01 = +1 %).
  NaN means *missing* and is dropped before every statistic, including the
  period count ``n``. A scalar is a one-element series; a 2-D array (a
  table) is rejected with a ``ValueError``: call once per column.
* ``risk_free`` is an **annual** rate; the per-period rate is the arithmetic
  ``rf_p = risk_free / periods_per_year``.
* ``periods_per_year`` (N) is explicit: 252 for daily bars, 98,280 for
  1-minute US-equity bars, 365 for 24/7 daily data.
* Undefined values are NaN (too little data, 0/0); a non-zero quantity over a
  zero dispersion is ±inf. Nothing undefined is reported as 0.0. Equal
  infinite returns have an undefined dispersion (NaN).
* Nothing overflows: a value beyond the double range is ±inf, never an
  ``OverflowError`` or a numpy warning.
* Every function takes the same keywords so a caller can pass one set of
  options to all of them; a function that does not use a keyword says so.

The reference implementation is empyrical-reloaded; the test-suite compares
every function against it (and against quantstats for the parametric VaR/ES).
The functions are defined by sub-concept in private modules (ratios,
drawdown, growth, tail risk) and re-exported here, their public home.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from algowatch._formulas import divide
from algowatch.analytics import _returns as _k
from algowatch.analytics._common import (
    ArrayLike,
    check_confidence,
    check_periods,
    clean,
    linear_percentile,
)
from algowatch.analytics._common import (
    dot as _dot,
)
from algowatch.analytics._common import (
    mean as _common_mean,
)
from algowatch.analytics._drawdown import current_drawdown, drawdown_series, max_drawdown
from algowatch.analytics._growth import annual_return, annual_volatility, stability_of_timeseries
from algowatch.analytics._ratios import calmar_ratio, omega_ratio, sharpe_ratio, sortino_ratio
from algowatch.analytics._tail_risk import expected_shortfall, tail_ratio, value_at_risk

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
    drawdowns and CAGR), one cumulative log sum (the stability fit) and one
    sort (for the minimum and maximum, the percentiles and the expected
    shortfall's tail). Each field equals the function of the same name.

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
    wealth = _k.wealth(data)
    log_final: float | None = None
    if _k.overflowed(wealth, data):
        # W_t left the double range: drawdowns and CAGR from log|W_t|.
        log_abs, sign = _k.log_wealth(data)
        drawdowns = _k.log_drawdowns(log_abs, sign)
        final, log_final = _k.final_from_log(float(log_abs[-1]), float(sign[-1]))
    else:
        final = float(wealth[-1])
        drawdowns = _k.drawdowns(wealth)
    # Buffers are reused once their values are no longer needed: at 1e6 points
    # fresh 8 MB temporaries (page faults) cost more than the arithmetic.
    with np.errstate(divide="ignore", invalid="ignore"):
        log_wealth = np.cumsum(np.log1p(data, out=wealth), out=wealth)
    mdd = min(float(drawdowns.min()), 0.0)
    last_drawdown = float(drawdowns[-1])
    cagr = _k.cagr(final, n, periods, log_final)
    stability = _k.stability(log_wealth)

    tail_count = _k.tail_count(n, alpha)
    # One full sort: numpy's vectorised sort beats a partition around the seven
    # order statistics (minimum, maximum, percentiles, tail) the metrics need.
    ordered = np.sort(data)
    lowest, highest = float(ordered[0]), float(ordered[-1])
    worst = ordered[:tail_count]

    # Moments of data / scale (scale 1.0 unless the squares would overflow).
    mean, std, scale = _k.moments(data, lowest, highest, out=drawdowns)
    sharpe = sortino = omega = nan
    if n >= 2:
        if lowest - rf_p == highest - rf_p:
            # Exact, and tested on the excess returns as in sharpe_ratio: a constant
            # series has no rounding residue.
            std = nan if math.isinf(lowest) else 0.0
            excess_mean = lowest - rf_p
        else:
            excess_mean = mean - rf_p / scale
        sharpe = divide(excess_mean, std) * math.sqrt(periods)
        # The sorted returns split at the threshold give the shortfalls and the
        # gains as slices, without a full-length temporary for each.
        below = int(np.searchsorted(ordered, rf_p, side="left"))
        above = int(np.searchsorted(ordered, rf_p, side="right"))
        with np.errstate(over="ignore", invalid="ignore"):
            shortfalls = ordered[:below] - rf_p
            excess_gains = ordered[above:] - rf_p
            if scale != 1.0:
                shortfalls /= scale
                excess_gains /= scale
            gains = float(excess_gains.sum())
            losses = -float(shortfalls.sum())
        downside_deviation = math.sqrt(_dot(shortfalls, shortfalls) / n)
        sortino = divide(excess_mean, downside_deviation) * math.sqrt(periods)
        omega = divide(gains, losses)

    return ReturnsSummary(
        periods=n,
        periods_per_year=periods,
        risk_free=risk_free,
        confidence=confidence,
        total_return=final - 1.0,
        annual_return=cagr,
        annual_volatility=std * scale * math.sqrt(periods) if n >= 2 else nan,
        sharpe_ratio=sharpe,
        sortino_ratio=sortino,
        calmar_ratio=_k.calmar(cagr, mdd),
        max_drawdown=mdd,
        current_drawdown=last_drawdown,
        value_at_risk=linear_percentile(ordered, alpha),
        value_at_risk_parametric=_k.parametric_var(mean, std, scale, alpha) if n >= 2 else nan,
        expected_shortfall=_common_mean(worst),
        expected_shortfall_parametric=_k.parametric_es(mean, std, scale, alpha) if n >= 2 else nan,
        omega_ratio=omega,
        tail_ratio=_k.tail(linear_percentile(ordered, 0.95), linear_percentile(ordered, 0.05)),
        stability_of_timeseries=stability,
    )
