"""``algowatch serve``: run the monitoring service."""

from __future__ import annotations

from pathlib import Path

import click

from algowatch.settings import load_settings

__all__ = ["serve"]


@click.command("serve")
@click.option("--host", default=None, help="Address to bind [default: 127.0.0.1, server.host].")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port [default: 8000].")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the journal [default: ./algowatch-data, data_dir].",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML settings file (ALGOWATCH_* variables override it, flags override both).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="uvicorn's log level.",
)
def serve(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    config_file: Path | None,
    log_level: str,
) -> None:
    """Run the monitoring service: ingest and read API, dashboard, /metrics, health.

    Binds 127.0.0.1:8000 by default. Binding another address requires a token
    (ALGOWATCH_TOKEN); clients then send 'Authorization: Bearer <token>'.
    SIGTERM or Ctrl-C stops it cleanly: queued events reach the journal first.
    """
    from algowatch.logging import configure_logging, shutdown_logging  # noqa: PLC0415
    from algowatch.server import create_app, serve_forever  # noqa: PLC0415 - fast --help

    settings = load_settings(
        config_file,
        overrides={
            "server.host": host,
            "server.port": port,
            "data_dir": None if data_dir is None else str(data_dir),
        },
    )
    app = create_app(settings)
    configure_logging(settings.logging)
    click.echo(
        f"algowatch serving http://{settings.server.host}:{settings.server.port} "
        f"(data in {settings.data_path.resolve()})",
        err=True,
    )
    try:
        serve_forever(app, log_level=log_level)
    finally:
        shutdown_logging()
