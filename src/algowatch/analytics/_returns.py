# Kernels shared by the public return metrics and by `summary`: each takes the
# cleaned (1-D, NaN-dropped) data or the scalars derived from it, so that
# `summary` can compute them once and reuse them.
from __future__ import annotations

import math
from typing import Literal

import numpy as np

from algowatch.analytics._common import (
    FloatArray,
    divide,
    dot,
    normal_density,
    normal_quantile,
)

Method = Literal["historical", "parametric"]


def std(data: FloatArray) -> float:
    # Sample std (ddof=1), exactly 0.0 when every value is equal (see sharpe).
    if data.max() == data.min():
        return 0.0
    return float(np.std(data, ddof=1))


def sharpe(adjusted: FloatArray, periods: float) -> float:
    n = len(adjusted)
    if n < 2:
        return math.nan
    mean = float(adjusted.mean())
    # Zero dispersion is decided by max == min: the floating-point mean of equal
    # values may differ from them in the last bit and leave a ~1e-18 "std".
    if adjusted.max() == adjusted.min():
        return divide(mean, 0.0)
    deviations = adjusted - mean
    std = math.sqrt(float(dot(deviations, deviations)) / (n - 1))
    return divide(mean, std) * math.sqrt(periods)


def sortino(adjusted: FloatArray, periods: float) -> float:
    n = len(adjusted)
    if n < 2:
        return math.nan
    downside = np.minimum(adjusted, 0.0)
    downside_deviation = math.sqrt(float(dot(downside, downside)) / n)
    return divide(float(adjusted.mean()) * periods, downside_deviation * math.sqrt(periods))


def wealth(returns: FloatArray) -> FloatArray:
    wealth: FloatArray = returns + 1.0
    np.multiply.accumulate(wealth, out=wealth)
    return wealth


def drawdowns(wealth: FloatArray) -> FloatArray:
    drawdowns: FloatArray = np.maximum.accumulate(wealth)
    # The running peak starts at the initial wealth W_0 = 1: a loss on the very
    # first period is a drawdown.
    np.maximum(drawdowns, 1.0, out=drawdowns)
    np.divide(wealth, drawdowns, out=drawdowns)
    drawdowns -= 1.0
    return drawdowns


def cagr(final_wealth: float, n: int, periods: float) -> float:
    if n == 0:
        return math.nan
    if final_wealth < 0.0:
        return math.nan
    return float(final_wealth ** (periods / n) - 1.0)


def calmar(cagr: float, mdd: float) -> float:
    if not mdd < 0.0:
        return math.nan
    ratio = cagr / abs(mdd)
    return math.nan if math.isinf(ratio) else ratio


def check_method(method: str) -> None:
    if method not in ("historical", "parametric"):
        msg = f"method must be 'historical' or 'parametric', received {method!r}"
        raise ValueError(msg)


def parametric_var(mean: float, std: float, alpha: float) -> float:
    return mean + std * normal_quantile(alpha)


def parametric_es(mean: float, std: float, alpha: float) -> float:
    if std == 0.0:
        return mean
    return mean - std * normal_density(normal_quantile(alpha)) / alpha


def tail_count(n: int, alpha: float) -> int:
    return int((n - 1) * alpha) + 1


def omega(excess: FloatArray) -> float:
    if len(excess) < 2:
        return math.nan
    gains = float(excess[excess > 0.0].sum())
    losses = -float(excess[excess < 0.0].sum())
    return divide(gains, losses)


def tail(p95: float, p5: float) -> float:
    return divide(abs(p95), abs(p5))


# Centres `log_wealth` in place (callers pass a buffer they no longer need).
def stability(log_wealth: FloatArray) -> float:
    n = len(log_wealth)
    if n < 2:
        return math.nan
    x = np.arange(n, dtype=np.float64)
    x -= (n - 1) / 2.0
    with np.errstate(invalid="ignore"):
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
