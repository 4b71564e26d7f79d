"""``AlgowatchActor``: a NautilusTrader actor that forwards a node's events to algowatch.

This module imports ``nautilus_trader`` (the ``nautilus`` extra, Python >= 3.12).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.component import TestClock
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.model.data import Bar, BarType, QuoteTick
from nautilus_trader.model.enums import (
    liquidity_side_to_str,
    order_side_to_str,
    order_type_to_str,
)
from nautilus_trader.model.events import (
    AccountState,
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
    OrderSubmitted,
)
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import FIXED_PRECISION

from algowatch import events as ev
from algowatch.client import Client
from algowatch.errors import FieldError, InvalidEventError
from algowatch.integrations.nautilus._mapping import NautilusMapper
from algowatch.integrations.nautilus._marks import MarkThrottle

__all__ = ["AlgowatchActor", "AlgowatchActorConfig", "read_event"]

_log = logging.getLogger("algowatch.integrations.nautilus")

# In a backtest the actor keeps Nautilus's events (immutable) and maps this many at a time:
# one warm loop over a run of them costs the trading thread about half as much as mapping
# each between the engine's own work (docs/integrations/nautilus.md, "Cost").
_BACKTEST_MAP_BATCH: Final = 512

# Price, Quantity and Money hold a fixed-point integer (``raw``) of this scale. Its exact
# quotient (Python's int division is correctly rounded) is the float of the value's text,
# as ``to_dict`` gives it, at a tenth of the cost of formatting that text.
_SCALE: Final = 10**FIXED_PRECISION


def _account(event: Any) -> str | None:
    account = event.account_id
    return None if account is None else account.value


def _initialized(mapper: NautilusMapper, e: OrderInitialized) -> tuple[ev.Event, ...]:
    price = e.options.get("price")
    mapper.order_initialized(
        e.client_order_id.value,
        e.instrument_id.value,
        order_side_to_str(e.side),
        order_type_to_str(e.order_type),
        e.quantity.raw / _SCALE,
        None if price is None else float(price),
    )
    return ()


def _submitted(mapper: NautilusMapper, e: OrderSubmitted) -> tuple[ev.Event, ...]:
    return (
        mapper.order_submitted(
            e.ts_event, e.id.value, e.strategy_id.value, _account(e), e.client_order_id.value
        ),
    )


def _denied(mapper: NautilusMapper, e: OrderDenied) -> tuple[ev.Event, ...]:
    return mapper.order_denied(
        e.ts_event,
        e.id.value,
        e.strategy_id.value,
        _account(e),
        e.client_order_id.value,
        e.reason,
    )


def _accepted(mapper: NautilusMapper, e: OrderAccepted) -> tuple[ev.Event, ...]:
    venue_order_id = e.venue_order_id
    return (
        mapper.order_accepted(
            e.ts_event,
            e.id.value,
            e.strategy_id.value,
            _account(e),
            e.client_order_id.value,
            None if venue_order_id is None else venue_order_id.value,
        ),
    )


def _rejected(mapper: NautilusMapper, e: OrderRejected) -> tuple[ev.Event, ...]:
    return (
        mapper.order_rejected(
            e.ts_event,
            e.id.value,
            e.strategy_id.value,
            _account(e),
            e.client_order_id.value,
            e.reason,
        ),
    )


def _canceled(mapper: NautilusMapper, e: OrderCanceled | OrderExpired) -> tuple[ev.Event, ...]:
    return (
        mapper.order_canceled(
            e.ts_event,
            e.id.value,
            e.strategy_id.value,
            _account(e),
            e.client_order_id.value,
            expired=type(e) is OrderExpired,
        ),
    )


def _filled(mapper: NautilusMapper, e: OrderFilled) -> tuple[ev.Event, ...]:
    return (
        mapper.order_filled(
            e.ts_event,
            e.id.value,
            e.strategy_id.value,
            _account(e),
            e.client_order_id.value,
            e.trade_id.value,
            e.last_qty.raw / _SCALE,
            e.last_px.raw / _SCALE,
            e.commission.raw / _SCALE,
            liquidity_side_to_str(e.liquidity_side),
        ),
    )


def _account_state(mapper: NautilusMapper, e: AccountState) -> tuple[ev.Event, ...]:
    # the balance in the account's base currency (or its first balance)
    balances = e.balances
    if not balances:
        problem = FieldError("nautilus.AccountState.balances", "must not be empty, received []")
        raise InvalidEventError([problem])
    chosen = balances[0]
    base = e.base_currency
    if base is not None and len(balances) > 1:
        code = base.code
        chosen = next((b for b in balances if b.currency.code == code), chosen)
    return (
        mapper.account_state(
            e.ts_event,
            e.id.value,
            e.account_id.value,
            chosen.total.raw / _SCALE,
            chosen.free.raw / _SCALE,
        ),
    )


_Reader = Callable[[NautilusMapper, Any], tuple[ev.Event, ...]]
# Nautilus's event class -> its reader (the types the actor forwards; the others cost a lookup)
_READERS: Final[dict[type, _Reader]] = {
    OrderInitialized: _initialized,
    OrderSubmitted: _submitted,
    OrderDenied: _denied,
    OrderAccepted: _accepted,
    OrderRejected: _rejected,
    OrderCanceled: _canceled,
    OrderExpired: _canceled,
    OrderFilled: _filled,
    AccountState: _account_state,
}


def read_event(mapper: NautilusMapper, event: Any) -> tuple[ev.Event, ...]:
    """Return the algowatch events of one Nautilus order event or account state.

    The fields are read from the typed event (no ``to_dict``) and handed to the
    mapper's typed methods: the same events as ``mapper.map(event.to_dict())`` gives,
    Nautilus's amounts read from their fixed-point form. Types not mapped give none.
    """
    reader = _READERS.get(type(event))
    return () if reader is None else reader(mapper, event)


class AlgowatchActorConfig(ActorConfig, kw_only=True, frozen=True):  # type: ignore[misc,call-arg]
    """Where to send the node's events, and which prices to send as marks.

    Parameters
    ----------
    url
        The algowatch service, e.g. ``"http://127.0.0.1:8000"``.
    token
        The service's bearer token (``ALGOWATCH_TOKEN``), if it requires one.
    bar_types
        Bar types (``"AUD/USD.SIM-1-MINUTE-MID-EXTERNAL"``) whose closes become marks.
    quote_instrument_ids
        Instruments (``"AUD/USD.SIM"``) whose quotes become marks (mid, bid and ask).
    mark_interval_seconds
        At most one mark per symbol per this much event time; the latest price
        waiting is sent when the actor stops.
    flush_interval_seconds
        The client posts what waited at least this often (or every ``batch_size`` events), and a
        partial batch waits at most this long: fewer, larger posts cost the node's
        process less.
    max_buffer_events
        Events that may wait in memory when the service is slow or down; then the
        oldest is dropped (the trading loop never waits).
    flush_timeout_seconds
        How long stopping the actor waits for the buffer to be delivered.
    batch_size
        Events per post to the service (at most): a backtest hands over thousands per
        second, and fewer, larger posts cost its process less.
    map_batch_events
        Nautilus events (and prices) the actor keeps before mapping them and handing
        them to the client. ``None`` (default): 512 in a backtest (``TestClock``), where
        the engine runs ahead of the wall clock and they are all handed over when the
        actor stops; 1 in a live node, where every event is handed over at once.
    """

    url: str
    token: str | None = None
    bar_types: tuple[str, ...] = ()
    quote_instrument_ids: tuple[str, ...] = ()
    mark_interval_seconds: float = 1.0
    flush_interval_seconds: float = 1.0
    max_buffer_events: int = 100_000
    flush_timeout_seconds: float = 10.0
    batch_size: int = 2_500
    map_batch_events: int | None = None


class AlgowatchActor(Actor):  # type: ignore[misc]
    """Forward order events, account states and throttled marks to an algowatch service.

    Added with ``engine.add_actor(AlgowatchActor(config))`` (backtest) or
    ``node.trader.add_actor(...)`` (live). It listens on the message bus to every
    strategy's order events (``events.order.*``) and every account's state
    (``events.account.*``), maps them with :class:`NautilusMapper` and hands them
    to an :class:`algowatch.client.Client`, whose helpers never wait on the
    network. In a backtest they are mapped ``map_batch_events`` at a time. Stopping
    the actor hands over the rest and flushes (up to ``flush_timeout_seconds``);
    disposing it closes the client.
    """

    def __init__(self, config: AlgowatchActorConfig) -> None:
        super().__init__(config)
        if config.map_batch_events is not None and config.map_batch_events < 1:
            msg = f"map_batch_events must be >= 1 or None, received {config.map_batch_events!r}"
            raise ValueError(msg)
        self._settings = config
        self._mapper = NautilusMapper()
        self._client: Client | None = None
        self._marks = MarkThrottle(interval_seconds=config.mark_interval_seconds)
        # Nautilus events and prices not yet mapped, in arrival order
        self._pending: list[Any] = []
        self._map_batch = 1

    @property
    def client(self) -> Client | None:
        """The SDK client while the actor runs (``stats()``, ``flush()``)."""
        return self._client

    def on_start(self) -> None:
        """Open the client and subscribe to order events, account states and prices."""
        if self._client is None:
            self._client = Client(
                self._settings.url,
                token=self._settings.token,
                batch_size=self._settings.batch_size,
                flush_interval_seconds=self._settings.flush_interval_seconds,
                max_buffer_events=self._settings.max_buffer_events,
            )
        batch = self._settings.map_batch_events
        if batch is None:
            batch = _BACKTEST_MAP_BATCH if isinstance(self.clock, TestClock) else 1
        self._map_batch = batch
        self.msgbus.subscribe(topic="events.order.*", handler=self._keep)
        self.msgbus.subscribe(topic="events.account.*", handler=self._keep)
        for bar_type in self._settings.bar_types:
            self.subscribe_bars(BarType.from_str(bar_type))
        for instrument_id in self._settings.quote_instrument_ids:
            self.subscribe_quote_ticks(InstrumentId.from_str(instrument_id))

    def on_stop(self) -> None:
        """Hand over what is pending and the marks the throttle held back; flush."""
        self.flush(timeout=self._settings.flush_timeout_seconds, drain_marks=True)

    def flush(self, timeout: float | None = None, *, drain_marks: bool = False) -> bool:
        """Map and hand over the pending events, then flush the client.

        Return whether every event was settled within ``timeout`` (see
        :meth:`algowatch.client.Client.flush`). ``drain_marks`` also sends the latest
        price of each symbol that the throttle held back (as stopping does).
        """
        if self._client is None:
            return True
        self._map_pending()
        if drain_marks:
            for mark in self._marks.drain():
                self._send(mark)
        return bool(self._client.flush(timeout=timeout))

    def on_dispose(self) -> None:
        """Close the client (what is still undelivered is reported as dropped)."""
        if self._client is not None:
            self._client.close(timeout=self._settings.flush_timeout_seconds)
            self._client = None

    def _keep(self, item: Any) -> None:
        """Keep an order event, account state, bar or quote; map once a run is complete."""
        pending = self._pending
        pending.append(item)
        if len(pending) >= self._map_batch:
            self._map_pending()

    # Nautilus calls these for the subscribed bars and quotes: a bar's close becomes a
    # (throttled) mark, a quote's mid a mark with bid and ask, when _map_pending maps them
    on_bar = _keep
    on_quote_tick = _keep

    def _map_pending(self) -> None:
        pending, self._pending = self._pending, []
        if self._client is None:
            return
        for item in pending:
            try:
                if isinstance(item, Bar):
                    symbol = item.bar_type.instrument_id.value
                    self._mark(symbol, float(item.close), None, None, item.ts_event)
                elif isinstance(item, QuoteTick):
                    bid, ask = float(item.bid_price), float(item.ask_price)
                    self._mark(item.instrument_id.value, (bid + ask) / 2, bid, ask, item.ts_event)
                else:
                    self._map_event(item)
            except Exception:
                # a monitoring failure must never reach the trading loop, nor cost the
                # rest of the run its events
                _log.exception("algowatch failed on a Nautilus %s", type(item).__name__)

    def _mark(
        self, symbol: str, price: float, bid: float | None, ask: float | None, ts: int
    ) -> None:
        client = self._client
        if client is None:
            return
        if price <= 0:
            return  # the contract's prices are > 0 (a spread's or a future's may not be)
        # a price's id is its symbol and time (as the bridge's): idempotent, and cheaper
        # than the ULID the SDK would draw for it
        mark = self._marks.offer(
            ev.Mark(
                ts=ts,
                event_id=f"mark:{symbol}:{ts}",
                symbol=symbol,
                price=price,
                bid=bid,
                ask=ask,
            )
        )
        if mark is None:
            return
        try:
            client.emit(mark, validate=False)
        except Exception:
            # a monitoring failure must never reach the trading loop
            _log.exception("algowatch could not send a mark")

    def _map_event(self, event: Any) -> None:
        reader = _READERS.get(type(event))
        client = self._client
        if reader is None or client is None:
            return  # (a type not mapped costs a lookup)
        try:
            for mapped in reader(self._mapper, event):
                # built by the mapper from Nautilus's typed events: the service validates
                # them (one it refuses is dropped alone), so the call-site check is skipped
                client.emit(mapped, validate=False)
        except InvalidEventError:
            _log.exception("algowatch could not map a Nautilus %s", type(event).__name__)
        except Exception:
            # a monitoring failure must never reach the trading loop
            _log.exception("algowatch failed on a Nautilus %s", type(event).__name__)

    def _send(self, event: ev.Event) -> None:
        if self._client is None:
            return
        try:
            # built by the mapper from Nautilus's typed events: the service validates them
            # (one it refuses is dropped alone), so the call-site check is skipped
            self._client.emit(event, validate=False)
        except Exception:
            # a monitoring failure must never reach the trading loop
            _log.exception("algowatch could not send a %s", type(event).__name__)
