"""A fleet is N copies of the simulated bot, each under its own account and SDK client."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from algowatch import events as ev
from algowatch.server import ServerThread, create_app
from algowatch.settings import HealthSettings, Settings
from algowatch.sim.fleet import Fleet, bot_name
from algowatch.sim.simulation import Simulation
from algowatch.testing import FakeClock


def test_a_fleet_needs_at_least_one_bot() -> None:
    """bots=0 is refused with the value received."""
    with pytest.raises(ValueError, match=r"^bots must be >= 1, received 0$"):
        Fleet("http://127.0.0.1:9", bots=0)


def test_each_bot_is_the_standalone_simulation_under_its_account(tmp_path: Path) -> None:
    """Bot i sends exactly what Simulation(seed=seed+i, account=bot-i) produces, to the service."""
    clock = FakeClock()
    start = clock.time_ns()
    settings = Settings(data_dir=str(tmp_path), health=HealthSettings(system_metrics=False))
    with ServerThread(create_app(settings, clock=clock)) as server:
        fleet = Fleet(server.url, bots=3, first_bot=4, seed=10, clock=clock)
        try:
            clock.advance(30.0)
            produced = fleet.step()
            assert fleet.flush(timeout=30)
            stats = fleet.stats()
            snapshot = httpx.get(f"{server.url}/api/v1/snapshot", timeout=30).json()
        finally:
            fleet.close(timeout=5)
    expected: dict[str, list[ev.Event]] = {}
    for index in (4, 5, 6):
        out: list[ev.Event] = []
        Simulation(
            "normal", seed=10 + index, start_ns=start, sink=out.append, account=bot_name(index)
        ).advance_to(start + 30 * 10**9)
        expected[bot_name(index)] = out
    assert [bot.name for bot in fleet.bots] == ["bot-004", "bot-005", "bot-006"]
    assert produced == sum(len(events) for events in expected.values())
    assert (stats.enqueued, stats.sent, stats.dropped, stats.failed) == (produced, produced, 0, 0)
    assert snapshot["events_applied"] == produced
    assert sorted(snapshot["by_account"]) == ["bot-004", "bot-005", "bot-006"]
