"""``algowatch config``: the monitoring stack's configuration, and framework webhook blocks."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from algowatch._cli._options import config_option
from algowatch.deploy import write_rendered
from algowatch.integrations.freqtrade import webhook_config
from algowatch.settings import load_settings

__all__ = ["config"]


@click.group("config")
def config() -> None:
    """Render the Prometheus, Alertmanager and Grafana configuration, or a framework's block."""


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


@config.command("freqtrade")
@click.option(
    "--url",
    required=True,
    help="The algowatch service's base URL as freqtrade reaches it, e.g. http://127.0.0.1:8000.",
)
@click.option("--strategy", default=None, help="Strategy label of every event [default: default].")
@click.option("--account", default=None, help="Account label of every event [default: default].")
@config_option("TOML settings file; its server.token (or ALGOWATCH_TOKEN) goes into the URL.")
def freqtrade_command(
    url: str, strategy: str | None, account: str | None, config_file: Path | None
) -> None:
    """Print the "webhook" block to paste into freqtrade's config.json.

    freqtrade then posts every entry, exit, fill, cancel and status message to
    /api/v1/sources/freqtrade. Its webhook cannot set a header, so the service's token
    (server.token, ALGOWATCH_TOKEN) is put in the URL: keep the file private.
    """
    if not url.startswith(("http://", "https://")):
        msg = f"--url must start with http:// or https://, received {url!r}"
        raise click.BadParameter(msg, param_hint="--url")
    token = load_settings(config_file).server.token
    block = webhook_config(url, token=token, strategy=strategy, account=account)
    click.echo(orjson.dumps({"webhook": block}, option=orjson.OPT_INDENT_2).decode())
