"""``algowatch analyze FILE`` on CSV and Parquet files written to tmp_path."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from algowatch import cli
from algowatch.analytics import summary

RETURNS = [0.01, -0.02, 0.015, float("nan"), 0.003, -0.007, 0.02]


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    lines = [",".join(header)]
    lines += [",".join("" if v is None else str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["analyze", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _expected(values: list[float], **options: float) -> dict[str, float | int | None]:
    data = summary(values, **options).to_dict()
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in data.items()
    }


def test_csv_returns_column_detected_by_name_prints_json_summary(tmp_path, capsys) -> None:
    """A column named 'ret' is read as returns; --json prints the whole summary."""
    path = _write_csv(
        tmp_path / "r.csv",
        ["date", "ret"],
        [[f"2024-01-0{i + 1}", None if math.isnan(r) else r] for i, r in enumerate(RETURNS)],
    )
    code, out, err = _run([str(path), "--json", "--risk-free", "0.02"], capsys)
    assert code == 0
    assert err == (
        "Warning: only 6 periods: annualised figures (return, volatility, Sharpe, Sortino, "
        "Calmar) extrapolate them to 252 periods a year and mean little; at least 30 are needed\n"
    )
    payload = json.loads(out)
    assert payload["column"] == "ret"
    assert payload["kind"] == "returns"
    assert payload["summary"] == _expected(RETURNS, risk_free=0.02)
    assert payload["summary"]["periods"] == 6


def test_equity_column_is_converted_to_returns_from_the_first_value(tmp_path, capsys) -> None:
    """Equity 100 -> 90 -> 99 gives returns -10 %, +10 % (a day-1 loss counts)."""
    path = _write_csv(tmp_path / "e.csv", ["day", "NAV"], [[1, 100], [2, 90], [3, 99]])
    code, out, _ = _run([str(path), "--json", "--periods-per-year", "365"], capsys)
    assert code == 0
    payload = json.loads(out)
    assert payload["kind"] == "equity"
    assert payload["summary"] == _expected([90 / 100 - 1, 99 / 90 - 1], periods_per_year=365)
    assert math.isclose(payload["summary"]["max_drawdown"], -0.1)


def test_parquet_file_with_explicit_column_and_kind(tmp_path, capsys) -> None:
    """Parquet is read with pyarrow; --column/--kind choose an unrecognised name."""
    path = tmp_path / "r.parquet"
    values = np.random.default_rng(5).normal(0.001, 0.01, 500)
    pq.write_table(pa.table({"strategy_a": values, "other": values * 2}), path)
    code, out, _ = _run(
        [str(path), "--column", "strategy_a", "--kind", "returns", "--json"], capsys
    )
    assert code == 0
    assert json.loads(out)["summary"] == _expected(list(values))


def test_table_output_lists_every_metric(tmp_path, capsys) -> None:
    """Without --json a table shows each metric, undefined values as 'undefined'."""
    path = _write_csv(tmp_path / "r.csv", ["returns"], [[0.01], [0.02]])
    code, out, _ = _run([str(path)], capsys)
    assert code == 0
    for label in ("Sharpe ratio", "Sortino ratio", "Max drawdown", "Value at risk (historical)"):
        assert label in out
    assert "undefined" in out  # Calmar without a drawdown
    assert "+inf" in out  # Sortino without a downside


def test_ambiguous_columns_are_an_error_naming_the_flag(tmp_path, capsys) -> None:
    """A returns and an equity column: never guess, ask for --column."""
    path = _write_csv(tmp_path / "a.csv", ["returns", "equity"], [[0.01, 101], [0.02, 103]])
    code, out, err = _run([str(path)], capsys)
    assert (code, out) == (1, "")
    assert err == (
        f"Error: {str(path)!r} has several candidate columns: 'returns' (returns), "
        "'equity' (equity); pass --column NAME to choose\n"
    )


def test_unrecognised_column_name_is_not_guessed(tmp_path, capsys) -> None:
    """A single column named 'close' could be prices or returns: ask for --kind."""
    path = _write_csv(tmp_path / "p.csv", ["close"], [[101.0], [102.5]])
    code, _, err = _run([str(path), "--column", "close"], capsys)
    assert code == 1
    assert err == (
        "Error: cannot tell whether column 'close' holds returns or equity values; "
        "pass --kind returns or --kind equity\n"
    )
    code, _, err = _run([str(path)], capsys)
    assert code == 1
    assert "pass --column NAME and --kind returns|equity" in err


def test_unreadable_files_give_one_line_error_and_exit_1(tmp_path, capsys) -> None:
    """Missing, binary-garbage Parquet and non-numeric CSV: one 'Error:' line, no traceback."""
    (tmp_path / "folder.csv").mkdir()
    cases = {
        tmp_path / "folder.csv": None,
        tmp_path / "missing.csv": None,
        tmp_path / "bad.parquet": b"not a parquet file",
        tmp_path / "empty.csv": b"",
        tmp_path / "text.csv": b"returns\n0.01\nabc\n",
    }
    for path, content in cases.items():
        if content is not None:
            path.write_bytes(content)
        code, out, err = _run([str(path)], capsys)
        assert code == 1, path
        assert out == ""
        assert err.startswith("Error: ")
        assert err.count("\n") == 1, err
        assert "Traceback" not in err
    _, _, err = _run([str(tmp_path / "text.csv")], capsys)
    name = str(tmp_path / "text.csv")
    assert err == f"Error: {name!r} column 'returns' line 3 must be a number, received 'abc'\n"


def test_non_positive_equity_is_rejected(tmp_path, capsys) -> None:
    """Equity values must be > 0 to make returns."""
    path = _write_csv(tmp_path / "e.csv", ["equity"], [[100], [0]])
    code, _, err = _run([str(path)], capsys)
    assert code == 1
    assert "holds equity values, which must be > 0, received 0.0" in err


def test_bad_periods_per_year_is_a_usage_error(tmp_path, capsys) -> None:
    """--periods-per-year must be > 0: exit code 2."""
    path = _write_csv(tmp_path / "r.csv", ["returns"], [[0.01]])
    code, _, _ = _run([str(path), "--periods-per-year", "0"], capsys)
    assert code == 2


def test_returns_above_one_are_not_reread_as_prices(tmp_path, capsys) -> None:
    """quantstats#7: positive returns above 1 stay returns (+150 %, +200 %), never prices."""
    path = _write_csv(tmp_path / "r.csv", ["returns"], [[1.5], [2.0]])
    code, out, _ = _run([str(path), "--json"], capsys)
    assert code == 0
    summary_json = json.loads(out)["summary"]
    assert summary_json["periods"] == 2
    assert math.isclose(summary_json["total_return"], 2.5 * 3.0 - 1.0)


def test_parquet_nulls_are_missing_and_text_columns_are_rejected(tmp_path, capsys) -> None:
    """Parquet nulls are dropped like NaN; a string column is a one-line error."""
    path = tmp_path / "r.parquet"
    pq.write_table(
        pa.table({"returns": [0.01, None, -0.02, 0.005], "label": ["a", "b", "c", "d"]}), path
    )
    code, out, _ = _run([str(path), "--json"], capsys)
    assert code == 0
    assert json.loads(out)["summary"] == _expected([0.01, -0.02, 0.005])
    code, _, err = _run([str(path), "--column", "label", "--kind", "returns"], capsys)
    assert code == 1
    assert err.startswith(f"Error: {str(path)!r} column 'label' must be numeric, received type ")


def test_minute_bar_annual_return_is_shown_as_inf_not_a_crash(tmp_path, capsys) -> None:
    """One +1 % minute bar at 98,280 bars a year: the CAGR is unbounded, shown as +inf."""
    path = _write_csv(tmp_path / "r.csv", ["returns"], [[0.01], [0.02], [-0.005]])
    code, out, err = _run([str(path), "--periods-per-year", "98280"], capsys)
    assert code == 0
    assert err.startswith("Warning: only 3 periods: annualised figures")
    row = next(line for line in out.splitlines() if "Annual return (CAGR)" in line)
    assert "+inf" in row
    calmar = next(line for line in out.splitlines() if "Calmar ratio" in line)
    assert "+inf" in calmar


def test_equity_ratio_beyond_the_double_range_is_an_infinite_return(tmp_path, capsys) -> None:
    """Equity 1e-300 -> 1e300 is a return of about 1e600: +inf, no overflow warning or error."""
    path = _write_csv(tmp_path / "e.csv", ["equity"], [["1e-300"], ["1e300"], ["1e-300"]])
    code, out, err = _run([str(path), "--json"], capsys)
    assert code == 0
    assert err.startswith("Warning: only 2 periods: annualised figures")
    result = json.loads(out)["summary"]
    assert result["periods"] == 2
    assert result["total_return"] is None  # inf * 1e-600: NaN, undefined
    assert result["max_drawdown"] is None


@pytest.mark.parametrize(("flag", "value"), [("--periods-per-year", "inf"), ("--risk-free", "nan")])
def test_non_finite_numeric_flags_are_a_usage_error(tmp_path, capsys, flag, value) -> None:
    """--periods-per-year inf or --risk-free nan: exit 2 naming the flag, no traceback."""
    path = _write_csv(tmp_path / "r.csv", ["returns"], [[0.01]])
    code, out, err = _run([str(path), flag, value], capsys)
    assert (code, out) == (2, "")
    assert f"Invalid value for '{flag}': must be a finite number, received {float(value)!r}" in err


def test_one_row_file_warns_that_its_annual_figures_mean_nothing(tmp_path, capsys) -> None:
    """The issue's case: one +1 % day shows a 1,127 % annual return; the warning says why."""
    path = _write_csv(tmp_path / "r.csv", ["returns"], [[0.01]])
    code, out, err = _run([str(path)], capsys)
    assert code == 0
    # (1.01 ** 252 - 1) = 11.27: the figure stays, with the warning beside it
    assert "1,127." in next(line for line in out.splitlines() if "CAGR" in line)
    assert err == (
        "Warning: only 1 period: annualised figures (return, volatility, Sharpe, Sortino, "
        "Calmar) extrapolate it to 252 periods a year and mean little; at least 30 are needed\n"
    )
    code, out, err = _run([str(path), "--json"], capsys)
    assert code == 0
    assert json.loads(out)["warnings"] == [err.removeprefix("Warning: ").rstrip("\n")]


@pytest.mark.parametrize(
    ("rows", "periods_per_year", "warned"),
    [
        (29, 252, True),
        (30, 252, False),
        (11, 12, True),
        (12, 12, False),
        (1, 1, True),
        (2, 1, False),
    ],
)
def test_warning_threshold_is_30_periods_or_a_year_of_them(
    tmp_path, capsys, rows, periods_per_year, warned
) -> None:
    path = _write_csv(tmp_path / "r.csv", ["returns"], [[0.001 * (i % 3 - 1)] for i in range(rows)])
    code, out, err = _run(
        [str(path), "--json", "--periods-per-year", str(periods_per_year)], capsys
    )
    assert code == 0
    assert bool(json.loads(out)["warnings"]) is warned
    assert err.startswith(f"Warning: only {rows} period") is warned
    assert (err == "") is not warned


def test_no_column_message_reads_well(tmp_path, capsys) -> None:
    path = _write_csv(tmp_path / "x.csv", ["close"], [[1.0], [2.0]])
    code, _, err = _run([str(path)], capsys)
    assert code == 1
    assert "found no returns or equity column by name in" in err
    code, _, err = _run([str(path), "--kind", "equity"], capsys)
    assert code == 1
    assert "found no equity column by name in" in err
