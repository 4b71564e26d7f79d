"""The Nautilus mapper refuses malformed messages with a clear error and remembers nothing.

Well-formed messages are checked end to end against Nautilus's own code in
tests/integration/integrations/nautilus; these cover what Nautilus never sends.
"""

from __future__ import annotations

import pytest

from algowatch.errors import InvalidEventError
from algowatch.events import Mark
from algowatch.integrations.nautilus import NautilusMapper
from algowatch.integrations.nautilus._marks import MarkThrottle

INITIALIZED = {
    "type": "OrderInitialized",
    "strategy_id": "S-001",
    "instrument_id": "AUD/USD.SIM",
    "client_order_id": "O-1",
    "order_side": "BUY",
    "order_type": "MARKET",
    "quantity": "100000",
    "options": {},
    "event_id": "e-0",
    "ts_event": 1,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"order_side": "LONG"}, "nautilus.OrderInitialized.order_side must be one of"),
        ({"quantity": "lots"}, "nautilus.OrderInitialized.quantity must be a number"),
        ({"instrument_id": None}, "nautilus.OrderInitialized.instrument_id must be a non-empty"),
        ({"order_type": 3}, "nautilus.OrderInitialized.order_type must be one of"),
    ],
)
def test_a_bad_initialized_order_is_refused_and_not_remembered(
    change: dict[str, object], message: str
) -> None:
    mapper = NautilusMapper()
    with pytest.raises(InvalidEventError, match=message):
        mapper.map({**INITIALIZED, **change})
    submitted = {
        "type": "OrderSubmitted",
        "strategy_id": "S-001",
        "client_order_id": "O-1",
        "account_id": "SIM-001",
        "event_id": "e-1",
        "ts_event": 2,
    }
    with pytest.raises(InvalidEventError, match="'O-1' has no OrderInitialized"):
        mapper.map(submitted)


def test_a_fill_with_a_bad_commission_or_timestamp_names_the_field() -> None:
    fill = {
        "type": "OrderFilled",
        "strategy_id": "S-001",
        "client_order_id": "O-1",
        "account_id": "SIM-001",
        "trade_id": "T-1",
        "last_qty": "10",
        "last_px": "0.7",
        "commission": "n/a USD",
        "liquidity_side": "TAKER",
        "event_id": "e-2",
        "ts_event": "12.5",
    }
    with pytest.raises(InvalidEventError) as caught:
        NautilusMapper().map(fill)
    assert "nautilus.OrderFilled.ts_event must be UNIX nanoseconds, received '12.5'" in str(
        caught.value
    )


def test_a_fill_maps_quantity_price_fee_and_liquidity() -> None:
    mapper = NautilusMapper()
    mapper.map(INITIALIZED)
    (fill,) = mapper.map(
        {
            "type": "OrderFilled",
            "strategy_id": "S-001",
            "client_order_id": "O-1",
            "account_id": "SIM-001",
            "trade_id": "T-1",
            "last_qty": "100000",
            "last_px": "0.70012",
            "commission": "-1.40 USD",
            "liquidity_side": "MAKER",
            "event_id": "e-2",
            "ts_event": "1704067260000000000",
        }
    )
    assert (fill.order_id, fill.fill_id, fill.quantity, fill.price, fill.fee) == (
        "O-1",
        "T-1",
        100000.0,
        0.70012,
        -1.40,
    )
    assert (fill.liquidity, fill.account, fill.strategy, fill.ts) == (
        "maker",
        "SIM-001",
        "S-001",
        1704067260000000000,
    )


def test_types_it_does_not_map_give_no_event() -> None:
    assert NautilusMapper().map({"type": "PositionOpened"}) == []
    assert NautilusMapper().map({"no": "type"}) == []


def test_the_throttle_holds_back_the_latest_price_until_drained() -> None:
    throttle = MarkThrottle(interval_seconds=60.0)
    minute = 60 * 10**9
    offered = [Mark(ts=t * minute // 2, symbol="X", price=float(t)) for t in range(5)]
    sent = [m.price for m in (throttle.offer(mark) for mark in offered) if m is not None]
    assert sent == [0.0, 2.0, 4.0]
    assert throttle.drain() == []
    throttle.offer(Mark(ts=5 * minute // 2, symbol="X", price=5.0))
    assert [m.price for m in throttle.drain()] == [5.0]
    with pytest.raises(ValueError, match="interval_seconds must be >= 0"):
        MarkThrottle(interval_seconds=-1)
