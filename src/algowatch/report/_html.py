"""The report's HTML: one self-contained page (inline CSS, inline SVG, no script).

Every figure sits in an element with a stable ``data-figure`` name and its exact value
in ``data-value`` (``repr`` of the float; ``nan``/``inf`` when undefined), so tests and
tools read the numbers without parsing the formatted text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Final

import numpy as np

from algowatch.analytics import drawdown_series
from algowatch.monitor import (
    ExecutionFigures,
    OrderFigures,
    ScopeFigures,
    SignalFigures,
    TradeFigures,
)
from algowatch.report import _charts as charts
from algowatch.report._model import FloatArray, ReportInput, ReturnSeries
from algowatch.report._stats import (
    ReturnFigures,
    clip_to,
    monthly_returns,
    return_figures,
    rolling,
    worst_drawdowns,
)

__all__ = ["render_html"]

_NS: Final = 1_000_000_000
Format = Callable[[float], str]


def _pct(value: float) -> str:
    return f"{value * 100:,.2f} %"


def _ratio(value: float) -> str:
    return f"{value:,.3f}"


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _bps(value: float) -> str:
    return f"{value:,.2f} bps"


def _ms(value: float) -> str:
    return f"{value * 1e3:,.1f} ms"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _date(ts: int | None) -> str:
    if ts is None:
        return "ongoing"
    return datetime.fromtimestamp(ts / _NS, tz=UTC).strftime("%Y-%m-%d")


def _cell(name: str, value: float, fmt: Format, *, undefined: str = "n/a") -> str:
    if math.isnan(value):
        text = f'<span class="undefined">{escape(undefined)}</span>'
    elif math.isinf(value):
        text = "+inf" if value > 0 else "-inf"
    else:
        text = escape(fmt(value))
    return f'<td class="num" data-figure="{escape(name)}" data-value="{float(value)!r}">{text}</td>'


# (label, figure name, attribute of ReturnFigures, format)
_RETURN_ROWS: Final[tuple[tuple[str, str, Format], ...]] = (
    ("Total return", "total_return", _pct),
    ("CAGR", "annual_return", _pct),
    ("Annual volatility", "annual_volatility", _pct),
    ("Sharpe ratio", "sharpe_ratio", _ratio),
    ("Sortino ratio", "sortino_ratio", _ratio),
    ("Calmar ratio", "calmar_ratio", _ratio),
    ("Max drawdown", "max_drawdown", _pct),
    ("VaR 95 % (historical)", "value_at_risk", _pct),
    ("VaR 95 % (parametric)", "value_at_risk_parametric", _pct),
    ("Expected shortfall 95 % (historical)", "expected_shortfall", _pct),
    ("Expected shortfall 95 % (parametric)", "expected_shortfall_parametric", _pct),
    ("Best period", "best_period", _pct),
    ("Worst period", "worst_period", _pct),
    ("Winning periods (of non-zero)", "winning_periods", _pct),
    ("Omega ratio", "omega_ratio", _ratio),
    ("Tail ratio", "tail_ratio", _ratio),
    ("Periods", "periods", _count),
)

_TRADE_ROWS: Final[tuple[tuple[str, str, Format], ...]] = (
    ("Trades (round trips)", "trades", _count),
    ("Win rate", "win_rate", _pct),
    ("Profit factor", "profit_factor", _ratio),
    ("Average win", "average_win", _money),
    ("Average loss", "average_loss", _money),
    ("Largest win", "largest_win", _money),
    ("Largest loss", "largest_loss", _money),
    ("Expectancy (per trade)", "expectancy", _money),
    ("Realized P&L", "realized_pnl", _money),
    ("Unrealized P&L", "unrealized_pnl", _money),
    ("Fees", "fees", _money),
    ("Max drawdown (engine, of the high-water mark)", "max_drawdown", _pct),
    ("Sessions closed", "sessions", _count),
)

_EXECUTION_ROWS: Final[tuple[tuple[str, str, Format], ...]] = (
    ("Orders submitted", "orders_submitted", _count),
    ("Fill rate", "fill_rate", _pct),
    ("Partial fill rate", "partial_fill_rate", _pct),
    ("Rejection rate", "rejection_rate", _pct),
    ("Slippage vs arrival (notional-weighted)", "mean_slippage_bps", _bps),
    ("Slippage cost vs arrival", "slippage_vs_arrival", _money),
    ("Slippage vs VWAP", "slippage_vs_vwap_bps", _bps),
    ("Implementation shortfall", "implementation_shortfall", _money),
    ("Implementation shortfall (bps)", "implementation_shortfall_bps", _bps),
    ("Realized spread", "realized_spread_bps", _bps),
    ("Price impact", "price_impact_bps", _bps),
    ("Mean order to acknowledgement", "mean_ack_latency_seconds", _ms),
    ("Mean order to fill", "mean_fill_latency_seconds", _ms),
    ("Mean market data delay", "mean_market_data_latency_seconds", _ms),
)

_SIGNAL_ROWS: Final[tuple[tuple[str, str, Format], ...]] = (
    ("Signals", "signals", _count),
    ("Outcomes", "outcomes", _count),
    ("Accuracy (P&L > 0)", "accuracy", _pct),
    ("Direction accuracy", "direction_accuracy", _pct),
    ("Mean confidence", "mean_confidence", _ratio),
    ("Mean bars to profit", "mean_bars_to_profit", _ratio),
    ("Mean bars held", "mean_bars_held", _ratio),
    ("Strength volatility", "volatility", _ratio),
    ("Strength autocorrelation (lag 1)", "autocorrelation", _ratio),
    ("Edge decay rate", "decay_rate", _ratio),
    ("Half-life (bars)", "half_life_bars", _ratio),
    ("Inter-signal correlation", "inter_signal_correlation", _ratio),
)


def _table(
    rows: Sequence[tuple[str, str, Format]],
    source: object,
    prefix: str,
    *,
    undefined: str = "n/a",
) -> str:
    body = "".join(
        f"<tr><th>{escape(label)}</th>"
        f"{_cell(prefix + name, float(getattr(source, name)), fmt, undefined=undefined)}</tr>"
        for label, name, fmt in rows
    )
    return f'<table class="figures">{body}</table>'


def _key_figures(ours: ReturnFigures, bench: ReturnFigures | None, bench_name: str) -> str:
    head = (
        "<tr><th></th><th>Strategy</th>"
        + (f"<th>Benchmark ({escape(bench_name)})</th>" if bench else "")
        + "</tr>"
    )
    hint = "needs ≥ 2 periods"
    rows = []
    for label, name, fmt in _RETURN_ROWS:
        cells = _cell(name, float(getattr(ours, name)), fmt, undefined=hint)
        if bench is not None:
            cells += _cell(f"benchmark.{name}", float(getattr(bench, name)), fmt, undefined=hint)
        rows.append(f"<tr><th>{escape(label)}</th>{cells}</tr>")
    return f'<table class="figures key">{head}{"".join(rows)}</table>'


def _growth(series: ReturnSeries) -> charts.Line:
    values = np.where(np.isnan(series.values), 0.0, series.values)
    growth = np.cumprod(1.0 + values, dtype=np.float64)
    return charts.Line(series.name, series.ts, growth)


def _percentiles(label: str, seconds: list[float]) -> str:
    if not seconds:
        cells = '<td class="num" colspan="5"><span class="undefined">no orders</span></td>'
        return f"<tr><th>{escape(label)}</th>{cells}</tr>"
    data = np.array(seconds, dtype=np.float64)
    stats = [*np.percentile(data, [50, 90, 99]).tolist(), float(data.max())]
    key = label.split(maxsplit=1)[0].lower()
    cells = "".join(
        _cell(f"latency.{key}.{name}", value, _ms)
        for name, value in zip(("p50", "p90", "p99", "max"), stats, strict=True)
    )
    count = _cell(f"latency.{key}.count", len(seconds), _count)
    return f"<tr><th>{escape(label)}</th>{cells}{count}</tr>"


def _latency_table(orders: Sequence[OrderFigures]) -> str:
    ack = [(o.acknowledged_ts - o.submitted_ts) / _NS for o in orders if o.acknowledged_ts]
    fill = [(o.updated_ts - o.submitted_ts) / _NS for o in orders if o.status == "filled"]
    head = "<tr><th></th><th>p50</th><th>p90</th><th>p99</th><th>max</th><th>orders</th></tr>"
    rows = _percentiles("Acknowledgement latency", ack) + _percentiles("Fill latency", fill)
    return f'<div class="scroll"><table class="figures latency">{head}{rows}</table></div>'


def _execution_section(execution: ExecutionFigures, orders: Sequence[OrderFigures]) -> str:
    slippage = np.array([o.slippage_bps for o in orders], dtype=np.float64)
    return (
        '<section id="execution"><h2>Execution quality</h2><div class="grid">'
        + _table(_EXECUTION_ROWS, execution, "execution.")
        + "<div>"
        + charts.histogram(
            "slippage",
            "Slippage per order vs arrival (bps, positive = cost)",
            slippage,
            x_format=lambda v: f"{v:,.1f}",
        )
        + _latency_table(orders)
        + "</div></div></section>"
    )


def _signals_section(signals: SignalFigures) -> str:
    return (
        '<section id="signals"><h2>Signal quality</h2>'
        + _table(_SIGNAL_ROWS, signals, "signals.")
        + "</section>"
    )


def _trade_pnl_chart(name: str, title: str, trades: Sequence[TradeFigures]) -> str:
    ordered = sorted(trades, key=lambda t: t.exit_ts)
    if not ordered:
        return charts.empty(name, title, "no closed trades")
    ts = np.array([t.exit_ts for t in ordered], dtype=np.int64)
    pnl = np.cumsum(np.array([t.pnl for t in ordered], dtype=np.float64))
    return charts.line_chart(name, title, [charts.Line("P&L", ts, pnl)], y_format=_money, zero=True)


def _strategy_section(name: str, scope: ScopeFigures, data: ReportInput) -> str:
    trades = [t for t in data.trades if t.strategy == name]
    orders = [o for o in data.orders if o.strategy == name]
    prefix = f"strategy.{name}."
    slippage = np.array([o.slippage_bps for o in orders], dtype=np.float64)
    return (
        f'<section class="strategy" data-strategy="{escape(name)}"><h3>{escape(name)}</h3>'
        '<div class="grid3">'
        + _table(_TRADE_ROWS, scope.trading, prefix + "trading.")
        + _table(_EXECUTION_ROWS, scope.execution, prefix + "execution.")
        + _table(_SIGNAL_ROWS, scope.signals, prefix + "signals.")
        + '</div><div class="grid">'
        + _trade_pnl_chart(f"strategy-pnl-{name}", "Cumulative realized P&L of its trades", trades)
        + charts.histogram(
            f"strategy-slippage-{name}",
            "Slippage per order (bps)",
            slippage,
            x_format=lambda v: f"{v:,.1f}",
        )
        + "</div></section>"
    )


_CSS: Final = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dee7;--bg:#fff;--panel:#f6f8fb;
--s1:#2458c6;--s2:#b0671a;--gain:#1f8a4c;--loss:#c43a31}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1200px;margin:0 auto;padding:16px}h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:16px;margin:18px 0 6px}.meta{color:var(--muted);margin:0 0 12px}
.grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,2fr);gap:16px;align-items:start}
.grid3{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:12px;align-items:start}
.charts{display:grid;grid-template-columns:minmax(0,1fr);gap:16px}
.charts .wide{grid-column:1/-1}
@media (max-width:760px){.grid,.grid3,.charts{grid-template-columns:minmax(0,1fr)}}
figure.chart{margin:0;padding:8px;background:var(--panel);border:1px solid var(--line);
border-radius:6px;min-width:0}figcaption{font-weight:600;margin-bottom:4px}
figure.chart svg{width:100%;height:auto;display:block}svg.heatmap{min-width:640px}
.empty,.undefined{color:var(--muted);font-style:italic}
.note{color:var(--muted);font-size:12px;margin:4px 0 0}
table.figures{border-collapse:collapse;width:100%;margin:0 0 8px}
table.figures th,table.figures td{padding:3px 6px;border-bottom:1px solid var(--line);
text-align:left}
table.figures td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.figures th{font-weight:500}.key th:first-child{width:55%}
.grid line.grid{stroke:var(--line)}svg .grid{stroke:var(--line);stroke-width:1}
svg .zero{stroke:var(--muted);stroke-width:1;stroke-dasharray:3 3}
svg .axis{fill:var(--muted);font-size:11px}svg .line{fill:none;stroke-width:1.6}
svg .line.s1{stroke:var(--s1)}svg .line.s2{stroke:var(--s2)}svg .line.loss{stroke:var(--loss)}
svg .area{stroke:none;fill-opacity:.25}svg .area.loss{fill:var(--loss)}svg .area.s1{fill:var(--s1)}
svg .bar.gain{fill:var(--s1)}svg .bar.loss{fill:var(--loss)}
svg .cell.gain{fill:var(--gain)}svg .cell.loss{fill:var(--loss)}svg .cell.none{fill:var(--panel)}
svg .cell-label{font-size:11px;fill:var(--fg)}
.legend{display:flex;gap:14px;font-size:12px}.legend-key::before{content:"";display:inline-block;
width:14px;height:3px;margin:0 5px 3px 0;vertical-align:middle;background:var(--s1)}
.legend-key.s2::before{background:var(--s2)}footer{color:var(--muted);font-size:12px;margin-top:28px}
footer li{margin:2px 0}section{break-inside:avoid}code{word-break:break-all}
.scroll{overflow-x:auto;max-width:100%}.drawdowns td{white-space:nowrap}
"""

_FOOTNOTES: Final = (
    "Definitions follow algowatch's analytics (docs/metrics.md): simple returns, NaN "
    "dropped; Sharpe uses the sample deviation (ddof=1) and √N; Sortino the target downside "
    "deviation averaged over all periods (Sortino & Price); CAGR is W^(N/n) − 1 over the n "
    "periods; drawdowns start from a wealth of 1 (the starting capital), so a first-period "
    "loss counts. On these the report equals quantstats 0.0.86 (quantstats.stats.comp, cagr, "
    "sharpe, sortino, volatility, max_drawdown, calmar, best, worst, win_rate, "
    "value_at_risk, conditional_value_at_risk).",
    "Where quantstats differs: its default CVaR/expected shortfall is parametric (our "
    "'parametric' rows equal its value_at_risk and conditional_value_at_risk) where our "
    "headline VaR and expected shortfall are historical (the 5th percentile, and the mean "
    "of the int((n−1)·0.05)+1 worst periods, as empyrical); a non-zero risk-free rate is "
    "converted geometrically by quantstats and arithmetically (annual / N) here; "
    "quantstats' older releases measured CAGR in calendar years and dropped a first-day loss "
    "from the drawdown, which these figures never do.",
    "Returns of an event source are the closed sessions of [monitor] (session_timezone, "
    "session_start), equity at each session's last event over the previous session's, as "
    "the engine computes them; the session still open is not counted. Trade, execution and "
    "signal figures are the engine's own (the service's snapshot); latency percentiles "
    "and slippage distributions are over the orders the engine keeps (max_recent_orders).",
)


def render_html(data: ReportInput) -> str:
    """Return the whole report page of ``data``."""
    ours = return_figures(data.returns.values, data.periods_per_year, data.risk_free)
    bench = data.benchmark if data.benchmark is None else clip_to(data.benchmark, data.returns)
    bench_figures = (
        return_figures(bench.values, data.periods_per_year, data.risk_free) if bench else None
    )
    when = datetime.fromtimestamp(data.generated_ts / _NS, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    returns = data.returns
    period = (
        f"{_date(int(returns.ts[0]))} to {_date(int(returns.ts[-1]))}, {ours.periods:,} periods"
        if returns.ts.size
        else "no closed period yet"
    )
    bench_text = f"benchmark: {bench.name}" if bench else "no benchmark"
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(data.title)}</title><style>{_CSS}</style></head><body><main>",
        f'<header><h1>{escape(data.title)}</h1><p class="meta">Source: '
        f'<code data-figure="source">{escape(data.source)}</code> · {escape(period)} · '
        f'<span data-figure="benchmark">{escape(bench_text)}</span> · '
        f"generated {when}</p></header>",
        "".join(
            f'<p class="note" data-figure="note">{escape(n)}</p>'
            for n in (returns.note, bench.note if bench else "")
            if n
        ),
        '<section id="returns"><h2>Returns</h2><div class="grid">',
        _key_figures(ours, bench_figures, bench.name if bench else ""),
        '<div class="charts">',
        _returns_charts(data),
        "</div></div>",
        _drawdowns_table(returns),
        "</section>",
    ]
    figures = data.figures
    if figures is None:
        parts.append(
            '<section id="trading"><h2>Trades, execution and signals</h2><p class="empty">'
            "Not in a returns file: report the service's URL, its data folder or an event "
            "file to see trade, execution and signal quality.</p></section>"
        )
    else:
        portfolio = figures.portfolio
        parts.append(
            '<section id="trades"><h2>Trade statistics</h2><div class="grid">'
            + _table(_TRADE_ROWS, portfolio.trading, "trading.")
            + "<div>"
            + charts.histogram(
                "trade-pnl",
                f"P&L per trade ({figures.currency})",
                np.array([t.pnl for t in data.trades], dtype=np.float64),
                x_format=_money,
            )
            + _trade_pnl_chart("cumulative-pnl", "Cumulative realized P&L", data.trades)
            + "</div></div></section>"
        )
        parts.append(_execution_section(portfolio.execution, data.orders))
        parts.append(_signals_section(portfolio.signals))
        parts.append('<section id="strategies"><h2>Per strategy</h2>')
        if figures.strategies:
            parts.extend(
                _strategy_section(name, scope, data) for name, scope in figures.strategies.items()
            )
        else:
            parts.append('<p class="empty">no strategy reported</p>')
        parts.append("</section>")
    notes = "".join(f"<li>{escape(text)}</li>" for text in _FOOTNOTES)
    parts.append(f'<footer><h2>Notes</h2><ol class="footnotes">{notes}</ol></footer>')
    parts.append("</main></body></html>")
    return "".join(parts)


def _returns_charts(data: ReportInput) -> str:
    returns = data.returns
    figures = data.figures
    lines: list[charts.Line] = []
    note = ""
    if figures is not None and figures.equity_curve:
        capital = figures.portfolio.trading.starting_capital
        curve = np.array(figures.equity_curve, dtype=np.float64)
        lines.append(charts.Line("strategy", curve[:, 0].astype(np.int64), curve[:, 1] / capital))
        note = "Equity of every recorded point over the starting capital, in event time."
    elif returns.values.size:
        lines.append(_growth(returns))
    if data.benchmark is not None:
        growth = _growth(clip_to(data.benchmark, returns))
        lines.append(charts.Line(f"benchmark ({growth.label})", growth.ts, growth.values, "s2"))
    else:
        note = (note + " No benchmark (pass --benchmark FILE).").strip()
    hint = "needs ≥ 2 closed sessions"
    under = returns.values.size >= 1
    roll = rolling(returns, data.periods_per_year, data.risk_free)
    window = f"{roll.window} periods"
    out = [
        '<div class="wide">'
        + charts.line_chart(
            "equity",
            "Growth of 1 against the benchmark",
            lines,
            y_format=lambda v: f"{v:.3f}",
            note=note,
        )
        + "</div>",
        '<div class="wide">'
        + (
            charts.line_chart(
                "underwater",
                "Underwater (drawdown from the high-water mark)",
                [charts.Line("drawdown", returns.ts, _underwater(returns), "loss")],
                y_format=_pct,
                fill=True,
            )
            if under
            else charts.empty("underwater", "Underwater", hint)
        )
        + "</div>",
        '<div class="wide">'
        + charts.heatmap(
            "monthly", "Monthly returns (UTC months)", monthly_returns(returns), cell_format=_pct
        )
        + "</div>",
        charts.line_chart(
            "rolling-sharpe",
            f"Rolling Sharpe ratio ({window})",
            [charts.Line("Sharpe", roll.ts, roll.sharpe)],
            y_format=_ratio,
            zero=True,
        )
        if roll.ts.size
        else charts.empty(
            "rolling-sharpe", "Rolling Sharpe ratio", f"needs ≥ {2 * roll.window} periods"
        ),
        charts.line_chart(
            "rolling-volatility",
            f"Rolling annual volatility ({window})",
            [charts.Line("volatility", roll.ts, roll.volatility)],
            y_format=_pct,
        )
        if roll.ts.size
        else charts.empty(
            "rolling-volatility", "Rolling annual volatility", f"needs ≥ {2 * roll.window} periods"
        ),
        '<div class="wide">'
        + charts.histogram(
            "distribution", "Distribution of period returns", returns.values, x_format=_pct
        )
        + "</div>",
    ]
    return "".join(out)


def _underwater(series: ReturnSeries) -> FloatArray:
    clean = np.where(np.isnan(series.values), 0.0, series.values)
    return np.asarray(drawdown_series(clean), dtype=np.float64)


def _drawdowns_table(series: ReturnSeries) -> str:
    episodes = worst_drawdowns(series)
    head = (
        "<tr><th>#</th><th>Start (peak)</th><th>Valley</th><th>End (recovered)</th>"
        "<th>Depth</th><th>Days</th></tr>"
    )
    if not episodes:
        body = '<tr><td colspan="6" class="empty">no drawdown</td></tr>'
    else:
        body = "".join(
            f"<tr><td>{i + 1}</td><td>{_date(e.start_ts)}</td><td>{_date(e.valley_ts)}</td>"
            f"<td>{_date(e.end_ts)}</td>{_cell(f'drawdown.{i + 1}.depth', e.depth, _pct)}"
            f"{_cell(f'drawdown.{i + 1}.days', e.days, lambda v: f'{v:,.1f}')}</tr>"
            for i, e in enumerate(episodes)
        )
    table = f'<table class="figures drawdowns">{head}{body}</table>'
    return f'<h3>Worst drawdowns</h3><div class="scroll">{table}</div>'
