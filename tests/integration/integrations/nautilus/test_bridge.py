"""The out-of-process path: Nautilus writes its message bus to the real Redis, the bridge reads it.

Nautilus itself writes the stream (the demo backtest with ``MessageBusConfig(database=...)``);
the bridge forwards it to a live service, whose figures must agree with Nautilus's own as
the actor's do. Entries that are not valid Nautilus messages are skipped and counted apart.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from algowatch.client import Client
from algowatch.integrations.nautilus.bridge import NautilusBridge

pytestmark = pytest.mark.integration

SEED = 2
BARS = 800


@pytest.fixture
def trader_id() -> Iterator[str]:
    # Nautilus writes db 0 (its DatabaseConfig has no database number): a trader id of our
    # own gives this test a stream key of its own, deleted afterwards
    name = f"AWTEST-{uuid.uuid4().hex[:12].upper()}"
    yield name
    redis.Redis(host="127.0.0.1", port=6379).delete(f"trader-{name}:stream")


def test_bridge_figures_equal_nautilus_accounting(
    service: Any,
    trader_id: str,
    run_backtest: Callable[..., dict[str, Any]],
    assert_figures_agree: Callable[[dict[str, Any], dict[str, Any]], None],
) -> None:
    nautilus = run_backtest(
        "--redis", "--trader-id", trader_id, "--seed", str(SEED), "--bars", str(BARS)
    )
    connection = redis.Redis(host="127.0.0.1", port=6379)
    stream = f"trader-{trader_id}:stream"
    assert connection.xlen(stream) > nautilus["fills"]
    # malformed entries on mapped topics: not JSON, a fill without its fields, a bad side
    connection.xadd(
        stream, {"topic": "events.order.X", "payload": b"{not json", "encoding": "Json"}
    )
    connection.xadd(
        stream,
        {"topic": "events.order.X", "payload": b'{"type":"OrderFilled"}', "encoding": "Json"},
    )
    connection.xadd(
        stream,
        {"topic": "data.bars.X", "payload": b'{"type":"Bar","close":"x"}', "encoding": "Json"},
    )
    with Client(service.url) as client:
        bridge = NautilusBridge(connection, [stream], client, mark_interval_seconds=60.0)
        bridge.run(idle_exit_seconds=1.0, block_ms=200)
        assert client.flush(timeout=30)
    assert bridge.stats.invalid == 3
    assert bridge.stats.entries == connection.xlen(stream)
    assert_figures_agree(service.snapshot(), nautilus)
