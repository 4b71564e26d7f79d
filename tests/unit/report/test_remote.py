"""The service's JSON documents decode back into the figures they render (a round trip)."""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from typing import Any

import pytest

from algowatch.journal import replay_files
from algowatch.monitor import Monitor
from algowatch.report._remote import decode_order, decode_snapshot, decode_trade
from algowatch.server import render_snapshot
from algowatch.server._render import render_orders, render_trades

from ... import report_kit


def _equal(a: Any, b: Any, path: str = "") -> None:
    if is_dataclass(a):
        for f in fields(a):
            _equal(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict) or hasattr(a, "items"):
        assert dict(a).keys() == dict(b).keys(), path
        for key in a:
            _equal(a[key], b[key], f"{path}[{key}]")
    elif isinstance(a, tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _equal(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        if math.isfinite(a):
            assert b == pytest.approx(a, rel=1e-12), path
        else:
            # JSON has no inf: the snapshot says null, which reads back as NaN (undefined)
            assert math.isnan(b), path
    else:
        assert a == b, path


@pytest.fixture(scope="module")
def monitor(tmp_path_factory: pytest.TempPathFactory) -> Monitor:
    path = report_kit.write_events(tmp_path_factory.mktemp("e") / "e.ndjson", days=5)
    monitor = Monitor()
    replay_files([path], monitor)
    return monitor


def test_snapshot_round_trip(monitor: Monitor) -> None:
    figures = monitor.figures()
    decoded = decode_snapshot(render_snapshot(figures))
    _equal(figures, decoded)


def test_trades_and_orders_round_trip(monitor: Monitor) -> None:
    trades = monitor.trade_figures(limit=1000)
    orders = monitor.order_figures(limit=1000)
    assert len(trades) == 10
    assert len(orders) == 20
    for trade, row in zip(trades, render_trades(trades), strict=True):
        _equal(trade, decode_trade(row))
    for order, row in zip(orders, render_orders(orders), strict=True):
        _equal(order, decode_order(row))


def test_a_document_that_is_not_a_snapshot_names_the_field() -> None:
    from algowatch.errors import DataFileError  # noqa: PLC0415

    document = render_snapshot(Monitor().figures())
    del document["trading"]["sharpe_ratio"]
    with pytest.raises(DataFileError, match="the snapshot has no 'sharpe_ratio' field"):
        decode_snapshot(document)
