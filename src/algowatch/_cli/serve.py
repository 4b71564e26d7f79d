"""``algowatch serve``: run the monitoring service."""

from __future__ import annotations

from pathlib import Path

import click

from algowatch._cli._options import service_options, service_settings

__all__ = ["serve"]


@click.command("serve")
@service_options(data_dir_help="Folder of the journal [default: ./algowatch-data, data_dir].")
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
    from algowatch._datalock import lock_data_folder  # noqa: PLC0415
    from algowatch.logging import configure_logging, shutdown_logging  # noqa: PLC0415
    from algowatch.server import create_app, serve_forever  # noqa: PLC0415 - fast --help

    settings = service_settings(config_file, host, port, data_dir)
    # refused here, before uvicorn starts, when another process uses the folder
    lock = lock_data_folder(settings.data_path)
    try:
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
    finally:
        lock.release()
