"""The JSON rendering of the figures: null for undefined, milliseconds, RFC 3339 times."""

from __future__ import annotations

import math

import pytest

from algowatch.monitor import Monitor
from algowatch.server._render import render_positions, render_snapshot
from algowatch.testing import EventFactory


def test_render_given_infinite_or_nan_figures_writes_null(factory: EventFactory) -> None:
    """One winning trade: profit factor is +inf in the figures and null in the JSON."""
    f = factory
    m = Monitor()
    m.apply_many(
        [
            f.submitted("o1", "AAPL", "buy", 1),
            f.filled("o1", 1, 100.0),
            f.submitted("o2", "AAPL", "sell", 1),
            f.filled("o2", 1, 110.0),
        ]
    )
    figures = m.figures()
    assert math.isinf(figures.portfolio.trading.profit_factor)
    document = render_snapshot(figures)
    assert document["trading"]["profit_factor"] is None
    assert document["trading"]["sharpe_ratio"] is None
    assert document["trading"]["num_trades"] == 1


def test_render_writes_latencies_in_milliseconds(factory: EventFactory) -> None:
    """Ack 1 ms and fill 2 ms after submit (the factory's step): 1.0 and 2.0 in *_ms fields."""
    f = factory
    m = Monitor()
    m.apply_many(
        [f.submitted("o1", "AAPL", "buy", 1), f.acknowledged("o1"), f.filled("o1", 1, 10.0)]
    )
    document = render_snapshot(m.figures())
    assert document["execution"]["order_to_ack_ms"] == pytest.approx(1.0)
    assert document["execution"]["order_to_fill_ms"] == pytest.approx(2.0)
    assert document["trading"]["avg_fill_time_ms"] == pytest.approx(2.0)
    assert document["as_of"] == "2025-01-02T14:30:00.003000000Z"


def test_render_positions_gives_side_from_the_signed_quantity(factory: EventFactory) -> None:
    """A short of 3 is quantity -3, side short, with its lots."""
    f = factory
    m = Monitor()
    m.apply_many([f.submitted("o1", "ES", "sell", 3), f.filled("o1", 3, 5000.0)])
    (row,) = render_positions(m.figures().positions)
    assert (row["symbol"], row["side"], row["quantity"], row["lots"]) == ("ES", "short", -3.0, 1)
