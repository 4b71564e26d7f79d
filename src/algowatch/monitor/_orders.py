"""Order lifecycle and execution quality.

Lifecycle: ``submitted -> acknowledged -> partially_filled -> filled``, or a
terminal ``rejected`` / ``canceled`` at any point before ``filled``. An order
is *folded* into the :class:`ExecutionStats` of its scopes when it reaches a
terminal status and is then evicted from the open book.

Definitions (``DESIGN.md``, ``ANALYTICS.md``):

- latencies in seconds: ack = submit to acknowledgement; fill = submit to the
  fill that completes the order; market data = ``mark.ts - mark.exchange_ts``.
- rates over orders submitted: fill rate = completely filled; partial fill
  rate = ended (canceled) with some but not all filled; rejection rate =
  rejected.
- slippage (bps, positive = cost) per order: ``side * (vwap_fill - arrival) /
  arrival * 1e4`` where ``vwap_fill`` is the order's volume-weighted fill
  price; averages across orders weight by filled notional.
- VWAP deviation: the same against the interval VWAP the fills report.
- implementation shortfall (Perold 1988) against the decision price:
  ``side * (vwap_fill - decision) * filled`` + ``side * (mark_at_end -
  decision) * unfilled`` + fees; in bps of the decision notional
  ``decision * quantity``.
- realized spread and price impact per fill against the mid ``m_h`` at the
  horizon, relative to the mid ``m_0`` at the fill: realized spread =
  ``side * (price - m_h) / m_0 * 1e4``, price impact = ``side * (m_h - m_0) /
  m_0 * 1e4`` (their sum is the effective half spread); averages weight by
  fill notional.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

from mypy_extensions import mypyc_attr

from algowatch._formulas import execution_cost, implementation_shortfall, slippage_bps

if TYPE_CHECKING:
    from algowatch.monitor._scope import Scope  # imports this module: typing only

__all__ = ["TERMINAL_STATUSES", "ExecutionStats", "OrderState"]

_NS: Final = 1_000_000_000
#: The statuses an order ends in, in the order the engine counts them.
TERMINAL_STATUSES: Final = ("filled", "rejected", "canceled", "partially_filled")
_NAN: Final = math.nan  # a module attribute would be looked up on every use


@mypyc_attr(serializable=True)  # copied when a scope stops sharing
class ExecutionStats:
    """Folded execution aggregates of one scope (O(1) memory)."""

    __slots__ = (
        "ack_count",
        "ack_sum",
        "canceled",
        "fill_latency_count",
        "fill_latency_sum",
        "filled",
        "impact_notional",
        "impact_sum",
        "market_data_count",
        "market_data_sum",
        "partially_filled",
        "rejected",
        "shortfall",
        "shortfall_notional",
        "slippage_cost",
        "slippage_notional",
        "slippage_sum",
        "spread_sum",
        "submitted",
        "vwap_notional",
        "vwap_sum",
    )

    def __init__(self) -> None:
        self.submitted = 0
        self.filled = 0
        self.partially_filled = 0
        self.rejected = 0
        self.canceled = 0
        self.ack_sum = 0.0
        self.ack_count = 0
        self.fill_latency_sum = 0.0
        self.fill_latency_count = 0
        self.market_data_sum = 0.0
        self.market_data_count = 0
        self.slippage_sum = 0.0  # sum(bps * filled notional)
        self.slippage_notional = 0.0
        self.slippage_cost = 0.0  # currency, positive = cost
        self.vwap_sum = 0.0
        self.vwap_notional = 0.0
        self.shortfall = 0.0
        self.shortfall_notional = 0.0
        self.spread_sum = 0.0
        self.impact_sum = 0.0
        self.impact_notional = 0.0


class OrderState:
    """An order the engine is following (open) or has recently finished."""

    __slots__ = (
        "account",
        "arrival",
        "counts",
        "decision",
        "fees",
        "fill_ids",
        "filled",
        "label_symbol",
        "last_ts",
        "notional",
        "order_id",
        "order_type",
        "position_key",
        "quantity",
        "scopes",
        "side",
        "sign",
        "signal_id",
        "status",
        "strategy",
        "symbol",
        "ts_ack",
        "ts_submitted",
        "vwap_notional",
        "vwap_quantity",
    )

    def __init__(
        self,
        *,
        order_id: str,
        symbol: str,
        label_symbol: str,
        side: str,
        quantity: float,
        order_type: str,
        ts: int,
        strategy: str,
        account: str,
        arrival: float | None,
        decision: float | None,
        signal_id: str | None,
        scopes: tuple[Scope, ...],
        counts: list[int],
    ) -> None:
        self.order_id = order_id
        self.symbol = symbol
        self.label_symbol = label_symbol
        self.side = side
        self.sign = 1.0 if side == "buy" else -1.0
        self.quantity = quantity
        self.order_type = order_type
        self.ts_submitted = ts
        self.ts_ack: int | None = None
        self.last_ts = ts
        self.strategy = strategy
        self.account = account
        self.position_key = (account, symbol)  # the ledgers' key, built once per order
        self.arrival = arrival
        self.decision = decision
        self.signal_id = signal_id
        self.scopes = scopes
        self.counts = counts  # the engine's counters of its (symbol, side, type), per end status
        self.status = "submitted"
        self.filled = 0.0
        self.notional = 0.0
        self.fees = 0.0
        self.vwap_notional = 0.0
        self.vwap_quantity = 0.0
        self.fill_ids: set[str] | None = None

    def average_price(self) -> float:
        """Return the volume-weighted fill price, NaN before any fill."""
        return self.notional / self.filled if self.filled else math.nan

    def slippage_bps(self) -> float:
        """Return slippage of the fills against the arrival price in bps (NaN if unknown)."""
        if not self.filled or not self.arrival:
            return math.nan
        return slippage_bps(self.sign, self.notional / self.filled, self.arrival)

    def fold(  # noqa: PLR0912 - one pass per finished order, hot path
        self, scopes: tuple[Scope, ...], last_price: float | None
    ) -> tuple[float, float]:
        """Add this finished order to the execution stats of each unshared scope.

        Return ``(fill latency seconds, slippage bps)`` for the histograms, NaN
        where undefined (not completely filled; no fill or no arrival price).
        """
        status = self.status
        filled = self.filled
        notional = self.notional
        sign = self.sign
        latency = _NAN
        slippage = _NAN
        slippage_cost = 0.0
        vwap_bps = _NAN
        shortfall = _NAN
        if status == "filled":
            latency = (self.last_ts - self.ts_submitted) / _NS
        if filled:
            arrival = self.arrival
            if arrival:
                slippage = slippage_bps(sign, notional / filled, arrival)
                slippage_cost = execution_cost(sign, notional, arrival, filled)
            if self.vwap_quantity:
                benchmark = self.vwap_notional / self.vwap_quantity
                vwap_bps = slippage_bps(sign, notional / filled, benchmark)
        decision = self.decision
        if decision and status != "rejected":
            shortfall = implementation_shortfall(
                sign,
                decision,
                self.quantity,
                filled,
                notional,
                self.fees,
                _NAN if last_price is None else last_price,
            )
        for scope in scopes:
            if scope.shared:
                continue
            scope.open_orders -= 1
            stats = scope.execution
            if status == "filled":
                stats.filled += 1
                stats.fill_latency_sum += latency
                stats.fill_latency_count += 1
            elif status == "rejected":
                stats.rejected += 1
            else:
                stats.canceled += 1
                if filled:
                    stats.partially_filled += 1
            if slippage == slippage:  # noqa: PLR0124 - NaN test without a call on the hot path
                stats.slippage_sum += slippage * notional
                stats.slippage_notional += notional
                stats.slippage_cost += slippage_cost
            if vwap_bps == vwap_bps:  # noqa: PLR0124 - idem
                stats.vwap_sum += vwap_bps * notional
                stats.vwap_notional += notional
            if shortfall == shortfall:  # noqa: PLR0124 - idem
                stats.shortfall += shortfall
                stats.shortfall_notional += decision * self.quantity  # type: ignore[operator]
        return latency, slippage
