"""Hand-worked P&L scenarios: FIFO lots, fees, flips, trades."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algowatch.analytics.streaming import DrawdownTracker
from algowatch.analytics.trades import trade_summary
from algowatch.monitor import Monitor
from algowatch.server import render_positions, render_snapshot, render_trades
from algowatch.settings import MonitorSettings
from algowatch.testing import EventFactory, FakeClock

approx = pytest.approx


def _factory() -> EventFactory:
    return EventFactory(FakeClock("2025-01-02T15:00:00Z"), step_seconds=1.0)


def test_empty_monitor_reports_undefined_values_as_null_not_zero():
    """Nothing applied: counts are 0, statistics are null."""
    snap = render_snapshot(Monitor().figures())
    trading = snap["trading"]
    assert snap["events_applied"] == 0
    assert snap["as_of"] is None
    assert trading["realized_pnl"] == 0.0
    assert trading["num_trades"] == 0
    for field in ("win_rate", "profit_factor", "avg_win", "avg_loss", "sharpe_ratio", "var_95"):
        assert trading[field] is None, field
    assert snap["execution"]["fill_rate"] is None
    assert snap["signals"]["signal_accuracy"] is None


def test_partial_fills_with_fees_give_fifo_realized_and_unrealized_pnl():
    """Two partial fills build two lots whose basis carries their fees."""
    f = _factory()
    m = Monitor()
    m.apply_many(
        [
            f.submitted("o1", "AAPL", "buy", 100, arrival_price=100.0),
            f.filled("o1", 40, 100.10, fee=0.40),
            f.filled("o1", 60, 100.20, fee=0.60),
            f.mark("AAPL", 101.0),
        ]
    )
    t = render_snapshot(m.figures())["trading"]
    # lots: 40 @ 100.10 + 0.40/40 = 100.11 ; 60 @ 100.20 + 0.60/60 = 100.21
    # cost = 4004.4 + 6012.6 = 10017 ; value = 100 * 101 = 10100 ; unrealized = 83
    assert t["unrealized_pnl"] == approx(83.0)
    assert t["realized_pnl"] == 0.0
    assert t["fees"] == approx(1.0)
    assert t["gross_exposure"] == approx(10100.0)
    assert t["net_exposure"] == approx(10100.0)
    assert t["num_positions"] == 1
    (position,) = render_positions(m.figures().positions)
    assert position["quantity"] == 100
    assert position["average_cost"] == approx(100.17)
    assert position["lots"] == 2
    m.apply_many(
        [
            f.submitted("o2", "AAPL", "sell", 70, arrival_price=101.0),
            f.filled("o2", 70, 101.50, fee=0.70),
        ]
    )
    t = render_snapshot(m.figures())["trading"]
    # FIFO: 40 * (101.50 - 100.11) + 30 * (101.50 - 100.21) - 0.70
    #     = 55.6 + 38.7 - 0.7 = 93.6
    assert t["realized_pnl"] == approx(93.6)
    # remaining lot 30 @ 100.21 marked at the last mark (101.0): 30 * 0.79 = 23.7
    assert t["unrealized_pnl"] == approx(23.7)
    assert t["total_pnl"] == approx(117.3)
    assert t["portfolio_value"] == approx(100_117.3)
    assert t["num_trades"] == 0  # not flat yet: no round trip closed


def test_flip_splits_the_fee_pro_rata_and_closes_one_trade_opening_the_next():
    """A sell of 30 against a long of 10 closes the long and opens a short of 20."""
    f = _factory()
    m = Monitor()
    m.apply_many(
        [
            f.submitted("o1", "ES", "buy", 10),
            f.filled("o1", 10, 100.0, fee=1.0),  # basis 100.1
            f.submitted("o2", "ES", "sell", 30),
            f.filled("o2", 30, 110.0, fee=3.0),
        ]
    )
    t = render_snapshot(m.figures())["trading"]
    # closing part 10/30 of the fee = 1.0 ; realized = 10 * (110 - 100.1) - 1.0 = 98
    assert t["realized_pnl"] == approx(98.0)
    assert t["num_trades"] == 1
    (trade,) = render_trades(m.trade_figures())
    assert trade["side"] == "long"
    assert trade["pnl"] == approx(98.0)
    assert trade["fees"] == approx(2.0)  # 1.0 opening + 1.0 closing share
    # the short of 20 carries the other 2.0 of fee: basis 110 - 2/20 = 109.9
    (position,) = render_positions(m.figures().positions)
    assert position["quantity"] == -20
    assert position["average_cost"] == approx(109.9)
    # at the last price 110 the short shows -20 * (110 - 109.9) = -2.0
    assert t["unrealized_pnl"] == approx(-2.0)
    m.apply_many([f.submitted("o3", "ES", "buy", 20), f.filled("o3", 20, 105.0, fee=2.0)])
    t = render_snapshot(m.figures())["trading"]
    # short closes: -20 * (105 - 109.9) - 2.0 = 98 - 2 = 96
    assert t["realized_pnl"] == approx(98.0 + 96.0)
    assert t["num_positions"] == 0
    assert t["unrealized_pnl"] == 0.0
    assert t["fees"] == approx(6.0)
    newest = render_trades(m.trade_figures())[0]
    assert (newest["side"], newest["pnl"], newest["fees"]) == ("short", approx(96.0), approx(4.0))


def test_trade_statistics_from_three_round_trips():
    """Wins 98 and 96 and a loss of 50: the spec's trade statistics."""
    f = _factory()
    m = Monitor()
    m.apply_many(
        [
            f.submitted("o1", "ES", "buy", 10),
            f.filled("o1", 10, 100.0, fee=1.0),
            f.submitted("o2", "ES", "sell", 30),
            f.filled("o2", 30, 110.0, fee=3.0),
            f.submitted("o3", "ES", "buy", 20),
            f.filled("o3", 20, 105.0, fee=2.0),
            f.submitted("o4", "NQ", "buy", 10),
            f.filled("o4", 10, 100.0),
            f.submitted("o5", "NQ", "sell", 10),
            f.filled("o5", 10, 95.0),
        ]
    )
    t = render_snapshot(m.figures())["trading"]
    pnls = [98.0, 96.0, -50.0]
    assert t["num_trades"] == 3
    assert t["num_trades_today"] == 3
    assert t["win_rate"] == approx(2 / 3)
    assert t["profit_factor"] == approx((98 + 96) / 50)
    assert t["avg_win"] == approx(97.0)
    assert t["avg_loss"] == approx(-50.0)  # keeps its sign
    assert t["largest_win"] == approx(98.0)
    assert t["largest_loss"] == approx(-50.0)
    assert t["expectancy"] == approx(sum(pnls) / 3)
    assert [trade["pnl"] for trade in render_trades(m.trade_figures())] == approx(
        [-50.0, 96.0, 98.0]
    )
    assert [trade["pnl"] for trade in render_trades(m.trade_figures(offset=1, limit=1))] == approx(
        [96.0]
    )


def test_short_round_trip_and_scratch_trade_counts_in_win_rate_denominator():
    """A zero-P&L trade is neither a win nor a loss but counts as a trade."""
    f = _factory()
    m = Monitor()
    m.apply_many(
        [
            f.submitted("s1", "X", "sell", 5),
            f.filled("s1", 5, 20.0),
            f.submitted("s2", "X", "buy", 5),
            f.filled("s2", 5, 18.0),  # short gains 5 * 2 = 10
            f.submitted("s3", "X", "buy", 5),
            f.filled("s3", 5, 18.0),
            f.submitted("s4", "X", "sell", 5),
            f.filled("s4", 5, 18.0),  # scratch
        ]
    )
    t = render_snapshot(m.figures())["trading"]
    assert t["realized_pnl"] == approx(10.0)
    assert t["num_trades"] == 2
    assert t["win_rate"] == approx(0.5)
    assert t["profit_factor"] is None  # +inf (profit, no loss) is not JSON: null
    assert t["avg_loss"] is None


def test_drawdown_follows_mark_to_market_equity_anchored_at_starting_capital():
    """A day-1 loss below the starting capital is a drawdown (no earlier peak needed)."""
    f = _factory()
    m = Monitor(MonitorSettings(starting_capital=10_000.0))
    m.apply_many(
        [
            f.submitted("o1", "X", "buy", 100),
            f.filled("o1", 100, 10.0),
            f.mark("X", 9.0),  # equity 9,900: drawdown 1 %
            f.mark("X", 12.0),  # equity 10,200: new high-water mark
            f.mark("X", 11.0),  # equity 10,100: drawdown 100 / 10,200
        ]
    )
    t = render_snapshot(m.figures())["trading"]
    assert t["high_water_mark"] == approx(10_200.0)
    assert t["current_drawdown"] == approx(100 / 10_200)
    assert t["max_drawdown"] == approx(0.01)
    assert t["starting_capital"] == 10_000.0
    assert t["total_return"] == approx(0.01)


def test_account_equity_wins_and_the_difference_is_the_reconciliation_gap():
    """Reported equity is the portfolio value; computed minus reported is exported."""
    f = _factory()
    m = Monitor()
    m.apply_many(
        [
            f.submitted("o1", "X", "buy", 100),
            f.filled("o1", 100, 10.0, fee=5.0),
            f.account_snapshot(99_990.0, buying_power=50_000.0),
        ]
    )
    t = render_snapshot(m.figures())["trading"]
    # computed equity: 100,000 - 5 fee = 99,995 ; reported 99,990 -> gap -5
    assert t["equity"] == approx(99_995.0)
    assert t["portfolio_value"] == approx(99_990.0)
    assert t["reconciliation_gap"] == approx(-5.0)
    assert t["buying_power"] == approx(50_000.0)
    # used = gross / (gross + available) = 1,000 / 51,000
    assert t["buying_power_used"] == approx(1_000 / 51_000)
    assert (
        render_snapshot(m.figures())["by_strategy"]["default"]["trading"]["reconciliation_gap"]
        is None
    )


def test_breakdowns_by_strategy_and_account_see_only_their_own_fills():
    """Each strategy's and account's P&L comes from its own fills."""
    f = _factory()
    alpha = {"strategy": "alpha", "account": "acc1"}
    beta = {"strategy": "beta", "account": "acc2"}
    m = Monitor()
    m.apply_many(
        [
            f.submitted("a1", "X", "buy", 10, **alpha),
            f.filled("a1", 10, 10.0, **alpha),
            f.submitted("b1", "X", "sell", 10, **beta),
            f.filled("b1", 10, 11.0, **beta),
            f.mark("X", 12.0),
        ]
    )
    snap = render_snapshot(m.figures())
    assert snap["by_strategy"]["alpha"]["trading"]["unrealized_pnl"] == approx(20.0)
    assert snap["by_strategy"]["beta"]["trading"]["unrealized_pnl"] == approx(-10.0)
    assert snap["by_account"]["acc2"]["trading"]["num_positions"] == 1
    # the portfolio sees two accounts with opposite positions
    assert snap["trading"]["unrealized_pnl"] == approx(10.0)
    assert snap["trading"]["net_exposure"] == approx(0.0)
    assert snap["trading"]["gross_exposure"] == approx(240.0)


@given(
    trips=st.lists(
        st.tuples(
            st.sampled_from(["buy", "sell"]),
            st.integers(1, 20),
            st.sampled_from([9.5, 10.0, 10.25, 11.0]),
            st.sampled_from([9.5, 10.0, 10.25, 11.0]),
            st.sampled_from([0.0, 0.05]),
        ),
        max_size=15,
    )
)
def test_running_trade_statistics_agree_with_the_analytics_batch_form(trips):
    """O(1) running trade stats equal algowatch.analytics.trades on the trade P&L list."""
    f = _factory()
    m = Monitor()
    for i, (side, quantity, entry, exit_, fee) in enumerate(trips):
        back = "sell" if side == "buy" else "buy"
        m.apply_many(
            [
                f.submitted(f"e{i}", "X", side, quantity),
                f.filled(f"e{i}", quantity, entry, fee=fee),
                f.mark("X", (entry + exit_) / 2),
                f.submitted(f"x{i}", "X", back, quantity),
                f.filled(f"x{i}", quantity, exit_, fee=fee),
            ]
        )
    pnls = [trade["pnl"] for trade in render_trades(m.trade_figures(limit=100))]
    reference = trade_summary(pnls)
    t = render_snapshot(m.figures())["trading"]
    assert t["num_trades"] == reference.num_trades == len(trips)
    for ours, theirs in [
        ("win_rate", reference.win_rate),
        ("profit_factor", reference.profit_factor),
        ("avg_win", reference.average_win),
        ("avg_loss", reference.average_loss),
        ("largest_win", reference.largest_win),
        ("largest_loss", reference.largest_loss),
        ("expectancy", reference.expectancy),
    ]:
        if math.isfinite(theirs):
            assert t[ours] == approx(theirs, rel=1e-9, abs=1e-9), ours
        else:
            assert t[ours] is None, ours


def test_drawdown_matches_the_analytics_drawdown_tracker_on_the_equity_path():
    """The ledger's inline high-water mark agrees with DrawdownTracker fed the same equity."""
    f = _factory()
    m = Monitor(MonitorSettings(starting_capital=1_000.0))
    tracker = DrawdownTracker(1_000.0)
    m.apply_many([f.submitted("o1", "X", "buy", 10), f.filled("o1", 10, 10.0)])
    tracker.update(1_000.0)
    for price in [9.0, 12.0, 8.0, 15.0, 14.0]:
        m.apply(f.mark("X", price))
        tracker.update(1_000.0 + 10 * (price - 10.0))
    t = render_snapshot(m.figures())["trading"]
    assert t["max_drawdown"] == approx(-tracker.max_drawdown)
    assert t["current_drawdown"] == approx(-tracker.current_drawdown)
    assert t["high_water_mark"] == approx(tracker.high_water_mark)
