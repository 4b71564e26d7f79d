"""Incremental forms of the return metrics, for live loops.

Each class takes one observation per :meth:`update` call and keeps the
metric current in O(1) or O(log n) time, agreeing with the batch function of
the same name in :mod:`algowatch.analytics.returns` on the same (NaN-dropped)
data:

* :class:`DrawdownTracker`: running high-water mark, current and maximum
  drawdown, anchored at the starting value (``W_0``).
* :class:`RunningMoments`: Welford's mean and variance over everything seen.
* :class:`RollingReturns`: a rolling window of returns with its mean, sample
  variance, Sharpe and Sortino ratios, historical VaR and expected shortfall.

NaN updates are ignored, exactly as the batch forms drop NaN. Rolling sums are
rebuilt exactly from the window once every ``window`` updates, so rounding
drift cannot accumulate (amortised O(1) for that rebuild).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from math import isnan

from algowatch._formulas import divide, drawdown
from algowatch.analytics._common import check_confidence, check_periods

__all__ = ["DrawdownTracker", "RollingReturns", "RunningMoments"]


# math.fsum raises OverflowError when a partial sum leaves the double range; the
# plain sum then gives the ±inf (or NaN) that the incremental updates also reach.
def _exact_sum(values: list[float]) -> float:
    try:
        return math.fsum(values)
    except OverflowError:
        return sum(values, 0.0)


class DrawdownTracker:
    """Track the high-water mark and drawdowns of an equity or wealth series.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    initial
        Starting value ``W_0`` (starting capital, or 1.0 for a returns
        series); it is the first high-water mark, so a first-period loss is a
        drawdown.

    Notes
    -----
    Drawdowns are fractions ``<= 0`` of the high-water mark, as in
    :func:`~algowatch.analytics.returns.drawdown_series`; the snapshot and
    Prometheus export ``-current_drawdown``. A non-positive high-water mark
    gives NaN drawdowns.

    Examples
    --------
    >>> tracker = DrawdownTracker(100.0)
    >>> tracker.update(110.0)
    0.0
    >>> round(tracker.update(88.0), 12)
    -0.2
    >>> tracker.high_water_mark, round(tracker.max_drawdown, 12)
    (110.0, -0.2)
    >>> returns_tracker = DrawdownTracker()
    >>> round(returns_tracker.update_return(-0.1), 12)
    -0.1
    """

    __slots__ = ("_current", "_high", "_max_drawdown", "_value")

    def __init__(self, initial: float = 1.0) -> None:
        if not math.isfinite(initial):
            msg = f"initial must be a finite number, received {initial!r}"
            raise ValueError(msg)
        self._value = float(initial)
        self._high = float(initial)
        self._current = 0.0
        self._max_drawdown = 0.0

    def update(self, value: float) -> float:
        """Record a new equity value and return the current drawdown (``<= 0``)."""
        if math.isnan(value):
            return self._current
        self._value = value
        self._high = max(self._high, value)
        # the engine's drawdown (a positive fraction), negated; 0.0 - x keeps +0.0 at the top
        current = 0.0 - drawdown(self._high, value)
        self._current = current
        self._max_drawdown = min(self._max_drawdown, current)
        return current

    def update_return(self, simple_return: float) -> float:
        """Compound a simple return into the value and return the current drawdown."""
        if math.isnan(simple_return):
            return self._current
        return self.update(self._value * (1.0 + simple_return))

    @property
    def value(self) -> float:
        """Return the latest value."""
        return self._value

    @property
    def high_water_mark(self) -> float:
        """Return the highest value seen, the initial value included."""
        return self._high

    @property
    def current_drawdown(self) -> float:
        """Return ``value / high_water_mark - 1`` (``<= 0``)."""
        return self._current

    @property
    def max_drawdown(self) -> float:
        """Return the most negative drawdown seen (0.0 before any loss)."""
        return self._max_drawdown


class RunningMoments:
    """Maintain the count, mean and sample variance of a stream (Welford).

    .. versionadded:: 0.1.0

    Notes
    -----
    The variance uses ``ddof=1``; fewer than two observations give NaN. NaN
    updates are ignored.

    References
    ----------
    Welford, B. P. (1962). Note on a method for calculating corrected sums of
    squares and products. *Technometrics* 4(3).

    Examples
    --------
    >>> moments = RunningMoments()
    >>> for x in (1.0, 2.0, 4.0):
    ...     moments.update(x)
    >>> moments.count, round(moments.mean, 12), round(moments.variance, 12)
    (3, 2.333333333333, 2.333333333333)
    """

    __slots__ = ("_count", "_m2", "_mean")

    def __init__(self) -> None:
        self._count = 0
        self._mean = 0.0
        self._m2 = 0.0

    def update(self, value: float) -> None:
        """Add one observation."""
        if math.isnan(value):
            return
        self._count += 1
        delta = value - self._mean
        self._mean += delta / self._count
        self._m2 += delta * (value - self._mean)

    @property
    def count(self) -> int:
        """Return the number of non-NaN observations."""
        return self._count

    @property
    def mean(self) -> float:
        """Return the mean (NaN when empty)."""
        return self._mean if self._count else math.nan

    @property
    def variance(self) -> float:
        """Return the sample variance (``ddof=1``; NaN below two observations)."""
        if self._count < 2:
            return math.nan
        return max(self._m2, 0.0) / (self._count - 1)

    @property
    def std(self) -> float:
        """Return the sample standard deviation (``ddof=1``)."""
        return math.sqrt(self.variance)


class RollingReturns:
    """Maintain the rolling-window return metrics of a live stream.

    .. versionadded:: 0.1.0

    Parameters
    ----------
    window
        Number of most recent non-NaN returns kept (>= 1).
    risk_free
        Annual risk-free rate; ``rf_p = risk_free / periods_per_year``.
    periods_per_year
        Number of return periods in a year (N), for the annualised ratios.
    confidence
        Confidence level of the VaR and expected shortfall.

    Notes
    -----
    Every property equals the batch function of
    :mod:`algowatch.analytics.returns` applied to :meth:`values`, with the
    same edge semantics (NaN below two observations; ±inf for a non-zero
    excess mean over zero dispersion, tested as "every value in the window is
    equal").

    Cost per update: O(1) for the moments, the downside sum and the
    zero-dispersion test (a count of unequal neighbours); O(log n) for the VaR
    and expected shortfall, kept by two heaps with lazy deletion that split the
    window into its ``k = int((n - 1) * alpha) + 1`` smallest values (with
    their running sum) and the rest.

    Examples
    --------
    >>> rolling = RollingReturns(3, periods_per_year=252)
    >>> for r in (0.01, -0.02, 0.03, 0.01):
    ...     rolling.update(r)
    >>> rolling.values()
    [-0.02, 0.03, 0.01]
    >>> round(rolling.sharpe_ratio, 6)
    4.20526
    """

    __slots__ = (
        "_alpha",
        "_changes",
        "_count",
        "_downside_count",
        "_downside_sq",
        "_high",
        "_high_deleted",
        "_high_size",
        "_low",
        "_low_deleted",
        "_low_size",
        "_low_sum",
        "_m2",
        "_mean",
        "_periods",
        "_rf_p",
        "_since_rebuild",
        "_values",
        "_window",
    )

    def __init__(
        self,
        window: int,
        *,
        risk_free: float = 0.0,
        periods_per_year: float = 252.0,
        confidence: float = 0.95,
    ) -> None:
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            msg = f"window must be an integer >= 1, received {window!r}"
            raise ValueError(msg)
        self._window = window
        self._periods = check_periods(periods_per_year)
        self._alpha = check_confidence(confidence)
        self._rf_p = risk_free / self._periods
        self._values: deque[float] = deque()
        self._count = 0
        self._mean = 0.0
        self._m2 = 0.0
        self._downside_sq = 0.0
        self._downside_count = 0
        self._changes = 0
        # _low: max-heap (negated) of the k smallest values; _high: min-heap of the rest.
        self._low: list[float] = []
        self._high: list[float] = []
        self._low_deleted: dict[float, int] = {}
        self._high_deleted: dict[float, int] = {}
        self._low_size = 0
        self._high_size = 0
        self._low_sum = 0.0
        self._since_rebuild = 0

    def update(self, value: float) -> None:
        """Add one return, evicting the oldest once the window is full."""
        if isnan(value):  # NaN is missing data: dropped, as in the batch forms
            return
        values = self._values
        rf_p = self._rf_p
        if values and value != values[-1]:
            self._changes += 1
        values.append(value)
        shortfall = value - rf_p
        if shortfall < 0.0:
            self._downside_sq += shortfall * shortfall
            self._downside_count += 1
        self._insert(value)
        if self._count == self._window:
            old = values.popleft()
            if old != values[0]:
                self._changes -= 1
            old_shortfall = old - rf_p
            if old_shortfall < 0.0:
                self._downside_sq -= old_shortfall * old_shortfall
                self._downside_count -= 1
            self._remove(old)
            # Welford with replacement: the count stays at the window length.
            delta = value - old
            old_mean = self._mean
            self._mean = old_mean + delta / self._count
            self._m2 += delta * (value - self._mean + old - old_mean)
        else:
            self._count += 1
            delta = value - self._mean
            self._mean += delta / self._count
            self._m2 += delta * (value - self._mean)
        self._rebalance()
        self._since_rebuild += 1
        if self._since_rebuild >= self._window:
            self._rebuild()

    def _insert(self, value: float) -> None:
        low = self._low
        if self._low_size and value <= -low[0]:
            heapq.heappush(low, -value)
            self._low_size += 1
            self._low_sum += value
        else:
            heapq.heappush(self._high, value)
            self._high_size += 1

    def _remove(self, value: float) -> None:
        # Invariant: max(low) <= min(high), so a value <= max(low) is in low.
        if self._low_size and value <= -self._low[0]:
            self._low_size -= 1
            self._low_sum -= value
            self._low_deleted[value] = self._low_deleted.get(value, 0) + 1
            self._prune_low()
        else:
            self._high_size -= 1
            self._high_deleted[value] = self._high_deleted.get(value, 0) + 1
            self._prune_high()

    def _prune_low(self) -> None:
        low, deleted = self._low, self._low_deleted
        while low and deleted:
            top = -low[0]
            pending = deleted.get(top)
            if not pending:
                return
            heapq.heappop(low)
            if pending == 1:
                del deleted[top]
            else:
                deleted[top] = pending - 1

    def _prune_high(self) -> None:
        high, deleted = self._high, self._high_deleted
        while high and deleted:
            top = high[0]
            pending = deleted.get(top)
            if not pending:
                return
            heapq.heappop(high)
            if pending == 1:
                del deleted[top]
            else:
                deleted[top] = pending - 1

    def _rebalance(self) -> None:
        target = int((self._count - 1) * self._alpha) + 1
        while self._low_size > target:
            moved = -heapq.heappop(self._low)
            self._low_size -= 1
            self._low_sum -= moved
            heapq.heappush(self._high, moved)
            self._high_size += 1
            self._prune_low()
        while self._low_size < target and self._high_size:
            moved = heapq.heappop(self._high)
            self._high_size -= 1
            heapq.heappush(self._low, -moved)
            self._low_size += 1
            self._low_sum += moved
            self._prune_high()

    def _rebuild(self) -> None:
        # Exact recomputation from the window, every `window` updates: bounds the
        # rounding drift of the add/remove updates (amortised O(log n) per update).
        self._since_rebuild = 0
        ordered = sorted(self._values)
        n = len(ordered)
        target = int((n - 1) * self._alpha) + 1 if n else 0
        self._low = [-x for x in reversed(ordered[:target])]
        self._high = ordered[target:]
        self._low_deleted.clear()
        self._high_deleted.clear()
        self._low_size, self._high_size = target, n - target
        self._low_sum = _exact_sum(ordered[:target])
        if n:
            self._mean = _exact_sum(ordered) / n
            self._m2 = _exact_sum([(x - self._mean) * (x - self._mean) for x in ordered])
        shortfalls = [x - self._rf_p for x in ordered if x - self._rf_p < 0.0]
        self._downside_sq = _exact_sum([s * s for s in shortfalls])
        self._downside_count = len(shortfalls)

    def values(self) -> list[float]:
        """Return the returns in the window, oldest first."""
        return list(self._values)

    @property
    def window(self) -> int:
        """Return the window length."""
        return self._window

    @property
    def count(self) -> int:
        """Return the number of returns in the window."""
        return self._count

    @property
    def mean(self) -> float:
        """Return the window mean (NaN when empty)."""
        return self._mean if self._count else math.nan

    @property
    def variance(self) -> float:
        """Return the window sample variance (``ddof=1``; 0.0 if all values are equal)."""
        if self._count < 2:
            return math.nan
        if self._changes == 0:
            # Equal values have no dispersion, unless infinite (then undefined).
            return math.nan if math.isinf(self._values[0]) else 0.0
        return max(self._m2, 0.0) / (self._count - 1)

    @property
    def sharpe_ratio(self) -> float:
        """Return the annualised Sharpe ratio of the window (see ``returns.sharpe_ratio``)."""
        if self._count < 2:
            return math.nan
        if self._changes == 0:
            first = self._values[0]
            return math.nan if math.isinf(first) else divide(first - self._rf_p, 0.0)
        std = math.sqrt(max(self._m2, 0.0) / (self._count - 1))
        return divide(self._mean - self._rf_p, std) * math.sqrt(self._periods)

    @property
    def sortino_ratio(self) -> float:
        """Return the annualised Sortino ratio of the window (see ``returns.sortino_ratio``)."""
        if self._count < 2:
            return math.nan
        downside = self._downside_sq if self._downside_count else 0.0
        downside_deviation = math.sqrt(max(downside, 0.0) / self._count)
        excess = self._values[0] - self._rf_p if self._changes == 0 else self._mean - self._rf_p
        return divide(excess * self._periods, downside_deviation * math.sqrt(self._periods))

    @property
    def value_at_risk(self) -> float:
        """Return the historical VaR of the window (see ``returns.value_at_risk``)."""
        n = self._count
        if n == 0:
            return math.nan
        position = self._alpha * (n - 1)
        fraction = position - math.floor(position)
        lower = -self._low[0]  # the k-th smallest, k = floor(position) + 1
        if fraction == 0.0:
            return lower
        upper = self._high[0]
        return lower + (upper - lower) * fraction

    @property
    def expected_shortfall(self) -> float:
        """Return the historical expected shortfall of the window."""
        if self._count == 0:
            return math.nan
        if self._changes == 0:
            return self._values[0]
        return self._low_sum / self._low_size
