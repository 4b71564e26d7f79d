"""Map NautilusTrader's order and account events to algowatch events.

The events reach us two ways: :class:`AlgowatchActor` reads Nautilus's typed events inside
the node, and the Redis bridge decodes what Nautilus's ``MsgSpecSerializer`` wrote to the
message bus streams (the ``to_dict`` form, timestamps as strings). One mapper serves both
paths, through two doors (the typed methods; :meth:`NautilusMapper.map` for a dictionary),
and it needs no ``nautilus_trader`` import: the bridge runs on any Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from algowatch import events as ev
from algowatch.errors import FieldError, InvalidEventError

__all__ = ["MAPPED_TYPES", "NautilusMapper"]

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
# what an OrderInitialized tells of its order: symbol, side, quantity, order type, limit price
_Details = tuple[str, ev.Side, float, ev.OrderType, float | None]


def _fail(kind: str, field: str, message: str) -> InvalidEventError:
    return InvalidEventError([FieldError(f"nautilus.{kind}.{field}", message)])


def _choice(kind: str, field: str, table: Mapping[str, Any], name: object) -> Any:
    try:
        return table[name]  # type: ignore[index]
    except (KeyError, TypeError):
        message = f"must be one of {sorted(table)}, received {name!r}"
        raise _fail(kind, field, message) from None


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

    def enum(self, name: str) -> Any:
        # an enum's name, checked by the typed door it is handed to
        return self.values.get(name)


class NautilusMapper:
    """Turn Nautilus events into algowatch events, remembering open orders.

    Two doors lead to the same rules. :meth:`map` reads an event's dictionary (its
    ``to_dict`` form: the Redis bridge's path) and checks every field it reads; the
    typed methods (:meth:`order_filled`, :meth:`account_state`, ...) take the values
    already read from Nautilus's typed event (the actor's path, which reads no
    dictionary). Nautilus's ``OrderSubmitted`` names the order only; its symbol, side,
    quantity, type and price come from the ``OrderInitialized`` before it, which the
    mapper keeps until the order is done. Labels: ``strategy`` is the Nautilus
    ``strategy_id``, ``account`` its ``account_id`` (else the one its order was
    submitted with), ``symbol`` the ``instrument_id``; the Nautilus event ``id``
    becomes ``event_id``, so an event that arrives twice (actor and bridge, or a
    re-read stream) counts once. Enums are read by their Nautilus names (``"BUY"``,
    ``"LIMIT"``, ``"MAKER"``).

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
    >>> fill = mapper.order_filled(
    ...     2, "e-2", "S-001", None, "O-1", "T-1", 100000.0, 0.7001, 1.4, "TAKER")
    >>> fill.account, fill.liquidity
    ('SIM-001', 'taker')

    .. versionchanged:: 0.1.0
       The typed methods (the actor reads no ``to_dict`` form).
    """

    def __init__(self) -> None:
        # an OrderInitialized's symbol, side, quantity, order type and limit price
        self._orders: dict[str, _Details] = {}
        self._quantity_filled: dict[str, float] = {}
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

    # The typed doors. Each trusts the types of its arguments (read from Nautilus's typed
    # events) and checks only the enum names; a bad one raises InvalidEventError and
    # leaves the memory untouched.

    def order_initialized(  # noqa: PLR0917 - the actor's hot path: one argument per field
        self,
        order_id: str,
        symbol: str,
        side: str,
        order_type: str,
        quantity: float,
        limit_price: float | None,
    ) -> None:
        """Remember an ``OrderInitialized``'s details for the events of its order."""
        details = (
            symbol,
            _choice("OrderInitialized", "order_side", _SIDES, side),
            quantity,
            _choice("OrderInitialized", "order_type", ORDER_TYPES, order_type),
            limit_price,
        )
        if len(self._orders) >= _MAX_ORDERS:
            self._forget(next(iter(self._orders)))
        self._orders[order_id] = details

    def order_submitted(
        self, ts: int, event_id: str, strategy: str, account: str | None, order_id: str
    ) -> ev.OrderSubmitted:
        """Return an ``OrderSubmitted`` as an ``order_submitted`` event."""
        submitted = self._submission("OrderSubmitted", ts, event_id, strategy, account, order_id)
        self._accounts[order_id] = submitted.account
        return submitted

    def order_denied(  # noqa: PLR0917 - the actor's hot path: one argument per field
        self,
        ts: int,
        event_id: str,
        strategy: str,
        account: str | None,
        order_id: str,
        reason: str | None,
    ) -> tuple[ev.OrderSubmitted, ev.OrderRejected]:
        """Return an ``OrderDenied`` (refused before it left) as submitted and rejected."""
        submitted = self._submission("OrderDenied", ts, event_id, strategy, account, order_id)
        self._forget(order_id)
        return (
            submitted,
            ev.OrderRejected(
                ts=ts,
                event_id=event_id + ":rejected",
                strategy=strategy,
                account=submitted.account,
                order_id=order_id,
                reason=f"denied: {reason or 'no reason given'}",
            ),
        )

    def _submission(  # noqa: PLR0917 - the actor's hot path: one argument per field
        self,
        kind: str,
        ts: int,
        event_id: str,
        strategy: str,
        account: str | None,
        order_id: str,
    ) -> ev.OrderSubmitted:
        symbol, side, quantity, order_type, limit_price = self._details(kind, order_id)
        # keywords spelled out: a ** mapping costs the constructor a dictionary and a merge
        return ev.OrderSubmitted(
            ts=ts,
            event_id=event_id,
            strategy=strategy,
            account=account or "default",
            order_id=order_id,
            symbol=symbol,
            side=side,
            quantity=quantity,
            order_type=order_type,
            limit_price=limit_price,
        )

    def _account(self, account: str | None, order_id: str) -> str:
        # the event's account, else the one its order was submitted with, else "default"
        return account or self._accounts.get(order_id) or "default"

    def order_accepted(  # noqa: PLR0917 - the actor's hot path: one argument per field
        self,
        ts: int,
        event_id: str,
        strategy: str,
        account: str | None,
        order_id: str,
        venue_order_id: str | None,
    ) -> ev.OrderAcknowledged:
        """Return an ``OrderAccepted`` as an ``order_acknowledged`` event."""
        return ev.OrderAcknowledged(
            ts=ts,
            event_id=event_id,
            strategy=strategy,
            account=self._account(account, order_id),
            order_id=order_id,
            broker_order_id=venue_order_id,
        )

    def order_rejected(  # noqa: PLR0917 - the actor's hot path: one argument per field
        self,
        ts: int,
        event_id: str,
        strategy: str,
        account: str | None,
        order_id: str,
        reason: str | None,
    ) -> ev.OrderRejected:
        """Return an ``OrderRejected`` as an ``order_rejected`` event; the order is done."""
        account = self._account(account, order_id)
        self._forget(order_id)
        return ev.OrderRejected(
            ts=ts,
            event_id=event_id,
            strategy=strategy,
            account=account,
            order_id=order_id,
            reason=reason or "rejected",
        )

    def order_canceled(
        self,
        ts: int,
        event_id: str,
        strategy: str,
        account: str | None,
        order_id: str,
        *,
        expired: bool,
    ) -> ev.OrderCanceled:
        """Return an ``OrderCanceled`` (or ``OrderExpired``) as ``order_canceled``; it is done."""
        account = self._account(account, order_id)
        self._forget(order_id)
        return ev.OrderCanceled(
            ts=ts,
            event_id=event_id,
            strategy=strategy,
            account=account,
            order_id=order_id,
            reason="expired" if expired else None,
        )

    def order_filled(  # noqa: PLR0917 - the actor's hot path: one argument per field
        self,
        ts: int,
        event_id: str,
        strategy: str,
        account: str | None,
        order_id: str,
        fill_id: str,
        quantity: float,
        price: float,
        fee: float,
        liquidity: str,
    ) -> ev.OrderFilled:
        """Return an ``OrderFilled`` as an ``order_filled`` event (the fee is the commission)."""
        fill = ev.OrderFilled(
            ts=ts,
            event_id=event_id,
            strategy=strategy,
            account=self._account(account, order_id),
            order_id=order_id,
            fill_id=fill_id,
            quantity=quantity,
            price=price,
            fee=fee,
            liquidity=_choice("OrderFilled", "liquidity_side", _LIQUIDITY, liquidity),
        )
        details = self._orders.get(order_id)
        if details is not None:
            filled = self._quantity_filled[order_id] = (
                self._quantity_filled.get(order_id, 0.0) + quantity
            )
            if filled >= details[2]:
                self._forget(order_id)
        return fill

    def account_state(
        self, ts: int, event_id: str, account: str, equity: float, cash: float
    ) -> ev.Account:
        """Return an ``AccountState``'s balance (total and free) as an ``account`` event."""
        return ev.Account(ts=ts, event_id=event_id, account=account, equity=equity, cash=cash)

    # The dictionary door: read and check each field, then take the typed door.

    def _initialized(self, fields: _Fields) -> list[ev.Event]:
        order_id = fields.text("client_order_id")
        options = fields.values.get("options") or {}
        price = options.get("price") if isinstance(options, Mapping) else None
        symbol = fields.text("instrument_id")
        side = fields.enum("order_side")
        quantity = fields.number("quantity")
        order_type = fields.enum("order_type")
        self.order_initialized(
            order_id,
            symbol,
            side,
            order_type,
            quantity,
            None if price is None else _Fields({"p": price}).number("p"),
        )
        return []

    def _submitted(self, fields: _Fields) -> list[ev.Event]:
        order_id = fields.text("client_order_id")
        self._details(fields.kind, order_id)
        ts, event_id, strategy, account = self._base(fields)
        return [self.order_submitted(ts, event_id, strategy, account, order_id)]

    def _denied(self, fields: _Fields) -> list[ev.Event]:
        order_id = fields.text("client_order_id")
        self._details(fields.kind, order_id)
        ts, event_id, strategy, account = self._base(fields)
        reason = fields.optional_text("reason")
        return list(self.order_denied(ts, event_id, strategy, account, order_id, reason))

    def _accepted(self, fields: _Fields) -> list[ev.Event]:
        order_id = fields.text("client_order_id")
        ts, event_id, strategy, account = self._base(fields)
        venue_order_id = fields.optional_text("venue_order_id")
        return [self.order_accepted(ts, event_id, strategy, account, order_id, venue_order_id)]

    def _rejected(self, fields: _Fields) -> list[ev.Event]:
        order_id = fields.text("client_order_id")
        ts, event_id, strategy, account = self._base(fields)
        reason = fields.optional_text("reason")
        return [self.order_rejected(ts, event_id, strategy, account, order_id, reason)]

    def _canceled(self, fields: _Fields) -> list[ev.Event]:
        order_id = fields.text("client_order_id")
        ts, event_id, strategy, account = self._base(fields)
        expired = fields.kind == "OrderExpired"
        return [self.order_canceled(ts, event_id, strategy, account, order_id, expired=expired)]

    def _filled(self, fields: _Fields) -> list[ev.Event]:
        order_id = fields.text("client_order_id")
        ts, event_id, strategy, account = self._base(fields)
        fill_id = fields.text("trade_id")
        quantity = fields.number("last_qty")
        price = fields.number("last_px")
        fee = fields.number("commission")
        liquidity = fields.enum("liquidity_side")
        return [
            self.order_filled(
                ts,
                event_id,
                strategy,
                account,
                order_id,
                fill_id,
                quantity,
                price,
                fee,
                liquidity,
            )
        ]

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
        ts = fields.ts()
        event_id = fields.text("event_id")
        account = fields.text("account_id")
        equity = balance.number("total")
        cash = balance.number("free")
        return [self.account_state(ts, event_id, account, equity, cash)]

    def _base(self, fields: _Fields) -> tuple[int, str, str, str | None]:
        return (
            fields.ts(),
            fields.text("event_id"),
            fields.text("strategy_id"),
            fields.optional_text("account_id"),
        )

    def _details(self, kind: str, order_id: str) -> _Details:
        details = self._orders.get(order_id)
        if details is None:
            raise _fail(kind, "client_order_id", f"{order_id!r} has no OrderInitialized")
        return details

    def _forget(self, order_id: str) -> None:
        self._orders.pop(order_id, None)
        self._quantity_filled.pop(order_id, None)
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
#: The Nautilus event types (``type(event).__name__``) the mapper turns into events.
MAPPED_TYPES: Final = frozenset(_HANDLERS)
