"""``algowatch demo``: a simulated trading system watched by the full service.

One process: the ordinary service (dashboard, API, ``/metrics``, health, the risk
guard and its loop) on 127.0.0.1:8000, and the simulator sending its events through
the SDK and reading the guard's level from ``GET /api/v1/risk``, exactly as a
user's bot would (the wiring is :mod:`algowatch._cli._demo_app`). The demo's data
(SQLite journal, audit trail, logs, risk state) goes to ``<data-dir>/demo``, which
is emptied at each start so every run begins from a clean book; ``algowatch
serve``'s data is not touched.
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path
from types import FrameType

import click

from algowatch._cli._options import service_options, service_settings

__all__ = ["demo"]

_MARKER = ".algowatch-demo"
_SCENARIOS = ("normal", "drawdown", "broker-outage", "latency-spike", "reject-storm", "stale-data")

_WHAT_TO_LOOK_AT = {
    "normal": "a calm market: the equity curve, fills, latency and signal quality move live.",
    "drawdown": "after about a minute of simulated time the market crashes 30 %; the drawdown\n"
    "  passes 15 % and the risk panel shows the guard flattening every position (kill switch).",
    "broker-outage": "after a minute the broker stops answering: the broker health check fails,\n"
    "  orders time out, and the risk guard stops new entries until it recovers.",
    "latency-spike": "after a minute order latency p95 jumps about 40x on the latency chart.",
    "reject-storm": "after 30 s half of the orders are rejected: watch orders by status and the\n"
    "  rejection-rate limit of the risk guard.",
    "stale-data": "after a minute market data stops: the market-data health check goes stale\n"
    "  while the engine heartbeat stays fresh.",
}


def _prepare(data_dir: Path) -> None:
    # Empty the demo's own folder (recognised by its marker file) so each run starts clean.
    if data_dir.exists():
        if not (data_dir / _MARKER).is_file():
            msg = (
                f"--data-dir: {str(data_dir)!r} exists and was not created by the demo; "
                "choose another folder"
            )
            raise click.UsageError(msg)
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    (data_dir / _MARKER).write_text("created by `algowatch demo`; emptied at each demo start\n")


@click.command("demo")
@service_options(
    data_dir_help="Folder of the data; the demo writes to its 'demo' subfolder "
    "[default: ./algowatch-data, data_dir]."
)
@click.option(
    "--scenario",
    type=click.Choice(_SCENARIOS),
    default="normal",
    show_default=True,
    help="What goes wrong in the simulated trading system.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0.1, max=1000),
    default=5.0,
    show_default=True,
    help="Simulated seconds per real second.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed.")
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop after this many real seconds [default: run until Ctrl-C].",
)
def demo(
    *,
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    config_file: Path | None,
    scenario: str,
    speed: float,
    seed: int,
    duration: float | None,
) -> None:
    """Run a simulated trading system with the live dashboard and the risk guard.

    Serves the dashboard, API and /metrics on http://127.0.0.1:8000 and trades a
    synthetic market through the SDK. Ctrl-C stops it cleanly.
    """
    from algowatch._cli._demo_app import DemoApp, demo_settings  # noqa: PLC0415 - fast --help

    loaded = service_settings(config_file, host, port, data_dir)
    demo_dir = loaded.data_path / "demo"
    _prepare(demo_dir)
    settings = demo_settings(loaded, demo_dir)
    app = DemoApp(settings, scenario=scenario, speed=speed, seed=seed)

    def _request_stop(signum: int, frame: FrameType | None) -> None:
        app.request_stop()

    # Ctrl-C and SIGTERM end the wait below; SIGINT is set explicitly because a shell
    # starts background jobs with it ignored, and `kill -INT` must still stop the demo.
    previous = {sig: signal.signal(sig, _request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        app.start()
        click.echo(
            f"\nalgowatch demo running: open {app.url}/\n"
            f"  scenario {scenario!r} (seed {seed}, {speed:g}x real time): "
            f"{_WHAT_TO_LOOK_AT[scenario]}\n"
            f"  API {app.url}/api/v1/snapshot  risk {app.url}/api/v1/risk  "
            f"health {app.url}/health  metrics {app.url}/metrics\n"
            f"  data, audit trail and logs in {demo_dir.resolve()}\n"
            "  Ctrl-C stops it.\n",
            err=True,
        )
        app.wait(duration)
        click.echo("stopping...", err=True)
    finally:
        app.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("algowatch demo stopped.", err=True)
