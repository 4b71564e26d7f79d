"""``algowatch report SOURCE --out FILE.html``: the HTML tear sheet of a service or a file."""

from __future__ import annotations

import math
import time
from pathlib import Path

import click

from algowatch._cli._options import config_option
from algowatch.settings import load_settings

__all__ = ["report"]


def _finite(
    _context: click.Context, parameter: click.Parameter, value: float | None
) -> float | None:
    if value is not None and not math.isfinite(value):
        msg = f"must be a finite number, received {value!r}"
        raise click.BadParameter(msg, param=parameter)
    return value


@click.command("report")
@click.argument("source")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The HTML file to write.",
)
@click.option(
    "--benchmark",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A returns CSV (date and returns or equity columns) to compare with.",
)
@click.option(
    "--token",
    default=None,
    help="The service's token, for a URL SOURCE [default: ALGOWATCH_TOKEN].",
)
@click.option("--title", default=None, help="The report's title.")
@click.option(
    "--pdf",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also print the page to this PDF file (needs Chromium on PATH).",
)
@click.option(
    "--periods-per-year",
    type=click.FloatRange(min=0.0, min_open=True),
    default=None,
    callback=_finite,
    help="Return periods per year [default: monitor.periods_per_year, 252].",
)
@config_option()
def report(
    source: str,
    *,
    out: Path,
    benchmark: Path | None,
    token: str | None,
    title: str | None,
    pdf: Path | None,
    periods_per_year: float | None,
    config_file: Path | None,
) -> None:
    """Write the HTML report of SOURCE to --out (one file: inline CSS and SVG, no script).

    SOURCE is a running service's URL (http://127.0.0.1:8000), a data folder (its journal
    is replayed), an event file (NDJSON, JSON or CSV, as `algowatch replay` reads) or a
    returns CSV (a date column and a returns or equity column, as `algowatch analyze`).
    """
    from algowatch.report import collect, render_report  # noqa: PLC0415 - numpy on use

    settings = load_settings(
        config_file,
        overrides={"monitor.periods_per_year": periods_per_year},
    )
    token = token or settings.server.token
    data = collect(
        source,
        settings,
        generated_ts=time.time_ns(),
        benchmark=benchmark,
        token=token,
        title=title,
    )
    page = render_report(data)
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        msg = f"cannot write {str(out)!r}: {exc.strerror or exc}"
        raise click.ClickException(msg) from exc
    click.echo(f"wrote {out} ({len(page.encode()):,} bytes)")
    if pdf is not None:
        from algowatch.report._pdf import print_pdf  # noqa: PLC0415 - only with --pdf

        print_pdf(out, pdf)
        click.echo(f"wrote {pdf} ({pdf.stat().st_size:,} bytes)")
