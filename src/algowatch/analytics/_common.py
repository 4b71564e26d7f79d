from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike | Iterable[float]

_STANDARD_NORMAL = NormalDist()
# exp(x) is beyond the double range (math.exp raises OverflowError) for x > LOG_MAX.
LOG_MAX = math.log(sys.float_info.max)


# Every metric starts here: a 1-D float64 copy-free view with NaN (missing) dropped,
# so the period count n is the number of observed periods (ANALYTICS.md).
def clean(values: ArrayLike, *, name: str = "returns") -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:  # a scalar is a one-element series (empyrical's VaR and CVaR)
        array = array.reshape(1)
    if array.ndim != 1:
        msg = (
            f"{name} must be one-dimensional (one series; call once per column of a "
            f"table), received an array of shape {array.shape!r}"
        )
        raise ValueError(msg)
    mask = np.isnan(array)
    if mask.any():
        return array[~mask]
    return array


def check_periods(periods_per_year: float) -> float:
    if not (math.isfinite(periods_per_year) and periods_per_year > 0):
        msg = f"periods_per_year must be a finite number > 0, received {periods_per_year!r}"
        raise ValueError(msg)
    return float(periods_per_year)


# Confidence 1 is the worst return (the minimum), confidence 0 the best (the
# maximum), as empyrical's cutoffs 0 and 1 give.
def check_confidence(confidence: float) -> float:
    if not 0.0 <= confidence <= 1.0:
        msg = f"confidence must be in [0, 1], e.g. 0.95, received {confidence!r}"
        raise ValueError(msg)
    # The tail probability as a decimal literal would give; 1 - 0.95 is 0.05000000000000004.
    return round(1.0 - confidence, 12)


def normal_quantile(probability: float) -> float:
    # Φ⁻¹(0) = -inf and Φ⁻¹(1) = +inf (NormalDist raises on both).
    if probability <= 0.0:
        return -math.inf
    if probability >= 1.0:
        return math.inf
    return _STANDARD_NORMAL.inv_cdf(probability)


def normal_density(x: float) -> float:
    return _STANDARD_NORMAL.pdf(x)


# Percentile with numpy's default "linear" method, on an array where the two order
# statistics around the target position are already in place (sorted or partitioned).
def linear_percentile(ordered: FloatArray, alpha: float) -> float:
    position = alpha * (len(ordered) - 1)
    low = math.floor(position)
    fraction = position - low
    lower = float(ordered[low])
    if fraction == 0.0:
        return lower
    upper = float(ordered[low + 1])
    difference = upper - lower
    if math.isinf(difference) and math.isfinite(lower) and math.isfinite(upper):
        # Overflowed between two finite values: the convex combination cannot.
        return lower * (1.0 - fraction) + upper * fraction
    return lower + difference * fraction


def percentile_indices(n: int, alpha: float) -> tuple[int, int]:
    position = alpha * (n - 1)
    low = math.floor(position)
    return low, min(low + 1, n - 1)


# Above this magnitude the squares of n values can overflow (2**800 * n); below
# it no rescaling happens, so ordinary data gives the bit-exact classic result.
_LARGE = 2.0**400


# A power of two of the order of the largest |value| (dividing by it is exact
# and leaves |values| < 2), or 1.0 for ordinary or non-finite data: ratios of
# moments are scale-free, and the scaled data cannot overflow when squared.
def scale_of(lowest: float, highest: float) -> float:
    peak = max(abs(lowest), abs(highest))
    if not (_LARGE < peak < math.inf):
        return 1.0
    return math.ldexp(1.0, math.frexp(peak)[1] - 1)


# Mean of a non-empty array that does not overflow on huge values (their sum
# may leave the double range while their mean does not).
def mean(data: FloatArray) -> float:
    scale = scale_of(float(data.min()), float(data.max()))
    with np.errstate(over="ignore", invalid="ignore"):
        if scale == 1.0:
            return float(data.mean())
        return float((data / scale).mean()) * scale


# Sums of the positive and of the negative values, both divided by `scale`
# (their ratio is scale-free; the sums themselves may overflow).
def signed_sums(data: FloatArray, scale: float) -> tuple[float, float]:
    scaled = data / scale if scale != 1.0 else data
    with np.errstate(over="ignore", invalid="ignore"):
        return float(scaled[scaled > 0.0].sum()), float(scaled[scaled < 0.0].sum())


# Sum of products without BLAS: numpy.dot hands 1-D float64 vectors to a
# multi-threaded BLAS, which on a busy 2-core machine is 20x slower than einsum's
# vectorised loop for the sizes used here.
def dot(a: FloatArray, b: FloatArray) -> float:
    return float(np.einsum("i,i->", a, b))
