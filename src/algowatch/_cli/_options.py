"""Options shared by the commands that run the service (``serve``, ``demo``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from algowatch.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

CONFIG_HELP = "TOML settings file (ALGOWATCH_* variables override it, flags override both)."


def config_option(help_text: str = CONFIG_HELP) -> Callable[[F], F]:
    """Return the ``--config FILE`` option (parameter ``config_file``)."""
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=help_text,
    )


def service_options(*, data_dir_help: str) -> Callable[[F], F]:
    """Return ``--host``, ``--port``, ``--data-dir`` and ``--config``, the same everywhere."""
    options = [
        click.option(
            "--host", default=None, help="Address to bind [default: 127.0.0.1, server.host]."
        ),
        click.option(
            "--port", type=click.IntRange(0, 65535), default=None, help="Port [default: 8000]."
        ),
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help=data_dir_help,
        ),
        config_option(),
    ]

    def decorate(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def service_settings(
    config_file: Path | None, host: str | None, port: int | None, data_dir: Path | None
) -> Settings:
    """Return settings from the file and environment, with the flags given on top."""
    return load_settings(
        config_file,
        overrides={
            "server.host": host,
            "server.port": port,
            "data_dir": None if data_dir is None else str(data_dir),
        },
    )
