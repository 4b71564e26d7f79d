"""Quality of trading signals: hit rate, direction accuracy, IC, decay, turnover.

The information coefficient and the quantile turnover follow alphalens
(the test-suite compares them with ``alphalens.performance``): the IC of a date
is the Spearman rank correlation, across assets, between the factor and the
forward return. Its decay with the horizon is fitted as an exponential,
``IC(h) = IC_0 * exp(-λ h)``, whose half-life is ``ln 2 / λ``; the original
design turned a linear accuracy difference into a half-life, mixing two models.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from algowatch._formulas import divide
from algowatch.analytics._common import LOG_MAX, ArrayLike, FloatArray, clean, scale_of
from algowatch.analytics._common import dot as _dot

__all__ = [
    "SignalDecay",
    "autocorrelation",
    "direction_accuracy",
    "hit_rate",
    "information_coefficient",
    "information_coefficient_by_horizon",
    "inter_signal_correlation",
    "quantile_turnover",
    "signal_decay",
]

_DIRECTIONS = {"long": 1, "short": -1, "flat": 0, "buy": 1, "sell": -1}


def hit_rate(pnl: ArrayLike) -> float:
    """Return the fraction of signal outcomes with a positive P&L (the signal accuracy).

    .. versionadded:: 0.1.0

    Parameters
    ----------
    pnl
        P&L of each resolved signal; NaN values are dropped.

    Returns
    -------
    float
        ``count(pnl > 0) / count(pnl)`` in [0, 1]; NaN without outcomes.

    Examples
    --------
    >>> hit_rate([1.0, -0.5, 2.0, 0.0])
    0.5
    """
    data = clean(pnl, name="pnl")
    if len(data) == 0:
        return math.nan
    return int(np.count_nonzero(data > 0.0)) / len(data)


def _direction_codes(values: Sequence[str | int | float], name: str) -> npt.NDArray[np.int8]:
    codes = np.empty(len(values), dtype=np.int8)
    for i, value in enumerate(values):
        if isinstance(value, str):
            code = _DIRECTIONS.get(value.strip().lower())
        elif value in (1, 0, -1):
            code = int(value)
        else:
            code = None
        if code is None:
            msg = f"{name}[{i}] must be long, short, flat or 1, 0, -1, received {value!r}"
            raise ValueError(msg)
        codes[i] = code
    return codes


def direction_accuracy(
    predicted: Sequence[str | int | float], actual: Sequence[str | int | float]
) -> float:
    """Return the fraction of signals whose direction matched the realised one.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    predicted, actual
        Directions as ``"long"``/``"short"``/``"flat"`` (any case) or
        ``1``/``-1``/``0``; same length.

    Returns
    -------
    float
        ``count(predicted == actual) / n``; NaN when empty.

    Raises
    ------
    ValueError
        On a direction that is none of the above, or unequal lengths.

    Examples
    --------
    >>> direction_accuracy(["long", "short", "flat", "LONG"], [1, 1, 0, "long"])
    0.75
    """
    if len(predicted) != len(actual):
        msg = (
            f"predicted and actual must have the same length, received {len(predicted)!r} "
            f"and {len(actual)!r}"
        )
        raise ValueError(msg)
    if len(predicted) == 0:
        return math.nan
    hits = _direction_codes(predicted, "predicted") == _direction_codes(actual, "actual")
    return int(np.count_nonzero(hits)) / len(predicted)


def _average_ranks(keys: npt.NDArray[np.int64], values: FloatArray) -> FloatArray:
    # Ranks within each key group (1-based), ties sharing their average rank, as
    # scipy.stats.rankdata(method="average") does per group. `keys` are sorted.
    order = np.lexsort((values, keys))
    sorted_keys = keys[order]
    sorted_values = values[order]
    n = len(sorted_keys)
    positions = np.arange(n, dtype=np.float64)
    new_group = np.empty(n, dtype=bool)
    new_group[0] = True
    new_group[1:] = sorted_keys[1:] != sorted_keys[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, positions, 0.0))
    new_run = new_group.copy()
    new_run[1:] |= sorted_values[1:] != sorted_values[:-1]
    run_id = np.cumsum(new_run) - 1
    run_starts = positions[new_run]
    run_ends = np.append(run_starts[1:], n) - 1.0
    average = (run_starts + run_ends) / 2.0
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = average[run_id] - group_start + 1.0
    return ranks


def information_coefficient(
    dates: ArrayLike | Sequence[Hashable], factor: ArrayLike, forward_returns: ArrayLike
) -> FloatArray:
    """Return the information coefficient of each date, in the sorted order of the dates.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    dates
        Date (or any sortable label) of each observation.
    factor
        Signal value of each observation (one asset on one date).
    forward_returns
        Forward return of the same asset over the horizon.

    Returns
    -------
    numpy.ndarray
        For each unique date (``numpy.unique`` order) the Spearman rank
        correlation between ``factor`` and ``forward_returns`` across that
        date's assets (average ranks for ties). Rows with a NaN in either
        column are dropped first; a date with fewer than two rows or a
        constant column gives NaN.

    References
    ----------
    ``alphalens.performance.factor_information_coefficient``.

    Examples
    --------
    >>> information_coefficient(
    ...     [1, 1, 1, 2, 2, 2], [1.0, 2.0, 3.0, 1.0, 2.0, 3.0],
    ...     [0.01, 0.02, 0.03, 0.03, 0.02, 0.01]).tolist()
    [1.0, -1.0]
    """
    date_array = np.asarray(dates)
    x = np.asarray(factor, dtype=np.float64)
    y = np.asarray(forward_returns, dtype=np.float64)
    if not (date_array.ndim == x.ndim == y.ndim == 1) or not (
        date_array.shape == x.shape == y.shape
    ):
        msg = (
            "dates, factor and forward_returns must be 1-D of one length, received shapes "
            f"{date_array.shape!r}, {x.shape!r}, {y.shape!r}"
        )
        raise ValueError(msg)
    unique_dates, keys = np.unique(date_array, return_inverse=True)
    result = np.full(len(unique_dates), np.nan)
    keep = ~(np.isnan(x) | np.isnan(y))
    keys = keys[keep].astype(np.int64)
    if len(keys) == 0:
        return result
    x_rank = _average_ranks(keys, x[keep])
    y_rank = _average_ranks(keys, y[keep])
    counts = np.bincount(keys, minlength=len(result)).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_mean = np.bincount(keys, x_rank, len(result)) / counts
        y_mean = np.bincount(keys, y_rank, len(result)) / counts
        dx = x_rank - x_mean[keys]
        dy = y_rank - y_mean[keys]
        sxy = np.bincount(keys, dx * dy, len(result))
        sxx = np.bincount(keys, dx * dx, len(result))
        syy = np.bincount(keys, dy * dy, len(result))
        defined = (counts >= 2) & (sxx > 0) & (syy > 0)
        result[defined] = sxy[defined] / np.sqrt(sxx[defined] * syy[defined])
    clipped: FloatArray = np.clip(result, -1.0, 1.0)
    return clipped


def information_coefficient_by_horizon(
    dates: ArrayLike | Sequence[Hashable],
    factor: ArrayLike,
    forward_returns: Mapping[int, ArrayLike],
) -> dict[int, float]:
    """Return the mean information coefficient for each forward-return horizon.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    dates, factor
        As in :func:`information_coefficient`.
    forward_returns
        Horizon (in bars) -> forward returns over that horizon.

    Returns
    -------
    dict[int, float]
        Horizon -> mean over dates of the per-date IC (NaN dates skipped; NaN
        if no date has an IC), sorted by horizon.

    Examples
    --------
    >>> information_coefficient_by_horizon(
    ...     [1, 1, 1], [1.0, 2.0, 3.0], {1: [0.1, 0.2, 0.3], 5: [0.3, 0.1, 0.2]})
    {1: 1.0, 5: -0.5}
    """
    result: dict[int, float] = {}
    for horizon in sorted(forward_returns):
        ic = information_coefficient(dates, factor, forward_returns[horizon])
        ic = ic[~np.isnan(ic)]
        result[horizon] = float(ic.mean()) if len(ic) else math.nan
    return result


@dataclass(frozen=True, slots=True)
class SignalDecay:
    """Exponential fit ``IC(h) = initial * exp(-decay_rate * h)`` of IC by horizon.

    .. versionadded:: 0.1.0

    Attributes
    ----------
    initial
        Fitted IC at horizon 0 (its sign is the sign of the ICs).
    decay_rate
        λ, per bar of horizon; <= 0 means no decay.
    half_life
        ``ln 2 / λ`` in bars; ``+inf`` when λ <= 0.
    """

    initial: float
    decay_rate: float
    half_life: float


def signal_decay(horizons: ArrayLike, ic: ArrayLike) -> SignalDecay:
    """Fit an exponential decay to the information coefficient by horizon.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    horizons
        Horizons in bars.
    ic
        Mean IC at each horizon (e.g. the values of
        :func:`information_coefficient_by_horizon`).

    Returns
    -------
    SignalDecay
        Least-squares line through ``(h, log|IC(h)|)``, using the horizons
        whose IC is finite, non-zero and of the sign of the majority.

    Notes
    -----
    Fewer than two usable points give NaN fields. A decaying signal fitted
    exactly (``IC = 0.1 * 0.5 ** (h / 3)``) gives a half-life of 3 bars.

    Examples
    --------
    >>> fit = signal_decay([1, 2, 3, 6], [0.1 * 0.5 ** (h / 3) for h in (1, 2, 3, 6)])
    >>> round(fit.half_life, 9), round(fit.initial, 9)
    (3.0, 0.1)
    """
    h = np.asarray(horizons, dtype=np.float64)
    values = np.asarray(ic, dtype=np.float64)
    if h.shape != values.shape or h.ndim != 1:
        msg = (
            f"horizons and ic must be 1-D of one length, received {h.shape!r} and {values.shape!r}"
        )
        raise ValueError(msg)
    finite = np.isfinite(values) & np.isfinite(h) & (values != 0.0)
    sign = (
        1.0
        if np.count_nonzero(values[finite] > 0) >= np.count_nonzero(values[finite] < 0)
        else -1.0
    )
    usable = finite & (np.sign(values) == sign)
    if np.count_nonzero(usable) < 2 or h[usable].min() == h[usable].max():
        return SignalDecay(math.nan, math.nan, math.nan)
    x = h[usable]
    y = np.log(np.abs(values[usable]))
    with np.errstate(over="ignore", invalid="ignore"):
        x_centered = x - x.mean()
        slope = divide(_dot(x_centered, y - y.mean()), _dot(x_centered, x_centered))
        intercept = float(y.mean() - slope * x.mean())
    rate = -slope
    half_life = math.log(2.0) / rate if rate > 0 else math.inf
    # exp() past the double range is +inf, not an OverflowError.
    initial = math.inf if intercept > LOG_MAX else math.exp(intercept)
    return SignalDecay(sign * initial, rate, half_life)


def autocorrelation(values: ArrayLike, *, lag: int = 1) -> float:
    """Return the lag-``lag`` autocorrelation of a signal series.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    values
        Signal values in time order.
    lag
        Lag in observations (>= 1).

    Returns
    -------
    float
        Pearson correlation of ``x[:-lag]`` with ``x[lag:]`` over the pairs
        where both are non-NaN (``pandas.Series.autocorr``); NaN with fewer
        than two pairs or a constant side.

    Examples
    --------
    >>> autocorrelation([1.0, 2.0, 3.0, 4.0])
    1.0
    """
    if isinstance(lag, bool) or not isinstance(lag, int) or lag < 1:
        msg = f"lag must be an integer >= 1, received {lag!r}"
        raise ValueError(msg)
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        msg = f"values must be one-dimensional, received an array of shape {x.shape!r}"
        raise ValueError(msg)
    if len(x) <= lag:
        return math.nan
    return _pearson(x[:-lag], x[lag:])


def _pearson(a: FloatArray, b: FloatArray) -> float:
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if len(a) < 2:
        return math.nan
    # The correlation is scale-free: huge values are scaled so their squares fit.
    a = a / scale_of(float(a.min()), float(a.max()))
    b = b / scale_of(float(b.min()), float(b.max()))
    with np.errstate(over="ignore", invalid="ignore"):
        da, db = a - a.mean(), b - b.mean()
    saa, sbb = float(_dot(da, da)), float(_dot(db, db))
    if saa == 0.0 or sbb == 0.0:
        return math.nan
    correlation = _dot(da, db) / math.sqrt(saa * sbb)
    if not math.isfinite(correlation):  # an infinite input; min/max would hide the NaN
        return math.nan
    return max(-1.0, min(1.0, correlation))


def inter_signal_correlation(signals: ArrayLike) -> float:
    """Return the mean pairwise Pearson correlation between several signals.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    signals
        2-D array, one row per time, one column per signal.

    Returns
    -------
    float
        Mean of the off-diagonal correlations, each over the rows where both
        columns are non-NaN (``pandas.DataFrame.corr`` pairwise); undefined
        pairs are skipped; NaN with fewer than two signals or no defined pair.

    Examples
    --------
    >>> inter_signal_correlation([[1.0, 2.0, 3.0], [2.0, 4.0, 1.0], [3.0, 6.0, 2.0]])
    0.0
    """
    matrix = np.asarray(signals, dtype=np.float64)
    if matrix.ndim != 2:
        msg = f"signals must be two-dimensional (time x signal), received shape {matrix.shape!r}"
        raise ValueError(msg)
    columns = matrix.shape[1]
    pairs = [
        _pearson(matrix[:, i], matrix[:, j]) for i in range(columns) for j in range(i + 1, columns)
    ]
    defined = [p for p in pairs if not math.isnan(p)]
    return math.fsum(defined) / len(defined) if defined else math.nan


def quantile_turnover(
    dates: ArrayLike | Sequence[Hashable],
    assets: ArrayLike | Sequence[Hashable],
    quantiles: ArrayLike,
    quantile: int,
    *,
    period: int = 1,
) -> FloatArray:
    """Return the turnover of one factor quantile on each date.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    dates, assets
        Date and asset of each observation.
    quantiles
        Factor quantile of each observation.
    quantile
        The quantile to follow.
    period
        Compare each date with the date ``period`` dates earlier.

    Returns
    -------
    numpy.ndarray
        For each unique date in order, ``|S_t - S_{t-period}| / |S_t|`` where
        ``S_t`` is the set of assets in ``quantile`` on date t: the share of the
        quantile that is new. The first ``period`` dates, dates with the
        quantile empty, and dates whose quantile was empty ``period`` dates
        earlier are NaN.

    Notes
    -----
    A quantile with no members ``period`` dates earlier gives NaN, as
    alphalens does on a regular date grid; it is not a turnover of 1.0 (every
    name new), which would read as a full rotation of a quantile that did not
    exist.

    References
    ----------
    ``alphalens.performance.quantile_turnover``.

    Examples
    --------
    >>> quantile_turnover([1, 1, 2, 2], ["a", "b", "a", "b"], [1, 2, 2, 1], 1).tolist()
    [nan, 1.0]
    """
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        msg = f"period must be an integer >= 1, received {period!r}"
        raise ValueError(msg)
    date_array = np.asarray(dates)
    asset_list = np.asarray(assets).tolist()
    quantile_array = np.asarray(quantiles)
    unique_dates, keys = np.unique(date_array, return_inverse=True)
    members: list[set[object]] = [set() for _ in range(len(unique_dates))]
    for key in np.flatnonzero(quantile_array == quantile):
        members[int(keys[key])].add(asset_list[key])
    result = np.full(len(unique_dates), np.nan)
    for t in range(period, len(members)):
        current, earlier = members[t], members[t - period]
        # No members `period` dates earlier: nothing to turn over from (alphalens: NaN).
        if current and earlier:
            result[t] = len(current - earlier) / len(current)
    return result
