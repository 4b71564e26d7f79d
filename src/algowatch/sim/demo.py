"""The demo's wiring: the service, the risk guard and the simulator in one process.

:class:`DemoApp` builds the service with :func:`algowatch.server.create_app`
on a :class:`~algowatch.sim.runner.SimulatedClock` (the app holds the risk
guard, its routes ``/api/v1/risk``, its metrics and its audit records), serves
it from a background thread, and runs the simulator against it through the SDK
(:class:`algowatch.client.Client`), exactly as a user's bot would. The demo
evaluates the guard itself, at the cadence of the simulated clock.
``algowatch demo`` is a thin layer over it.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

import msgspec
import structlog

from algowatch.client import Client
from algowatch.logging import configure_logging, shutdown_logging
from algowatch.monitor import Monitor
from algowatch.risk import Level, RiskGuard
from algowatch.server import ServerThread, create_app
from algowatch.settings import HealthCheckSettings, RiskSettings, Settings
from algowatch.sim.runner import SimulatedClock, SimulationRunner
from algowatch.sim.simulation import Simulation

__all__ = ["DemoApp", "demo_settings"]

_log = structlog.get_logger("algowatch.demo")


def demo_settings(settings: Settings, data_dir: Path) -> Settings:
    """Return ``settings`` with the demo's defaults where the user configured nothing.

    ``data_dir`` becomes the data folder; without ``[[health.checks]]`` the demo adds
    market-data, engine and broker heartbeat and order-flow checks; with default
    ``[risk]`` limits it shortens the heartbeat and no-trading timeouts and puts the
    daily loss limit (25 % of capital) above the drawdown limit; without a log file it
    logs to ``<data_dir>/algowatch.log``.
    """
    changes: dict[str, Any] = {"data_dir": str(data_dir)}
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


class DemoApp:
    """The service, the risk guard and a simulated trading system, wired together.

    Parameters
    ----------
    settings
        The whole configuration; ``data_dir`` is where the journal, audit trail,
        logs and risk state go.
    scenario, speed, seed
        Passed to the simulation and its :class:`SimulatedClock`.
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
    ) -> None:
        self.settings = settings
        self.scenario = scenario
        self.seed = seed
        self.configure_logs = configure_logs
        self.clock = SimulatedClock(speed)
        self.monitor = Monitor(settings.monitor, clock=self.clock)
        # the service's own guard (state file, audit trail, ingest), evaluated by this
        # demo at simulated-time cadence rather than by the service's real-time loop
        self.app = create_app(settings, clock=self.clock, monitor=self.monitor, risk_loop=False)
        self.guard: RiskGuard | None = self.app.state.risk_guard
        self.client: Client | None = None
        host, port = settings.server.host, settings.server.port
        try:
            self.server = ServerThread(self.app, host=host, port=port)
        except OSError as exc:
            if self.guard is not None:
                self.guard.close()
            msg = f"server.port {host}:{port} is not available ({exc.strerror}); use --port"
            raise OSError(exc.errno, msg) from None
        self.runner: SimulationRunner | None = None
        self._stop = threading.Event()
        self._done = threading.Event()
        self._guard_thread: threading.Thread | None = None
        self.guard_errors = 0

    @property
    def url(self) -> str:
        """Return the service's base URL."""
        return self.server.url

    def risk_level(self) -> Level:
        """Return the guard's level (``"ok"`` when ``[risk] enabled = false``)."""
        return "ok" if self.guard is None else self.guard.level

    def start(self) -> None:
        """Start the service, then the simulator and the risk guard's loop."""
        if self.configure_logs:
            configure_logging(self.settings.logging)
            # one line per SDK batch would bury the demo's own log lines
            logging.getLogger("httpx").setLevel(logging.WARNING)
        self.server.start()
        self.client = Client(
            self.url,
            token=self.settings.server.token,
            clock=self.clock,
            flush_interval_seconds=0.1,
        )
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
        if self.guard is not None:
            self._guard_thread = threading.Thread(
                target=self._guard_loop, name="algowatch-risk", daemon=True
            )
            self._guard_thread.start()

    def check_risk(self, timeout: float = 10.0) -> None:
        """Evaluate the risk guard once against the service's current state.

        The service reads its Monitor and health report on its own loop
        (``app.state.service.check_risk()``); this waits for the result.
        """
        service = self.app.state.service
        loop: asyncio.AbstractEventLoop = service.loop
        asyncio.run_coroutine_threadsafe(service.check_risk(), loop).result(timeout)

    def _guard_loop(self) -> None:
        # check_interval_seconds is simulated time, so a fast demo is guarded as closely
        # as a real-time one (bounded to five checks per real second)
        interval = max(0.2, self.settings.risk.check_interval_seconds / self.clock.speed)
        while not self._stop.wait(interval):
            try:
                self.check_risk()
            except Exception:  # keep guarding; the failure is logged and counted
                self.guard_errors += 1
                _log.exception("risk_check_failed")

    def pause(self, timeout: float = 10.0) -> bool:
        """Stop the simulator and the guard's loop, then deliver every buffered event.

        The service keeps serving, so its state no longer changes (tests compare the
        dashboard with the API this way). Return whether every event was delivered.
        """
        self._stop.set()
        if self.runner is not None:
            self.runner.stop()
        if self._guard_thread is not None:
            self._guard_thread.join(timeout)
        return bool(self.client.flush(timeout=timeout)) if self.client is not None else True

    def request_stop(self) -> None:
        """Make :meth:`wait` return (safe from a signal handler)."""
        self._done.set()

    def wait(self, duration: float | None = None) -> None:
        """Block for ``duration`` real seconds, or until :meth:`request_stop` is called."""
        self._done.wait(duration)

    def stop(self) -> None:
        """Stop the simulator and the guard, flush the SDK, stop the service, close files."""
        self._stop.set()
        if self.runner is not None:
            self.runner.stop()
        if self._guard_thread is not None:
            self._guard_thread.join(10)
        if self.client is not None:
            self.client.close(timeout=5)
        self.server.stop()
        if self.configure_logs:
            # the log file opened at start is closed with the demo, not left to exit
            shutdown_logging()
