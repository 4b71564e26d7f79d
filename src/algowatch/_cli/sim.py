"""``algowatch sim``: a fleet of simulated bots sending to a running service or NATS server.

The bots are the demo's simulated trading system, one per account (``bot-000``,
``bot-001``, ...), each with its own SDK client (:class:`algowatch.sim.fleet.Fleet`).
Over NATS they publish to JetStream for the services that consume it (``[sources.nats]``);
over HTTP they post to one service. Nothing else runs here: no service, no dashboard.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from algowatch.sim.fleet import Fleet

__all__ = ["sim"]

_SCENARIOS = ("normal", "drawdown", "broker-outage", "latency-spike", "reject-storm", "stale-data")
_DEFAULT_URLS = {"nats": "nats://127.0.0.1:4222", "http": "http://127.0.0.1:8000"}
# real seconds between two progress lines
_REPORT_SECONDS = 5.0


def _transport_of(url: str) -> str:
    return "nats" if url.split("://", 1)[0].lower() in ("nats", "tls") else "http"


@click.command("sim")
@click.option(
    "--bots",
    type=click.IntRange(min=1, max=10_000),
    default=10,
    show_default=True,
    help="How many simulated bots (one account each: bot-000, bot-001, ...).",
)
@click.option(
    "--transport",
    type=click.Choice(["nats", "http"]),
    default=None,
    help="How the bots send: NATS JetStream or HTTP [default: from --url, else nats].",
)
@click.option(
    "--url",
    default=None,
    help="NATS servers (nats://host:4222, comma-separated) or the service (http://...) "
    "[default: nats://127.0.0.1:4222, or http://127.0.0.1:8000 with --transport http].",
)
@click.option("--token", default=None, help="The service's bearer token, or a NATS token.")
@click.option(
    "--first-bot",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Index of the first bot, so that several processes run disjoint parts of a fleet.",
)
@click.option(
    "--scenario",
    type=click.Choice(_SCENARIOS),
    default="normal",
    show_default=True,
    help="What goes wrong in every bot's simulated market.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0.1, max=1000),
    default=5.0,
    show_default=True,
    help="Simulated seconds per real second.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of bot 0 (bot i: +i).")
@click.option(
    "--create-stream",
    default=None,
    help="Over NATS, create this JetStream stream (subjects algowatch.events.>) if no "
    "stream captures the bots' subjects [default: only report it].",
)
@click.option(
    "--guard-url",
    default=None,
    help="A service whose risk guard the bots obey (GET /api/v1/risk) [default: none].",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop after this many real seconds [default: run until Ctrl-C].",
)
def sim(
    *,
    bots: int,
    transport: str | None,
    url: str | None,
    token: str | None,
    first_bot: int,
    scenario: str,
    speed: float,
    seed: int,
    create_stream: str | None,
    guard_url: str | None,
    duration: float | None,
) -> None:
    """Run a fleet of simulated bots that send their events over NATS or HTTP.

    Each bot trades its own synthetic market under its own account and sends
    through its own SDK client; over NATS it publishes on
    algowatch.events.<account>.<bot>. Ctrl-C stops the bots and delivers what
    their clients still hold.
    """
    url = url or _DEFAULT_URLS[transport or "nats"]
    if transport is not None and _transport_of(url) != transport:
        msg = f"--url {url!r} does not match --transport {transport}"
        raise click.UsageError(msg)
    if create_stream is not None and _transport_of(url) != "nats":
        msg = "--create-stream applies to NATS only"
        raise click.UsageError(msg)
    from algowatch.sim.fleet import Fleet  # noqa: PLC0415 - fast --help
    from algowatch.sim.guard import RiskLevelReader  # noqa: PLC0415

    reader = RiskLevelReader(guard_url, token=token).start() if guard_url else None
    options: dict[str, Any] = {"token": token, "flush_interval_seconds": 0.05}
    if create_stream is not None:
        options["create_stream"] = create_stream
    try:
        fleet = Fleet(
            url,
            bots=bots,
            first_bot=first_bot,
            scenario=scenario,
            seed=seed,
            speed=speed,
            risk_level=reader,
            client_options=options,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    done = threading.Event()

    def _request_stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = {sig: signal.signal(sig, _request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        fleet.start()
        click.echo(
            f"algowatch sim: {bots} bot(s) (bot-{first_bot:03d}..) sending to {url} "
            f"({scenario!r}, {speed:g}x real time); Ctrl-C stops.",
            err=True,
        )
        deadline = None if duration is None else time.monotonic() + duration
        while True:
            left = _REPORT_SECONDS
            if deadline is not None:
                left = min(left, deadline - time.monotonic())
            if left <= 0 or done.wait(left):
                break
            click.echo(f"  {_progress(fleet)}", err=True)
    finally:
        delivered = fleet.close(timeout=10)
        if reader is not None:
            reader.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"algowatch sim stopped: {_progress(fleet)}", err=True)
    if not delivered:
        click.echo("Error: some events were not delivered (see 'failed')", err=True)
        raise click.exceptions.Exit(1)


def _progress(fleet: Fleet) -> str:
    s = fleet.stats()
    return (
        f"enqueued {s.enqueued}, sent {s.sent}, buffered {s.buffered}, dropped {s.dropped}, "
        f"rejected {s.rejected}, failed {s.failed}, retries {s.retries}"
    )
