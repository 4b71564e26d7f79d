"""Benchmark: the whole return-metric set on 1,000,000 returns, and streaming updates.

Runs, in one process, on the same seeded series:

* ``algowatch.analytics.summary`` (the whole set, sharing work);
* empyrical-reloaded computing the same set, one function per metric;
* quantstats computing the same set (it takes a pandas Series);

and prints the best-of-N wall time of each with the ratios (goals: >= 2x
faster than empyrical, >= 8x faster than quantstats). Then it times one
``RollingReturns.update`` (with and without reading the four rolling metrics)
at windows of 252 and 100,000 (goal: < 5 us per update).

Usage: ``.venv/bin/python bench/analytics.py [--quick]``. Timings on a shared
machine are noisy; compare the ratios, which are measured in the same process.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from collections.abc import Callable
from typing import Any

import empyrical
import numpy as np
import pandas as pd
import quantstats as qs
from empyrical import stability_of_timeseries, stats
from scipy.stats import norm

from algowatch.analytics import RollingReturns, summary


def _best(functions: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    # Interleaved rounds (ours, empyrical, quantstats, ours, ...): on a shared
    # machine the load changes over seconds, and timing each library in its own
    # block would fold that change into the ratios.
    for function in functions.values():
        function()  # warm-up: first-touch page faults, lazy imports
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def _ours(returns: np.ndarray) -> Callable[[], Any]:
    return lambda: summary(returns, risk_free=0.02, periods_per_year=252)


def _empyrical(returns: np.ndarray) -> Callable[[], Any]:
    rf_p = 0.02 / 252

    def run() -> list[float]:
        clean = returns[~np.isnan(returns)]
        mean, std = clean.mean(), clean.std(ddof=1)
        return [
            stats.cum_returns_final(clean),
            empyrical.annual_return(clean, annualization=252),
            empyrical.annual_volatility(clean, annualization=252),
            empyrical.sharpe_ratio(clean, risk_free=rf_p, annualization=252),
            empyrical.sortino_ratio(clean, required_return=rf_p, annualization=252),
            empyrical.calmar_ratio(clean, annualization=252),
            empyrical.max_drawdown(clean),
            stats.drawdown_series(clean)[-1],
            empyrical.value_at_risk(clean, 0.05),
            # empyrical has no parametric VaR/ES: the same closed forms via scipy
            norm.ppf(0.05, mean, std),
            empyrical.conditional_value_at_risk(clean, 0.05),
            mean - std * norm.pdf(norm.ppf(0.05)) / 0.05,
            empyrical.omega_ratio(clean, risk_free=rf_p),
            empyrical.tail_ratio(clean),
            empyrical.stability_of_timeseries(clean),
        ]

    return run


def _quantstats(returns: np.ndarray) -> Callable[[], Any]:
    index = pd.date_range("1990-01-01", periods=len(returns), freq="min")
    series = pd.Series(returns, index=index)

    def run() -> list[float]:
        clean = series.dropna()
        return [
            qs.stats.comp(clean),
            qs.stats.cagr(clean, periods=252),
            qs.stats.volatility(clean, periods=252),
            qs.stats.sharpe(clean, rf=0.02, periods=252),
            qs.stats.sortino(clean, rf=0.02, periods=252),
            qs.stats.calmar(clean, periods=252),
            qs.stats.max_drawdown(clean),
            qs.stats.to_drawdown_series(clean).iloc[-1],
            clean.quantile(0.05),
            qs.stats.value_at_risk(clean),
            qs.stats.cvar(clean, method="historical"),
            qs.stats.cvar(clean, method="parametric"),
            qs.stats.omega(clean, rf=0.02, periods=252),
            qs.stats.tail_ratio(clean),
            # quantstats has no stability measure: empyrical's stands in
            stability_of_timeseries(clean.to_numpy()),
        ]

    return run


def _streaming(window: int, updates: int, *, read: bool, repeat: int = 3) -> float:
    rng = np.random.default_rng(1)
    rolling = RollingReturns(window, risk_free=0.02)
    for value in rng.normal(0.0004, 0.01, window).tolist():
        rolling.update(value)  # fill the window first: measure steady state
    values = rng.normal(0.0004, 0.01, updates).tolist()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        if read:
            for value in values:
                rolling.update(value)
                latest = (
                    rolling.sharpe_ratio,
                    rolling.sortino_ratio,
                    rolling.value_at_risk,
                    rolling.expected_shortfall,
                )
        else:
            for value in values:
                rolling.update(value)
        best = min(best, (time.perf_counter() - start) / updates)
    assert rolling.count == window
    if read:
        assert len(latest) == 4
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    args = parser.parse_args()
    size = 100_000 if args.quick else 1_000_000
    repeat = 3 if args.quick else 7
    updates = 20_000 if args.quick else 100_000

    warnings.simplefilter("ignore")  # the references warn on pandas/numpy deprecations
    returns = np.random.default_rng(0).normal(0.0004, 0.01, size)
    returns[::997] = np.nan

    print(f"algowatch analytics benchmark: {size:,} returns, best of {repeat}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print("(shared machine: absolute times are noisy, ratios are measured in one process)")
    print()
    times = _best(
        {
            "ours": _ours(returns),
            "empyrical": _empyrical(returns),
            "quantstats": _quantstats(returns),
        },
        repeat,
    )
    ours, empyrical_time, quantstats_time = (
        times["ours"],
        times["empyrical"],
        times["quantstats"],
    )
    print(f"{'whole set (15 metrics)':32s} {'time':>10s} {'vs algowatch':>14s}")
    print(f"{'algowatch summary()':32s} {ours * 1e3:8.1f} ms {'1.0x':>14s}")
    for name, elapsed, goal in (
        ("empyrical-reloaded", empyrical_time, 2.0),
        ("quantstats", quantstats_time, 8.0),
    ):
        ratio = elapsed / ours
        verdict = "ok" if ratio >= goal else "BELOW GOAL"
        print(f"{name:32s} {elapsed * 1e3:8.1f} ms {ratio:13.1f}x  (goal >= {goal:g}x: {verdict})")
    print()
    print(f"{'streaming RollingReturns':32s} {'update':>10s} {'update+read 4':>14s}")
    for window in (252, 100_000):
        update = _streaming(window, updates, read=False)
        with_read = _streaming(window, updates, read=True)
        verdict = "ok" if with_read < 5e-6 else "ABOVE GOAL"
        print(
            f"{'window ' + format(window, ','):32s} {update * 1e6:7.2f} us "
            f"{with_read * 1e6:11.2f} us  (goal < 5 us: {verdict})"
        )


if __name__ == "__main__":
    main()
