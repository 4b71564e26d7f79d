"""The actor reads Nautilus's typed events into the events their ``to_dict`` form maps to.

Every order event and account state of a seeded backtest, plus an ``OrderDenied`` built with
Nautilus's own class, is read both ways under Nautilus's Python, each way by a fresh mapper
fed the whole sequence in order: the actor's typed reading (``read_event``: no ``to_dict``,
amounts from their fixed-point form) and ``NautilusMapper.map`` of the event's ``to_dict``
(the bridge's path). Both give the same algowatch events, floats bit for bit.
"""

from __future__ import annotations

import subprocess
import textwrap

import pytest

from .conftest import BACKTEST, NAUTILUS_PYTHON

pytestmark = pytest.mark.integration

SCRIPT = textwrap.dedent(
    """
    import collections
    import sys
    sys.path.insert(0, {examples!r})
    import nautilus_backtest
    from nautilus_trader.common.actor import Actor
    from nautilus_trader.common.config import ActorConfig
    from nautilus_trader.core.uuid import UUID4
    from nautilus_trader.model.events import OrderDenied
    from algowatch.integrations.nautilus import NautilusMapper
    from algowatch.integrations.nautilus._actor import read_event

    class Capture(Actor):
        def __init__(self):
            super().__init__(ActorConfig(component_id="capture"))
            self.events = []

        def on_start(self):
            self.msgbus.subscribe(topic="events.account.*", handler=self.events.append)
            self.msgbus.subscribe(topic="events.order.*", handler=self.events.append)

    engine = nautilus_backtest.build_engine(seed=2, bar_count=300)
    capture = Capture()
    engine.add_actor(capture)
    engine.run()
    events = capture.events
    first = next(e for e in events if type(e).__name__ == "OrderInitialized")
    # the first order's OrderInitialized again (the mapper forgot it when it was done), denied
    events.append(first)
    events.append(
        OrderDenied(
            first.trader_id, first.strategy_id, first.instrument_id, first.client_order_id,
            "MAX_NOTIONAL_EXCEEDED", UUID4(), first.ts_event + 1,
        )
    )
    typed_mapper, dict_mapper = NautilusMapper(), NautilusMapper()
    typed = [list(read_event(typed_mapper, e)) for e in events]
    full = [dict_mapper.map(type(e).to_dict(e)) for e in events]
    assert typed == full, [(a, b) for a, b in zip(typed, full) if a != b][:3]
    # bit for bit: == on floats, and the same text
    assert repr(typed) == repr(full)
    kinds = collections.Counter(type(m).__name__ for mapped in full for m in mapped)
    sources = collections.Counter(type(e).__name__ for e in events)
    print(" ".join(f"{{k}}={{n}}" for k, n in sorted(kinds.items())))
    print(" ".join(f"{{k}}={{n}}" for k, n in sorted(sources.items())))
    print(len({{m.equity for mapped in full for m in mapped if type(m).__name__ == "Account"}}))
    """
)


def _run(script: str) -> str:
    result = subprocess.run(
        [str(NAUTILUS_PYTHON), "-W", "ignore", "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def test_typed_reading_maps_to_the_events_to_dict_gives() -> None:
    mapped, sources, equities = _run(SCRIPT.format(examples=str(BACKTEST.parent))).splitlines()
    kinds = dict(item.split("=") for item in mapped.split())
    # every kind of algowatch event the mapping makes is covered, many times
    assert set(kinds) == {
        "Account",
        "OrderAcknowledged",
        "OrderCanceled",
        "OrderFilled",
        "OrderRejected",
        "OrderSubmitted",
    }
    assert all(int(n) >= 2 for n in kinds.values()), kinds
    # and every Nautilus type the actor reads, the denial and expiry included
    types = dict(item.split("=") for item in sources.split())
    assert {
        "AccountState",
        "OrderAccepted",
        "OrderCanceled",
        "OrderDenied",
        "OrderExpired",
        "OrderFilled",
        "OrderInitialized",
        "OrderRejected",
        "OrderSubmitted",
    } <= set(types)
    assert int(types["AccountState"]) > 50  # one after each fill: many balances compared
    assert int(equities) > 10
