"""A seeded Nautilus backtest with ``AlgowatchActor`` against a live service: every figure agrees.

The reference is Nautilus's own accounting (portfolio, positions, orders, account), read by
the backtest script after the run. The documented conventions (docs/integrations/nautilus.md):
Nautilus books every commission as realized at once, while algowatch keeps a lot's opening fee
in its basis until the lot closes; and Nautilus rounds the closing share of a flipping fill's
fee to cents, while algowatch splits it exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.integration

SEED = 2  # ends with an open position and a working order
BARS = 800


def test_actor_figures_equal_nautilus_accounting(
    service: Any, run_backtest: Callable[..., dict[str, Any]]
) -> None:
    nautilus = run_backtest("--url", service.url, "--seed", str(SEED), "--bars", str(BARS))
    trading = service.snapshot()["trading"]
    execution = service.snapshot()["execution"]

    # the run exercises what the mapping covers
    assert nautilus["open_positions"] == 1
    assert nautilus["orders_open"] >= 1
    assert nautilus["flips"] > 10
    assert nautilus["maker_fills"] > 0
    assert nautilus["orders_expired"] > 0
    assert nautilus["orders_rejected"] > 0
    assert nautilus["orders_partially_filled"] == 0
    # Nautilus's books agree with themselves
    assert nautilus["realized_pnl"] == pytest.approx(nautilus["balance_change"], abs=1e-6)

    cent = 1e-6
    assert trading["fees"] == pytest.approx(nautilus["fees"], abs=cent)
    total = nautilus["realized_pnl"] + nautilus["unrealized_pnl"]
    assert trading["total_pnl"] == pytest.approx(total, abs=cent)
    # convention 1: the open lot's opening fee is unrealized (in its basis) for algowatch
    assert trading["unrealized_pnl"] == pytest.approx(
        nautilus["unrealized_pnl"] - nautilus["open_position_fees"], abs=cent
    )
    assert trading["realized_pnl"] == pytest.approx(
        nautilus["realized_pnl"] + nautilus["open_position_fees"], abs=cent
    )
    assert trading["num_trades"] == nautilus["closed_positions"]
    assert trading["num_positions"] == nautilus["open_positions"]
    assert trading["net_exposure"] == pytest.approx(
        nautilus["net_position"] * nautilus["last_price"], rel=1e-12
    )
    # convention 2: per round trip, a flip's fee share differs by less than half a cent
    assert trading["largest_win"] == pytest.approx(nautilus["largest_win"], abs=0.005)
    assert trading["largest_loss"] == pytest.approx(nautilus["largest_loss"], abs=0.005)
    assert round(trading["win_rate"] * trading["num_trades"]) == nautilus["winning_positions"]

    assert execution["orders_submitted"] == nautilus["orders"]
    assert execution["orders_filled"] == nautilus["orders_filled"]
    assert execution["orders_rejected"] == nautilus["orders_rejected"]
    assert execution["orders_canceled"] == nautilus["orders_canceled"] + nautilus["orders_expired"]
    assert execution["orders_open"] == nautilus["orders_open"]
