"""A paper broker: latency, slippage, partial fills, rejections and outages.

:meth:`PaperBroker.submit` decides at once, from its seeded generator, everything
that will happen to a market order and returns the broker's answers as
``(ts, event)`` pairs scheduled in the future; the simulation emits them when
its clock gets there. Conditions (an outage, a latency multiple, a rejection
probability) are passed per order by the scenario.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from algowatch import events as ev
from algowatch.sim.market import Quote

__all__ = ["BrokerConditions", "BrokerSettings", "PaperBroker"]

_NS = 1_000_000_000
_REJECT_REASONS = (
    "insufficient buying power",
    "price outside the trading band",
    "order rate limit exceeded",
    "symbol halted",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerSettings:
    """Behaviour of :class:`PaperBroker` in normal conditions (seconds, bps, fractions)."""

    ack_median_seconds: float = 0.02
    fill_median_seconds: float = 0.03
    latency_sigma: float = 0.5
    slippage_mean_bps: float = 0.8
    slippage_std_bps: float = 1.5
    reject_probability: float = 0.01
    partial_fill_probability: float = 0.15
    cancel_remainder_probability: float = 0.03
    timeout_seconds: float = 2.0
    fee_per_share: float = 0.005
    minimum_fee: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerConditions:
    """What the scenario imposes on one order."""

    outage: bool = False
    latency_multiple: float = 1.0
    reject_probability: float | None = None


class PaperBroker:
    """Fill market orders against synthetic quotes, deterministically for a seed.

    Examples
    --------
    >>> broker = PaperBroker(np.random.default_rng(1))
    >>> order = ev.OrderSubmitted(
    ...     ts=0, order_id="o1", symbol="SPY", side="buy", quantity=10, order_type="market"
    ... )
    >>> answers = broker.submit(order, Quote("SPY", 99.99, 100.01))
    >>> [type(e).__name__ for _, e in answers][0]
    'OrderAcknowledged'
    >>> all(ts > 0 for ts, _ in answers)
    True
    """

    def __init__(self, rng: np.random.Generator, settings: BrokerSettings | None = None) -> None:
        self.settings = settings or BrokerSettings()
        self._rng = rng
        self._ids = itertools.count(1)

    def _latency_ns(self, median: float, multiple: float) -> int:
        seconds = (
            median * multiple * float(np.exp(self._rng.normal(0.0, self.settings.latency_sigma)))
        )
        return max(1_000, round(seconds * _NS))

    def _fee(self, quantity: float) -> float:
        return max(self.settings.minimum_fee, self.settings.fee_per_share * quantity)

    def _common(self, order: ev.OrderSubmitted, ts: int) -> dict[str, Any]:
        return {
            "ts": ts,
            "event_id": f"{order.order_id}-b{next(self._ids)}",
            "strategy": order.strategy,
            "account": order.account,
        }

    def submit(
        self,
        order: ev.OrderSubmitted,
        quote: Quote,
        conditions: BrokerConditions | None = None,
    ) -> list[tuple[int, ev.Event]]:
        """Return the broker's answers to a market ``order``, each with its due time."""
        s = self.settings
        cond = conditions or BrokerConditions()
        rng = self._rng
        if cond.outage:
            due = order.ts + round(s.timeout_seconds * _NS)
            reason = "broker unavailable: no acknowledgement before the timeout"
            return [
                (
                    due,
                    ev.OrderRejected(
                        order_id=order.order_id, reason=reason, **self._common(order, due)
                    ),
                )
            ]
        ack_ts = order.ts + self._latency_ns(s.ack_median_seconds, cond.latency_multiple)
        reject_p = (
            s.reject_probability if cond.reject_probability is None else cond.reject_probability
        )
        if rng.random() < reject_p:
            reason = _REJECT_REASONS[int(rng.integers(len(_REJECT_REASONS)))]
            return [
                (
                    ack_ts,
                    ev.OrderRejected(
                        order_id=order.order_id, reason=reason, **self._common(order, ack_ts)
                    ),
                )
            ]
        answers: list[tuple[int, ev.Event]] = [
            (
                ack_ts,
                ev.OrderAcknowledged(
                    order_id=order.order_id,
                    broker_order_id=f"B{order.order_id}",
                    **self._common(order, ack_ts),
                ),
            )
        ]
        quantity = order.quantity
        pieces = [quantity]
        cancel_rest = False
        draw = rng.random()
        if quantity >= 2 and draw < s.partial_fill_probability:
            parts = int(rng.integers(2, 4))
            cuts = np.sort(
                rng.choice(
                    np.arange(1, int(quantity)),
                    size=min(parts - 1, int(quantity) - 1),
                    replace=False,
                )
            )
            edges = [0, *cuts.tolist(), int(quantity)]
            pieces = [float(b - a) for a, b in itertools.pairwise(edges)]
            cancel_rest = draw < s.cancel_remainder_probability and len(pieces) > 1
            if cancel_rest:
                pieces = pieces[:-1]
        ts = ack_ts
        for n, piece in enumerate(pieces, start=1):
            ts += self._latency_ns(s.fill_median_seconds, cond.latency_multiple)
            slip = rng.normal(s.slippage_mean_bps, s.slippage_std_bps) / 1e4
            price = quote.ask * (1 + slip) if order.side == "buy" else quote.bid * (1 - slip)
            answers.append(
                (
                    ts,
                    ev.OrderFilled(
                        order_id=order.order_id,
                        fill_id=f"{order.order_id}-f{n}",
                        quantity=piece,
                        price=round(price, 4),
                        fee=round(self._fee(piece), 4),
                        liquidity="taker",
                        **self._common(order, ts),
                    ),
                )
            )
        if cancel_rest:
            ts += self._latency_ns(s.fill_median_seconds, cond.latency_multiple)
            answers.append(
                (
                    ts,
                    ev.OrderCanceled(
                        order_id=order.order_id,
                        reason="unfilled remainder canceled",
                        **self._common(order, ts),
                    ),
                )
            )
        return answers
