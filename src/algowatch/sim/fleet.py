"""A fleet of simulated bots: the demo's trading system, many times, each its own bot.

Each bot is a :class:`~algowatch.sim.simulation.Simulation` with its own seed and
account (``bot-007``), sending its events through its own SDK client
(:class:`algowatch.client.Client`), over HTTP or NATS JetStream, exactly as N
separate trading processes would. Over NATS each bot publishes on
``algowatch.events.<account>.<bot>`` with its name as the bot (``bot-007``). One
thread advances every bot to the shared clock's time; the clients send from their
own threads, so a slow transport never stalls the bots (their buffers and overflow
policy apply).

``algowatch sim`` runs a fleet against an existing service or NATS server; ``algowatch
demo --bots N`` runs one next to the demo's own service.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from algowatch.client import Client, ClientStats
from algowatch.clock import Clock
from algowatch.sim.runner import SimulatedClock
from algowatch.sim.simulation import Simulation

__all__ = ["Fleet", "FleetBot", "bot_name"]


def bot_name(index: int) -> str:
    """Return the name (and account) of bot ``index``: ``bot-007``.

    Examples
    --------
    >>> bot_name(7), bot_name(1234)
    ('bot-007', 'bot-1234')
    """
    return f"bot-{index:03d}"


@dataclass(frozen=True, slots=True)
class FleetBot:
    """One bot of a fleet: its name (also its account), simulation and SDK client."""

    name: str
    simulation: Simulation
    client: Client


class Fleet:
    """``bots`` simulated bots, each sending through its own SDK client to ``url``.

    Parameters
    ----------
    url
        The service (``http://...``) or NATS servers (``nats://...``) the clients send to.
    bots
        How many bots.
    first_bot
        Index of the first bot (bots ``first_bot .. first_bot + bots - 1``), so that
        several processes can run disjoint parts of one fleet.
    scenario, seed
        Every bot runs ``scenario``; bot ``i`` uses seed ``seed + i``.
    clock
        The clock the bots trade on; by default a :class:`SimulatedClock` at ``speed``.
    speed
        Simulated seconds per real second (when ``clock`` is not given).
    bar_seconds
        Simulated seconds between two bars of each bot's market (a bot sends about
        six events per bar).
    risk_level
        Returns the risk guard's level, obeyed by every bot (default: always ``"ok"``).
    client_options
        Passed to every :class:`~algowatch.client.Client` (``token``,
        ``flush_interval_seconds``, ``create_stream``, ...).
    poll_seconds
        Real seconds between two advances of the bots.
    """

    def __init__(
        self,
        url: str,
        *,
        bots: int,
        first_bot: int = 0,
        scenario: str = "normal",
        seed: int = 42,
        clock: Clock | None = None,
        speed: float = 1.0,
        bar_seconds: float = 1.0,
        risk_level: Callable[[], str] | None = None,
        client_options: Mapping[str, Any] | None = None,
        poll_seconds: float = 0.05,
    ) -> None:
        if bots < 1:
            msg = f"bots must be >= 1, received {bots!r}"
            raise ValueError(msg)
        self.clock = clock or SimulatedClock(speed)
        self.poll_seconds = poll_seconds
        self.errors = 0
        self.bots: list[FleetBot] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        options = dict(client_options or {})
        nats = url.split("://", 1)[0].lower() in ("nats", "tls")
        try:
            for index in range(first_bot, first_bot + bots):
                name = bot_name(index)
                client = Client(
                    url, clock=self.clock, account=name, bot=name if nats else None, **options
                )
                simulation = Simulation(
                    scenario,
                    seed=seed + index,
                    start_ns=self.clock.time_ns(),
                    sink=client.emit,
                    risk_level=risk_level,
                    bar_seconds=bar_seconds,
                    account=name,
                )
                self.bots.append(FleetBot(name, simulation, client))
        except BaseException:
            self.close(timeout=0)
            raise

    def step(self) -> int:
        """Advance every bot to the clock's time; return how many events they produced."""
        now = self.clock.time_ns()
        produced = 0
        for bot in self.bots:
            try:
                produced += bot.simulation.advance_to(now)
            except Exception:  # one bot's failed send must not stop the fleet; counted
                self.errors += 1
        return produced

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.step()
            self._stop.wait(self.poll_seconds)

    def start(self) -> None:
        """Start advancing the bots from a background thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="algowatch-fleet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop advancing the bots (their clients keep sending what is buffered)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def stats(self) -> ClientStats:
        """Return the sum of every bot's client counters."""
        totals = dict.fromkeys(ClientStats.__slots__, 0)
        for bot in self.bots:
            counts = bot.client.stats()
            for key in totals:
                totals[key] += getattr(counts, key)
        return ClientStats(**totals)

    def flush(self, timeout: float = 10.0) -> bool:
        """Deliver every bot's buffer; return whether all were settled within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        settled = [
            bool(bot.client.flush(max(0.0, deadline - time.monotonic()))) for bot in self.bots
        ]
        return all(settled)

    def close(self, timeout: float = 10.0) -> bool:
        """Stop the bots, deliver for up to ``timeout`` s in all, close the clients."""
        self.stop()
        flushed = self.flush(timeout)
        closed = [bot.client.close(timeout=0) for bot in self.bots]
        return flushed and all(closed)
