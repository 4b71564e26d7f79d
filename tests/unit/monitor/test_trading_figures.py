"""Monitor.trading_figures and execution_figures: the portfolio's, as figures() has them."""

from __future__ import annotations

import math

from algowatch.monitor import Monitor
from algowatch.testing import EventFactory


def _same(a: object, b: object) -> bool:
    # field by field, NaN equal to NaN (undefined figures are NaN, never 0)
    for name in a.__dataclass_fields__:  # type: ignore[attr-defined]
        x, y = getattr(a, name), getattr(b, name)
        if not (x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))):
            return False
    return True


def test_trading_and_execution_figures_equal_the_portfolio_figures_after_every_event() -> None:
    """A round trip with a loss, an open position and an account report."""
    f = EventFactory()
    monitor = Monitor()
    events = [
        f.mark("AAPL", 100.0),
        f.submitted("o1", "AAPL", "buy", 10, arrival_price=100.0),
        f.filled("o1", 10, 100.0),
        f.mark("AAPL", 90.0),
        f.submitted("o2", "AAPL", "sell", 4, arrival_price=90.0),
        f.filled("o2", 4, 90.0),
        f.signal("s1", "AAPL", "long"),
        f.account_snapshot(10_000.0),
        f.mark("AAPL", 95.0),
    ]
    assert _same(monitor.trading_figures(), monitor.figures().portfolio.trading)
    for event in events:
        monitor.apply(event)
        portfolio = monitor.figures().portfolio
        assert _same(monitor.trading_figures(), portfolio.trading)
        assert _same(monitor.execution_figures(), portfolio.execution)
    trading = monitor.trading_figures()
    # hand-worked: 4 sold at 90 of 10 bought at 100 -> realized -40; 6 left marked at 95 -> -30
    assert trading.realized_pnl == -40.0
    assert trading.unrealized_pnl == -30.0
    assert trading.open_positions == 1
    assert monitor.execution_figures().orders_filled == 2
