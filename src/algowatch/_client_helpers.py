"""The SDK's typed event helpers (``order_submitted``, ``mark``, ...), shared by both clients."""

from __future__ import annotations

import abc

from algowatch import events as ev
from algowatch.clock import Clock, SystemClock

__all__ = ["EventHelpers"]


class EventHelpers(abc.ABC):
    """Typed helpers, one per event type; each builds the event and enqueues it.

    ``ts`` defaults to the client's clock (UNIX ns); ``event_id`` defaults to a ULID
    assigned before the first send; ``strategy`` and ``account`` default to the
    client's. Helpers never wait on the network: they cost a few microseconds,
    most of it the call-site check (:func:`check_event`), which raises
    :class:`~algowatch.errors.InvalidEventError` for a bad argument.
    """

    _clock: Clock
    _strategy: str
    _account: str

    def _init_helpers(self, clock: Clock | None, strategy: str, account: str) -> None:
        self._clock = clock or SystemClock()
        self._strategy = strategy
        self._account = account

    @abc.abstractmethod
    def emit(self, event: ev.Event) -> None:
        """Enqueue an already built event."""

    def order_submitted(
        self,
        order_id: str,
        symbol: str,
        side: ev.Side,
        quantity: float,
        order_type: ev.OrderType = "market",
        *,
        limit_price: float | None = None,
        decision_price: float | None = None,
        arrival_price: float | None = None,
        signal_id: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record that an order left for the broker."""
        self.emit(
            ev.OrderSubmitted(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                order_id=order_id,
                symbol=symbol,
                side=side,
                quantity=quantity,
                order_type=order_type,
                limit_price=limit_price,
                decision_price=decision_price,
                arrival_price=arrival_price,
                signal_id=signal_id,
            )
        )

    def order_acknowledged(
        self,
        order_id: str,
        *,
        broker_order_id: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record that the broker accepted an order."""
        self.emit(
            ev.OrderAcknowledged(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                order_id=order_id,
                broker_order_id=broker_order_id,
            )
        )

    def order_filled(
        self,
        order_id: str,
        fill_id: str,
        quantity: float,
        price: float,
        *,
        fee: float = 0.0,
        vwap: float | None = None,
        liquidity: ev.Liquidity | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record a (partial or complete) fill of an order."""
        self.emit(
            ev.OrderFilled(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                order_id=order_id,
                fill_id=fill_id,
                quantity=quantity,
                price=price,
                fee=fee,
                vwap=vwap,
                liquidity=liquidity,
            )
        )

    def order_rejected(
        self,
        order_id: str,
        reason: str,
        *,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record that an order was rejected."""
        self.emit(
            ev.OrderRejected(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                order_id=order_id,
                reason=reason,
            )
        )

    def order_canceled(
        self,
        order_id: str,
        *,
        reason: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record that an order was canceled."""
        self.emit(
            ev.OrderCanceled(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                order_id=order_id,
                reason=reason,
            )
        )

    def signal(
        self,
        signal_id: str,
        symbol: str,
        direction: ev.Direction,
        *,
        confidence: float | None = None,
        generation_seconds: float | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record a trading signal."""
        self.emit(
            ev.Signal(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                signal_id=signal_id,
                symbol=symbol,
                direction=direction,
                confidence=confidence,
                generation_seconds=generation_seconds,
            )
        )

    def signal_outcome(
        self,
        signal_id: str,
        actual_direction: ev.Direction,
        *,
        pnl: float | None = None,
        bars_to_profit: int | None = None,
        bars_held: int | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record what happened after a signal."""
        self.emit(
            ev.SignalOutcome(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                signal_id=signal_id,
                actual_direction=actual_direction,
                pnl=pnl,
                bars_to_profit=bars_to_profit,
                bars_held=bars_held,
            )
        )

    def mark(
        self,
        symbol: str,
        price: float,
        *,
        bid: float | None = None,
        ask: float | None = None,
        exchange_ts: int | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record a mark price for a symbol."""
        self.emit(
            ev.Mark(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                symbol=symbol,
                price=price,
                bid=bid,
                ask=ask,
                exchange_ts=exchange_ts,
            )
        )

    def account_snapshot(
        self,
        equity: float,
        *,
        cash: float | None = None,
        buying_power: float | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record the account's equity as the broker reports it (an ``account`` event)."""
        self.emit(
            ev.Account(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                equity=equity,
                cash=cash,
                buying_power=buying_power,
            )
        )

    def error(
        self,
        error_type: str,
        component: str,
        *,
        message: str | None = None,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record an error inside the trading system."""
        self.emit(
            ev.Error(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                error_type=error_type,
                component=component,
                message=message,
            )
        )

    def heartbeat(
        self,
        component: str,
        *,
        strategy: str | None = None,
        account: str | None = None,
        ts: int | None = None,
        event_id: str | None = None,
    ) -> None:
        """Record that ``component`` is alive."""
        self.emit(
            ev.Heartbeat(
                ts=self._clock.time_ns() if ts is None else ts,
                event_id=event_id,
                strategy=strategy or self._strategy,
                account=account or self._account,
                component=component,
            )
        )
