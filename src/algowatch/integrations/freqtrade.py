"""freqtrade's webhook messages as algowatch events.

freqtrade (https://www.freqtrade.io) posts a webhook for each step of a trade when its
``config.json`` has a ``"webhook"`` block; :func:`webhook_config` returns the block that
makes it post, as JSON, what :class:`FreqtradeMapper` reads. The service receives them at
``POST /api/v1/sources/freqtrade``. This module is free of I/O: a message in, events out.

=================  ==========================================================================
freqtrade          algowatch
=================  ==========================================================================
``entry``          ``order_submitted`` (buy for a long trade, sell for a short one)
``entry_fill``     ``order_filled`` of the trade's open entry order, fee 0
``entry_cancel``   ``order_canceled`` of the trade's open entry order
``exit``           ``order_submitted`` (sell for a long trade, buy for a short one)
``exit_fill``      ``order_filled`` of the trade's open exit order; its fee makes the
                   realized P&L of the fill equal freqtrade's ``profit_amount``
``exit_cancel``    ``order_canceled`` of the trade's open exit order
``status``         ``heartbeat`` (component ``freqtrade``)
=================  ==========================================================================

What freqtrade's messages are, and how they are read:

- Every value is a string (freqtrade formats each template with ``str.format``):
  ``"0.01"``, ``"False"``, ``"None"``; dates are ``str(datetime)``, with a space, and the
  cancel messages carry naive dates, which are UTC.
- There is no order id, fill id or fee. A trade is ``trade_id`` plus ``open_date`` (freqtrade
  reuses the id of a deleted trade); an order is the trade, its side and a digest of the
  message that opened it; a fill is its order plus a digest of the fill message. freqtrade
  keeps at most one open order per trade (stop-loss orders on the exchange aside), so a fill
  or a cancel belongs to the trade's open order of its side. A fill without one (a stop-loss
  on the exchange, which freqtrade does not announce, or an ``entry`` algowatch did not
  receive) comes with an ``order_submitted`` of its own.
- freqtrade notifies a fill when the order is closed, with the filled amount, so a partly
  filled order that is canceled sends the fill, then the cancel.
- Fees exist only inside ``profit_amount``, which includes both fees (and funding fees), is
  meaningful only on ``exit_fill`` and covers that exit's amount only. Entry fills carry
  fee 0; an exit fill carries ``fee = side * amount * (close_rate - open_rate) -
  profit_amount`` (side +1 long, -1 short), where ``open_rate`` is freqtrade's average entry
  price. algowatch books the fill's realized P&L as ``side * amount * (close_rate - basis) -
  fee`` with a FIFO ``basis``, which equals freqtrade's average price on every exit of a
  trade with one entry, and over the whole trade otherwise (both methods release the same
  total cost): the realized P&L of every closed trade equals the sum of its
  ``profit_amount``. A negative fee is a net credit (funding fees received).
- Event ``ts`` is the time algowatch received the message (freqtrade sends no event time);
  freqtrade's dates are kept in the events' extra fields.
- Every event has a deterministic ``event_id`` (a digest of the message and the event's
  type), and the mapper remembers recent messages: a re-sent webhook yields the very
  same events, which the service then ignores as duplicates.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

import orjson

from algowatch._storage import short_repr
from algowatch.errors import FieldError, InvalidEventError
from algowatch.events import Event, event_from_mapping, format_timestamp

__all__ = [
    "COMPONENT",
    "MESSAGE_TYPES",
    "ROUTE",
    "FreqtradeMapper",
    "webhook_config",
]

ROUTE: Final = "/api/v1/sources/freqtrade"
"""The service's path for freqtrade's webhooks."""

COMPONENT: Final = "freqtrade"
"""The ``component`` of the heartbeat a ``status`` message becomes."""

_COMMON: Final = (
    "type",
    "trade_id",
    "pair",
    "direction",
    "amount",
    "order_rate",
    "open_rate",
    "order_type",
    "open_date",
    "sub_trade",
    "enter_tag",
    "exchange",
)
_EXIT: Final = ("close_rate", "profit_amount", "profit_ratio", "exit_reason", "close_date")

MESSAGE_TYPES: Final[Mapping[str, tuple[str, ...]]] = {
    "entry": (*_COMMON, "current_rate"),
    "entry_fill": _COMMON,
    "entry_cancel": (*_COMMON, "reason"),
    "exit": (*_COMMON, "current_rate", *_EXIT),
    "exit_fill": (*_COMMON, *_EXIT, "is_final_exit"),
    # profit_amount of an exit_cancel is computed at a stale rate: it is left out
    "exit_cancel": (*_COMMON, "exit_reason", "reason"),
    "status": ("type", "status"),
}
"""The message types the route reads and the freqtrade fields each one carries."""

# freqtrade's reason when it keeps a partly filled exit order open instead of canceling it
_KEEP_OPEN: Final = "partially filled - keeping order open"
_ORDER_TYPES: Final = {
    "limit": "limit",
    "market": "market",
    "stoploss": "stop",
    "stop_loss": "stop",
    "stop": "stop",
    "stop_limit": "stop_limit",
    "stop_loss_limit": "stop_limit",
}
_UNFILLED: Final = ("submitted", "acknowledged")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
# the events' fields that come from one freqtrade field, to name it in an error
_SOURCE_FIELDS: Final = {
    "symbol": "pair",
    "quantity": "amount",
    "price": "order_rate",
    "limit_price": "order_rate",
    "arrival_price": "current_rate",
    "fee": "profit_amount",
    "freqtrade_status": "status",
}
# the nanosecond range of an event time (a journal stores 64-bit nanoseconds)
_MIN_NS: Final = -(2**63)
_MAX_NS: Final = 2**63 - 1


def webhook_config(
    url: str,
    *,
    token: str | None = None,
    strategy: str | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """Return the ``"webhook"`` block of freqtrade's ``config.json`` that posts to algowatch.

    Parameters
    ----------
    url
        The algowatch service's base URL, as freqtrade reaches it (``http://host:port``).
    token
        The service's ``server.token``; it goes into the webhook URL as ``?token=``,
        because freqtrade's webhook cannot set an ``Authorization`` header.
    strategy, account
        Labels for every event (freqtrade's messages do not name the strategy).

    Examples
    --------
    >>> block = webhook_config("http://127.0.0.1:8000", strategy="SampleStrategy")
    >>> block["url"], block["format"]
    ('http://127.0.0.1:8000/api/v1/sources/freqtrade', 'json')
    >>> block["exit_fill"]["profit_amount"], block["entry"]["strategy"]
    ('{profit_amount}', 'SampleStrategy')
    """
    target = url.rstrip("/") + ROUTE
    if token:
        target += "?token=" + quote(token, safe="")
    # freqtrade formats every template with str.format: literal braces are doubled
    labels = {
        name: value.replace("{", "{{").replace("}", "}}")
        for name, value in (("strategy", strategy), ("account", account))
        if value
    }
    block: dict[str, Any] = {
        "enabled": True,
        "url": target,
        "format": "json",
        # a re-sent message is recognised and ignored, so retries are safe
        "retries": 3,
        "retry_delay": 1,
        "timeout": 10,
    }
    for kind, fields in MESSAGE_TYPES.items():
        template = {name: "{" + name + "}" for name in fields}
        if kind != "status":
            template.update(labels)
        block[kind] = template
    return block


class FreqtradeMapper:
    """Turn freqtrade's webhook messages into validated events.

    The mapper keeps each trade's last order per side (freqtrade's messages name none) and the
    events of the last ``max_messages`` messages, so that a re-sent message maps to the
    same events. It does no I/O and reads no clock: the caller passes the receive time.

    Parameters
    ----------
    max_trades
        Orders remembered (the last one per trade and side); past it the oldest is
        forgotten (its fill then arrives as an order of its own).
    max_messages
        Messages whose events are remembered for re-sends.

    Examples
    --------
    >>> mapper = FreqtradeMapper()
    >>> message = {"type": "entry", "trade_id": "1", "pair": "BTC/USDT", "direction": "Long",
    ...            "amount": "0.01", "order_rate": "60000.0", "open_rate": "60000.0",
    ...            "order_type": "limit", "open_date": "2026-09-01 10:00:00+00:00",
    ...            "current_rate": "60010.0"}
    >>> [submitted] = mapper.map(message, received_ns=1_790_000_000_000_000_000)
    >>> submitted.order_id, submitted.side, submitted.quantity, submitted.limit_price
    ('ft-1-20260901T100000.000000Z-entry-183a3cacf19c', 'buy', 0.01, 60000.0)
    """

    def __init__(self, *, max_trades: int = 10_000, max_messages: int = 10_000) -> None:
        self._max_trades = max_trades
        self._max_messages = max_messages
        # per (trade, leg): the last order placed and whether freqtrade reported its fill
        self._orders: OrderedDict[tuple[str, str], tuple[str, bool]] = OrderedDict()
        self._recent: OrderedDict[str, list[Event]] = OrderedDict()

    def map(
        self,
        message: Any,
        *,
        received_ns: int,
        max_ts: int | None = None,
        orders: Callable[[], Iterable[tuple[str, str]]] | None = None,
    ) -> list[Event]:
        """Return the events of one webhook message (none for a message with no effect).

        Parameters
        ----------
        message
            The message as decoded from freqtrade's JSON body.
        received_ns
            The receive time, UNIX nanoseconds: the events' ``ts``.
        max_ts
            The latest ``ts`` the caller accepts (the service's future window).
        orders
            The ``(order_id, status)`` of the orders the engine knows, newest first; read
            only when the mapper does not know a trade's order (after a restart), so that
            the fill or cancel of an order placed before it still finds its order.

        Raises
        ------
        InvalidEventError
            Naming every invalid field (``freqtrade.entry.amount``); the mapper's state is
            then unchanged.
        """
        if not isinstance(message, Mapping):
            msg = f"must be a JSON object, received {short_repr(message)}"
            raise InvalidEventError([FieldError("freqtrade", msg)])
        try:
            canonical = orjson.dumps(message, option=orjson.OPT_SORT_KEYS)
        except TypeError as exc:  # a lone surrogate, a value JSON cannot hold
            msg = f"must be encodable as JSON: {exc}"
            raise InvalidEventError([FieldError("freqtrade", msg)]) from None
        digest = hashlib.sha256(canonical).hexdigest()
        known = self._recent.get(digest)
        if known is not None:
            return known
        reader = _Reader(message)
        kind = reader.type()
        changes: list[tuple[tuple[str, str], tuple[str, bool] | None]] = []
        if kind == "status":
            status = reader.text("status", required=True)
            raw = [{"type": "heartbeat", "component": COMPONENT, "freqtrade_status": status}]
        else:
            raw = self._order_events(kind, reader, digest, changes, orders)
        reader.raise_errors()
        events = _validated(
            raw, kind=kind, message=message, digest=digest, received_ns=received_ns, max_ts=max_ts
        )
        for key, order in changes:
            if order is None:
                self._orders.pop(key, None)
            else:
                self._orders[key] = order
                self._orders.move_to_end(key)
                while len(self._orders) > self._max_trades:
                    self._orders.popitem(last=False)
        self._recent[digest] = events
        while len(self._recent) > self._max_messages:
            self._recent.popitem(last=False)
        return events

    def _order_events(
        self,
        kind: str,
        reader: _Reader,
        digest: str,
        changes: list[tuple[tuple[str, str], tuple[str, bool] | None]],
        orders: Callable[[], Iterable[tuple[str, str]]] | None,
    ) -> list[dict[str, Any]]:
        trade_id = reader.trade_id()
        open_ns = reader.date("open_date")
        pair = reader.text("pair", required=True)
        short = reader.direction()
        if trade_id is None or open_ns is None or pair is None or short is None:
            return []  # their errors are listed
        opened = format_timestamp(open_ns)
        leg, step = kind.partition("_")[::2]
        extra: dict[str, Any] = {
            "strategy": reader.text("strategy"),
            "account": reader.text("account"),
            "freqtrade_trade_id": trade_id,
            "freqtrade_open_date": opened,
            "freqtrade_enter_tag": reader.text("enter_tag"),
            "freqtrade_exit_reason": reader.text("exit_reason"),
        }
        order = _Order(
            key=(f"{trade_id}@{opened}", leg),
            # ft-<trade>-<open date, compact>-<leg>-<digest of the message that placed it>
            new_id=f"ft-{trade_id}-{_compact(opened)}-{leg}-{digest[:12]}",
            symbol=pair,
            side="buy" if (leg == "entry") != short else "sell",
            labels={name: value for name, value in extra.items() if value is not None},
        )
        last_id, last_filled = self._orders.get(order.key, ("", False))
        if not last_id and step and orders is not None:
            last_id = _placed_before(orders, order.new_id.rsplit("-", 1)[0] + "-", step)
        if step == "cancel":
            # a partly filled order is canceled after its fill was reported
            reason = reader.text("reason")
            if not last_id or (leg == "exit" and reason == _KEEP_OPEN):
                return []
            changes.append((order.key, None))
            return [order.canceled(last_id, reason)]
        amount = reader.number("amount", positive=True)
        rate = reader.number("order_rate", positive=True)
        order_type = reader.order_type()
        fee = 0.0
        if leg == "exit" and step == "fill":
            open_rate = reader.number("open_rate", positive=True)
            profit = reader.number("profit_amount")
            if amount and rate and open_rate and profit is not None:
                sign = -1.0 if short else 1.0
                fee = sign * amount * (rate - open_rate) - profit
                order.labels["freqtrade_profit_amount"] = profit
        if amount is None or rate is None or order_type is None or reader.errors:
            return []
        events: list[dict[str, Any]] = []
        if step == "":  # an order placed
            if last_id and not last_filled:  # its cancel never came: freqtrade moved on
                events.append(order.canceled(last_id, "superseded"))
            changes.append((order.key, (order.new_id, False)))
            arrival = reader.number("current_rate", positive=True, required=False)
            events.append(order.submitted(order.new_id, amount, order_type, rate, arrival))
            return events
        order_id = last_id
        if not last_id or last_filled:  # an order freqtrade did not announce, or we missed
            order_id = order.new_id
            events.append(order.submitted(order_id, amount, order_type, None, None))
        changes.append((order.key, (order_id, True)))
        events.append(
            {
                "type": "order_filled",
                "order_id": order_id,
                "fill_id": f"{order_id}-fill-{digest[:12]}",
                "quantity": amount,
                "price": rate,
                "fee": fee,
                **order.labels,
            }
        )
        return events


def _placed_before(orders: Callable[[], Iterable[tuple[str, str]]], prefix: str, step: str) -> str:
    # the trade's order of this leg that the engine still has open (placed before a restart)
    wanted = _UNFILLED if step == "fill" else (*_UNFILLED, "partially_filled")
    for order_id, status in orders():
        if order_id.startswith(prefix) and status in wanted:
            return order_id
    return ""


def _compact(timestamp: str) -> str:
    # 2026-09-01T10:00:00.123456789Z -> 20260901T100000.123456Z
    return timestamp[:19].replace("-", "").replace(":", "") + timestamp[19:26] + "Z"


@dataclass(slots=True)
class _Order:
    key: tuple[str, str]
    new_id: str
    symbol: str
    side: str
    labels: dict[str, Any]

    def canceled(self, order_id: str, reason: str | None) -> dict[str, Any]:
        event = {"type": "order_canceled", "order_id": order_id, **self.labels}
        return event | ({} if reason is None else {"reason": reason})

    def submitted(
        self,
        order_id: str,
        quantity: float,
        order_type: str,
        rate: float | None,
        arrival: float | None,
    ) -> dict[str, Any]:
        event = {
            "type": "order_submitted",
            "order_id": order_id,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": quantity,
            "order_type": order_type,
            **self.labels,
        }
        if rate is not None and order_type in ("limit", "stop_limit"):
            event["limit_price"] = rate
        if arrival is not None:
            event["arrival_price"] = arrival
        return event


def _validated(
    raw: Sequence[dict[str, Any]],
    *,
    kind: str,
    message: Mapping[str, Any],
    digest: str,
    received_ns: int,
    max_ts: int | None,
) -> list[Event]:
    # the events go through the contract's own validator: a value freqtrade sent that no
    # journal could store (a pair of 100 characters) is refused here, named after its field
    events: list[Event] = []
    errors: list[FieldError] = []
    for fields in raw:
        # one event per type and message: a message mapped again after a restart (its fill
        # then comes with an order of its own) keeps the ids of the events it had
        stamped = {**fields, "event_id": f"ft-{digest[:24]}-{fields['type']}"}
        try:
            events.append(event_from_mapping(stamped, default_ts=received_ns, max_ts=max_ts))
        except InvalidEventError as exc:
            for error in exc.errors:
                name = error.field.partition(".")[2]
                source = _SOURCE_FIELDS.get(name, name.removeprefix("freqtrade_"))
                if source in message:
                    errors.append(FieldError(f"freqtrade.{kind}.{source}", error.message))
                else:
                    errors.append(error)
    if errors:
        raise InvalidEventError(list(dict.fromkeys(errors)))
    return events


class _Reader:
    # reads freqtrade's string values, collecting every invalid field
    def __init__(self, message: Mapping[str, Any]) -> None:
        self.message = message
        self.kind = "message"
        self.errors: list[FieldError] = []

    def fail(self, name: str, message: str) -> None:
        self.errors.append(FieldError(f"freqtrade.{self.kind}.{name}", message))

    def raise_errors(self) -> None:
        if self.errors:
            raise InvalidEventError(self.errors)

    def raw(self, name: str) -> Any:
        value = self.message.get(name)
        return None if value in (None, "None", "") else value

    def type(self) -> str:
        value = self.message.get("type")
        if not isinstance(value, str) or value not in MESSAGE_TYPES:
            expected = ", ".join(MESSAGE_TYPES)
            msg = f"must be one of {expected}, received {short_repr(value)}"
            self.errors.append(FieldError("freqtrade.type", msg))
            self.raise_errors()
        self.kind = str(value)
        return self.kind

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return None
        if not isinstance(value, str):
            self.fail(name, f"must be a string, received {short_repr(value)}")
            return None
        return value

    def number(self, name: str, *, positive: bool = False, required: bool = True) -> float | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return None
        number = math.nan
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            with contextlib.suppress(ValueError):
                number = float(value)
        if not math.isfinite(number) or (positive and number <= 0):
            expected = "a number > 0" if positive else "a finite number"
            self.fail(name, f"must be {expected}, received {short_repr(value)}")
            return None
        return number

    def trade_id(self) -> int | None:
        value = self.raw("trade_id")
        text = ""
        if isinstance(value, str | int) and not isinstance(value, bool):
            text = str(value)
        if not text.isdigit() or int(text) <= 0 or len(text) > 19:
            received = "nothing" if value is None else short_repr(value)
            self.fail("trade_id", f"must be a positive integer, received {received}")
            return None
        return int(text)

    def direction(self) -> bool | None:
        value = self.raw("direction")
        if isinstance(value, str) and value.lower() in ("long", "short"):
            return value.lower() == "short"
        received = "nothing" if value is None else short_repr(value)
        self.fail("direction", f"must be 'Long' or 'Short', received {received}")
        return None

    def order_type(self) -> str | None:
        value = self.raw("order_type")
        if isinstance(value, str) and value.lower() in _ORDER_TYPES:
            return _ORDER_TYPES[value.lower()]
        expected = ", ".join(_ORDER_TYPES)
        received = "nothing" if value is None else short_repr(value)
        self.fail("order_type", f"must be one of {expected}, received {received}")
        return None

    def date(self, name: str) -> int | None:
        value = self.raw(name)
        parsed: datetime | None = None
        nanoseconds = 0
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:  # freqtrade's cancel messages carry naive UTC dates
                    parsed = parsed.replace(tzinfo=UTC)
                nanoseconds = ((parsed - _EPOCH) // _MICROSECOND) * 1000
            except (ValueError, OverflowError):
                parsed = None
        if parsed is None or not _MIN_NS <= nanoseconds <= _MAX_NS:
            received = "nothing" if value is None else short_repr(value)
            example = "'2026-09-01 10:00:00+00:00'"
            msg = f"must be a date like {example} (1677 to 2262), received {received}"
            self.fail(name, msg)
            return None
        return nanoseconds
