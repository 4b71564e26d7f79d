"""Signal fields that need the rolling windows (computed at snapshot time)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from algowatch.analytics import signals as signal_metrics

if TYPE_CHECKING:
    from algowatch.monitor.signals import SignalStats


def _volatility(values: np.ndarray) -> float:
    # sample standard deviation (ddof=1) of the signed strengths; NaN below two values
    if values.shape[0] < 2:
        return math.nan
    return float(np.std(values, ddof=1))


def _decay(buckets: dict[int, list[int]]) -> signal_metrics.SignalDecay:
    # the edge 2 * accuracy - 1 at each horizon plays the part of the IC by horizon
    horizons = sorted(buckets)
    edges = [2.0 * buckets[h][0] / buckets[h][1] - 1.0 for h in horizons]
    return signal_metrics.signal_decay(np.asarray(horizons, dtype=float), np.asarray(edges))


def _inter_correlation(rows: list[tuple[float, ...]]) -> float:
    width = len(rows[-1]) if rows else 0
    if width < 2:
        return math.nan
    matrix = np.full((len(rows), width), np.nan)
    for index, row in enumerate(rows):
        matrix[index, : len(row)] = row
    return signal_metrics.inter_signal_correlation(matrix)


def _windows(stats: SignalStats) -> dict[str, Any]:
    # the fields derived from the rolling windows; they change only with signals and outcomes
    strengths = np.fromiter(stats.strengths, dtype=float, count=len(stats.strengths))
    decay = _decay(stats.decay)
    return {
        "signal_volatility": _volatility(strengths),
        "signal_decay_rate": decay.decay_rate,
        "signal_half_life": decay.half_life,
        "signal_autocorrelation": signal_metrics.autocorrelation(strengths)
        if strengths.shape[0] >= 2
        else math.nan,
        "inter_signal_correlation": _inter_correlation(list(stats.rows)),
    }


def signals(stats: SignalStats) -> dict[str, Any]:
    """Return the original design's ``SignalMetrics`` fields plus counts.

    The window-derived fields (pairwise correlations, decay fit) are recomputed only when a
    signal or outcome arrived since the last snapshot: scrapes and the stream read the cache.
    """
    cached = stats.cached_windows
    if cached is None or cached[0] != stats.version:
        cached = stats.cached_windows = (stats.version, _windows(stats))
    view = stats.base_view()
    view.update(cached[1])
    return view
