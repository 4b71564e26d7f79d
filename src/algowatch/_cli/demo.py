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

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from algowatch._cli._options import service_options, service_settings
from algowatch._datalock import LOCK_FILE, DataLock, lock_data_folder

if TYPE_CHECKING:
    from algowatch.settings import Settings

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


def _prepare(data_dir: Path) -> DataLock:
    # Lock the demo's own folder (recognised by its marker file), then empty it so each run
    # starts clean: a demo still running there keeps its files and this one stops.
    if (
        data_dir.exists()
        and not (data_dir / _MARKER).is_file()
        and any(entry.name != LOCK_FILE for entry in data_dir.iterdir())
    ):
        msg = (
            f"--data-dir: {str(data_dir)!r} exists and was not created by the demo; "
            "choose another folder"
        )
        raise click.UsageError(msg)
    lock = lock_data_folder(data_dir)
    try:
        for entry in data_dir.iterdir():
            if entry.name == LOCK_FILE:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        (data_dir / _MARKER).write_text("created by `algowatch demo`; emptied at each demo start\n")
    except BaseException:
        lock.release()
        raise
    return lock


def _bots_line(bots: int, nats_url: str | None) -> str:
    who = "1 bot" if bots == 1 else f"{bots} bots (accounts bot-000..bot-{bots - 1:03d})"
    if nats_url is None:
        return f"{who} sending over HTTP through the SDK"
    return f"{who} publishing to NATS JetStream at {nats_url}; the service consumes it"


class _NatsServer:
    # The demo's own `nats-server -js` on a free loopback port, its store in the demo folder.
    def __init__(self, store: Path) -> None:
        binary = shutil.which("nats-server")
        if binary is None:
            msg = (
                "--transport nats: nats-server is not installed; install it "
                "(https://docs.nats.io) or pass --nats-url"
            )
            raise click.UsageError(msg)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        self.url = f"nats://127.0.0.1:{port}"
        command = [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)]
        self.process = subprocess.Popen(  # noqa: S603 - our own arguments
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                return
            time.sleep(0.05)
        self.stop()
        msg = f"nats-server did not start on {self.url} within 15 s"
        raise OSError(msg)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


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
    "--bots",
    type=click.IntRange(min=1, max=1000),
    default=1,
    show_default=True,
    help="Simulated bots; more than one runs a fleet, one account each (bot-000, ...).",
)
@click.option(
    "--transport",
    type=click.Choice(["http", "nats"]),
    default="http",
    show_default=True,
    help="How the bots send: HTTP to the service, or NATS JetStream that the service "
    "consumes ([sources.nats]).",
)
@click.option(
    "--nats-url",
    default=None,
    help="With --transport nats: the NATS servers to use [default: the demo starts its "
    "own nats-server -js on a free port, its store in the demo folder].",
)
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
    bots: int,
    transport: str,
    nats_url: str | None,
    duration: float | None,
) -> None:
    """Run a simulated trading system with the live dashboard and the risk guard.

    Serves the dashboard, API and /metrics on http://127.0.0.1:8000 and trades a
    synthetic market through the SDK. Ctrl-C stops it cleanly.
    """
    if nats_url is not None and transport != "nats":
        msg = "--nats-url applies to --transport nats only"
        raise click.UsageError(msg)
    loaded = service_settings(config_file, host, port, data_dir)
    demo_dir = loaded.data_path / "demo"
    lock = _prepare(demo_dir)
    try:
        _run(
            loaded,
            demo_dir,
            scenario=scenario,
            speed=speed,
            seed=seed,
            bots=bots,
            transport=transport,
            nats_url=nats_url,
            duration=duration,
        )
    finally:
        lock.release()
    click.echo("algowatch demo stopped.", err=True)


def _run(
    loaded: Settings,
    demo_dir: Path,
    *,
    scenario: str,
    speed: float,
    seed: int,
    bots: int,
    transport: str,
    nats_url: str | None,
    duration: float | None,
) -> None:
    from algowatch._cli._demo_app import (  # noqa: PLC0415 - fast --help
        DemoApp,
        demo_settings,
        with_nats_source,
    )

    settings = demo_settings(loaded, demo_dir, bots=bots)
    nats_server: _NatsServer | None = None
    if transport == "nats":
        # a bad --nats-url fails here, before a server is started
        settings = with_nats_source(settings, nats_url or "nats://127.0.0.1:4222")
        if nats_url is None:
            nats_server = _NatsServer(demo_dir / "nats")
            nats_url = nats_server.url
    try:
        if nats_url is not None:
            settings = with_nats_source(settings, nats_url)
        app = DemoApp(
            settings,
            scenario=scenario,
            speed=speed,
            seed=seed,
            bots=bots,
            bots_url=nats_url,
        )
    except BaseException:
        if nats_server is not None:
            nats_server.stop()
        raise

    def _request_stop(signum: int, frame: FrameType | None) -> None:
        app.request_stop()

    # Ctrl-C and SIGTERM end the wait below; SIGINT is set explicitly because a shell
    # starts background jobs with it ignored, and `kill -INT` must still stop the demo.
    previous = {sig: signal.signal(sig, _request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        app.start()
        if not app.wait_until_serving() and not app.stop_requested:
            msg = f"the demo's service did not answer {app.url}/; see {demo_dir / 'algowatch.log'}"
            raise click.ClickException(msg)
        click.echo(
            f"\nalgowatch demo: dashboard at {app.url}/\n"
            f"  scenario {scenario!r} (seed {seed}, {speed:g}x real time): "
            f"{_WHAT_TO_LOOK_AT[scenario]}\n"
            f"  {_bots_line(bots, nats_url)}\n"
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
        if nats_server is not None:
            nats_server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
