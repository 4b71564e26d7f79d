"""The demo's scenarios: what goes wrong, when, and for how long.

Windows are counted in bars from the start of the simulation (one bar is
``bar_seconds`` of simulated time, 1 s by default).

==================  ===============================================================
``normal``          a calm market, a small core book and two active strategies
``drawdown``        a large core book, then a 30 % crash: the drawdown limit breaks
``broker-outage``   the broker stops answering (no heartbeats, errors, orders time out)
``latency-spike``   acknowledgements and fills take 40 times longer
``reject-storm``    half of all orders are rejected
``stale-data``      market data stops arriving while the engine stays alive
==================  ===============================================================

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SCENARIOS", "Scenario", "Window", "get_scenario"]


@dataclass(frozen=True, slots=True)
class Window:
    """A span of bars ``[start, start + length)``."""

    start: int
    length: int

    def contains(self, bar: int) -> bool:
        """Return whether ``bar`` falls inside the window."""
        return self.start <= bar < self.start + self.length


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """What a simulation run does; see the module docstring for the named ones."""

    name: str
    description: str
    core_fraction: float = 0.3
    crash: Window | None = None
    crash_return: float = 0.0
    outage: Window | None = None
    latency_spike: Window | None = None
    latency_multiple: float = 40.0
    reject_storm: Window | None = None
    reject_probability: float = 0.5
    stale_data: Window | None = None


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(name="normal", description="a calm market and two active strategies"),
        Scenario(
            name="drawdown",
            description="a large core book, then a 30 % crash that breaks the drawdown limit",
            core_fraction=0.9,
            crash=Window(60, 120),
            crash_return=-0.3,
        ),
        Scenario(
            name="broker-outage",
            description="the broker stops answering for three minutes",
            outage=Window(60, 180),
        ),
        Scenario(
            name="latency-spike",
            description="acknowledgements and fills take 40 times longer for three minutes",
            latency_spike=Window(60, 180),
        ),
        Scenario(
            name="reject-storm",
            description="half of all orders are rejected for three minutes",
            reject_storm=Window(30, 180),
        ),
        Scenario(
            name="stale-data",
            description="market data stops for three minutes while the engine stays alive",
            stale_data=Window(60, 180),
        ),
    )
}


def get_scenario(name: str) -> Scenario:
    """Return the scenario called ``name``.

    Raises
    ------
    ValueError
        If there is no such scenario.

    Examples
    --------
    >>> get_scenario("drawdown").crash_return
    -0.3
    >>> get_scenario("crash")
    Traceback (most recent call last):
    ...
    ValueError: scenario must be one of 'normal', 'drawdown', 'broker-outage', \
'latency-spike', 'reject-storm', 'stale-data', received 'crash'
    """
    try:
        return SCENARIOS[name]
    except KeyError:
        names = ", ".join(repr(n) for n in SCENARIOS)
        msg = f"scenario must be one of {names}, received {name!r}"
        raise ValueError(msg) from None
