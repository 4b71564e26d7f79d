"""The ledger: FIFO lots, realized and unrealized P&L, equity, drawdown and trades.

Conventions (``DESIGN.md``):

- Lots are FIFO per ``(account, symbol)``. A lot stores a signed quantity
  (positive long, negative short) and a per-unit *basis* that includes its
  opening fee: ``basis = price + fee / signed_quantity`` (a buy's fee raises
  the basis, a short sale's fee lowers it).
- Closing ``c`` units (signed like the lot) at ``price`` realizes
  ``c * (price - basis)`` minus the closing fill's fee. A fill that flips the
  position splits its fee pro rata by quantity between the closing and the
  opening part.
- Unrealized P&L is ``sum(q * mark) - sum(q * basis)`` over open lots, so fees
  already paid are in it; equity is ``starting_capital + realized + unrealized``.
- A trade is a round trip per ``(account, symbol)`` from flat to flat; its P&L
  is the realized P&L of its closing parts, opening fees included (through the
  basis).
- High-water mark and drawdown follow mark-to-market equity on every fill and
  mark, anchored at the starting capital.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import math
from collections import deque
from typing import Final

from mypy_extensions import mypyc_attr

from algowatch._formulas import drawdown

__all__ = ["Ledger", "Lot", "Position", "TradeRecord", "TradeStats"]

# Quantities are floats; a remainder this small relative to the quantity is zero.
_REL_EPS: Final = 1e-9


@mypyc_attr(serializable=True)  # copied when a scope stops sharing
class TradeRecord:
    """One round trip (flat to flat) on ``(account, symbol)``."""

    __slots__ = (
        "account",
        "entry_notional",
        "entry_quantity",
        "entry_ts",
        "exit_notional",
        "exit_quantity",
        "exit_ts",
        "fees",
        "fills",
        "max_quantity",
        "pnl",
        "side",
        "strategy",
        "symbol",
    )

    def __init__(self, account: str, symbol: str, strategy: str, side: str, ts: int) -> None:
        self.account = account
        self.symbol = symbol
        self.strategy = strategy
        self.side = side
        self.entry_ts = ts
        self.exit_ts = ts
        self.pnl = 0.0
        self.fees = 0.0
        self.fills = 0
        self.entry_notional = 0.0
        self.entry_quantity = 0.0
        self.exit_notional = 0.0
        self.exit_quantity = 0.0
        self.max_quantity = 0.0


@mypyc_attr(serializable=True)  # copied when a scope stops sharing
class Lot:
    """An open lot: signed quantity and per-unit basis (opening fee included)."""

    __slots__ = ("basis", "quantity")

    def __init__(self, quantity: float, basis: float) -> None:
        self.quantity = quantity
        self.basis = basis


@mypyc_attr(serializable=True)  # copied when a scope stops sharing
class Position:
    """Open FIFO lots on one ``(account, symbol)``."""

    __slots__ = ("account", "cost", "head", "lots", "quantity", "symbol", "trade")

    def __init__(self, account: str, symbol: str) -> None:
        self.account = account
        self.symbol = symbol
        # open lots are lots[head:], oldest first (a list and an index: FIFO without a deque)
        self.lots: list[Lot] = []
        self.head = 0
        self.quantity = 0.0
        self.cost = 0.0  # sum(q * basis)
        self.trade: TradeRecord | None = None

    def open_lots(self) -> int:
        """Return the number of open lots."""
        return len(self.lots) - self.head


@mypyc_attr(serializable=True)  # copied when a scope stops sharing
class Ledger:
    """Positions, P&L, equity and trade statistics of one scope.

    The engine keeps one ledger for the whole portfolio and one per strategy
    and per account; each sees only its own fills.
    """

    def __init__(
        self, starting_capital: float, prices: dict[str, float], *, window: int = 252
    ) -> None:
        self.starting_capital = starting_capital
        self.prices = prices  # shared with the engine: last price per symbol
        self.positions: dict[tuple[str, str], Position] = {}
        self.symbol_quantity: dict[str, float] = {}
        self.realized = 0.0
        self.cost = 0.0
        self.market_value = 0.0
        self.fees = 0.0
        self.high_water_mark = starting_capital
        self.max_drawdown = 0.0
        self.session_open_equity = starting_capital
        self.session_returns: deque[float] = deque(maxlen=window)
        self.trades_today = 0
        self.sessions_closed = 0  # the figures cache the returns summary until the next close
        self.closed_trades: list[TradeRecord] = []  # drained by the engine after each fill

    # ----------------------------------------------------------------- equity

    def equity(self) -> float:
        """Return mark-to-market equity from the running sums (the hot path's form).

        The figures recompute the unrealized P&L exactly (:meth:`unrealized`); the two
        agree up to rounding.
        """
        return self.starting_capital + self.realized + self.market_value - self.cost

    def update_drawdown(self) -> None:
        """Move the high-water mark and the maximum drawdown to the current equity."""
        equity = self.equity()
        if equity > self.high_water_mark:
            self.high_water_mark = equity
        else:
            current = drawdown(self.high_water_mark, equity)
            # max() keeps the maximum when current is NaN (no positive high-water mark)
            self.max_drawdown = max(self.max_drawdown, current)

    def current_drawdown(self) -> float:
        """Return the current drawdown as a positive fraction of the high-water mark."""
        current = drawdown(self.high_water_mark, self.equity())
        # clamp at 0 (equity above the mark until the next update); NaN stays NaN
        return current if current > 0.0 or current != current else 0.0  # noqa: PLR0124

    def reprice(self, symbol: str, old: float, new: float) -> None:
        """Apply a new mark for ``symbol`` (``old`` was the previous price)."""
        quantity = self.symbol_quantity.get(symbol)
        if quantity:
            self.reprice_held(quantity, old, new)

    def reprice_held(self, quantity: float, old: float, new: float) -> None:
        """Apply a new mark for a symbol of which ``quantity`` is held (``old`` was its price)."""
        if quantity:
            self.market_value += quantity * (new - old)
            self.update_drawdown()

    # ----------------------------------------------------------------- fills

    def fill(  # noqa: PLR0912, PLR0915, PLR0917 - the hot path stays in one frame
        self,
        key: tuple[str, str],
        strategy: str,
        quantity: float,
        price: float,
        fee: float,
        mark: float,
        ts: int,
    ) -> float:
        """Apply a fill of signed ``quantity`` at ``price``; return the realized P&L.

        ``key`` is ``(account, symbol)``; ``mark`` is the symbol's current mark (used to
        value the position change). Closed round trips are appended to :attr:`closed_trades`.
        """
        account, symbol = key
        position = self.positions.get(key)
        if position is None:
            position = self.positions[key] = Position(account, symbol)
        self.fees += fee
        buying = quantity > 0.0
        size = quantity if buying else -quantity
        held = position.quantity
        realized = 0.0
        opening = size
        open_fee = fee
        if held and (held > 0.0) != buying:
            closing = held if held > 0.0 else -held
            if closing >= size * (1.0 - _REL_EPS):
                closing = size
            close_fee = fee * closing / size
            open_fee = fee - close_fee
            opening = size - closing
            sign = 1.0 if held > 0.0 else -1.0
            remaining = closing
            gross = 0.0
            released = 0.0
            lots = position.lots
            head = position.head
            count = len(lots)
            while remaining > 0.0 and head < count:
                lot = lots[head]
                lot_quantity = lot.quantity
                lot_size = lot_quantity if lot_quantity > 0.0 else -lot_quantity
                if lot_size <= remaining * (1.0 + _REL_EPS):
                    gross += lot_quantity * (price - lot.basis)
                    released += lot_quantity * lot.basis
                    remaining -= lot_size
                    head += 1
                else:
                    part = sign * remaining
                    gross += part * (price - lot.basis)
                    released += part * lot.basis
                    lot.quantity = lot_quantity - part
                    remaining = 0.0
            if head >= count:
                lots.clear()
                head = 0
            elif head > 16 and 2 * head > count:
                del lots[:head]  # compact: closed lots never outnumber open ones for long
                head = 0
            position.head = head
            realized = gross - close_fee
            position.cost -= released
            self.cost -= released
            held -= sign * closing
            position.quantity = held
            trade = position.trade
            if trade is not None:
                trade.pnl += realized
                trade.fees += close_fee
                trade.fills += 1
                trade.exit_notional += closing * price
                trade.exit_quantity += closing
                trade.exit_ts = ts
            if not lots or (held if held > 0.0 else -held) <= _REL_EPS * closing:
                # flat: drop float dust so the next fill starts a clean trade
                self.cost -= position.cost
                position.cost = 0.0
                position.quantity = 0.0
                lots.clear()
                position.head = 0
                if trade is not None:
                    self.closed_trades.append(trade)
                position.trade = None
            if opening <= size * _REL_EPS:
                opening = 0.0
            self.realized += realized
        if opening:
            signed = opening if buying else -opening
            basis = price + open_fee / signed
            position.lots.append(Lot(signed, basis))
            position.quantity += signed
            position.cost += signed * basis
            self.cost += signed * basis
            trade = position.trade
            if trade is None:
                trade = position.trade = TradeRecord(
                    account, symbol, strategy, "long" if buying else "short", ts
                )
            trade.fees += open_fee
            trade.entry_notional += opening * price
            trade.entry_quantity += opening
            trade.exit_ts = ts
            held = position.quantity
            held = held if held > 0.0 else -held
            trade.max_quantity = max(trade.max_quantity, held)
            trade.fills += 1
        quantities = self.symbol_quantity
        new_quantity = quantities.get(symbol, 0.0) + quantity
        if (new_quantity if new_quantity > 0.0 else -new_quantity) <= _REL_EPS * size:
            quantities.pop(symbol, None)
            # the scope went flat on this symbol: recompute the running value so float
            # dust from long streams of marks does not accumulate
            prices = self.prices
            value = 0.0
            for other, held_quantity in quantities.items():
                value += held_quantity * prices[other]
            self.market_value = value
            if not position.lots:
                del self.positions[key]
        else:
            quantities[symbol] = new_quantity
            self.market_value += quantity * mark
            if not position.lots:
                del self.positions[key]
        self.update_drawdown()
        return realized

    # ----------------------------------------------------------------- views

    def unrealized(self, marks: dict[str, float]) -> float:
        """Return unrealized P&L of open lots at ``marks`` (exact recomputation)."""
        return math.fsum(
            p.quantity * marks.get(p.symbol, 0.0) - p.cost for p in self.positions.values()
        )

    def exposures(self, marks: dict[str, float]) -> tuple[float, float]:
        """Return ``(gross, net)`` exposure in account currency at ``marks``."""
        gross = 0.0
        net = 0.0
        for p in self.positions.values():
            value = p.quantity * marks.get(p.symbol, 0.0)
            gross += abs(value)
            net += value
        return gross, net

    def close_session(self) -> float:
        """Record the ending session's return and open the next session; return that return."""
        equity = self.equity()
        start = self.session_open_equity
        result = equity / start - 1.0 if start > 0.0 else math.nan
        self.session_returns.append(result)
        self.session_open_equity = equity
        self.trades_today = 0
        self.sessions_closed += 1
        return result


@mypyc_attr(serializable=True)  # copied when a scope stops sharing
class TradeStats:
    """Running statistics of closed round trips (O(1) memory)."""

    __slots__ = (
        "count",
        "gross_loss",
        "gross_profit",
        "largest_loss",
        "largest_win",
        "losses",
        "total",
        "wins",
    )

    def __init__(self) -> None:
        self.count = 0
        self.wins = 0
        self.losses = 0
        self.gross_profit = 0.0
        self.gross_loss = 0.0
        self.total = 0.0
        self.largest_win = math.nan
        self.largest_loss = math.nan

    def add(self, pnl: float) -> None:
        """Count one closed trade's P&L."""
        self.count += 1
        self.total += pnl
        if pnl > 0:
            self.wins += 1
            self.gross_profit += pnl
            if not pnl <= self.largest_win:
                self.largest_win = pnl
        elif pnl < 0:
            self.losses += 1
            self.gross_loss += pnl
            if not pnl >= self.largest_loss:
                self.largest_loss = pnl
