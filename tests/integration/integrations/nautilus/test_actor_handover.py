"""When the actor hands Nautilus's events to the SDK: at once in a live node, in runs in a backtest.

An ``AlgowatchActor`` is registered with Nautilus's own message bus, cache and portfolio, once
with a ``LiveClock`` (a live node) and once with a ``TestClock`` (a backtest), and account
states built with Nautilus's classes are published on the bus, with a live ``algowatch serve``
on the other end. A live actor hands each state to its client at once; a backtest's keeps
them until ``map_batch_events`` have arrived, ``flush()`` or stop, and loses none.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import time
from typing import Any

import pytest

from .conftest import NAUTILUS_PYTHON, Service

pytestmark = pytest.mark.integration

SCRIPT = textwrap.dedent(
    """
    import json
    from nautilus_trader.cache.cache import Cache
    from nautilus_trader.common.component import LiveClock, MessageBus, TestClock
    from nautilus_trader.core.uuid import UUID4
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.enums import AccountType
    from nautilus_trader.model.events import AccountState
    from nautilus_trader.model.identifiers import AccountId, TraderId
    from nautilus_trader.model.objects import AccountBalance, Money
    from nautilus_trader.portfolio.portfolio import Portfolio
    from algowatch.integrations.nautilus import AlgowatchActor, AlgowatchActorConfig

    URL = {url!r}
    out = {{}}

    def actor_on(clock, name, **options):
        msgbus = MessageBus(trader_id=TraderId("TESTER-001"), clock=clock)
        cache = Cache(database=None)
        portfolio = Portfolio(msgbus=msgbus, cache=cache, clock=clock)
        config = AlgowatchActorConfig(
            component_id=name, url=URL, flush_interval_seconds=0.05, **options
        )
        actor = AlgowatchActor(config)
        actor.register_base(portfolio=portfolio, msgbus=msgbus, cache=cache, clock=clock)
        actor.start()
        return actor, msgbus

    def publish(msgbus, account, count, ts):
        for i in range(count):
            equity = Money(1_000_000 + 10 * i, USD)
            state = AccountState(
                account_id=AccountId(account),
                account_type=AccountType.CASH,
                base_currency=USD,
                reported=True,
                balances=[AccountBalance(equity, Money(0, USD), equity)],
                margins=[],
                info={{}},
                event_id=UUID4(),
                ts_event=ts + i,
                ts_init=ts + i,
            )
            msgbus.publish(topic=f"events.account.{{account}}", msg=state)

    now = LiveClock().timestamp_ns()

    live, bus = actor_on(LiveClock(), "live")
    publish(bus, "SIM-LIVE", 3, now)
    out["live_after_publish"] = live.client.stats().enqueued
    out["live_flushed"] = live.client.flush(10).settled
    out["live_sent"] = live.client.stats().sent

    backtest, bus = actor_on(TestClock(), "backtest")
    publish(bus, "SIM-BACKTEST", 3, now + 100)
    out["backtest_after_publish"] = backtest.client.stats().enqueued
    out["backtest_flushed"] = backtest.flush(10)
    out["backtest_after_flush"] = backtest.client.stats().enqueued
    out["backtest_sent"] = backtest.client.stats().sent

    runs, bus = actor_on(TestClock(), "runs", map_batch_events=2)
    publish(bus, "SIM-RUNS", 5, now + 200)
    out["runs_after_publish"] = runs.client.stats().enqueued
    runs.stop()
    out["runs_after_stop"] = runs.client.stats().enqueued
    out["runs_sent"] = runs.client.stats().sent

    try:
        AlgowatchActor(AlgowatchActorConfig(url=URL, map_batch_events=0))
    except ValueError as exc:
        out["refused"] = str(exc)

    for actor in (live, backtest):
        actor.stop()
    for actor in (live, backtest, runs):
        actor.dispose()
    print(json.dumps(out))
    """
)


def _snapshot_applied(service: Service, expected: int) -> int:
    deadline = time.monotonic() + 10
    applied = -1
    while time.monotonic() < deadline:
        applied = int(service.snapshot()["events_applied"])
        if applied >= expected:
            break
        time.sleep(0.05)
    return applied


def test_live_hands_over_each_event_and_backtest_in_runs(service: Service) -> None:
    result = subprocess.run(
        [str(NAUTILUS_PYTHON), "-W", "ignore", "-c", SCRIPT.format(url=service.url)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    out: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    # a live node: each state reaches the client as it is published
    assert out["live_after_publish"] == 3
    assert out["live_flushed"] is True
    assert out["live_sent"] == 3
    # a backtest: nothing before a run is complete; flush() hands over and delivers
    assert out["backtest_after_publish"] == 0
    assert out["backtest_flushed"] is True
    assert out["backtest_after_flush"] == 3
    assert out["backtest_sent"] == 3
    # runs of two: the fifth waits for stop, which hands it over and delivers all
    assert out["runs_after_publish"] == 4
    assert out["runs_after_stop"] == 5
    assert out["runs_sent"] == 5
    assert "map_batch_events must be >= 1" in out["refused"]
    assert "received 0" in out["refused"]
    # the service applied all eleven account states
    assert _snapshot_applied(service, 11) == 11
