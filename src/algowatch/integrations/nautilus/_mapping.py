"""Map NautilusTrader's order and account events (their ``to_dict`` form) to algowatch events.

The same dictionaries reach us two ways: :class:`AlgowatchActor` calls the events'
own ``to_dict`` inside the node, and the Redis bridge decodes what Nautilus's
``MsgSpecSerializer`` wrote to the message bus streams (the ``to_dict`` form with
timestamps as strings). So one mapper serves both paths, and it needs no
``nautilus_trader`` import: the bridge runs on any Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from algowatch import events as ev
from algowatch.errors import FieldError, InvalidEventError

__all__ = ["NautilusMapper"]

# Nautilus OrderType -> the contract's order_type (the closest kind; docs/integrations/nautilus.md)
ORDER_TYPES: Final[dict[str, ev.OrderType]] = {
    "MARKET": "market",
    "LIMIT": "limit",
    "STOP_MARKET": "stop",
    "STOP_LIMIT": "stop_limit",
    "MARKET_TO_LIMIT": "market",
    "MARKET_IF_TOUCHED": "stop",
    "LIMIT_IF_TOUCHED": "stop_limit",
    "TRAILING_STOP_MARKET": "trailing_stop",
    "TRAILING_STOP_LIMIT": "trailing_stop",
}
_SIDES: Final[dict[str, ev.Side]] = {"BUY": "buy", "SELL": "sell"}
_LIQUIDITY: Final[dict[str, ev.Liquidity | None]] = {
    "MAKER": "maker",
    "TAKER": "taker",
    "NO_LIQUIDITY_SIDE": None,
}
# Remembered OrderInitialized details are dropped once the order is done, and at most
# this many are kept (an order that never reaches a final state cannot grow memory).
_MAX_ORDERS: Final = 100_000


def _fail(kind: str, field: str, message: str) -> InvalidEventError:
    return InvalidEventError([FieldError(f"nautilus.{kind}.{field}", message)])


class _Fields:
    # Typed reads of one Nautilus dictionary; every failure names the message type and field.
    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values
        kind = values.get("type")
        self.kind = kind if isinstance(kind, str) else "?"

    def text(self, name: str) -> str:
        value = self.values.get(name)
        if not isinstance(value, str) or not value:
            raise _fail(self.kind, name, f"must be a non-empty string, received {value!r}")
        return value

    def optional_text(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else self.text(name)

    def number(self, name: str) -> float:
        # Quantity, Price and Money are strings ("100000", "0.70012", "1.40 USD")
        raw = self.values.get(name)
        token = raw.split(" ", 1)[0] if isinstance(raw, str) else raw
        try:
            return float(token)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _fail(self.kind, name, f"must be a number, received {raw!r}") from None

    def ts(self, name: str = "ts_event") -> int:
        # UNIX ns as an int (to_dict) or a decimal string (serializer, timestamps_as_str)
        raw = self.values.get(name)
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.isdigit():
            return int(raw)
        raise _fail(self.kind, name, f"must be UNIX nanoseconds, received {raw!r}")

    def choice(self, name: str, table: Mapping[str, Any]) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str) or value not in table:
            raise _fail(self.kind, name, f"must be one of {sorted(table)}, received {value!r}")
        return table[value]


class NautilusMapper:
    """Turn Nautilus event dictionaries into algowatch events, remembering open orders.

    Nautilus's ``OrderSubmitted`` names the order only; its symbol, side, quantity,
    type and price come from the ``OrderInitialized`` before it, which the mapper
    keeps until the order is done. Labels: ``strategy`` is the Nautilus
    ``strategy_id``, ``account`` its ``account_id``, ``symbol`` the
    ``instrument_id``; the Nautilus event ``id`` becomes ``event_id``, so an event
    that arrives twice (actor and bridge, or a re-read stream) counts once.

    Examples
    --------
    >>> mapper = NautilusMapper()
    >>> mapper.map({"type": "OrderInitialized", "strategy_id": "S-001",
    ...     "instrument_id": "AUD/USD.SIM", "client_order_id": "O-1", "order_side": "BUY",
    ...     "order_type": "LIMIT", "quantity": "100000", "options": {"price": "0.70010"},
    ...     "event_id": "e-0", "ts_event": 1})
    []
    >>> [event.order_type for event in mapper.map({"type": "OrderSubmitted",
    ...     "strategy_id": "S-001", "client_order_id": "O-1", "account_id": "SIM-001",
    ...     "event_id": "e-1", "ts_event": "1000000000000000000"})]
    ['limit']
    """

    def __init__(self) -> None:
        self._orders: dict[str, dict[str, Any]] = {}
        self._accounts: dict[str, str] = {}

    def map(self, values: Mapping[str, Any]) -> list[ev.Event]:
        """Return the algowatch events for one Nautilus event (none for types not mapped).

        Raises
        ------
        InvalidEventError
            The dictionary lacks a field the mapping needs or holds a bad value;
            nothing is remembered from it.
        """
        fields = _Fields(values)
        handler = _HANDLERS.get(fields.kind)
        if handler is None:
            return []
        return handler(self, fields)

    def _base(self, fields: _Fields, order_id: str | None = None) -> dict[str, Any]:
        account = fields.optional_text("account_id")
        if account is None and order_id is not None:
            account = self._accounts.get(order_id)
        return {
            "ts": fields.ts(),
            "event_id": fields.text("event_id"),
            "strategy": fields.text("strategy_id"),
            "account": account or "default",
        }

    def _initialized(self, fields: _Fields) -> list[ev.Event]:
        order_id = fields.text("client_order_id")
        options = fields.values.get("options") or {}
        price = options.get("price") if isinstance(options, Mapping) else None
        details = {
            "symbol": fields.text("instrument_id"),
            "side": fields.choice("order_side", _SIDES),
            "quantity": fields.number("quantity"),
            "order_type": fields.choice("order_type", ORDER_TYPES),
            "limit_price": None if price is None else _Fields({"p": price}).number("p"),
        }
        if len(self._orders) >= _MAX_ORDERS:
            self._forget(next(iter(self._orders)))
        self._orders[order_id] = details
        return []

    def _submitted(self, fields: _Fields) -> list[ev.Event]:
        order_id = fields.text("client_order_id")
        details = self._orders.get(order_id)
        if details is None:
            raise _fail(fields.kind, "client_order_id", f"{order_id!r} has no OrderInitialized")
        base = self._base(fields)
        self._accounts[order_id] = base["account"]
        return [ev.OrderSubmitted(**base, order_id=order_id, **details)]

    def _denied(self, fields: _Fields) -> list[ev.Event]:
        # denied before it left (risk engine, emulator): submitted and rejected at once
        order_id = fields.text("client_order_id")
        details = self._orders.get(order_id)
        if details is None:
            raise _fail(fields.kind, "client_order_id", f"{order_id!r} has no OrderInitialized")
        base = self._base(fields)
        reason = f"denied: {fields.optional_text('reason') or 'no reason given'}"
        self._forget(order_id)
        return [
            ev.OrderSubmitted(**base, order_id=order_id, **details),
            ev.OrderRejected(
                **{**base, "event_id": base["event_id"] + ":rejected"},
                order_id=order_id,
                reason=reason,
            ),
        ]

    def _accepted(self, fields: _Fields) -> list[ev.Event]:
        order_id = fields.text("client_order_id")
        return [
            ev.OrderAcknowledged(
                **self._base(fields, order_id),
                order_id=order_id,
                broker_order_id=fields.optional_text("venue_order_id"),
            )
        ]

    def _rejected(self, fields: _Fields) -> list[ev.Event]:
        order_id = fields.text("client_order_id")
        base = self._base(fields, order_id)
        reason = fields.optional_text("reason") or "rejected"
        self._forget(order_id)
        return [ev.OrderRejected(**base, order_id=order_id, reason=reason)]

    def _canceled(self, fields: _Fields) -> list[ev.Event]:
        order_id = fields.text("client_order_id")
        base = self._base(fields, order_id)
        reason = "expired" if fields.kind == "OrderExpired" else None
        self._forget(order_id)
        return [ev.OrderCanceled(**base, order_id=order_id, reason=reason)]

    def _filled(self, fields: _Fields) -> list[ev.Event]:
        order_id = fields.text("client_order_id")
        base = self._base(fields, order_id)
        fill = ev.OrderFilled(
            **base,
            order_id=order_id,
            fill_id=fields.text("trade_id"),
            quantity=fields.number("last_qty"),
            price=fields.number("last_px"),
            fee=fields.number("commission"),
            liquidity=fields.choice("liquidity_side", _LIQUIDITY),
        )
        details = self._orders.get(order_id)
        if details is not None:
            details["filled"] = details.get("filled", 0.0) + fill.quantity
            if details["filled"] >= details["quantity"]:
                self._forget(order_id)
        return [fill]

    def _account_state(self, fields: _Fields) -> list[ev.Event]:
        # the balance in the account's base currency (or its only balance)
        balances = fields.values.get("balances")
        if not isinstance(balances, list) or not balances:
            raise _fail(fields.kind, "balances", f"must be a non-empty list, received {balances!r}")
        base_currency = fields.values.get("base_currency")
        chosen = next(
            (b for b in balances if isinstance(b, Mapping) and b.get("currency") == base_currency),
            balances[0],
        )
        balance = _Fields({**chosen, "type": "AccountState.balances"})
        return [
            ev.Account(
                ts=fields.ts(),
                event_id=fields.text("event_id"),
                account=fields.text("account_id"),
                equity=balance.number("total"),
                cash=balance.number("free"),
            )
        ]

    def _forget(self, order_id: str) -> None:
        self._orders.pop(order_id, None)
        self._accounts.pop(order_id, None)


_HANDLERS: Final = {
    "OrderInitialized": NautilusMapper._initialized,
    "OrderSubmitted": NautilusMapper._submitted,
    "OrderDenied": NautilusMapper._denied,
    "OrderAccepted": NautilusMapper._accepted,
    "OrderRejected": NautilusMapper._rejected,
    "OrderCanceled": NautilusMapper._canceled,
    "OrderExpired": NautilusMapper._canceled,
    "OrderFilled": NautilusMapper._filled,
    "AccountState": NautilusMapper._account_state,
}
