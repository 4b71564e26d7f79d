"""``algowatch analyze FILE``: the performance and risk summary of a returns or equity file.

The file is a CSV (with a header row) or a Parquet file. The column is chosen
with ``--column`` and its meaning with ``--kind``; without them, the column is
detected from its name (``returns``/``return``/``ret``... or
``equity``/``value``/``nav``...), and only when exactly one column matches.
Nothing is guessed from the values: reading returns as prices (quantstats#7)
cannot happen here. The maths is :func:`algowatch.analytics.summary`.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import click
import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.table import Table

from algowatch.analytics import ReturnsSummary, summary
from algowatch.errors import DataFileError, MissingDependencyError

__all__ = ["MIN_PERIODS", "analyze", "small_sample_warning"]

#: fewer periods than this (or than a year's, when a year has fewer) draw a warning
MIN_PERIODS: Final = 30

Kind = Literal["returns", "equity"]
FloatArray = npt.NDArray[np.float64]

_RETURNS_NAMES: Final = frozenset(
    {"returns", "return", "ret", "rets", "daily_return", "daily_returns", "pnl_pct", "pct_change"}
)
_EQUITY_NAMES: Final = frozenset(
    {"equity", "value", "nav", "portfolio_value", "account_value", "balance", "wealth"}
)
_PARQUET_SUFFIXES: Final = frozenset({".parquet", ".pq"})


@dataclass(frozen=True, slots=True)
class _Series:
    column: str
    kind: Kind
    values: FloatArray


def _kind_of(name: str) -> Kind | None:
    folded = name.strip().lower()
    if folded in _RETURNS_NAMES:
        return "returns"
    if folded in _EQUITY_NAMES:
        return "equity"
    return None


def _read_csv(path: Path) -> dict[str, list[str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        msg = f"cannot read {str(path)!r} as CSV: {exc}"
        raise DataFileError(msg) from exc
    if not rows or not any(cell.strip() for cell in rows[0]):
        msg = f"{str(path)!r} is empty: expected a header row naming the columns"
        raise DataFileError(msg)
    header = [cell.strip() for cell in rows[0]]
    columns: dict[str, list[str]] = {name: [] for name in header}
    for row in rows[1:]:
        if not row:
            continue
        for name, cell in zip(header, row, strict=False):
            columns[name].append(cell)
        for name in header[len(row) :]:
            columns[name].append("")
    return columns


def _csv_values(path: Path, name: str, cells: list[str]) -> FloatArray:
    values = np.empty(len(cells), dtype=np.float64)
    for i, cell in enumerate(cells):
        text = cell.strip()
        if text in ("", "nan", "NaN", "NA", "null"):
            values[i] = math.nan
            continue
        try:
            values[i] = float(text)
        except ValueError:
            msg = f"{str(path)!r} column {name!r} line {i + 2} must be a number, received {cell!r}"
            raise DataFileError(msg) from None
    return values


def _read_parquet(path: Path) -> tuple[list[str], Callable[[str], FloatArray]]:
    try:
        import pyarrow as pa  # noqa: PLC0415 - optional extra, loaded on use
        import pyarrow.compute as pc  # noqa: PLC0415
        import pyarrow.parquet as pq  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - pyarrow is installed in every test env
        msg = "reading Parquet needs pyarrow: pip install 'algowatch[parquet]'"
        raise MissingDependencyError(msg) from exc
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        msg = f"cannot read {str(path)!r} as Parquet: {exc}"
        raise DataFileError(msg) from exc

    def column(name: str) -> FloatArray:
        try:
            array = pc.cast(table.column(name), pa.float64())
        except (pa.ArrowException, TypeError) as exc:
            received = table.schema.field(name).type
            msg = f"{str(path)!r} column {name!r} must be numeric, received type {received}"
            raise DataFileError(msg) from exc
        values: FloatArray = np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)
        return values

    return list(table.column_names), column


def _choose(
    path: Path, names: list[str], column: str | None, kind: Kind | None
) -> tuple[str, Kind]:
    listing = ", ".join(repr(n) for n in names)
    if column is not None:
        if column not in names:
            msg = f"--column {column!r} is not in {str(path)!r}; its columns are {listing}"
            raise DataFileError(msg)
        chosen_kind = kind or _kind_of(column)
        if chosen_kind is None:
            msg = (
                f"cannot tell whether column {column!r} holds returns or equity values; "
                "pass --kind returns or --kind equity"
            )
            raise DataFileError(msg)
        return column, chosen_kind
    matches = [(n, k) for n in names if (k := _kind_of(n)) is not None and kind in (None, k)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        wanted = f"{kind} column" if kind else "returns or equity column"
        msg = (
            f"found no {wanted} by name in {str(path)!r} (columns: {listing}); "
            "pass --column NAME and --kind returns|equity"
        )
        raise DataFileError(msg)
    found = ", ".join(f"{n!r} ({k})" for n, k in matches)
    msg = f"{str(path)!r} has several candidate columns: {found}; pass --column NAME to choose"
    raise DataFileError(msg)


def _load(path: Path, column: str | None, kind: Kind | None) -> _Series:
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "no such file"
        msg = f"cannot read {str(path)!r}: {reason}"
        raise DataFileError(msg)
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        names, read_column = _read_parquet(path)
        name, chosen_kind = _choose(path, names, column, kind)
        values = read_column(name)
    else:
        columns = _read_csv(path)
        name, chosen_kind = _choose(path, list(columns), column, kind)
        values = _csv_values(path, name, columns[name])
    if chosen_kind == "equity":
        values = _equity_to_returns(path, name, values)
    return _Series(name, chosen_kind, values)


def _equity_to_returns(path: Path, name: str, equity: FloatArray) -> FloatArray:
    levels = equity[~np.isnan(equity)]
    bad = levels[~(np.isfinite(levels) & (levels > 0))]
    if bad.size:
        msg = (
            f"{str(path)!r} column {name!r} holds equity values, which must be > 0, "
            f"received {float(bad[0])!r}"
        )
        raise DataFileError(msg)
    if levels.size == 0:
        return levels
    # The first level is the starting capital W_0, so a first-period loss is a drawdown.
    # A ratio beyond the double range (1e-300 to 1e300) is an unbounded return: +inf.
    with np.errstate(over="ignore"):
        returns: FloatArray = levels[1:] / levels[:-1] - 1.0
    return returns


def _json_number(value: float | int) -> float | int | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _percent(value: float) -> str:
    return f"{value * 100:,.2f} %"


def _ratio(value: float) -> str:
    return f"{value:,.4f}"


# (label, field, format): fractions are shown as percentages, ratios as numbers.
_ROWS: Final[tuple[tuple[str, str, Callable[[float], str]], ...]] = (
    ("Total return", "total_return", _percent),
    ("Annual return (CAGR)", "annual_return", _percent),
    ("Annual volatility", "annual_volatility", _percent),
    ("Sharpe ratio", "sharpe_ratio", _ratio),
    ("Sortino ratio", "sortino_ratio", _ratio),
    ("Calmar ratio", "calmar_ratio", _ratio),
    ("Max drawdown", "max_drawdown", _percent),
    ("Current drawdown", "current_drawdown", _percent),
    ("Value at risk (historical)", "value_at_risk", _percent),
    ("Value at risk (parametric)", "value_at_risk_parametric", _percent),
    ("Expected shortfall (historical)", "expected_shortfall", _percent),
    ("Expected shortfall (parametric)", "expected_shortfall_parametric", _percent),
    ("Omega ratio", "omega_ratio", _ratio),
    ("Tail ratio", "tail_ratio", _ratio),
    ("Stability (R²)", "stability_of_timeseries", _ratio),
)


def _cell(value: float, fmt: Callable[[float], str]) -> str:
    if math.isnan(value):
        return "[dim]undefined[/dim]"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    return fmt(value)


def _table(path: Path, series: _Series, result: ReturnsSummary) -> Table:
    confidence = f"{result.confidence:.0%}"
    table = Table(
        title=f"{path.name}: {series.column!r} ({series.kind})",
        caption=(
            f"{result.periods:,} periods, {result.periods_per_year:g} per year, "
            f"risk-free {result.risk_free:.2%} a year, VaR/ES at {confidence}"
        ),
    )
    table.add_column("Metric")
    table.add_column("Value", justify="right")
    for label, field, fmt in _ROWS:
        table.add_row(label, _cell(getattr(result, field), fmt))
    return table


def small_sample_warning(periods: int, periods_per_year: float) -> str | None:
    """Return the warning for a sample too small for annualised figures, or None.

    Annualising compounds or scales the sample up to a year: one 1 % day becomes a
    1,127 % annual return. Below 30 periods (or a year of periods, when a year has
    fewer: 12 for monthly data) the annual return, volatility and ratios say little,
    so the command says how many periods there are and how many are needed.

    Examples
    --------
    >>> small_sample_warning(1, 252)  # doctest: +NORMALIZE_WHITESPACE
    'only 1 period: annualised figures (return, volatility, Sharpe, Sortino, Calmar)
    extrapolate it to 252 periods a year and mean little; at least 30 are needed'
    >>> small_sample_warning(30, 252) is None
    True
    >>> small_sample_warning(11, 12) is not None, small_sample_warning(12, 12)
    (True, None)
    """
    needed = max(2, min(MIN_PERIODS, math.ceil(periods_per_year)))
    if periods >= needed:
        return None
    noun = "period" if periods == 1 else "periods"
    return (
        f"only {periods:,} {noun}: annualised figures (return, volatility, Sharpe, Sortino, "
        f"Calmar) extrapolate {'it' if periods == 1 else 'them'} to {periods_per_year:g} "
        f"periods a year and mean little; at least {needed} are needed"
    )


def _finite(_context: click.Context, parameter: click.Parameter, value: float) -> float:
    # click's FloatRange lets "inf" and "nan" through; the metrics need a finite number.
    if not math.isfinite(value):
        msg = f"must be a finite number, received {value!r}"
        raise click.BadParameter(msg, param=parameter)
    return value


@click.command("analyze")
# The file is checked by _load, so an unreadable one is a runtime error (exit 1).
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--column", help="Column to analyze (default: detected from its name).")
@click.option(
    "--kind",
    type=click.Choice(["returns", "equity"]),
    help="What the column holds: simple per-period returns, or equity values.",
)
@click.option(
    "--periods-per-year",
    type=click.FloatRange(min=0.0, min_open=True),
    default=252.0,
    show_default=True,
    callback=_finite,
    help="Return periods per year: 252 daily, 98280 for 1-minute US equities, 365 for 24/7.",
)
@click.option(
    "--risk-free",
    type=float,
    default=0.0,
    show_default=True,
    callback=_finite,
    help="Annual risk-free rate (0.04 = 4 %), applied per period as rate / periods-per-year.",
)
@click.option(
    "--confidence",
    type=click.FloatRange(min=0.0, max=1.0),
    default=0.95,
    show_default=True,
    help="Confidence level of the value at risk and expected shortfall.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (undefined values as null).")
def analyze(
    file: Path,
    *,
    column: str | None,
    kind: Kind | None,
    periods_per_year: float,
    risk_free: float,
    confidence: float,
    as_json: bool,
) -> None:
    """Compute the performance and risk summary of a returns or equity file (CSV or Parquet)."""
    series = _load(file, column, kind)
    result = summary(
        series.values,
        risk_free=risk_free,
        periods_per_year=periods_per_year,
        confidence=confidence,
    )
    warning = small_sample_warning(result.periods, periods_per_year)
    if warning is not None:
        click.echo(f"Warning: {warning}", err=True)
    if as_json:
        payload: dict[str, Any] = {
            "file": str(file),
            "column": series.column,
            "kind": series.kind,
            "summary": {key: _json_number(value) for key, value in result.to_dict().items()},
            "warnings": [] if warning is None else [warning],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    Console().print(_table(file, series, result))
