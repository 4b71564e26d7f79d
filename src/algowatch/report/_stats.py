"""The return-based tables and series of a report, all from :mod:`algowatch.analytics`.

Nothing here is a new formula: every ratio is an :mod:`algowatch.analytics` function
(``ANALYTICS.md``); this module slices the series (rolling windows, months,
drawdown episodes) and counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import numpy as np

from algowatch.analytics import annual_volatility, drawdown_series, sharpe_ratio, summary
from algowatch.report._model import FloatArray, IntArray, ReturnSeries

__all__ = [
    "Drawdown",
    "ReturnFigures",
    "Rolling",
    "clip_to",
    "monthly_returns",
    "return_figures",
    "rolling",
    "worst_drawdowns",
]

_NS: Final = 1_000_000_000
_DAY_NS: Final = 86_400 * _NS
# rolling windows with at most this many points are computed (a stride beyond)
_ROLLING_POINTS: Final = 400


@dataclass(frozen=True, slots=True)
class ReturnFigures:
    """The return figures a report shows (each one an :mod:`algowatch.analytics` result)."""

    periods: int
    total_return: float
    annual_return: float
    annual_volatility: float
    sharpe_ratio: float
    sortino_ratio: float
    calmar_ratio: float
    max_drawdown: float
    value_at_risk: float
    value_at_risk_parametric: float
    expected_shortfall: float
    expected_shortfall_parametric: float
    best_period: float
    worst_period: float
    winning_periods: float
    omega_ratio: float
    tail_ratio: float


def return_figures(values: FloatArray, periods_per_year: float, risk_free: float) -> ReturnFigures:
    """Return the figures of ``values`` (NaN dropped, as everywhere in analytics).

    ``winning_periods`` is the share of positive periods among non-zero ones (the
    periods' win rate, quantstats' ``win_rate``); best and worst are the extremes.
    """
    s = summary(values, risk_free=risk_free, periods_per_year=periods_per_year)
    clean = values[~np.isnan(values)]
    nonzero = clean[clean != 0.0]
    return ReturnFigures(
        periods=s.periods,
        total_return=s.total_return,
        annual_return=s.annual_return,
        annual_volatility=s.annual_volatility,
        sharpe_ratio=s.sharpe_ratio,
        sortino_ratio=s.sortino_ratio,
        calmar_ratio=s.calmar_ratio,
        max_drawdown=s.max_drawdown,
        value_at_risk=s.value_at_risk,
        value_at_risk_parametric=s.value_at_risk_parametric,
        expected_shortfall=s.expected_shortfall,
        expected_shortfall_parametric=s.expected_shortfall_parametric,
        best_period=float(clean.max()) if clean.size else math.nan,
        worst_period=float(clean.min()) if clean.size else math.nan,
        winning_periods=float(np.mean(nonzero > 0.0)) if nonzero.size else math.nan,
        omega_ratio=s.omega_ratio,
        tail_ratio=s.tail_ratio,
    )


@dataclass(frozen=True, slots=True)
class Drawdown:
    """One drawdown episode: from a peak to the recovery of that peak (or still open)."""

    start_ts: int
    valley_ts: int
    end_ts: int | None
    depth: float
    days: float


def worst_drawdowns(series: ReturnSeries, count: int = 5) -> list[Drawdown]:
    """Return the ``count`` deepest drawdown episodes, deepest first.

    An episode starts at the last peak (the end of the period before the first loss;
    the first period's start is taken one period-length before it), bottoms at its
    valley and ends when the wealth is back at the peak (``None``: not yet).
    """
    keep = ~np.isnan(series.values)
    values = series.values[keep]
    stamps = series.ts[keep]
    if values.size == 0:
        return []
    under = drawdown_series(values)
    below = under < 0.0
    episodes: list[Drawdown] = []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], below.astype(np.int8), [0]))))
    first_step = int(stamps[1] - stamps[0]) if stamps.size > 1 else _DAY_NS
    for begin, finish in zip(edges[0::2], edges[1::2], strict=True):
        start_ts = int(stamps[begin - 1]) if begin > 0 else int(stamps[0]) - first_step
        valley = begin + int(np.argmin(under[begin:finish]))
        end_ts = int(stamps[finish]) if finish < stamps.size else None
        last = end_ts if end_ts is not None else int(stamps[-1])
        episodes.append(
            Drawdown(
                start_ts=start_ts,
                valley_ts=int(stamps[valley]),
                end_ts=end_ts,
                depth=float(under[valley]),
                days=(last - start_ts) / _DAY_NS,
            )
        )
    episodes.sort(key=lambda e: e.depth)
    return episodes[:count]


def monthly_returns(series: ReturnSeries) -> dict[int, list[float]]:
    """Return compounded returns by calendar month (UTC): ``{year: [12 values]}``, NaN if none."""
    table: dict[int, list[float]] = {}
    growth: dict[tuple[int, int], float] = {}
    for ts, value in zip(series.ts.tolist(), series.values.tolist(), strict=True):
        if math.isnan(value):
            continue
        moment = datetime.fromtimestamp(ts // _NS, tz=UTC)
        key = (moment.year, moment.month)
        growth[key] = growth.get(key, 1.0) * (1.0 + value)
    for (year, month), factor in sorted(growth.items()):
        table.setdefault(year, [math.nan] * 12)[month - 1] = factor - 1.0
    return table


@dataclass(frozen=True, slots=True)
class Rolling:
    """Rolling Sharpe ratio and annual volatility over ``window`` periods."""

    window: int
    ts: IntArray
    sharpe: FloatArray
    volatility: FloatArray


def rolling(
    series: ReturnSeries, periods_per_year: float, risk_free: float, window: int | None = None
) -> Rolling:
    """Return the rolling figures (window: ~6 months of periods, at least 5, at most n/2)."""
    keep = ~np.isnan(series.values)
    values = series.values[keep]
    stamps = series.ts[keep]
    n = values.size
    if window is None:
        window = max(5, min(round(periods_per_year / 2), n // 2))
    if n < window or window < 2:
        empty = np.empty(0, dtype=np.float64)
        return Rolling(window, np.empty(0, dtype=np.int64), empty, empty)
    ends = np.arange(window, n + 1)
    if ends.size > _ROLLING_POINTS:
        ends = np.unique(np.linspace(window, n, _ROLLING_POINTS).astype(np.int64))
    options = {"periods_per_year": periods_per_year, "risk_free": risk_free}
    sharpe = np.array([sharpe_ratio(values[e - window : e], **options) for e in ends])
    vol = np.array([annual_volatility(values[e - window : e], **options) for e in ends])
    return Rolling(window, stamps[ends - 1], sharpe, vol)


def clip_to(series: ReturnSeries, reference: ReturnSeries) -> ReturnSeries:
    """Return ``series`` cut to the time span of ``reference`` (unchanged when they miss)."""
    if reference.ts.size == 0 or series.ts.size == 0:
        return series
    keep = (series.ts >= reference.ts[0]) & (series.ts <= reference.ts[-1])
    if not keep.any():
        return series
    return ReturnSeries(series.name, series.ts[keep], series.values[keep], series.note)
