"""The engine as a whole: odd streams, idempotence, determinism, bounded memory."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import algowatch.monitor as monitor_package
from algowatch import events as ev
from algowatch.monitor import CounterState, HistogramData, LastSeen, Monitor
from algowatch.server import render_orders, render_positions, render_snapshot, render_trades
from algowatch.settings import MonitorSettings
from algowatch.testing import EventFactory, FakeClock

approx = pytest.approx


def test_all_matches_public_names():
    """``__all__`` is sorted and lists exactly the public names."""
    public = {n for n in vars(monitor_package) if not n.startswith("_")}
    modules = {"ledger", "orders", "sessions", "signals", "annotations"}
    assert sorted(monitor_package.__all__) == monitor_package.__all__
    assert set(monitor_package.__all__) == public - modules


def test_duplicate_event_id_is_ignored_and_counted():
    """Re-applying the same event changes nothing but the anomaly count."""
    f = EventFactory()
    m = Monitor()
    assert m.apply(f.submitted("o1", "X", "buy", 10)) is True
    fill = f.filled("o1", 10, 100.0)
    assert m.apply(fill) is True
    before = render_snapshot(m.figures())
    assert m.apply(fill) is False
    after = render_snapshot(m.figures())
    assert after["anomalies"] == {"duplicate_event_id": 1}
    after.pop("anomalies")
    before.pop("anomalies")
    assert after == before
    assert m.apply_many([fill, fill]) == 0


def test_odd_streams_never_raise_and_are_counted_by_kind():
    """Unknown orders, overfills, late fills, out-of-order time, unknown marks."""
    f = EventFactory(FakeClock("2025-01-02T15:00:00Z"))
    m = Monitor()
    applied = m.apply_many(
        [
            f.mark("NEW", 5.0),  # no order or signal for NEW yet
            f.filled("ghost", 1, 1.0),  # unknown order: cannot be booked
            f.acknowledged("ghost"),
            f.canceled("ghost"),
            f.rejected("ghost"),
            f.submitted("o1", "X", "buy", 10),
            f.filled("o1", 6, 10.0, fill_id="f1"),
            f.filled("o1", 6, 10.0, fill_id="f1"),  # same broker fill twice: ignored
            f.filled("o1", 6, 10.0, fill_id="f2"),  # 12 of 10: overfill, completes
            f.submitted("o2", "X", "sell", 5),
            f.canceled("o2"),
            f.filled("o2", 5, 11.0),  # fill after cancel: booked to the ledger
            f.submitted("o1", "X", "buy", 1),  # order id reused
            f.mark("X", 10.5, ts="2025-01-02T14:00:00Z"),  # earlier than what came before
        ]
    )
    assert applied == 14
    snap = render_snapshot(m.figures())
    assert snap["anomalies"] == {
        "acknowledgement_unknown_order": 1,
        "cancel_unknown_order": 1,
        "duplicate_fill": 1,
        "duplicate_order_id": 1,
        "fill_after_canceled": 1,
        "fill_unknown_order": 1,
        "mark_unknown_symbol": 1,
        "out_of_order_timestamp": 1,
        "overfill": 1,
        "rejection_unknown_order": 1,
    }
    # position: +12 bought at 10, -5 sold at 11 (late fill) -> 7 long, realized 5
    t = snap["trading"]
    assert t["realized_pnl"] == approx(5.0)
    assert render_positions(m.figures().positions)[0]["quantity"] == approx(7.0)
    assert snap["execution"]["orders_filled"] == 1
    assert snap["execution"]["orders_canceled"] == 1
    assert m.counters().anomalies == snap["anomalies"]


def test_snapshot_is_strict_json_with_nulls_for_undefined_values():
    """No NaN or Infinity literal reaches the JSON text."""
    f = EventFactory()
    m = Monitor()
    m.apply_many(
        [
            f.submitted("o1", "X", "buy", 1),
            f.filled("o1", 1, 2.0),
            f.submitted("o2", "X", "sell", 1),
            f.filled("o2", 1, 3.0),
        ]
    )
    text = json.dumps(render_snapshot(m.figures()), allow_nan=False)
    assert '"profit_factor": null' in text
    for key in (
        "as_of",
        "currency",
        "events_applied",
        "trading",
        "execution",
        "signals",
        "by_strategy",
        "by_account",
        "positions",
        "equity_curve",
        "anomalies",
    ):
        assert key in render_snapshot(m.figures())


def test_counters_and_last_seen_are_frozen_plain_numbers():
    """The exporter's and health checks' views."""
    f = EventFactory(FakeClock("2025-01-02T15:00:00Z"))
    m = Monitor()
    m.apply_many(
        [
            f.heartbeat("engine"),
            f.error("timeout", "broker"),
            f.error("timeout", "broker"),
            f.mark("X", 1.0),
            f.submitted("o1", "X", "buy", 1),
        ]
    )
    counters = m.counters()
    assert isinstance(counters, CounterState)
    assert counters.errors == {("timeout", "broker"): 2}
    assert counters.events == {"heartbeat": 1, "error": 2, "mark": 1, "order_submitted": 1}
    assert isinstance(counters.slippage_bps, HistogramData)
    assert len(counters.slippage_bps.counts) == len(counters.slippage_bps.bounds) + 1
    seen = m.last_seen()
    assert isinstance(seen, LastSeen)
    assert seen.heartbeats == {"engine": f.clock.time_ns() - 4_000_000}
    assert seen.marks == {"X": f.clock.time_ns() - 1_000_000}
    assert seen.last_order_ts == seen.last_event_ts == f.clock.time_ns()
    with pytest.raises(AttributeError):
        seen.last_event_ts = 0  # type: ignore[misc]


def test_symbols_past_max_symbols_fold_into_other_for_counters():
    """Label cardinality is bounded; the ledger still books every symbol."""
    f = EventFactory()
    m = Monitor(MonitorSettings(max_symbols=3))
    for i in range(6):
        m.apply_many([f.submitted(f"o{i}", f"S{i}", "buy", 1), f.filled(f"o{i}", 1, 1.0)])
    symbols = {key[0] for key in m.counters().orders}
    assert symbols == {"S0", "S1", "S2", "other"}
    assert m.counters().orders[("other", "buy", "market", "filled")] == 3
    assert m.counters().folded_labels == 3
    assert len(render_positions(m.figures().positions)) == 6


def test_memory_stays_bounded_on_a_long_stream():
    """Finished orders, event ids, trades, open orders and the equity curve are capped."""
    settings = MonitorSettings(
        max_recent_orders=50,
        max_recent_trades=20,
        max_event_ids=100,
        max_open_orders=30,
        equity_curve_points=10,
        equity_curve_interval_seconds=1.0,
    )
    f = EventFactory(step_seconds=0.5)
    m = Monitor(settings)
    for i in range(2_000):
        m.apply_many(
            [
                f.submitted(f"b{i}", "X", "buy", 1),
                f.filled(f"b{i}", 1, 10.0),
                f.submitted(f"s{i}", "X", "sell", 1),
                f.filled(f"s{i}", 1, 10.5),
                f.submitted(f"w{i}", "X", "buy", 1),
            ]
        )  # never finishes
    assert len(m._finished) == 50
    assert len(m._event_ids.seen) == 100
    assert len(m._trades) == 20
    assert len(m._open) == 30
    assert len(m._equity_curve.points()) == 10
    assert len(render_orders(m.order_figures(limit=1_000))) == 80
    assert len(render_trades(m.trade_figures(limit=1_000))) == 20
    snap = render_snapshot(m.figures())
    assert snap["trading"]["num_trades"] == 2_000  # folded aggregates keep the full count
    assert snap["anomalies"]["open_order_evicted"] == 2_000 - 30
    assert snap["execution"]["orders_submitted"] == 4_000 + 30


# ----------------------------------------------------------------------------- properties

SYMBOLS = ("X", "Y")


@st.composite
def streams(
    draw: st.DrawFn,
    strategies: tuple[str, ...] = ("default",),
    accounts: tuple[str, ...] = ("default",),
) -> list[ev.Event]:
    """A random but valid-looking stream with odd events mixed in."""
    f = EventFactory(
        FakeClock("2025-01-02T15:00:00Z"), step_seconds=draw(st.sampled_from([1.0, 3_600.0]))
    )
    out: list[ev.Event] = []
    n_orders = draw(st.integers(0, 12))
    for i in range(n_orders):
        symbol = draw(st.sampled_from(SYMBOLS))
        side = draw(st.sampled_from(["buy", "sell"]))
        quantity = draw(st.integers(1, 5))
        out.append(
            f.submitted(
                f"o{i}",
                symbol,
                side,
                quantity,
                arrival_price=draw(st.sampled_from([None, 10.0])),
                decision_price=draw(st.sampled_from([None, 9.9])),
                strategy=draw(st.sampled_from(strategies)),
                account=draw(st.sampled_from(accounts)),
            )
        )
        if draw(st.booleans()):
            out.append(f.acknowledged(f"o{i}"))
        action = draw(st.sampled_from(["fill", "partial", "reject", "open", "mark"]))
        price = draw(st.sampled_from([9.0, 10.0, 10.5, 11.0]))
        fee = draw(st.sampled_from([0.0, 0.1]))
        if action == "fill":
            out.append(f.filled(f"o{i}", quantity, price, fee=fee))
        elif action == "partial":
            out.append(f.filled(f"o{i}", 0.5, price, fee=fee))
            out.append(f.canceled(f"o{i}"))
        elif action == "reject":
            out.append(f.rejected(f"o{i}"))
        elif action == "mark":
            out.append(f.mark(symbol, price, bid=price - 0.1, ask=price + 0.1))
        if draw(st.booleans()):
            out.append(
                f.signal(f"s{i}", symbol, draw(st.sampled_from(["long", "short"])), confidence=0.5)
            )
            out.append(f.outcome(f"s{i}", "long", pnl=price - 10.0, bars_held=i % 3))
    if out and draw(st.booleans()):
        out.append(out[draw(st.integers(0, len(out) - 1))])  # a duplicate
    return out


def _without_as_of(snapshot: dict[str, object]) -> dict[str, object]:
    snapshot = dict(snapshot)
    snapshot.pop("as_of")
    return snapshot


@given(stream=streams(), data=st.data())
def test_split_stream_with_snapshot_in_between_equals_one_pass(stream, data):
    """Snapshotting mid-stream does not change state; prefix + suffix equals one pass."""
    cut = data.draw(st.integers(0, len(stream)))
    one = Monitor()
    one.apply_many(stream)
    split = Monitor()
    split.apply_many(stream[:cut])
    render_snapshot(split.figures())
    split.counters()
    render_positions(split.figures().positions)
    split.apply_many(stream[cut:])
    fresh = Monitor()
    fresh.apply_many(stream[:cut] + stream[cut:])
    assert _without_as_of(render_snapshot(split.figures())) == _without_as_of(
        render_snapshot(one.figures())
    )
    assert _without_as_of(render_snapshot(fresh.figures())) == _without_as_of(
        render_snapshot(one.figures())
    )
    assert split.counters() == one.counters()


@given(stream=streams())
def test_replaying_a_stream_twice_is_idempotent(stream):
    """Every event has an id: the second pass is ignored entirely."""
    once = Monitor()
    once.apply_many(stream)
    twice = Monitor()
    twice.apply_many(stream)
    assert twice.apply_many(stream) == 0
    a, b = render_snapshot(once.figures()), render_snapshot(twice.figures())
    a.pop("anomalies")
    b.pop("anomalies")
    assert a == b


@given(stream=streams(), data=st.data())
def test_interleaving_of_independent_symbols_does_not_change_pnl(stream, data):
    """P&L, positions and trade counts depend on each symbol's own order only."""
    by_symbol: dict[str, list[ev.Event]] = {s: [] for s in SYMBOLS}
    order_symbol: dict[str, str] = {}
    signal_symbol: dict[str, str] = {}
    for event in stream:
        if isinstance(event, ev.OrderSubmitted):
            order_symbol[event.order_id] = event.symbol
            symbol = event.symbol
        elif isinstance(event, ev.Signal):
            signal_symbol[event.signal_id] = event.symbol
            symbol = event.symbol
        elif isinstance(event, ev.Mark):
            symbol = event.symbol
        elif isinstance(event, ev.SignalOutcome):
            symbol = signal_symbol[event.signal_id]
        else:
            symbol = order_symbol[event.order_id]  # type: ignore[union-attr]
        by_symbol[symbol].append(event)
    # a random merge that keeps each symbol's own order
    queues = [list(q) for q in by_symbol.values()]
    merged: list[ev.Event] = []
    while any(queues):
        choices = [i for i, q in enumerate(queues) if q]
        merged.append(queues[data.draw(st.sampled_from(choices))].pop(0))
    a, b = Monitor(), Monitor()
    a.apply_many(stream)
    b.apply_many(merged)
    ta, tb = render_snapshot(a.figures())["trading"], render_snapshot(b.figures())["trading"]
    for key in ("realized_pnl", "fees", "num_trades", "num_positions", "win_rate"):
        assert (ta[key] is None and tb[key] is None) or ta[key] == approx(tb[key], abs=1e-9)
    assert [(p["symbol"], p["quantity"]) for p in render_positions(a.figures().positions)] == [
        (p["symbol"], p["quantity"]) for p in render_positions(b.figures().positions)
    ]


@given(stream=streams())
def test_equity_identity_and_drawdown_bounds_hold_on_any_stream(stream):
    """equity = capital + realized + unrealized; drawdowns within [0, 1]."""
    m = Monitor()
    m.apply_many(stream)
    t = render_snapshot(m.figures())["trading"]
    assert t["equity"] == approx(t["starting_capital"] + t["realized_pnl"] + t["unrealized_pnl"])
    assert 0.0 <= t["current_drawdown"] <= t["max_drawdown"] + 1e-12 <= 1.0
    assert not math.isnan(t["high_water_mark"])
    e = render_snapshot(m.figures())["execution"]
    assert e["orders_submitted"] == (
        e["orders_filled"] + e["orders_rejected"] + e["orders_canceled"] + e["orders_open"]
    )


@given(stream=streams(strategies=("a", "b", "c"), accounts=("x", "y")))
def test_each_strategy_breakdown_equals_a_monitor_fed_only_that_strategy(stream):
    """by_strategy[name] books exactly that strategy's fills (marks are shared)."""
    # marks first: otherwise an unmarked symbol is valued at any strategy's last fill price
    f = EventFactory(FakeClock("2025-01-02T14:00:00Z"))
    stream = [f.mark("X", 10.0, event_id="mx"), f.mark("Y", 10.0, event_id="my"), *stream]
    m = Monitor()
    m.apply_many(stream)
    snap = render_snapshot(m.figures())
    owner: dict[str, str] = {}
    for event in stream:
        if isinstance(event, ev.OrderSubmitted):
            owner.setdefault(event.order_id, event.strategy)
    for name, view in snap["by_strategy"].items():
        alone = Monitor()
        alone.apply_many(
            e
            for e in stream
            if isinstance(e, ev.Mark) or (hasattr(e, "order_id") and owner.get(e.order_id) == name)  # type: ignore[union-attr]
        )
        ref = render_snapshot(alone.figures())
        for key in ("realized_pnl", "unrealized_pnl", "fees", "num_trades", "max_drawdown"):
            assert view["trading"][key] == approx(ref["trading"][key], abs=1e-9), key
        for key in ("orders_submitted", "orders_filled", "orders_rejected", "avg_slippage_bps"):
            assert view["execution"][key] == approx(ref["execution"][key]), key
    total = sum(v["trading"]["realized_pnl"] for v in snap["by_account"].values())
    assert total == approx(snap["trading"]["realized_pnl"], abs=1e-9)
