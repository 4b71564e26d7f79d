"""The HTML tear sheet: one self-contained file from a service, a data folder or a file.

:func:`collect` turns a SOURCE into a typed :class:`ReportInput` (the engine's
:class:`~algowatch.monitor.MonitorFigures`, its trades and orders, and the portfolio's
session returns); :func:`render_report` turns that into one HTML page with inline CSS
and inline SVG charts, no script and no external request. ``algowatch report`` and the
service's ``GET /report`` share both. Return figures are :mod:`algowatch.analytics`
results; trade, execution and signal figures are the engine's.

.. versionadded:: 0.3.0
"""

from __future__ import annotations

from pathlib import Path

from algowatch.errors import DataFileError
from algowatch.monitor import Monitor, SessionCalendar
from algowatch.report._collect import (
    EVENT_SUFFIXES,
    from_monitor,
    is_event_csv,
    read_data_dir,
    read_event_file,
    read_returns_file,
    session_returns,
)
from algowatch.report._html import render_html
from algowatch.report._model import ReportInput, ReturnSeries
from algowatch.settings import Settings

__all__ = ["ReportInput", "ReturnSeries", "collect", "render_report", "report_from_monitor"]


def render_report(data: ReportInput) -> str:
    """Return the report page of ``data`` (a complete HTML document).

    .. versionadded:: 0.3.0
    """
    return render_html(data)


def report_from_monitor(
    monitor: Monitor,
    settings: Settings,
    *,
    source: str,
    generated_ts: int,
    benchmark: ReturnSeries | None = None,
    title: str = "algowatch report",
) -> ReportInput:
    """Return the report input of a Monitor's current state (the service's ``GET /report``).

    .. versionadded:: 0.3.0
    """
    return from_monitor(
        monitor,
        settings,
        title=title,
        source=source,
        benchmark=benchmark,
        generated_ts=generated_ts,
    )


def _calendar_of(figures_tz: str, start_ts: int | None) -> SessionCalendar:
    # a service's sessions: its time zone, and the local start time of its current session
    from datetime import datetime  # noqa: PLC0415
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    if start_ts is None:
        return SessionCalendar(figures_tz)
    local = datetime.fromtimestamp(start_ts / 1e9, tz=ZoneInfo(figures_tz))
    return SessionCalendar(figures_tz, f"{local.hour:02d}:{local.minute:02d}")


def collect(
    source: str,
    settings: Settings,
    *,
    generated_ts: int,
    benchmark: Path | None = None,
    token: str | None = None,
    title: str | None = None,
) -> ReportInput:
    """Return the report input of ``source``.

    ``source`` is the URL of a running service (``http://`` or ``https://``: its read
    API), a data folder (its journal is replayed), an event file (NDJSON, JSON array,
    CSV with a ``type`` column, gzip too: replayed as ``algowatch replay`` does) or a
    returns CSV (a ``returns`` or ``equity`` column, and a ``date`` column).

    Raises
    ------
    DataFileError
        When the source cannot be read, naming it and the problem.

    .. versionadded:: 0.3.0
    """
    bench = read_returns_file(benchmark) if benchmark is not None else None
    name = title or f"algowatch report: {source}"
    if source.startswith(("http://", "https://")):
        from algowatch.report._remote import read_service  # noqa: PLC0415 - httpx on use

        state = read_service(source, token=token)
        figures = state.figures
        calendar = _calendar_of(figures.session_timezone, figures.session_start_ts)
        return ReportInput(
            title=name,
            source=source,
            returns=session_returns(figures, calendar),
            periods_per_year=settings.monitor.periods_per_year,
            risk_free=settings.monitor.risk_free,
            benchmark=bench,
            figures=figures,
            trades=state.trades,
            orders=state.orders,
            generated_ts=generated_ts,
        )
    path = Path(source)
    if "://" in source:
        msg = f"SOURCE {source!r}: only http:// and https:// URLs are read"
        raise DataFileError(msg)
    if not path.exists():
        msg = (
            f"SOURCE {source!r} does not exist: expected a service URL (http://...), a data "
            "folder, an event file or a returns CSV"
        )
        raise DataFileError(msg)
    if path.is_dir():
        monitor = read_data_dir(path, settings)
    elif path.suffix.lower() in EVENT_SUFFIXES or (
        path.suffix.lower() == ".csv" and is_event_csv(path)
    ):
        monitor = read_event_file(path, settings)
    elif path.suffix.lower() == ".csv":
        returns = read_returns_file(path, name="strategy")
        return ReportInput(
            title=name,
            source=source,
            returns=returns,
            periods_per_year=settings.monitor.periods_per_year,
            risk_free=settings.monitor.risk_free,
            benchmark=bench,
            figures=None,
            trades=(),
            orders=(),
            generated_ts=generated_ts,
        )
    else:
        msg = (
            f"SOURCE {source!r}: unknown file type {path.suffix!r}; expected .ndjson, .jsonl, "
            ".json, .csv (events or returns) or .gz"
        )
        raise DataFileError(msg)
    return from_monitor(
        monitor, settings, title=name, source=source, benchmark=bench, generated_ts=generated_ts
    )
