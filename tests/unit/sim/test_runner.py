"""The simulated clock runs faster than its base; the runner advances a simulation to it."""

from __future__ import annotations

import time

import pytest

from algowatch import events as ev
from algowatch.sim import SimulatedClock, Simulation, SimulationRunner
from algowatch.testing import FakeClock


def test_simulated_clock_given_zero_speed_raises() -> None:
    """Speed must be positive."""
    with pytest.raises(ValueError, match=r"^speed must be > 0, received 0$"):
        SimulatedClock(0, base=FakeClock())


def test_simulated_clock_runs_speed_times_faster() -> None:
    """One base second is `speed` simulated seconds, on both clocks."""
    base = FakeClock()
    clock = SimulatedClock(25.0, base=base)
    t0, m0 = clock.time_ns(), clock.monotonic_ns()
    base.advance(2.0)
    assert clock.time_ns() - t0 == 50 * 10**9
    assert clock.monotonic_ns() - m0 == 50 * 10**9


def test_runner_step_advances_the_simulation_to_the_clock() -> None:
    """A step produces the bars up to the clock's time and calls after_step."""
    base = FakeClock()
    clock = SimulatedClock(10.0, base=base)
    out: list[ev.Event] = []
    flushes = []
    sim = Simulation("normal", seed=1, start_ns=clock.time_ns(), sink=out.append)
    runner = SimulationRunner(sim, clock, after_step=lambda: flushes.append(1))
    base.advance(1.0)
    produced = runner.step()
    assert sim.bar == 10
    assert produced == len(out) > 0
    assert flushes == [1]


def test_runner_counts_sink_failures_and_keeps_going() -> None:
    """A failing sink is reported to on_error, counted, and the next step runs."""
    base = FakeClock()
    clock = SimulatedClock(1.0, base=base)
    errors: list[Exception] = []

    def sink(event: ev.Event) -> None:
        raise ConnectionError("service down")

    sim = Simulation("normal", seed=1, start_ns=clock.time_ns(), sink=sink)
    runner = SimulationRunner(sim, clock, on_error=errors.append)
    base.advance(1.0)
    assert runner.step() == 0
    assert runner.errors == 1
    assert isinstance(errors[0], ConnectionError)


def test_runner_thread_starts_and_stops() -> None:
    """start() runs the loop in a thread; stop() ends it."""
    clock = SimulatedClock(50.0)
    out: list[ev.Event] = []
    sim = Simulation("normal", seed=1, start_ns=clock.time_ns(), sink=out.append)
    runner = SimulationRunner(sim, clock, poll_seconds=0.01)
    runner.start()
    try:
        deadline = time.monotonic() + 5
        while sim.bar < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        runner.stop()
    assert sim.bar >= 5
