"""The demo's wiring: the ordinary service and a simulated bot, in one process.

:class:`DemoApp` builds the service with :func:`algowatch.server.create_app`
on a :class:`~algowatch.sim.runner.SimulatedClock` (the app holds the risk
guard and evaluates it in its own risk loop, serves its routes
``/api/v1/risk`` and its metrics, and writes its audit records), serves it from
a background thread, and runs the simulator against it as a user's bot would:
it sends its events through the SDK (:class:`algowatch.client.Client`) and
reads the guard's level from ``GET /api/v1/risk``
(:class:`~algowatch.sim.guard.RiskLevelReader`). ``algowatch demo`` is a thin
layer over it.

.. versionadded:: 0.1.0
.. versionchanged:: 0.2.0
   Moved from ``algowatch.sim.demo`` to the CLI; the service's own risk loop
   evaluates the guard and the simulator reads its level over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec

from algowatch.client import Client
from algowatch.errors import ConfigError
from algowatch.logging import configure_logging, shutdown_logging
from algowatch.risk import RiskGuard
from algowatch.server import ServerThread, create_app
from algowatch.settings import HealthCheckSettings, RiskSettings, Settings
from algowatch.sim.fleet import Fleet
from algowatch.sim.guard import RiskLevelReader
from algowatch.sim.runner import SimulatedClock, SimulationRunner
from algowatch.sim.simulation import Simulation

__all__ = ["MIN_HEARTBEAT_REAL_SECONDS", "DemoApp", "demo_settings", "with_nats_source"]

# the fastest the service's risk loop runs in the demo (real seconds between checks)
_MIN_CHECK_SECONDS = 0.2
# the shortest heartbeat limit in real seconds: at --speed 25 the 20 simulated seconds would be
# 0.8 s, and a busy machine stalling the bot's thread that long would latch `flatten`
MIN_HEARTBEAT_REAL_SECONDS = 3.0


def demo_settings(settings: Settings, data_dir: Path, *, bots: int = 1) -> Settings:
    """Return ``settings`` with the demo's defaults where the user configured nothing.

    ``data_dir`` becomes the data folder; without ``[[health.checks]]`` the demo adds
    market-data, engine and broker heartbeat and order-flow checks; with default
    ``[risk]`` limits it shortens the heartbeat and no-trading timeouts and puts the
    daily loss limit (25 % of capital) above the drawdown limit; without a log file it
    logs to ``<data_dir>/algowatch.log``; with more ``bots`` (one account each) than
    ``monitor.max_accounts``, it raises that limit so that no bot folds into ``other``.
    """
    changes: dict[str, Any] = {"data_dir": str(data_dir)}
    if bots > settings.monitor.max_accounts:
        changes["monitor"] = msgspec.structs.replace(settings.monitor, max_accounts=bots)
    if not settings.health.checks:
        changes["health"] = msgspec.structs.replace(
            settings.health,
            startup_grace_seconds=2.0,
            checks=(
                HealthCheckSettings(
                    name="market_data", kind="market_data", max_age_seconds=15, interval_seconds=1
                ),
                HealthCheckSettings(
                    name="engine",
                    kind="heartbeat",
                    target="engine",
                    max_age_seconds=20,
                    interval_seconds=1,
                ),
                HealthCheckSettings(
                    name="broker",
                    kind="broker_heartbeat",
                    target="broker",
                    max_age_seconds=20,
                    interval_seconds=1,
                ),
                HealthCheckSettings(
                    name="order_flow",
                    kind="order_flow",
                    max_age_seconds=120,
                    interval_seconds=1,
                    critical=False,
                ),
            ),
        )
    if settings.risk == RiskSettings():
        # the daily loss limit sits above the crash's 15 % drawdown so that the drawdown
        # scenario shows the drawdown limit, not the daily loss, breaking first
        changes["risk"] = RiskSettings(
            daily_loss_limit=0.25 * settings.monitor.starting_capital,
            heartbeat_timeout_seconds=20.0,
            no_trading_timeout_seconds=120.0,
        )
    if settings.logging.file is None:
        changes["logging"] = msgspec.structs.replace(
            settings.logging, file=str(data_dir / "algowatch.log")
        )
    return msgspec.structs.replace(settings, **changes)


def with_nats_source(settings: Settings, servers: str, *, durable: str = "demo") -> Settings:
    """Return ``settings`` whose service consumes the bots' NATS stream (``[sources.nats]``).

    The section is built as a config file would give it (``servers``, ``stream``,
    ``subjects``, ``durable``: the keys of ``docs/fleet.md``), so it takes whatever
    ``[sources.nats]`` this build of the service has.

    Raises
    ------
    ConfigError
        When this build of the service has no ``[sources.nats]``.
    """
    section = {
        "servers": [s.strip() for s in servers.split(",") if s.strip()],
        "stream": "ALGOWATCH",
        "subjects": ["algowatch.events.>"],
        "durable": durable,
    }
    sources = msgspec.to_builtins(settings.sources)
    try:
        converted = msgspec.convert(sources | {"nats": section}, type=type(settings.sources))
    except msgspec.ValidationError as exc:
        msg = f"sources.nats: {exc}"
        raise ConfigError(msg) from None
    return msgspec.structs.replace(settings, sources=converted)


class DemoApp:
    """The service and a simulated trading system, wired together as a bot and its monitor.

    Parameters
    ----------
    settings
        The whole configuration; ``data_dir`` is where the journal, audit trail,
        logs and risk state go. ``risk.check_interval_seconds`` is read as simulated
        time: the service's risk loop runs every ``check_interval_seconds / speed``
        real seconds (at most five times per real second), so a fast demo is guarded
        as closely as a real-time one. ``risk.heartbeat_timeout_seconds`` is simulated
        time too, but never less than ``MIN_HEARTBEAT_REAL_SECONDS`` (3) real seconds,
        so a fast demo on a busy machine does not take a stall of the bot's thread for a
        dead engine.
    scenario, speed, seed
        Passed to the simulation and its :class:`SimulatedClock`.
    bots
        How many simulated bots; more than one runs a :class:`~algowatch.sim.fleet.Fleet`
        (one account per bot).
    bots_url
        Where the bots send: the service itself over HTTP (``None``, the default) or
        NATS servers (``nats://...``) that the service consumes (``[sources.nats]`` in
        ``settings``, see :func:`with_nats_source`).
    configure_logs
        Configure structlog from ``settings.logging`` at :meth:`start` (the CLI does;
        tests that share a process may not).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        scenario: str = "normal",
        speed: float = 5.0,
        seed: int = 42,
        configure_logs: bool = True,
        bots: int = 1,
        bots_url: str | None = None,
    ) -> None:
        self.scenario = scenario
        self.bots = bots
        self.bots_url = bots_url
        self.fleet: Fleet | None = None
        self.seed = seed
        self.configure_logs = configure_logs
        self.clock = SimulatedClock(speed)
        interval = max(_MIN_CHECK_SECONDS, settings.risk.check_interval_seconds / speed)
        heartbeat = max(settings.risk.heartbeat_timeout_seconds, MIN_HEARTBEAT_REAL_SECONDS * speed)
        self.settings = msgspec.structs.replace(
            settings,
            risk=msgspec.structs.replace(
                settings.risk, check_interval_seconds=interval, heartbeat_timeout_seconds=heartbeat
            ),
        )
        self.app = create_app(self.settings, clock=self.clock)
        self.guard: RiskGuard | None = self.app.state.risk_guard
        self.client: Client | None = None
        self.risk_level: RiskLevelReader | None = None
        host, port = settings.server.host, settings.server.port
        try:
            self.server = ServerThread(self.app, host=host, port=port)
        except OSError as exc:
            if self.guard is not None:
                self.guard.close()
            msg = f"server.port {host}:{port} is not available ({exc.strerror}); use --port"
            raise OSError(exc.errno, msg) from None
        self.runner: SimulationRunner | None = None
        self._done = threading.Event()

    @property
    def url(self) -> str:
        """Return the service's base URL."""
        return self.server.url

    def start(self) -> None:
        """Start the service, then the simulated bot (events through the SDK)."""
        if self.configure_logs:
            configure_logging(self.settings.logging)
            # one line per SDK batch would bury the demo's own log lines
            logging.getLogger("httpx").setLevel(logging.WARNING)
        self.server.start()
        token = self.settings.server.token
        # the bot reads the guard from a thread of its own: a slow answer never stalls trading
        self.risk_level = RiskLevelReader(
            self.url, token=token, refresh_seconds=_MIN_CHECK_SECONDS
        ).start()
        if self.bots > 1 or self.bots_url is not None:
            self.fleet = Fleet(
                self.bots_url or self.url,
                bots=self.bots,
                scenario=self.scenario,
                seed=self.seed,
                clock=self.clock,
                risk_level=self.risk_level,
                client_options={
                    "token": None if self.bots_url else token,
                    "flush_interval_seconds": 0.1,
                },
            )
            self.fleet.start()
            return
        self.client = Client(self.url, token=token, clock=self.clock, flush_interval_seconds=0.1)
        simulation = Simulation(
            self.scenario,
            seed=self.seed,
            start_ns=self.clock.time_ns(),
            sink=self.client.emit,
            risk_level=self.risk_level,
            starting_capital=self.settings.monitor.starting_capital,
        )
        self.runner = SimulationRunner(simulation, self.clock)
        self.runner.start()

    def wait_until_serving(self, timeout: float = 30.0) -> bool:
        """Return whether the dashboard page (``GET /``) answered 200 within ``timeout`` seconds.

        :meth:`start` returns once the server listens; this asks for the page itself, as a
        browser will, so the URL the demo prints is one that answers.
        """
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/", timeout=2.0).status_code == 200:
                    return True
            if time.monotonic() >= deadline or self._done.wait(0.05):
                return False

    def pause(self, timeout: float = 10.0) -> bool:
        """Stop the simulator and the service's risk loop, then deliver every buffered event.

        The service keeps serving, so its state no longer changes (tests compare the
        dashboard with the API this way; a guard still running would soon see the
        silent bot's heartbeats go stale). Return whether every event was delivered.
        """
        if self.runner is not None:
            self.runner.stop()
        service = self.app.state.service
        if service.risk is not None and service.loop is not None:

            async def _stop_guarding() -> None:
                await service.risk.stop()
                await service.bridge.drain()

            asyncio.run_coroutine_threadsafe(_stop_guarding(), service.loop).result(timeout)
        if self.fleet is not None:
            self.fleet.stop()
            return self.fleet.flush(timeout)
        return bool(self.client.flush(timeout=timeout)) if self.client is not None else True

    @property
    def stop_requested(self) -> bool:
        """Return whether :meth:`request_stop` was called."""
        return self._done.is_set()

    def request_stop(self) -> None:
        """Make :meth:`wait` return (safe from a signal handler)."""
        self._done.set()

    def wait(self, duration: float | None = None) -> None:
        """Block for ``duration`` real seconds, or until :meth:`request_stop` is called."""
        self._done.wait(duration)

    def stop(self) -> None:
        """Stop the simulator, flush the SDK, stop the service, close files."""
        if self.runner is not None:
            self.runner.stop()
        if self.client is not None:
            self.client.close(timeout=5)
        if self.fleet is not None:
            self.fleet.close(timeout=5)
        if self.risk_level is not None:
            self.risk_level.close()
        self.server.stop()
        if self.configure_logs:
            # the log file opened at start is closed with the demo, not left to exit
            shutdown_logging()
