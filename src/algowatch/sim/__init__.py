"""The demo trading system: a synthetic market, simple strategies and a paper broker.

It produces the same :mod:`algowatch.events` a real bot sends, into any sink;
``algowatch demo`` sends them through the SDK and has the strategies obey the
service's risk guard through :class:`~algowatch.sim.guard.RiskLevelReader`
(``GET /api/v1/risk``); :class:`~algowatch.sim.fleet.Fleet` runs many such bots, one
account each. Everything is seeded and runs on a simulated clock, so
a seed and a start time always give the same events. Like any bot, the package
imports neither the engine nor the service.

.. versionadded:: 0.1.0
"""

from algowatch.sim.broker import BrokerConditions, BrokerSettings, PaperBroker
from algowatch.sim.fleet import Fleet, FleetBot, bot_name
from algowatch.sim.guard import RiskLevelReader
from algowatch.sim.market import MarketSettings, Quote, SyntheticMarket, per_bar_drift
from algowatch.sim.runner import SimulatedClock, SimulationRunner
from algowatch.sim.scenarios import SCENARIOS, Scenario, Window, get_scenario
from algowatch.sim.simulation import DEFAULT_PRICES, Simulation, Sink
from algowatch.sim.strategies import Decision, MeanReversion, MovingAverageCrossover, Strategy

__all__ = [
    "DEFAULT_PRICES",
    "SCENARIOS",
    "BrokerConditions",
    "BrokerSettings",
    "Decision",
    "Fleet",
    "FleetBot",
    "MarketSettings",
    "MeanReversion",
    "MovingAverageCrossover",
    "PaperBroker",
    "Quote",
    "RiskLevelReader",
    "Scenario",
    "SimulatedClock",
    "Simulation",
    "SimulationRunner",
    "Sink",
    "Strategy",
    "SyntheticMarket",
    "Window",
    "bot_name",
    "get_scenario",
    "per_bar_drift",
]
