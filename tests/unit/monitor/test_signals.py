"""Signal quality from signals and their outcomes, worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algowatch.monitor import Monitor
from algowatch.server import render_snapshot
from algowatch.testing import EventFactory

approx = pytest.approx


def test_accuracy_timing_and_confidence_from_matched_outcomes():
    """Profitable 2 of 3 with a pnl; direction right 3 of 4."""
    f = EventFactory()
    m = Monitor()
    m.apply_many(
        [
            f.signal("s1", "X", "long", confidence=0.8, generation_seconds=0.002),
            f.signal("s2", "X", "short", confidence=0.6, generation_seconds=0.02),
            f.signal("s3", "Y", "long", confidence=0.4),
            f.signal("s4", "Y", "short"),
            f.outcome("s1", "long", pnl=10.0, bars_to_profit=2, bars_held=5),
            f.outcome("s2", "short", pnl=5.0, bars_to_profit=4, bars_held=3),
            f.outcome("s3", "short", pnl=-3.0, bars_held=1),
            f.outcome("s4", "short"),
        ]
    )
    s = render_snapshot(m.figures())["signals"]
    assert s["signals_total"] == 4
    assert s["outcomes_total"] == 4
    assert s["signal_accuracy"] == approx(2 / 3)
    assert s["direction_accuracy"] == approx(3 / 4)
    assert s["avg_bars_to_profit"] == approx(3.0)
    assert s["avg_bars_held"] == approx(3.0)
    assert s["avg_signal_confidence"] == approx((0.8 + 0.6 + 0.4) / 3)
    # signed strengths: +0.8, -0.6, +0.4, -1.0 (no confidence -> 1)
    strengths = [0.8, -0.6, 0.4, -1.0]
    assert s["signal_volatility"] == approx(float(np.std(strengths, ddof=1)))
    assert s["signal_autocorrelation"] == approx(
        float(np.corrcoef(strengths[:-1], strengths[1:])[0, 1])
    )
    counters = m.counters()
    assert counters.signals == {("default", "long"): 2, ("default", "short"): 2}
    assert counters.signal_generation_seconds.counts[:4] == (0, 1, 0, 1)


def test_decay_rate_and_half_life_from_edge_by_horizon():
    """Edge 0.8 at 1 bar and 0.2 at 3 bars: rate ln(4)/2 per bar, half-life 1 bar."""
    f = EventFactory()
    m = Monitor()
    events = []
    # horizon 1: 9 right of 10 -> edge 2*0.9-1 = 0.8 ; horizon 3: 6 of 10 -> edge 0.2
    for i in range(10):
        events.append(f.signal(f"a{i}", "X", "long"))
        events.append(f.outcome(f"a{i}", "long" if i < 9 else "short", bars_held=1))
        events.append(f.signal(f"b{i}", "X", "long"))
        events.append(f.outcome(f"b{i}", "long" if i < 6 else "short", bars_held=3))
    m.apply_many(events)
    s = render_snapshot(m.figures())["signals"]
    # log(0.2) - log(0.8) = -ln 4 over 2 bars -> rate ln(4)/2 = ln 2 ; half-life ln2/rate = 1
    assert s["signal_decay_rate"] == approx(math.log(4) / 2)
    assert s["signal_half_life"] == approx(1.0)


def test_outcome_for_unknown_signal_is_counted_and_has_no_direction():
    """It counts in outcomes and pnl accuracy but not in direction accuracy."""
    f = EventFactory()
    m = Monitor()
    m.apply(f.outcome("nope", "long", pnl=1.0))
    s = render_snapshot(m.figures())
    assert s["signals"]["outcomes_total"] == 1
    assert s["signals"]["signal_accuracy"] == 1.0
    assert s["signals"]["direction_accuracy"] is None
    assert s["anomalies"] == {"outcome_unknown_signal": 1}


def test_inter_signal_correlation_of_two_symbols_moving_together():
    """Y repeats X's strengths one signal later: the carried-forward series correlate."""
    f = EventFactory()
    m = Monitor()
    values = [0.2, 0.9, 0.5, 0.7, 0.1]
    for i, v in enumerate(values):
        m.apply(f.signal(f"x{i}", "X", "long", confidence=v))
        m.apply(f.signal(f"y{i}", "Y", "long", confidence=v))
    # rows (carried forward): (x0), (x0,y0), (x1,y0), (x1,y1), ... -> strongly but not
    # perfectly correlated because each row changes one symbol at a time
    rows = [(values[0],)]
    current = [values[0], values[0]]
    rows.append(tuple(current))
    for v in values[1:]:
        current[0] = v
        rows.append(tuple(current))
        current[1] = v
        rows.append(tuple(current))
    a = np.array([r[0] for r in rows[1:]])
    b = np.array([r[1] for r in rows[1:]])
    expected = float(np.corrcoef(a, b)[0, 1])
    assert render_snapshot(m.figures())["signals"]["inter_signal_correlation"] == approx(expected)
