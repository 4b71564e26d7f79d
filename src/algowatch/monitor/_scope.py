"""A scope of the engine's state: the portfolio, one strategy or one account."""

from __future__ import annotations

from algowatch.monitor._ledger import Ledger, TradeStats
from algowatch.monitor._orders import ExecutionStats
from algowatch.monitor._signals import SignalStats
from algowatch.settings import MonitorSettings

__all__ = ["Scope"]


class Scope:
    """One view of the portfolio: everything, one strategy, or one account.

    While only one strategy (or account) has been seen, its scope is *shared*: it reads
    the portfolio's components instead of booking every fill twice; it gets its own copy
    when a second one appears (all fills until then were its own, so the copy is exact).
    """

    __slots__ = (
        "execution",
        "kind",
        "ledger",
        "name",
        "open_orders",
        "shared",
        "signals",
        "trades",
    )

    def __init__(
        self,
        kind: str,
        name: str,
        settings: MonitorSettings,
        prices: dict[str, float],
        share: Scope | None = None,
    ) -> None:
        self.kind = kind
        self.name = name
        self.open_orders = 0
        self.ledger: Ledger
        self.execution: ExecutionStats
        self.signals: SignalStats
        self.trades: TradeStats
        if share is not None:
            self.shared = True
            self.ledger = share.ledger
            self.execution = share.execution
            self.signals = share.signals
            self.trades = share.trades
            return
        self.shared = False
        self.ledger = Ledger(settings.starting_capital, prices, window=settings.rolling_window)
        self.execution = ExecutionStats()
        self.signals = SignalStats(settings.rolling_window)
        self.trades = TradeStats()
