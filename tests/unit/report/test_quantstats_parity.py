"""The report's shared figures equal quantstats' on the same returns (read from the HTML).

The figures are parsed out of the generated page (``data-figure`` / ``data-value``) and
compared with ``quantstats.stats.*`` on the same series. Where algowatch's agreed
definition (``ANALYTICS.md``) differs from quantstats', the test checks the difference is
the documented one and that the page's footnote says so.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from algowatch.report import collect, render_report
from algowatch.settings import Settings, load_settings

from ... import report_kit

_FIGURE = re.compile(r'data-figure="([^"]+)" data-value="([^"]+)"')
RTOL = 1e-9


def figures_of(page: str) -> dict[str, float]:
    """Return every ``data-figure`` of the page with its exact value."""
    return {name: float(value) for name, value in _FIGURE.findall(page)}


@pytest.fixture
def returns_file(tmp_path: Path) -> Path:
    return report_kit.write_returns(tmp_path / "returns.csv", n=300, seed=11)


def _series(path: Path) -> pd.Series:  # type: ignore[type-arg]
    table = pd.read_csv(path, parse_dates=["date"], index_col="date")
    return table["returns"]


def _page(source: Path, benchmark: Path | None = None) -> str:
    data = collect(str(source), Settings(), generated_ts=0, benchmark=benchmark)
    return render_report(data)


def test_shared_figures_equal_quantstats(returns_file: Path) -> None:
    """Total return, Sharpe, Sortino, volatility, max drawdown, best, worst, win rate, VaR, ES."""
    page = _page(returns_file)
    ours = figures_of(page)
    r = _series(returns_file)
    expected = {
        "total_return": qs.stats.comp(r),
        "sharpe_ratio": qs.stats.sharpe(r, periods=252),
        "sortino_ratio": qs.stats.sortino(r, periods=252),
        "annual_volatility": qs.stats.volatility(r, periods=252),
        "max_drawdown": qs.stats.max_drawdown(r),
        "best_period": qs.stats.best(r),
        "worst_period": qs.stats.worst(r),
        "winning_periods": qs.stats.win_rate(r),
        "value_at_risk_parametric": qs.stats.value_at_risk(r),
        "expected_shortfall_parametric": qs.stats.conditional_value_at_risk(r),
    }
    for name, value in expected.items():
        assert ours[name] == pytest.approx(float(value), rel=RTOL, abs=1e-12), name
    assert ours["periods"] == len(r)


def test_max_drawdown_counts_a_first_period_loss_as_quantstats_does(tmp_path: Path) -> None:
    """A day-1 loss is a drawdown from the starting capital, in both (quantstats 0.0.86)."""
    path = tmp_path / "r.csv"
    path.write_text("date,returns\n2025-01-02,-0.05\n2025-01-03,0.01\n2025-01-06,0.02\n")
    ours = figures_of(_page(path))
    r = _series(path)
    assert ours["max_drawdown"] == pytest.approx(-0.05, rel=RTOL)
    assert float(qs.stats.max_drawdown(r)) == pytest.approx(ours["max_drawdown"], rel=RTOL)


def test_cagr_and_calmar_equal_quantstats_and_the_written_formula(returns_file: Path) -> None:
    """CAGR is W^(N/n) - 1 (ANALYTICS.md), which quantstats 0.0.86 computes too; Calmar follows."""
    ours = figures_of(_page(returns_file))
    r = _series(returns_file)
    wealth = float(np.prod(1.0 + r.to_numpy()))
    assert ours["annual_return"] == pytest.approx(wealth ** (252 / len(r)) - 1.0, rel=RTOL)
    assert ours["annual_return"] == pytest.approx(float(qs.stats.cagr(r, periods=252)), rel=RTOL)
    assert ours["calmar_ratio"] == pytest.approx(float(qs.stats.calmar(r, periods=252)), rel=RTOL)


def test_risk_free_rate_conversion_differs_from_quantstats_as_documented(tmp_path: Path) -> None:
    """With rf = 4 % a year, ours subtracts rf/N per period; quantstats converts geometrically.

    Ours equals the arithmetic formula written here; quantstats' differs from it, and the
    footnote says so.
    """
    path = report_kit.write_returns(tmp_path / "r.csv", n=300, seed=11)
    settings = load_settings(None, environ={}, overrides={"monitor.risk_free": 0.04})
    page = render_report(collect(str(path), settings, generated_ts=0))
    ours = figures_of(page)
    excess = _series(path).to_numpy() - 0.04 / 252
    arithmetic = excess.mean() / excess.std(ddof=1) * math.sqrt(252)
    assert ours["sharpe_ratio"] == pytest.approx(arithmetic, rel=RTOL)
    theirs = float(qs.stats.sharpe(_series(path), rf=0.04, periods=252))
    assert not math.isclose(theirs, arithmetic, rel_tol=1e-9)
    assert theirs == pytest.approx(arithmetic, rel=1e-2)  # the same figure, another convention
    assert "converted geometrically by quantstats" in page


def test_historical_expected_shortfall_is_empyricals_not_quantstats_default(
    returns_file: Path,
) -> None:
    """The headline ES is historical (mean of the int((n-1)*0.05)+1 worst), the footnote says so."""
    page = _page(returns_file)
    ours = figures_of(page)
    values = np.sort(_series(returns_file).to_numpy())
    tail = values[: int((values.size - 1) * 0.05) + 1]
    assert ours["expected_shortfall"] == pytest.approx(float(tail.mean()), rel=RTOL)
    assert ours["value_at_risk"] == pytest.approx(float(np.percentile(values, 5)), rel=RTOL)
    assert "default CVaR/expected shortfall is parametric" in page


def test_benchmark_figures_equal_quantstats_on_the_benchmark(
    tmp_path: Path, returns_file: Path
) -> None:
    """The benchmark column is the same figures of the benchmark cut to the strategy's span."""
    bench = report_kit.write_returns(tmp_path / "bench.csv", n=400, seed=5)
    page = _page(returns_file, bench)
    ours = figures_of(page)
    b = _series(bench)
    r = _series(returns_file)
    cut = b[(b.index >= r.index[0]) & (b.index <= r.index[-1])]
    assert ours["benchmark.sharpe_ratio"] == pytest.approx(float(qs.stats.sharpe(cut)), rel=RTOL)
    assert ours["benchmark.max_drawdown"] == pytest.approx(
        float(qs.stats.max_drawdown(cut)), rel=RTOL
    )
    assert ours["benchmark.periods"] == len(cut)
    assert "benchmark: bench" in page


def test_no_benchmark_is_said(returns_file: Path) -> None:
    """Without --benchmark the page says "no benchmark" and has no benchmark column."""
    page = _page(returns_file)
    assert "no benchmark" in page
    assert "benchmark.sharpe_ratio" not in page
