"""Sources of a report -> :class:`ReportInput`: a data folder, an event file, a returns file.

A service's URL is read by :mod:`algowatch.report._remote`. Event sources are replayed
through a :class:`~algowatch.monitor.Monitor` with event time (as ``algowatch replay``
does); the returns are the portfolio's closed sessions, taken from the engine's equity
curve at the session boundaries of ``[monitor]`` (``session_timezone``, ``session_start``).
"""

from __future__ import annotations

import csv
import gzip
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import msgspec
import numpy as np

from algowatch.errors import DataFileError
from algowatch.journal import open_journal, replay_files
from algowatch.journal.sqlite import SQLITE_FILE_NAME
from algowatch.monitor import Monitor, MonitorFigures, SessionCalendar
from algowatch.report._model import IntArray, ReportInput, ReturnSeries
from algowatch.settings import MonitorSettings, Settings

__all__ = [
    "EVENT_SUFFIXES",
    "from_monitor",
    "read_data_dir",
    "read_event_file",
    "read_returns_file",
    "report_monitor",
    "session_returns",
]

EVENT_SUFFIXES: Final = frozenset({".ndjson", ".jsonl", ".json", ".gz"})
# The engine's equity curve is the report's record of equity: one point per quarter hour
# (a divisor of every HH:MM session start) and enough points for decades of sessions.
_CURVE_INTERVAL_SECONDS: Final = 900.0
_CURVE_POINTS: Final = 400_000
# every session in the report's engine figures, not only the live service's rolling window
_REPORT_WINDOW: Final = 100_000
_NS: Final = 1_000_000_000
_RETURNS_NAMES: Final = ("returns", "return", "ret", "rets", "daily_return", "daily_returns")
_EQUITY_NAMES: Final = ("equity", "value", "nav", "portfolio_value", "close", "price")
_TIME_NAMES: Final = ("date", "datetime", "time", "timestamp", "ts", "day")


def report_monitor(settings: MonitorSettings) -> Monitor:
    """Return a Monitor without a clock (event time) whose curve keeps every session."""
    wide = msgspec.structs.replace(
        settings,
        equity_curve_interval_seconds=_CURVE_INTERVAL_SECONDS,
        equity_curve_points=_CURVE_POINTS,
        rolling_window=max(settings.rolling_window, _REPORT_WINDOW),
    )
    return Monitor(wide)


def session_returns(figures: MonitorFigures, calendar: SessionCalendar) -> ReturnSeries:
    """Return the portfolio's closed-session returns from the engine's equity curve.

    A session's return is its last equity over the previous session's last equity (the
    first: over the starting capital), as the engine's ``close_session`` computes it;
    the open session (the one holding the latest event) is left out, as the engine does.
    """
    ends: list[int] = []
    closes: list[float] = []
    current_start = figures.session_start_ts
    for ts, equity in figures.equity_curve:
        start, end = calendar.bounds(ts)
        if current_start is not None and start >= current_start:
            break
        if ends and ends[-1] == end:
            closes[-1] = equity
        else:
            ends.append(end)
            closes.append(equity)
    levels = np.array([figures.portfolio.trading.starting_capital, *closes], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = levels[1:] / levels[:-1] - 1.0
    stamps = np.array(ends, dtype=np.int64)
    sessions = figures.portfolio.trading.sessions
    if 0 < len(closes) < sessions:
        # A bounded curve (a live service's equity_curve_points) lost its oldest points: the
        # first session left is partial and its base unknown, so it is dropped.
        note = (
            f"The equity curve covers only the last {len(closes) - 1} of the {sessions} "
            "closed sessions (monitor.equity_curve_points); report the data folder for "
            "the whole history."
        )
        return ReturnSeries("portfolio", stamps[1:], values[1:], note)
    return ReturnSeries("portfolio", stamps, values)


def from_monitor(
    monitor: Monitor,
    settings: Settings,
    *,
    title: str,
    source: str,
    benchmark: ReturnSeries | None,
    generated_ts: int,
) -> ReportInput:
    """Return the report input of ``monitor``'s current state."""
    figures = monitor.figures()
    limits = settings.monitor
    calendar = SessionCalendar(limits.session_timezone, limits.session_start)
    return ReportInput(
        title=title,
        source=source,
        returns=session_returns(figures, calendar),
        periods_per_year=limits.periods_per_year,
        risk_free=limits.risk_free,
        benchmark=benchmark,
        figures=figures,
        trades=tuple(monitor.trade_figures(limit=limits.max_recent_trades)),
        orders=tuple(monitor.order_figures(limit=limits.max_recent_orders)),
        generated_ts=generated_ts,
    )


def read_data_dir(path: Path, settings: Settings) -> Monitor:
    """Return a Monitor holding the journal of the data folder ``path``, replayed."""
    if settings.journal.backend == "sqlite" and not (path / SQLITE_FILE_NAME).is_file():
        msg = (
            f"{str(path)!r} is a folder but holds no journal ({SQLITE_FILE_NAME}): expected "
            "the data folder of `algowatch serve` or `algowatch replay --journal`"
        )
        raise DataFileError(msg)
    monitor = report_monitor(settings.monitor)
    journal = open_journal(settings.journal, path)
    try:
        monitor.apply_many(journal.replay())
    finally:
        journal.close()
    return monitor


def read_event_file(path: Path, settings: Settings) -> Monitor:
    """Return a Monitor with the event file ``path`` replayed (bad lines are an error)."""
    monitor = report_monitor(settings.monitor)
    errors: list[str] = []

    def on_invalid(file: Path, error: Exception) -> None:
        errors.append(f"{file}: {error}")

    report = replay_files([path], monitor, on_invalid=on_invalid)
    if report.invalid:
        msg = (
            f"{str(path)!r} has {report.invalid} bad lines (check them with "
            f"`algowatch replay {path}`); the first: {errors[0] if errors else '?'}"
        )
        raise DataFileError(msg)
    if report.applied == 0:
        msg = f"{str(path)!r} holds no events"
        raise DataFileError(msg)
    return monitor


def is_event_csv(path: Path) -> bool:
    """Return whether the CSV file ``path`` holds events (a ``type`` column)."""
    header = _header(path)
    return "type" in header


def _open_text(path: Path) -> list[list[str]]:
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
                return list(csv.reader(handle))
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error, EOFError) as exc:
        msg = f"cannot read {str(path)!r} as CSV: {exc}"
        raise DataFileError(msg) from exc


def _header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            first = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        msg = f"cannot read {str(path)!r} as CSV: {exc}"
        raise DataFileError(msg) from exc
    return [cell.strip().lower() for cell in first]


def _parse_time(path: Path, line: int, text: str) -> int:
    cleaned = text.strip()
    try:
        moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        msg = (
            f"{str(path)!r} line {line}: the time column must be an ISO date or time "
            f"(2025-01-02 or 2025-01-02T21:00:00Z), received {text!r}"
        )
        raise DataFileError(msg) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * _NS + moment.microsecond * 1_000


def _pick(path: Path, header: Sequence[str], names: Sequence[str]) -> int | None:
    found = [i for i, name in enumerate(header) if name in names]
    if len(found) > 1:
        listing = ", ".join(repr(header[i]) for i in found)
        msg = f"{str(path)!r} has several candidate columns: {listing}"
        raise DataFileError(msg)
    return found[0] if found else None


def read_returns_file(path: Path, *, name: str | None = None) -> ReturnSeries:
    """Return the returns of a CSV file with a date column and a returns (or equity) column.

    The returns column is named ``returns``/``return``/``ret``... (simple returns) or
    ``equity``/``value``/``nav``/``close``... (levels, turned into returns with the first
    level as the start). Without a date column, rows are consecutive days from
    1970-01-01 (the monthly table then means little; the report says so).
    """
    rows = _open_text(path)
    if not rows or not any(cell.strip() for cell in rows[0]):
        msg = f"{str(path)!r} is empty: expected a header row naming the columns"
        raise DataFileError(msg)
    header = [cell.strip().lower() for cell in rows[0]]
    returns_at = _pick(path, header, _RETURNS_NAMES)
    equity_at = _pick(path, header, _EQUITY_NAMES) if returns_at is None else None
    column = returns_at if returns_at is not None else equity_at
    if column is None:
        msg = (
            f"found no returns or equity column by name in {str(path)!r} (columns: "
            f"{', '.join(repr(h) for h in header)}); name it 'returns' or 'equity'"
        )
        raise DataFileError(msg)
    time_at = _pick(path, header, _TIME_NAMES)
    body = [row for row in rows[1:] if any(cell.strip() for cell in row)]
    values = np.empty(len(body), dtype=np.float64)
    stamps = np.empty(len(body), dtype=np.int64)
    for i, row in enumerate(body):
        line = i + 2
        cell = row[column].strip() if column < len(row) else ""
        if cell in ("", "nan", "NaN", "NA", "null"):
            values[i] = math.nan
        else:
            try:
                values[i] = float(cell)
            except ValueError:
                msg = (
                    f"{str(path)!r} column {header[column]!r} line {line} must be a number, "
                    f"received {cell!r}"
                )
                raise DataFileError(msg) from None
        stamps[i] = (
            _parse_time(path, line, row[time_at]) if time_at is not None else i * 86_400 * _NS
        )
    if len(body) == 0:
        msg = f"{str(path)!r} has a header but no rows"
        raise DataFileError(msg)
    if np.any(np.diff(stamps) <= 0):
        msg = f"{str(path)!r}: the time column must be strictly increasing"
        raise DataFileError(msg)
    if equity_at is not None:
        levels = values
        if np.any(~(levels[~np.isnan(levels)] > 0)):
            msg = (
                f"{str(path)!r} column {header[equity_at]!r} holds equity levels, which must be > 0"
            )
            raise DataFileError(msg)
        with np.errstate(over="ignore"):
            values = levels[1:] / levels[:-1] - 1.0
        stamps = stamps[1:]
    label = name or path.stem
    note = "" if time_at is not None else "No date column: rows are days from 1970-01-01."
    return ReturnSeries(label, _as_int(stamps), values, note)


def _as_int(stamps: IntArray) -> IntArray:
    return np.ascontiguousarray(stamps, dtype=np.int64)
