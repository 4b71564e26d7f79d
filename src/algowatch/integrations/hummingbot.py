"""hummingbot's MQTT bridge messages as algowatch events (pure: a message in, events out).

hummingbot (``mqtt_bridge`` in its ``conf_client.yml``) publishes, per bot instance, on
``<namespace>/<instance_id>/...`` (namespace ``hbot`` by default):

============================  =========================================================
topic suffix                  what it carries, and the events made from it
============================  =========================================================
``/events``                   ``{"timestamp": s, "type": "OrderFilled", "data": {...}}``:
                              its market events (see the table below)
``/hb``                       ``{"ts": µs}`` every 10 s: a ``heartbeat``
``/status_updates``           ``{"timestamp": ms, "type": "availability", "msg":
                              "online"}``: ``online`` is a ``heartbeat``, ``offline`` an
                              ``error`` (``error_type`` ``"offline"``); others are ignored
============================  =========================================================

Market events (``data`` is the event's dataclass or named tuple, made JSON by the bridge:
decimals become numbers, enums strings such as ``"OrderType.LIMIT"``, the trade fee
``TradeFeeBase.to_json()``):

- ``BuyOrderCreated`` / ``SellOrderCreated``: ``order_submitted`` at the order's
  ``creation_timestamp`` and ``order_acknowledged`` (the exchange accepted it) at the
  message's time;
- ``OrderFilled``: ``order_filled`` with the fee in the quote currency, as hummingbot's
  ``TradeFeeBase.fee_amount_in_token`` counts it (``percent × price × amount`` plus the
  flat fees in the quote asset, plus those in the base asset at the fill price); flat fees
  in a third token cannot be priced here and are kept in ``extra["unpriced_fees"]``;
- ``OrderCancelled``: ``order_canceled``; ``OrderExpired``: ``order_canceled`` with
  reason ``"expired"``; ``OrderFailure``: ``order_rejected`` with hummingbot's message;
- ``BuyOrderCompleted`` / ``SellOrderCompleted``: validated, no event (the fills already
  completed the order); funding and liquidity-pool events: ignored.

Every event gets ``account`` = the instance id and a deterministic ``event_id``
(``hummingbot:<instance>:<order_id>:<what>``), so a message delivered twice is counted once.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from algowatch._storage import short_repr
from algowatch.errors import FieldError, InvalidEventError
from algowatch.events import Event, event_from_mapping, format_timestamp

__all__ = [
    "MARKET_EVENTS",
    "TOPIC_SUFFIXES",
    "HummingbotMessage",
    "events_from_message",
    "subscriptions",
]

TOPIC_SUFFIXES: Final = ("events", "hb", "status_updates")

# hummingbot's MQTTMarketEventForwarder.EVENT_TYPES (the names it puts in "type")
MARKET_EVENTS: Final[tuple[str, ...]] = (
    "BuyOrderCreated",
    "SellOrderCreated",
    "OrderFilled",
    "OrderCancelled",
    "OrderExpired",
    "OrderFailure",
    "BuyOrderCompleted",
    "SellOrderCompleted",
    "FundingPaymentCompleted",
    "RangePositionLiquidityAdded",
    "RangePositionLiquidityRemoved",
    "RangePositionUpdateFailure",
)
_IGNORED_EVENTS: Final = frozenset(
    {
        "FundingPaymentCompleted",
        "RangePositionLiquidityAdded",
        "RangePositionLiquidityRemoved",
        "RangePositionUpdateFailure",
    }
)
# hummingbot's OrderType: limit makers are post-only, AMM swaps take liquidity at once
_ORDER_TYPES: Final = {
    "MARKET": "market",
    "LIMIT": "limit",
    "LIMIT_MAKER": "limit",
    "AMM_SWAP": "market",
}
_LIQUIDITY: Final = {"MARKET": "taker", "LIMIT_MAKER": "maker", "AMM_SWAP": "taker"}
_SIDES: Final = {"BUY": "buy", "SELL": "sell"}
_MAX_EVENT_ID: Final = 256
_NS: Final = 1_000_000_000


@dataclass(frozen=True, slots=True)
class HummingbotMessage:
    """Where a bridge message came from, parsed from its topic.

    Attributes
    ----------
    instance_id
        The bot instance (the topic's second level); becomes the events' ``account``.
    kind
        ``"events"``, ``"hb"`` or ``"status_updates"``.
    """

    instance_id: str
    kind: str

    @classmethod
    def from_topic(cls, topic: str, namespace: str = "hbot") -> HummingbotMessage | None:
        """Return the parsed topic, or ``None`` for a topic that is not one of ours.

        Examples
        --------
        >>> HummingbotMessage.from_topic("hbot/bot-1/events")
        HummingbotMessage(instance_id='bot-1', kind='events')
        >>> HummingbotMessage.from_topic("hbot/bot-1/log") is None
        True
        """
        prefix = namespace.rstrip("/.") + "/"
        if not topic.startswith(prefix):
            return None
        instance_id, _, kind = topic[len(prefix) :].partition("/")
        if not instance_id or kind not in TOPIC_SUFFIXES:
            return None
        return cls(instance_id, kind)


def subscriptions(namespace: str = "hbot", instances: tuple[str, ...] = ()) -> list[str]:
    """Return the MQTT topic filters that receive every message this module maps.

    Examples
    --------
    >>> subscriptions()
    ['hbot/+/events', 'hbot/+/hb', 'hbot/+/status_updates']
    >>> subscriptions("hbot", ("bot-1",))
    ['hbot/bot-1/events', 'hbot/bot-1/hb', 'hbot/bot-1/status_updates']
    """
    prefix = namespace.rstrip("/.")
    levels = instances or ("+",)
    return [f"{prefix}/{level}/{kind}" for level in levels for kind in TOPIC_SUFFIXES]


class _Reader:
    """Read typed fields of one message, collecting an error per bad field."""

    def __init__(self, where: str, data: Mapping[str, Any]) -> None:
        self.where = where
        self.data = data
        self.errors: list[FieldError] = []

    def _fail(self, key: str, expectation: str) -> None:
        if self.data.get(key) is None:
            message = "is required"
        else:
            message = f"{expectation}, received {short_repr(self.data[key])}"
        self.errors.append(FieldError(f"{self.where}.{key}", message))

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.data.get(key)
        if isinstance(value, str) and value:
            return value
        if value in (None, "") and not required:  # hummingbot's defaults: None or ""
            return None
        self._fail(key, "must be a non-empty string")
        return None

    def number(self, key: str, *, positive: bool = True, required: bool = True) -> float | None:
        value = self.data.get(key)
        if value is None and not required:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            if math.isfinite(number) and (number > 0 if positive else number >= 0):
                return number
        self._fail(key, f"must be a finite number {'> 0' if positive else '>= 0'}")
        return None

    def decimal_text(self, key: str) -> float | None:
        # TradeFeeBase.to_json() writes its decimals as strings ("0.001")
        value = self.data.get(key)
        try:
            number = float(value) if isinstance(value, str | int | float) else math.nan
        except ValueError:
            number = math.nan
        if isinstance(value, bool) or not math.isfinite(number) or number < 0:
            self._fail(key, "must be a decimal string >= 0")
            return None
        return number

    def enum(self, key: str, enum: str, choices: Mapping[str, str]) -> str | None:
        # the bridge writes str(Enum member): "OrderType.LIMIT", "TradeType.BUY"
        value = self.data.get(key)
        if isinstance(value, str):
            name = value.removeprefix(f"{enum}.")
            if name in choices:
                return name
        expected = ", ".join(f"'{enum}.{name}'" for name in choices)
        self._fail(key, f"must be one of {expected}")
        return None

    def mapping(self, key: str) -> Mapping[str, Any] | None:
        value = self.data.get(key)
        if isinstance(value, Mapping):
            return value
        self._fail(key, "must be an object")
        return None


def _seconds_to_ns(seconds: float) -> int:
    return round(seconds * _NS)


def _event_id(*parts: str) -> str:
    text = ":".join(("hummingbot", *parts))
    if len(text) <= _MAX_EVENT_ID:
        return text
    # very long order ids: a digest keeps the id unique and within the contract's limit
    return "hummingbot:sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _trading_pair(pair: str) -> tuple[str, str]:
    base, _, quote = pair.partition("-")
    return base, quote


def _fee(
    read: _Reader, fee: Mapping[str, Any], pair: str, price: float, amount: float
) -> tuple[float, list[dict[str, Any]]]:
    # hummingbot's TradeFeeBase.fee_amount_in_token(pair, price, amount, token=quote)
    fee_read = _Reader(f"{read.where}.trade_fee", fee)
    percent = fee_read.decimal_text("percent")
    flat = fee.get("flat_fees", [])
    if not isinstance(flat, list):
        fee_read._fail("flat_fees", "must be a list")
        flat = []
    base, quote = _trading_pair(pair)
    total = (percent or 0.0) * price * amount
    unpriced: list[dict[str, Any]] = []
    for index, entry in enumerate(flat):
        if not isinstance(entry, Mapping):
            fee_read._fail("flat_fees", "must hold objects with token and amount")
            continue
        token_read = _Reader(f"{fee_read.where}.flat_fees[{index}]", entry)
        token = token_read.text("token")
        value = token_read.decimal_text("amount")
        fee_read.errors.extend(token_read.errors)
        if token is None or value is None:
            continue
        if token == quote:
            total += value
        elif token == base:
            total += value * price
        else:
            unpriced.append({"token": token, "amount": value})
    read.errors.extend(fee_read.errors)
    return total, unpriced


def _market_event(  # noqa: PLR0912 - one branch per kind of market event
    name: str, data: Mapping[str, Any], ts: int, common: dict[str, Any], instance: str
) -> list[dict[str, Any]]:
    read = _Reader(f"hummingbot.{name}.data", data)
    order_id = read.text("order_id")
    if name in ("BuyOrderCreated", "SellOrderCreated"):
        order_type = read.enum("type", "OrderType", _ORDER_TYPES)
        pair = read.text("trading_pair")
        amount = read.number("amount")
        price = read.number("price", positive=False)
        created = read.number("creation_timestamp", positive=False, required=False)
        broker_id = read.text("exchange_order_id", required=False)
        if read.errors or order_id is None or order_type is None:
            raise InvalidEventError(read.errors)
        ts_submitted = ts if not created else min(ts, _seconds_to_ns(created))
        submitted: dict[str, Any] = {
            "type": "order_submitted",
            "event_id": _event_id(instance, order_id, "submitted"),
            "ts": ts_submitted,
            "order_id": order_id,
            "symbol": pair,
            "side": "buy" if name == "BuyOrderCreated" else "sell",
            "quantity": amount,
            "order_type": _ORDER_TYPES[order_type],
        }
        if price and _ORDER_TYPES[order_type] == "limit":
            submitted["limit_price"] = price
        acknowledged = {
            "type": "order_acknowledged",
            "event_id": _event_id(instance, order_id, "acknowledged"),
            "ts": ts,
            "order_id": order_id,
            "broker_order_id": broker_id,
        }
        return [submitted | common, acknowledged | common]
    if name == "OrderFilled":
        pair = read.text("trading_pair")
        read.enum("trade_type", "TradeType", _SIDES)
        order_type = read.enum("order_type", "OrderType", _ORDER_TYPES)
        price = read.number("price")
        amount = read.number("amount")
        fee_json = read.mapping("trade_fee")
        trade_id = read.text("exchange_trade_id", required=False) or None
        fee, unpriced = 0.0, list[dict[str, Any]]()
        if fee_json is not None and pair and price and amount:
            fee, unpriced = _fee(read, fee_json, pair, price, amount)
        if read.errors or order_id is None or price is None or amount is None:
            raise InvalidEventError(read.errors)
        # a fill without an exchange trade id is named by what it is (same message, same id)
        fill_id = trade_id or f"{ts}:{amount!r}@{price!r}"
        filled: dict[str, Any] = {
            "type": "order_filled",
            "event_id": _event_id(instance, order_id, "fill", fill_id),
            "ts": ts,
            "order_id": order_id,
            "fill_id": fill_id,
            "quantity": amount,
            "price": price,
            "fee": fee,
            "liquidity": _LIQUIDITY.get(order_type or ""),
        }
        if unpriced:
            filled["unpriced_fees"] = unpriced
        return [filled | common]
    if name in ("OrderCancelled", "OrderExpired"):
        if order_id is None:
            raise InvalidEventError(read.errors)
        canceled: dict[str, Any] = {
            "type": "order_canceled",
            "event_id": _event_id(instance, order_id, "canceled"),
            "ts": ts,
            "order_id": order_id,
        }
        if name == "OrderExpired":
            canceled["reason"] = "expired"
        return [canceled | common]
    if name == "OrderFailure":
        message = read.text("error_message", required=False)
        kind = read.text("error_type", required=False)
        if order_id is None:
            raise InvalidEventError(read.errors)
        reason = message or kind or "hummingbot reported an order failure without a message"
        rejected = {
            "type": "order_rejected",
            "event_id": _event_id(instance, order_id, "rejected"),
            "ts": ts,
            "order_id": order_id,
            "reason": reason,
        }
        return [rejected | common]
    # BuyOrderCompleted / SellOrderCompleted: checked, but the fills already told it all
    read.number("base_asset_amount", positive=False)
    read.number("quote_asset_amount", positive=False)
    if read.errors:
        raise InvalidEventError(read.errors)
    return []


def _payload(raw: bytes | str, where: str) -> Mapping[str, Any]:
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        msg = f"must be a JSON object, received invalid JSON ({exc})"
        raise InvalidEventError([FieldError(where, msg)]) from None
    if not isinstance(payload, Mapping):
        msg = f"must be a JSON object, received {short_repr(payload)}"
        raise InvalidEventError([FieldError(where, msg)])
    return payload


def _mappings(
    message: HummingbotMessage,
    payload: Mapping[str, Any],
    common: dict[str, Any],
    component: str,
) -> list[dict[str, Any]]:
    kind = message.kind
    if kind == "hb":
        read = _Reader("hummingbot.hb", payload)
        micros = read.number("ts")
        if micros is None:
            raise InvalidEventError(read.errors)
        return [{"type": "heartbeat", "ts": round(micros * 1000), "component": component} | common]
    if kind == "status_updates":
        read = _Reader("hummingbot.status_updates", payload)
        millis = read.number("timestamp")
        status_type = read.text("type", required=False)
        text = read.text("msg", required=False)
        if millis is None:
            raise InvalidEventError(read.errors)
        ts = round(millis * 1_000_000)
        if status_type != "availability" or text not in ("online", "offline"):
            return []
        if text == "online":
            return [{"type": "heartbeat", "ts": ts, "component": component} | common]
        offline = f"hummingbot instance {message.instance_id!r} went offline"
        return [
            {
                "type": "error",
                "ts": ts,
                "error_type": "offline",
                "component": component,
                "message": offline,
            }
            | common
        ]
    read = _Reader("hummingbot.events", payload)
    seconds = read.number("timestamp", positive=False)
    name = payload.get("type")
    data = read.mapping("data")
    if name not in MARKET_EVENTS:
        expected = ", ".join(repr(n) for n in MARKET_EVENTS)
        read._fail("type", f"must be one of {expected}")
    if read.errors or seconds is None or data is None:
        raise InvalidEventError(read.errors)
    if name in _IGNORED_EVENTS:
        return []
    return _market_event(str(name), data, _seconds_to_ns(seconds), common, message.instance_id)


def events_from_message(
    topic: str,
    payload: bytes | str,
    *,
    namespace: str = "hbot",
    strategy: str = "hummingbot",
    component: str = "hummingbot",
    max_ts: int | None = None,
) -> list[Event]:
    """Return the algowatch events one hummingbot bridge message stands for.

    Parameters
    ----------
    topic
        The MQTT topic (``<namespace>/<instance_id>/events``, ``/hb`` or ``/status_updates``).
    payload
        The message body, JSON as the bridge writes it.
    namespace
        hummingbot's ``mqtt_namespace``.
    strategy
        The ``strategy`` label of every event.
    component
        The ``component`` of heartbeats and errors.
    max_ts
        The latest acceptable ``ts`` (UNIX ns), as for HTTP ingest; ``None``: no limit.

    Returns
    -------
    list of Event
        Empty for a message that carries nothing algowatch counts (another topic, a
        funding or liquidity event, an order completion, a status update other than
        online/offline).

    Raises
    ------
    InvalidEventError
        Naming every bad field of the message (``hummingbot.OrderFilled.data.price must
        be a finite number > 0, received 'abc'``); nothing of it is returned.

    Examples
    --------
    >>> [e.component for e in events_from_message("hbot/bot-1/hb", b'{"ts": 1700000000500000}')]
    ['hummingbot']
    >>> events_from_message("hbot/bot-1/events", b'{"timestamp": 1, "type": "OrderCancelled"}')
    Traceback (most recent call last):
    ...
    algowatch.errors.InvalidEventError: hummingbot.events.data is required
    """
    message = HummingbotMessage.from_topic(topic, namespace)
    if message is None:
        return []
    body = _payload(payload, f"hummingbot.{message.kind}")
    common = {"account": message.instance_id, "strategy": strategy}
    mappings = _mappings(message, body, common, component)
    events: list[Event] = []
    errors: list[FieldError] = []
    for mapping in mappings:
        clean = {k: v for k, v in mapping.items() if v is not None}
        try:
            clean["ts"] = format_timestamp(clean["ts"])
        except (ValueError, OverflowError):
            msg = f"must be a time between 1970 and 2262, received {short_repr(clean['ts'])} ns"
            errors.append(FieldError(f"hummingbot.{message.kind}.timestamp", msg))
            continue
        try:
            events.append(event_from_mapping(clean, max_ts=max_ts))
        except InvalidEventError as exc:
            errors.extend(exc.errors)
    if errors:
        raise InvalidEventError(errors)
    return events
