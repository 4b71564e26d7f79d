"""``algowatch config``: render the Prometheus, Alertmanager and Grafana configuration."""

from __future__ import annotations

from pathlib import Path

import click

from algowatch._cli._options import config_option
from algowatch.deploy import write_rendered
from algowatch.settings import load_settings

__all__ = ["config"]


@click.group("config")
def config() -> None:
    """Render the Prometheus, Alertmanager and Grafana configuration."""


@config.command("render")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the files to (created if missing; existing files are replaced).",
)
@config_option("TOML settings file; its [alerts] section sets thresholds, job and receivers.")
def render_command(out: Path, config_file: Path | None) -> None:
    """Write prometheus.yml, alert rules, alertmanager.yml, Grafana files and docker-compose.yml."""
    settings = load_settings(config_file)
    for path in write_rendered(out, settings.alerts, settings.risk):
        click.echo(str(path))
