"""``AlgowatchActor``: a NautilusTrader actor that forwards a node's events to algowatch.

This module imports ``nautilus_trader`` (the ``nautilus`` extra, Python >= 3.12).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.model.data import Bar, BarType, QuoteTick
from nautilus_trader.model.identifiers import InstrumentId

from algowatch import events as ev
from algowatch.client import Client
from algowatch.errors import InvalidEventError
from algowatch.integrations.nautilus._mapping import NautilusMapper
from algowatch.integrations.nautilus._marks import MarkThrottle

__all__ = ["AlgowatchActor", "AlgowatchActorConfig"]

_log = logging.getLogger("algowatch.integrations.nautilus")


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
        Events are handed to the client in bursts at most this far apart (or every
        1,000 events), and a partial batch waits at most this long: fewer, larger
        posts cost the node's process less.
    max_buffer_events
        Events that may wait in memory when the service is slow or down; then the
        oldest is dropped (the trading loop never waits).
    flush_timeout_seconds
        How long stopping the actor waits for the buffer to be delivered.
    """

    url: str
    token: str | None = None
    bar_types: tuple[str, ...] = ()
    quote_instrument_ids: tuple[str, ...] = ()
    mark_interval_seconds: float = 1.0
    flush_interval_seconds: float = 1.0
    max_buffer_events: int = 100_000
    flush_timeout_seconds: float = 10.0


class AlgowatchActor(Actor):  # type: ignore[misc]
    """Forward order events, account states and throttled marks to an algowatch service.

    Added with ``engine.add_actor(AlgowatchActor(config))`` (backtest) or
    ``node.trader.add_actor(...)`` (live). It listens on the message bus to every
    strategy's order events (``events.order.*``) and every account's state
    (``events.account.*``), maps them with :class:`NautilusMapper` and hands them
    to an :class:`algowatch.client.Client`, whose helpers never wait on the
    network. Stopping the actor flushes (up to ``flush_timeout_seconds``);
    disposing it closes the client.
    """

    def __init__(self, config: AlgowatchActorConfig) -> None:
        super().__init__(config)
        self._settings = config
        self._mapper = NautilusMapper()
        self._client: Client | None = None
        self._marks = MarkThrottle(interval_seconds=config.mark_interval_seconds)
        # Events are handed to the client in bursts, at most once per flush interval (or
        # every batch): the client's sender posts whatever it finds, and a steady trickle
        # would cost one small HTTP post per few events, on the node's CPU.
        self._held: list[ev.Event] = []
        self._handed_at = 0.0

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
                flush_interval_seconds=self._settings.flush_interval_seconds,
                max_buffer_events=self._settings.max_buffer_events,
            )
        if isinstance(self.clock, LiveClock):
            # a live node may go quiet: hand over what waits at least every interval
            self.clock.set_timer(
                "algowatch-hand-over",
                timedelta(seconds=self._settings.flush_interval_seconds),
                callback=lambda _event: self._hand_over(),
            )
        self.msgbus.subscribe(topic="events.order.*", handler=self._on_nautilus_event)
        self.msgbus.subscribe(topic="events.account.*", handler=self._on_nautilus_event)
        for bar_type in self._settings.bar_types:
            self.subscribe_bars(BarType.from_str(bar_type))
        for instrument_id in self._settings.quote_instrument_ids:
            self.subscribe_quote_ticks(InstrumentId.from_str(instrument_id))

    def on_stop(self) -> None:
        """Send the marks held back by the throttle and flush the client."""
        if self._client is None:
            return
        self._held.extend(self._marks.drain())
        self._hand_over()
        if "algowatch-hand-over" in self.clock.timer_names:
            self.clock.cancel_timer("algowatch-hand-over")
        self._client.flush(timeout=self._settings.flush_timeout_seconds)

    def on_dispose(self) -> None:
        """Close the client (what is still undelivered is reported as dropped)."""
        if self._client is not None:
            self._client.close(timeout=self._settings.flush_timeout_seconds)
            self._client = None

    def on_bar(self, bar: Bar) -> None:
        """Throttle a bar's close into a mark."""
        self._mark(bar.bar_type.instrument_id.value, float(bar.close), None, None, bar.ts_event)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        """Throttle a quote's mid into a mark (with bid and ask)."""
        bid, ask = float(tick.bid_price), float(tick.ask_price)
        self._mark(tick.instrument_id.value, (bid + ask) / 2, bid, ask, tick.ts_event)

    def _mark(
        self, symbol: str, price: float, bid: float | None, ask: float | None, ts: int
    ) -> None:
        if self._client is None:
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
        if mark is not None:
            self._hold(mark)

    def _on_nautilus_event(self, event: Any) -> None:
        if self._client is None:
            return
        try:
            values = type(event).to_dict(event)
            for mapped in self._mapper.map(values):
                self._hold(mapped)
        except InvalidEventError:
            _log.exception("algowatch could not map a Nautilus %s", type(event).__name__)
        except Exception:
            # a monitoring failure must never reach the trading loop
            _log.exception("algowatch failed on a Nautilus %s", type(event).__name__)

    def _hold(self, event: ev.Event) -> None:
        self._held.append(event)
        if (
            len(self._held) >= 1000
            or time.monotonic() - self._handed_at >= self._settings.flush_interval_seconds
        ):
            self._hand_over()

    def _hand_over(self) -> None:
        held, self._held = self._held, []
        self._handed_at = time.monotonic()
        if self._client is None:
            return
        for event in held:
            try:
                self._client.emit(event)
            except Exception:
                # a monitoring failure must never reach the trading loop
                _log.exception("algowatch could not send a %s", type(event).__name__)
