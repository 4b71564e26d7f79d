"""hummingbot bridge messages map to the events the engine needs, and bad ones are refused.

The messages follow hummingbot's published schema (hummingbot/remote_iface/mqtt.py and
hummingbot/core/event/events.py, 2026): ``MQTTMarketEventForwarder`` publishes
``{"timestamp": int(seconds), "type": <MarketEvent name>, "data": <event fields>}`` with
the enums as ``str(member)`` and the trade fee as ``TradeFeeBase.to_json()`` (decimals as
strings); the gateway's heartbeat is ``{"ts": microseconds}``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from algowatch.errors import InvalidEventError
from algowatch.events import (
    Error,
    Heartbeat,
    OrderAcknowledged,
    OrderCanceled,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from algowatch.integrations.hummingbot import (
    HummingbotMessage,
    events_from_message,
    subscriptions,
)

T = 1_780_000_000
NS = 1_000_000_000


def bridge(event_type: str, timestamp: float, data: dict[str, Any]) -> bytes:
    """The body hummingbot's bridge publishes for one market event."""
    return json.dumps({"timestamp": int(timestamp), "type": event_type, "data": data}).encode()


def trade_fee(
    percent: str, fee_type: str = "AddedToCost", flat: tuple[tuple[str, str], ...] = ()
) -> dict[str, Any]:
    # TradeFeeBase.to_json(): decimals as str(Decimal)
    return {
        "fee_type": fee_type,
        "percent": str(Decimal(percent)),
        "percent_token": None,
        "flat_fees": [{"token": t, "amount": str(Decimal(a))} for t, a in flat],
    }


def fill(order_id: str, price: float, amount: float, fee: dict[str, Any], **over: Any) -> bytes:
    data = {
        "order_id": order_id,
        "trading_pair": "ETH-USDT",
        "trade_type": "TradeType.BUY",
        "order_type": "OrderType.LIMIT",
        "price": price,
        "amount": amount,
        "trade_fee": fee,
        "exchange_trade_id": "28457",
        "exchange_order_id": "9001",
        "leverage": 1,
        "position": "NIL",
    } | over
    return bridge("OrderFilled", T + 2.7, data)


def test_topics_outside_the_bridge_are_ignored() -> None:
    """Another namespace, the log topic or a bare prefix carry no events."""
    assert events_from_message("other/bot/events", b"{}") == []
    assert events_from_message("hbot/bot/log", b"{}") == []
    assert HummingbotMessage.from_topic("hbot/") is None
    assert subscriptions("hbot/", ()) == ["hbot/+/events", "hbot/+/hb", "hbot/+/status_updates"]


def test_buy_order_created_is_submitted_then_acknowledged() -> None:
    """The order is submitted at its creation time and acknowledged at the event's time."""
    body = bridge(
        "BuyOrderCreated",
        T + 1.9,
        {
            "type": "OrderType.LIMIT",
            "trading_pair": "ETH-USDT",
            "amount": 1.5,
            "price": 3000.25,
            "order_id": "buy-ETHUSDT-1",
            "creation_timestamp": T + 0.5,
            "exchange_order_id": None,
            "leverage": 1,
            "position": "NIL",
        },
    )
    submitted, acknowledged = events_from_message("hbot/bot-7/events", body)
    assert submitted == OrderSubmitted(
        ts=T * NS + NS // 2,
        event_id="hummingbot:bot-7:buy-ETHUSDT-1:submitted",
        strategy="hummingbot",
        account="bot-7",
        order_id="buy-ETHUSDT-1",
        symbol="ETH-USDT",
        side="buy",
        quantity=1.5,
        order_type="limit",
        limit_price=3000.25,
    )
    assert acknowledged == OrderAcknowledged(
        ts=(T + 1) * NS,
        event_id="hummingbot:bot-7:buy-ETHUSDT-1:acknowledged",
        strategy="hummingbot",
        account="bot-7",
        order_id="buy-ETHUSDT-1",
    )


def test_sell_market_order_has_no_limit_price() -> None:
    """A market order's price of 0 is not a limit price."""
    body = bridge(
        "SellOrderCreated",
        T,
        {
            "type": "OrderType.MARKET",
            "trading_pair": "BTC-USDT",
            "amount": 0.01,
            "price": 0.0,
            "order_id": "sell-1",
            "creation_timestamp": T,
            "exchange_order_id": "77",
        },
    )
    submitted, acknowledged = events_from_message("hbot/b/events", body)
    assert isinstance(submitted, OrderSubmitted)
    assert (submitted.side, submitted.order_type, submitted.limit_price) == ("sell", "market", None)
    assert isinstance(acknowledged, OrderAcknowledged)
    assert acknowledged.broker_order_id == "77"


def test_fill_fee_is_percent_of_notional_plus_flat_fees_in_quote() -> None:
    """Hand-worked: 0.1 % of 2 x 2500 = 5 USDT, plus 0.25 USDT flat = 5.25 USDT."""
    body = fill("o1", 2500.0, 2.0, trade_fee("0.001", flat=(("USDT", "0.25"),)))
    (event,) = events_from_message("hbot/bot/events", body)
    assert event == OrderFilled(
        ts=(T + 2) * NS,
        event_id="hummingbot:bot:o1:fill:28457",
        strategy="hummingbot",
        account="bot",
        order_id="o1",
        fill_id="28457",
        quantity=2.0,
        price=2500.0,
        fee=pytest.approx(5.25),  # type: ignore[arg-type]
    )


def test_fill_fee_in_base_asset_is_priced_at_the_fill_price() -> None:
    """Hand-worked: 0.002 ETH at 2500 = 5 USDT (fee_amount_in_token's base rule)."""
    body = fill("o1", 2500.0, 2.0, trade_fee("0", "DeductedFromReturns", (("ETH", "0.002"),)))
    (event,) = events_from_message("hbot/bot/events", body)
    assert isinstance(event, OrderFilled)
    assert event.fee == pytest.approx(5.0)
    assert event.extra == {}


def test_fill_fee_in_a_third_token_is_kept_unpriced() -> None:
    """A BNB fee cannot be priced without a rate: it stays in extra, not in the fee."""
    body = fill("o1", 2500.0, 2.0, trade_fee("0.001", flat=(("BNB", "0.01"),)))
    (event,) = events_from_message("hbot/bot/events", body)
    assert isinstance(event, OrderFilled)
    assert event.fee == pytest.approx(5.0)
    assert event.extra == {"unpriced_fees": [{"token": "BNB", "amount": 0.01}]}


def test_fill_liquidity_follows_the_order_type() -> None:
    """Post-only orders make liquidity, market orders take it, plain limits are unknown."""
    liquidity = {}
    for order_type in ("LIMIT_MAKER", "MARKET", "LIMIT"):
        body = fill("o1", 10.0, 1.0, trade_fee("0"), order_type=f"OrderType.{order_type}")
        (event,) = events_from_message("hbot/bot/events", body)
        assert isinstance(event, OrderFilled)
        liquidity[order_type] = event.liquidity
    assert liquidity == {"LIMIT_MAKER": "maker", "MARKET": "taker", "LIMIT": None}


def test_fill_without_exchange_trade_id_gets_a_stable_fill_id() -> None:
    """hummingbot's default exchange_trade_id is "": the same message maps to the same id."""
    body = fill("o1", 10.0, 1.0, trade_fee("0"), exchange_trade_id="")
    first = events_from_message("hbot/bot/events", body)
    assert first == events_from_message("hbot/bot/events", body)
    assert isinstance(first[0], OrderFilled)
    assert first[0].fill_id == f"{(T + 2) * NS}:1.0@10.0"


def test_cancel_expiry_and_failure() -> None:
    """Cancelled and expired orders are canceled; a failure is a rejection with its message."""
    (canceled,) = events_from_message(
        "hbot/b/events", bridge("OrderCancelled", T, {"order_id": "o1", "exchange_order_id": "9"})
    )
    (expired,) = events_from_message("hbot/b/events", bridge("OrderExpired", T, {"order_id": "o2"}))
    failure = {
        "order_id": "o3",
        "order_type": "OrderType.LIMIT",
        "error_message": "Order amount below minimum",
        "error_type": "ValueError",
    }
    (rejected,) = events_from_message("hbot/b/events", bridge("OrderFailure", T, failure))
    assert isinstance(canceled, OrderCanceled)
    assert (canceled.order_id, canceled.reason) == ("o1", None)
    assert isinstance(expired, OrderCanceled)
    assert (expired.order_id, expired.reason) == ("o2", "expired")
    assert isinstance(rejected, OrderRejected)
    assert (rejected.order_id, rejected.reason) == ("o3", "Order amount below minimum")


def test_completed_and_funding_events_carry_no_event() -> None:
    """The fills already completed the order; funding is not a trade."""
    completed = {
        "order_id": "o1",
        "base_asset": "ETH",
        "quote_asset": "USDT",
        "base_asset_amount": 2.0,
        "quote_asset_amount": 5000.0,
        "order_type": "OrderType.LIMIT",
        "exchange_order_id": "9",
    }
    funding = {"market": "binance_perpetual", "trading_pair": "ETH-USDT", "amount": 1.2}
    assert events_from_message("hbot/b/events", bridge("BuyOrderCompleted", T, completed)) == []
    assert events_from_message("hbot/b/events", bridge("FundingPaymentCompleted", T, funding)) == []


def test_heartbeat_and_availability() -> None:
    """hb is a heartbeat; availability online is a heartbeat, offline an error."""
    (beat,) = events_from_message("hbot/b/hb", b'{"ts": 1780000000500000}')
    online = {"timestamp": 1_780_000_001_000, "type": "availability", "msg": "online"}
    offline = online | {"msg": "offline"}
    (up,) = events_from_message("hbot/b/status_updates", json.dumps(online))
    (down,) = events_from_message("hbot/b/status_updates", json.dumps(offline))
    other = online | {"type": "hbapp", "msg": "strategy started"}
    assert beat == Heartbeat(
        ts=T * NS + NS // 2, strategy="hummingbot", account="b", component="hummingbot"
    )
    assert isinstance(up, Heartbeat)
    assert up.ts == (T + 1) * NS
    assert isinstance(down, Error)
    assert (down.error_type, down.component) == ("offline", "hummingbot")
    assert events_from_message("hbot/b/status_updates", json.dumps(other)) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "hummingbot.events must be a JSON object, received invalid JSON"),
        (b"[1, 2]", "hummingbot.events must be a JSON object, received [1, 2]"),
        (
            bridge("OrderRefunded", T, {}),
            "hummingbot.events.type must be one of 'BuyOrderCreated'",
        ),
        (
            fill("o1", -5.0, 1.0, trade_fee("0")),
            "hummingbot.OrderFilled.data.price must be a finite number > 0, received -5.0",
        ),
        (
            fill("o1", 10.0, 1.0, trade_fee("0") | {"percent": "abc"}),
            "hummingbot.OrderFilled.data.trade_fee.percent must be a decimal string >= 0, "
            "received 'abc'",
        ),
        (
            fill("o1", 10.0, 1.0, trade_fee("0"), trade_type="BUY_SELL"),
            "hummingbot.OrderFilled.data.trade_type must be one of 'TradeType.BUY', "
            "'TradeType.SELL', received 'BUY_SELL'",
        ),
        (
            fill("o1", 10.0, 1.0, trade_fee("0"), trading_pair=None),
            "hummingbot.OrderFilled.data.trading_pair is required",
        ),
        (
            bridge("OrderCancelled", T, {"order_id": ""}),
            "hummingbot.OrderCancelled.data.order_id must be a non-empty string, received ''",
        ),
    ],
)
def test_malformed_message_is_refused_naming_the_field(body: bytes, message: str) -> None:
    """The error names hummingbot's field, shows the value and states the expectation."""
    with pytest.raises(InvalidEventError) as caught:
        events_from_message("hbot/bot/events", body)
    assert str(caught.value).startswith(message)


def test_every_bad_field_is_reported_at_once() -> None:
    """Two bad fields, two errors."""
    with pytest.raises(InvalidEventError) as caught:
        events_from_message("hbot/bot/events", fill("o1", 0.0, -1.0, trade_fee("0")))
    assert [e.field for e in caught.value.errors] == [
        "hummingbot.OrderFilled.data.price",
        "hummingbot.OrderFilled.data.amount",
    ]


def test_event_beyond_the_future_limit_is_refused() -> None:
    """max_ts applies as for HTTP ingest, naming our field."""
    with pytest.raises(InvalidEventError, match=r"order_canceled\.ts must be at most"):
        events_from_message(
            "hbot/b/events",
            bridge("OrderCancelled", T, {"order_id": "o1"}),
            max_ts=(T - 1) * NS,
        )


def test_long_ids_are_hashed_into_the_contract_limit() -> None:
    """An event_id past 256 characters becomes a digest, the same for the same message."""
    order_id = "x" * 250
    body = bridge("OrderCancelled", T, {"order_id": order_id})
    (event,) = events_from_message("hbot/b/events", body)
    assert event.event_id is not None
    assert event.event_id.startswith("hummingbot:sha256:")
    assert len(event.event_id) == len("hummingbot:sha256:") + 64
    assert events_from_message("hbot/b/events", body)[0].event_id == event.event_id
