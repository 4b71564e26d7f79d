"""``algowatch replay FILE...``: replay event files through the engine and print the result."""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import click
from rich.console import Console
from rich.table import Table

from algowatch._datalock import DataLock, lock_data_folder
from algowatch.errors import InvalidEventError
from algowatch.journal import EventFile, Journal, ReplayReport, open_journal, replay_files
from algowatch.monitor import Monitor, MonitorFigures
from algowatch.settings import Settings, load_settings

__all__ = ["replay"]

# files smaller than this replay too fast for a progress bar to be worth drawing
_PROGRESS_MIN_BYTES: Final = 1024 * 1024
# The garbage collector's generation-0 threshold during a replay (CPython's default: 700).
# A replay allocates a block's events at once and frees them after, while the engine's state
# grows slowly: at 700 the collector ran ~1,500 times over the 1M-event stream of
# bench/replay_command.py, ~15% of the replay (timed with gc.callbacks); at 50,000, twice.
# Cycles are still collected, every 50,000 net allocations.
_REPLAY_GC_THRESHOLD: Final = 50_000

_Format = Callable[[Any], str]


def _money(value: Any) -> str:
    return f"{value:,.2f}"


def _percent(value: Any) -> str:
    return f"{value * 100:.2f} %"


def _number(value: Any) -> str:
    return f"{value:,.3f}" if isinstance(value, float) else f"{value:,}"


# (label, the figure, format); the table reads the typed figures, the JSON is the service's
_ROWS: Final[tuple[tuple[str, Callable[[MonitorFigures], Any], _Format], ...]] = (
    ("Events applied", lambda f: f.events_applied, _number),
    ("Realized P&L", lambda f: f.portfolio.trading.realized_pnl, _money),
    ("Unrealized P&L", lambda f: f.portfolio.trading.unrealized_pnl, _money),
    ("Total P&L", lambda f: f.portfolio.trading.total_pnl, _money),
    ("Fees", lambda f: f.portfolio.trading.fees, _money),
    ("Trades", lambda f: f.portfolio.trading.trades, _number),
    ("Win rate", lambda f: f.portfolio.trading.win_rate, _percent),
    ("Profit factor", lambda f: f.portfolio.trading.profit_factor, _number),
    ("Max drawdown", lambda f: f.portfolio.trading.max_drawdown, _percent),
    ("Current drawdown", lambda f: f.portfolio.trading.current_drawdown, _percent),
    ("Sharpe ratio", lambda f: f.portfolio.trading.sharpe_ratio, _number),
    ("Sortino ratio", lambda f: f.portfolio.trading.sortino_ratio, _number),
    ("Orders submitted", lambda f: f.portfolio.execution.orders_submitted, _number),
    ("Fill rate", lambda f: f.portfolio.execution.fill_rate, _percent),
    ("Partial fill rate", lambda f: f.portfolio.execution.partial_fill_rate, _percent),
    ("Rejection rate", lambda f: f.portfolio.execution.rejection_rate, _percent),
    ("Average slippage (bps)", lambda f: f.portfolio.execution.mean_slippage_bps, _number),
    (
        "Order to ack (ms)",
        lambda f: f.portfolio.execution.mean_ack_latency_seconds * 1e3,
        _number,
    ),
    (
        "Order to fill (ms)",
        lambda f: f.portfolio.execution.mean_fill_latency_seconds * 1e3,
        _number,
    ),
    (
        "Market data latency (ms)",
        lambda f: f.portfolio.execution.mean_market_data_latency_seconds * 1e3,
        _number,
    ),
    ("Signals", lambda f: f.portfolio.signals.signals, _number),
    ("Signal accuracy", lambda f: f.portfolio.signals.accuracy, _percent),
)


def _cell(value: Any, fmt: _Format) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return fmt(value)


def _summary(figures: MonitorFigures, report: ReplayReport) -> Table:
    table = Table(title=f"Replay summary ({figures.currency})", title_justify="left")
    table.add_column("Metric")
    table.add_column("Value", justify="right")
    for label, figure, fmt in _ROWS:
        table.add_row(label, _cell(figure(figures), fmt))
    anomalies = figures.anomalies
    detail = ", ".join(f"{kind} {count}" for kind, count in sorted(anomalies.items()) if count)
    total = sum(anomalies.values())
    table.add_row("Anomalies", f"{total:,}" + (f" ({detail})" if detail else ""))
    table.add_row("Duplicates ignored", f"{report.duplicates:,}")
    table.add_row("Bad lines", f"{report.invalid:,}")
    return table


def _report_invalid(console: Console) -> Callable[[Path, InvalidEventError], None]:
    def report(path: Path, error: InvalidEventError) -> None:
        for field_error in error.errors:
            console.print(
                f"{path}:{error.line}: {field_error.field} {field_error.message}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )

    return report


@contextmanager
def _replay_gc() -> Iterator[None]:
    # raised for the replay only, and restored: the command may run inside a caller's process
    threshold = gc.get_threshold()
    gc.set_threshold(_REPLAY_GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        if not gc.get_freeze_count():
            # The young generation now holds the engine state the replay built (~200,000
            # objects per million events): with the threshold back at 700, the next
            # allocation would scan all of it (~0.1 s per million events). freeze() then
            # unfreeze() moves it to the oldest generation unscanned, where a full collection
            # still finds any garbage cycle; nothing stays frozen (none was before).
            gc.freeze()
            gc.unfreeze()
        gc.set_threshold(*threshold)


@contextmanager
def _progress(console: Console) -> Iterator[Callable[[EventFile], None] | None]:
    if not console.is_terminal:
        yield None
        return
    # off a terminal (scripts, pipes, CI) the command does not pay for importing it
    from rich.progress import (  # noqa: PLC0415 - only on a terminal
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[Path, Any] = {}

    def update(file: EventFile) -> None:
        if file.size < _PROGRESS_MIN_BYTES:
            return
        if file.path not in tasks:
            tasks[file.path] = bar.add_task(file.path.name, total=file.size)
        bar.update(tasks[file.path], completed=file.bytes_read)

    with bar:
        yield update


@click.command("replay")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the snapshot as JSON.")
@click.option("--strict", is_flag=True, help="Stop at the first bad line.")
@click.option(
    "--journal",
    "journal_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also append the events to the journal in this folder ([journal] settings apply).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A TOML settings file ([monitor] conventions, [journal]).",
)
def replay(
    files: tuple[Path, ...],
    as_json: bool,
    strict: bool,
    journal_dir: Path | None,
    config_path: Path | None,
) -> None:
    """Replay event FILES (NDJSON, JSON array or CSV, gzip too) through the engine.

    Time is event time: replaying yesterday's file gives yesterday's numbers, and no
    window on future timestamps applies (unlike the service's ingest). Each bad
    line is reported on stderr with its file, line number, field and reason; good lines
    still apply and the exit code is 1. With --strict the replay stops at the first bad
    line. Events whose event_id was already seen (or already journaled, with --journal)
    are ignored.
    """
    settings: Settings = load_settings(config_path)
    stderr = Console(stderr=True)
    monitor = Monitor(settings.monitor)
    journal: Journal | None = None
    lock: DataLock | None = None
    if journal_dir is not None:
        lock = lock_data_folder(
            journal_dir, hint="stop it, or send these events to it (POST /api/v1/events)"
        )
        try:
            journal = open_journal(settings.journal, journal_dir)
        except BaseException:
            lock.release()
            raise
    try:
        with _progress(stderr) as on_progress, _replay_gc():
            report = replay_files(
                files,
                monitor,
                journal=journal,
                strict=strict,
                on_invalid=_report_invalid(stderr),
                on_progress=on_progress,
            )
    finally:
        if journal is not None:
            journal.close()
        if lock is not None:
            lock.release()
    if report.stopped:
        msg = "stopped at the first bad line (--strict)"
        raise click.ClickException(msg)
    figures = monitor.figures()
    if as_json:
        # The service's JSON rendering lives with the service, which imports FastAPI,
        # pydantic and uvicorn (~500 modules): only --json pays for importing them.
        from algowatch.server import render_snapshot  # noqa: PLC0415 - see above

        click.echo(json.dumps(render_snapshot(figures), indent=2, allow_nan=False))
    else:
        Console(soft_wrap=True).print(_summary(figures, report))
    if report.invalid:
        noun = "line was" if report.invalid == 1 else "lines were"
        msg = (
            f"{report.invalid} bad {noun} skipped; "
            f"{report.applied} events from {report.files} files were applied"
        )
        raise click.ClickException(msg)
