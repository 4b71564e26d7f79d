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
    service: Any,
    run_backtest: Callable[..., dict[str, Any]],
    assert_figures_agree: Callable[[dict[str, Any], dict[str, Any]], None],
) -> None:
    nautilus = run_backtest("--url", service.url, "--seed", str(SEED), "--bars", str(BARS))
    assert_figures_agree(service.snapshot(), nautilus)
