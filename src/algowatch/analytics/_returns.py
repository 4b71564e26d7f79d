# Kernels shared by the public return metrics and by `summary`: each takes the
# cleaned (1-D, NaN-dropped) data or the scalars derived from it, so that
# `summary` can compute them once and reuse them.
#
# No kernel overflows: a value that is unbounded is ±inf, a ratio of moments
# is computed on data divided by a power of two when its squares would leave
# the double range (exact, and the ratios are scale-free), and a wealth curve
# that leaves the double range is followed in log space.
from __future__ import annotations

import math
from typing import Literal

import numpy as np

from algowatch._formulas import divide
from algowatch.analytics._common import (
    LOG_MAX,
    FloatArray,
    dot,
    normal_density,
    normal_quantile,
    scale_of,
    signed_sums,
)

Method = Literal["historical", "parametric"]


def moments(
    data: FloatArray, lowest: float, highest: float, out: FloatArray | None = None
) -> tuple[float, float, float]:
    # (mean, std, scale): the mean and sample std (ddof=1) of data / scale, for
    # n >= 2 values whose min and max are given; multiply by `scale` for the
    # moments themselves (±inf beyond the double range). `out` is an optional
    # scratch buffer of len(data). Zero dispersion is decided by max == min, not
    # by the computed std: the floating-point mean of equal values may differ
    # from them in the last bit and leave a ~1e-18 "std". The dispersion of
    # infinite values is undefined (NaN), as is every moment of data holding an
    # infinity.
    if lowest == highest:
        return lowest, math.nan if math.isinf(lowest) else 0.0, 1.0
    scale = scale_of(lowest, highest)
    scaled = data / scale if scale != 1.0 else data
    with np.errstate(over="ignore", invalid="ignore"):
        average = float(scaled.mean())
        deviations = np.subtract(scaled, average, out=out)
        std = math.sqrt(dot(deviations, deviations) / (len(data) - 1))
    return average, std, scale


def sharpe(adjusted: FloatArray, periods: float) -> float:
    n = len(adjusted)
    if n < 2:
        return math.nan
    average, std, _ = moments(adjusted, float(adjusted.min()), float(adjusted.max()))
    return divide(average, std) * math.sqrt(periods)


def sortino(adjusted: FloatArray, periods: float) -> float:
    n = len(adjusted)
    if n < 2:
        return math.nan
    scale = scale_of(float(adjusted.min()), float(adjusted.max()))
    scaled = adjusted / scale if scale != 1.0 else adjusted
    downside = np.minimum(scaled, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        average = float(scaled.mean())
    downside_deviation = math.sqrt(float(dot(downside, downside)) / n)
    return divide(average, downside_deviation) * math.sqrt(periods)


def wealth(returns: FloatArray) -> FloatArray:
    wealth: FloatArray = returns + 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        np.multiply.accumulate(wealth, out=wealth)
    return wealth


def overflowed(wealth: FloatArray, returns: FloatArray) -> bool:
    # Overflow is sticky (inf times anything is ±inf or NaN), so the last value
    # tells; finite returns are required, since an infinite return is no overflow.
    return len(wealth) > 0 and not math.isfinite(wealth[-1]) and bool(np.isfinite(returns).all())


def drawdowns(wealth: FloatArray) -> FloatArray:
    drawdowns: FloatArray = np.maximum.accumulate(wealth)
    # The running peak starts at the initial wealth W_0 = 1: a loss on the very
    # first period is a drawdown.
    np.maximum(drawdowns, 1.0, out=drawdowns)
    with np.errstate(invalid="ignore"):
        np.divide(wealth, drawdowns, out=drawdowns)
    drawdowns -= 1.0
    return drawdowns


def log_wealth(returns: FloatArray) -> tuple[FloatArray, FloatArray]:
    # log|W_t| and sign(W_t) of a wealth curve too large for doubles.
    growth = returns + 1.0
    with np.errstate(divide="ignore"):
        log_abs: FloatArray = np.cumsum(np.log(np.abs(growth)))
    sign: FloatArray = np.cumprod(np.sign(growth), dtype=np.float64)
    return log_abs, sign


def log_drawdowns(log_abs: FloatArray, sign: FloatArray) -> FloatArray:
    # W_t / max(W_0..W_t) - 1 from log|W| and sign(W); the peak is >= W_0 = 1 > 0.
    log_peak = np.maximum.accumulate(np.maximum(np.where(sign > 0.0, log_abs, -np.inf), 0.0))
    with np.errstate(over="ignore", invalid="ignore"):
        result: FloatArray = sign * np.exp(log_abs - log_peak) - 1.0
    return result


def curve(returns: FloatArray) -> tuple[FloatArray, float, float | None]:
    # (drawdowns, W_T, log W_T when W_T overflowed and is positive, else None).
    w = wealth(returns)
    if not overflowed(w, returns):
        final = float(w[-1]) if len(w) else 1.0
        return drawdowns(w), final, None
    log_abs, sign = log_wealth(returns)
    return log_drawdowns(log_abs, sign), *final_from_log(float(log_abs[-1]), float(sign[-1]))


def final_wealth(returns: FloatArray) -> tuple[float, float | None]:
    # (W_T, log W_T when W_T overflowed and is positive, else None).
    with np.errstate(over="ignore", invalid="ignore"):
        final = float(np.prod(returns + 1.0))
    if math.isfinite(final) or not np.isfinite(returns).all():
        return final, None
    growth = returns + 1.0
    with np.errstate(divide="ignore"):
        log_abs = float(np.log(np.abs(growth)).sum())
    return final_from_log(log_abs, float(np.prod(np.sign(growth))))


def final_from_log(log_abs: float, sign: float) -> tuple[float, float | None]:
    final = sign * (math.inf if log_abs > LOG_MAX else math.exp(log_abs))
    return final, log_abs if sign > 0.0 else None


def cagr(final_wealth: float, n: int, periods: float, log_final: float | None = None) -> float:
    # W_T ** (N / n) - 1; +inf when that leaves the double range. `log_final` is
    # log(W_T) when W_T itself overflowed (then the root may still be finite).
    if n == 0 or not final_wealth >= 0.0:
        return math.nan
    exponent = periods / n
    if math.isinf(final_wealth) and log_final is not None:
        growth = log_final * exponent
        return math.inf if growth > LOG_MAX else math.expm1(growth)
    with np.errstate(over="ignore"):
        return float(np.float64(final_wealth) ** exponent) - 1.0


def calmar(cagr: float, mdd: float) -> float:
    if not mdd < 0.0:
        return math.nan
    return cagr / abs(mdd)


def check_method(method: str) -> None:
    if method not in ("historical", "parametric"):
        msg = f"method must be 'historical' or 'parametric', received {method!r}"
        raise ValueError(msg)


# The parametric forms take the scaled moments of `moments` and their scale.
def parametric_var(mean: float, std: float, scale: float, alpha: float) -> float:
    if std == 0.0:
        return mean * scale
    return (mean + std * normal_quantile(alpha)) * scale


def parametric_es(mean: float, std: float, scale: float, alpha: float) -> float:
    if std == 0.0:
        return mean * scale
    if alpha == 0.0:
        # The limit alpha -> 0: the worst tail of a normal has no bound.
        return -math.inf if std > 0.0 else math.nan
    return (mean - std * normal_density(normal_quantile(alpha)) / alpha) * scale


def tail_count(n: int, alpha: float) -> int:
    return int((n - 1) * alpha) + 1


def omega(excess: FloatArray) -> float:
    if len(excess) < 2:
        return math.nan
    scale = scale_of(float(excess.min()), float(excess.max()))
    gains, losses = signed_sums(excess, scale)
    return divide(gains, -losses)


def tail(p95: float, p5: float) -> float:
    return divide(abs(p95), abs(p5))


# Centres `log_wealth` in place (callers pass a buffer they no longer need).
def stability(log_wealth: FloatArray) -> float:
    n = len(log_wealth)
    if n < 2:
        return math.nan
    x = np.arange(n, dtype=np.float64)
    x -= (n - 1) / 2.0
    with np.errstate(over="ignore", invalid="ignore"):
        y = log_wealth
        y -= y.mean()
        sxy = dot(x, y)
        syy = dot(y, y)
    sxx = n * (n * n - 1.0) / 12.0  # sum of (i - mean(i))**2 for i = 0..n-1
    # A return <= -100 % leaves log(W) undefined; min/max would hide the NaN.
    if syy == 0.0 or not (math.isfinite(syy) and math.isfinite(sxy)):
        return math.nan
    r = max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))
    return r * r
