"""The synthetic market and the paper broker."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algowatch import events as ev
from algowatch.sim import (
    BrokerConditions,
    MarketSettings,
    PaperBroker,
    Quote,
    SyntheticMarket,
    get_scenario,
    per_bar_drift,
)


def test_market_given_zero_volatility_compounds_the_drift_exactly() -> None:
    """With no noise, no jumps and no regimes the mid grows by exp(drift) per bar."""
    settings = MarketSettings(
        drift=0.001, volatility=0.0, jump_probability=0.0, enter_turbulence_probability=0.0
    )
    market = SyntheticMarket({"X": 100.0}, np.random.default_rng(0), settings)
    for _ in range(10):
        quote = market.step()["X"]
    assert quote.mid == pytest.approx(100.0 * math.exp(0.01))


def test_market_extra_drift_scripts_a_crash() -> None:
    """per_bar_drift over n bars compounds to the requested total return."""
    settings = MarketSettings(
        drift=0.0, volatility=0.0, jump_probability=0.0, enter_turbulence_probability=0.0
    )
    market = SyntheticMarket({"X": 200.0}, np.random.default_rng(0), settings)
    for _ in range(50):
        quote = market.step(extra_drift=per_bar_drift(-0.3, 50))["X"]
    assert quote.mid == pytest.approx(140.0)


def test_market_quotes_have_a_spread_around_the_mid() -> None:
    """bid < mid < ask, spread_bps wide in the calm regime."""
    market = SyntheticMarket({"X": 100.0}, np.random.default_rng(0))
    q = market.quotes()["X"]
    assert (q.ask - q.bid) / q.mid * 1e4 == pytest.approx(2.0)


def test_market_log_returns_have_the_configured_volatility() -> None:
    """The sample std of calm, jump-free log returns matches the per-bar volatility."""
    settings = MarketSettings(drift=0.0, jump_probability=0.0, enter_turbulence_probability=0.0)
    market = SyntheticMarket({"X": 100.0}, np.random.default_rng(3), settings)
    mids = [market.step()["X"].mid for _ in range(20_000)]
    returns = np.diff(np.log(mids))
    assert returns.std(ddof=1) == pytest.approx(settings.volatility, rel=0.03)


def _order(quantity: float = 100) -> ev.OrderSubmitted:
    return ev.OrderSubmitted(
        ts=10**18, order_id="o1", symbol="X", side="buy", quantity=quantity, order_type="market"
    )


def test_broker_given_outage_rejects_after_the_timeout() -> None:
    """No acknowledgement in an outage: a rejection 2 s after the order."""
    broker = PaperBroker(np.random.default_rng(0))
    answers = broker.submit(_order(), Quote("X", 99.99, 100.01), BrokerConditions(outage=True))
    assert len(answers) == 1
    ts, event = answers[0]
    assert isinstance(event, ev.OrderRejected)
    assert ts - _order().ts == 2 * 10**9


def test_broker_fills_buys_near_the_ask_and_completes_the_order() -> None:
    """Buys fill around the ask (slippage of a few bps) and fills sum to the order."""
    broker = PaperBroker(np.random.default_rng(5))
    for _ in range(50):
        answers = broker.submit(_order(), Quote("X", 99.99, 100.01))
        fills = [e for _, e in answers if isinstance(e, ev.OrderFilled)]
        if any(isinstance(e, ev.OrderCanceled | ev.OrderRejected) for _, e in answers):
            continue
        assert sum(f.quantity for f in fills) == 100
        assert all(abs(f.price / 100.01 - 1) < 0.002 for f in fills)
        stamps = [ts for ts, _ in answers]
        assert stamps == sorted(stamps)


def test_broker_reject_probability_one_rejects_everything() -> None:
    """A reject storm at probability 1 rejects every order with a reason."""
    broker = PaperBroker(np.random.default_rng(0))
    cond = BrokerConditions(reject_probability=1.0)
    answers = [broker.submit(_order(), Quote("X", 99.99, 100.01), cond) for _ in range(20)]
    assert all(len(a) == 1 and isinstance(a[0][1], ev.OrderRejected) for a in answers)


def test_get_scenario_given_unknown_name_lists_the_choices() -> None:
    """The error names every scenario and the value received."""
    with pytest.raises(ValueError, match=r"received 'crash'$"):
        get_scenario("crash")
