"""Run a :class:`~algowatch.sim.simulation.Simulation` against the wall clock, faster.

:class:`SimulatedClock` is a :class:`~algowatch.clock.Clock` whose time runs
``speed`` times faster than the clock it is built on, from the moment it is
created. The demo hands the same clock to the service, so the engine, the
health checks and the risk guard all see simulated time.
:class:`SimulationRunner` drives a simulation on such a clock in a background
thread.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from algowatch.clock import Clock, SystemClock
from algowatch.sim.simulation import Simulation

__all__ = ["SimulatedClock", "SimulationRunner"]


class SimulatedClock:
    """A clock that runs ``speed`` times faster than ``base``.

    Examples
    --------
    >>> from algowatch.testing import FakeClock
    >>> base = FakeClock()
    >>> clock = SimulatedClock(10.0, base=base)
    >>> start = clock.time_ns()
    >>> base.advance(1.0)
    >>> (clock.time_ns() - start) / 1e9
    10.0
    """

    #: Read by the service's ``GET /api/v1/clock``: the dashboard labels event time
    #: "simulated" when it is.
    simulated = True

    def __init__(self, speed: float = 1.0, *, base: Clock | None = None) -> None:
        if not speed > 0:
            msg = f"speed must be > 0, received {speed!r}"
            raise ValueError(msg)
        self.speed = speed
        self._base = base or SystemClock()
        self._start_ns = self._base.time_ns()
        self._mono0 = self._base.monotonic_ns()

    def _elapsed_ns(self) -> int:
        return round((self._base.monotonic_ns() - self._mono0) * self.speed)

    def time_ns(self) -> int:
        """Return simulated UNIX time in nanoseconds."""
        return self._start_ns + self._elapsed_ns()

    def monotonic_ns(self) -> int:
        """Return simulated monotonic time in nanoseconds."""
        return self._mono0 + self._elapsed_ns()


class SimulationRunner:
    """Advance a simulation to its clock's time every ``poll_seconds`` in a thread.

    Parameters
    ----------
    simulation
        The simulation to drive; its sink does the I/O.
    clock
        Usually the :class:`SimulatedClock` the simulation's ``start_ns`` came from.
    poll_seconds
        Real seconds between two advances.
    after_step
        Called after every advance (the demo flushes the SDK client there).
    on_error
        Called with any exception the sink or ``after_step`` raises; the run goes on.
    """

    def __init__(
        self,
        simulation: Simulation,
        clock: Clock,
        *,
        poll_seconds: float = 0.05,
        after_step: Callable[[], object] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.simulation = simulation
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.after_step = after_step
        self.on_error = on_error
        self.errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> int:
        """Advance once to the clock's time; return the number of events produced."""
        try:
            produced = self.simulation.advance_to(self.clock.time_ns())
            if self.after_step is not None:
                self.after_step()
        except Exception as exc:  # a demo keeps trading through a failed send; counted
            self.errors += 1
            if self.on_error is not None:
                self.on_error(exc)
            return 0
        return produced

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.step()
            self._stop.wait(self.poll_seconds)

    def start(self) -> None:
        """Start the background thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="algowatch-sim", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
