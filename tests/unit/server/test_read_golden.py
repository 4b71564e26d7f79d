"""Golden files for the read side: the JSON views and the ``/metrics`` exposition.

The files under ``golden/`` were recorded from a deterministic mixed stream
(``_golden_stream.py``) before the read side was rebuilt on typed figures; the
JSON documents must stay byte for byte the same (the public API), and the
exposition must keep every family name, type, help text and label set. One help text
was changed on purpose since: ``algowatch_exporter_folded_series`` now counts the
position series the engine folds (first seen kept), not an exporter cap of its own.

Set ``ALGOWATCH_WRITE_GOLDEN=1`` to record the files again (only after a
deliberate, documented change of the output).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from algowatch.monitor import Monitor
from algowatch.server import (
    create_app,
    render_orders,
    render_positions,
    render_snapshot,
    render_trades,
)
from algowatch.settings import HealthSettings, MonitorSettings, ServerSettings, Settings
from algowatch.testing import FakeClock

from ._golden_stream import golden_events
from .conftest import LOOPBACK

GOLDEN = Path(__file__).parent / "golden"
_WRITE = os.environ.get("ALGOWATCH_WRITE_GOLDEN") == "1"
MONITOR = MonitorSettings(starting_capital=10_000_000.0)
# two days after the last event: "today" has rolled over for a live service
LATER_NS = 1_736_812_800 * 1_000_000_000  # 2025-01-14T00:00:00Z


def _replayed(clock: FakeClock | None = None) -> Monitor:
    monitor = Monitor(MONITOR, clock=clock)
    monitor.apply_many(golden_events())
    return monitor


def _check(name: str, payload: Any) -> None:
    encoded = orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    path = GOLDEN / name
    if _WRITE:
        path.write_bytes(encoded + b"\n")
    assert encoded + b"\n" == path.read_bytes(), f"{name} differs from its golden file"


def _golden_bytes(name: str) -> bytes:
    # the compact encoding the HTTP API sends, of the recorded document
    return orjson.dumps(orjson.loads((GOLDEN / name).read_bytes()))


def test_snapshot_of_replayed_stream_matches_golden_file() -> None:
    """A replay's snapshot (no wall clock) is unchanged, key order and floats included."""
    _check("snapshot.json", render_snapshot(_replayed().figures()))


def test_snapshot_with_clock_after_session_matches_golden_file() -> None:
    """With a wall clock past the session, ``as_of`` and the daily figures follow the clock."""
    _check("snapshot_clock.json", render_snapshot(_replayed(FakeClock(LATER_NS)).figures()))


def test_positions_trades_orders_match_golden_files() -> None:
    """The list views are unchanged (every trade and order of the stream)."""
    monitor = _replayed()
    _check("positions.json", render_positions(monitor.figures().positions))
    _check("trades.json", render_trades(monitor.trade_figures(limit=10_000)))
    _check("orders.json", render_orders(monitor.order_figures(limit=10_000)))
    assert (
        render_trades(monitor.trade_figures(offset=3, limit=2))
        == render_trades(monitor.trade_figures(limit=10_000))[3:5]
    )
    assert (
        render_orders(monitor.order_figures(offset=7, limit=4))
        == render_orders(monitor.order_figures(limit=10_000))[7:11]
    )


def _exposition(text: str) -> list[dict[str, Any]]:
    families = []
    for family in text_string_to_metric_families(text):
        if family.name.startswith(("process_", "python_")):
            continue  # the process's own figures vary from run to run
        samples = [
            [s.name, dict(sorted(s.labels.items())), "NaN" if math.isnan(s.value) else s.value]
            for s in family.samples
        ]
        families.append(
            {
                "name": family.name,
                "type": family.type,
                "help": family.documentation,
                "samples": samples,
            }
        )
    return sorted(families, key=lambda f: f["name"])


@pytest.fixture
def served(tmp_path: Path) -> Any:
    clock = FakeClock(LATER_NS)
    settings = Settings(
        data_dir=str(tmp_path / "data"),
        monitor=MONITOR,
        server=ServerSettings(),
        health=HealthSettings(system_metrics=False),
    )
    app = create_app(settings, clock=clock, monitor=_replayed(clock), risk_loop=False)
    with TestClient(app, base_url=LOOPBACK) as client:
        yield client


def test_http_read_api_sends_golden_documents(served: TestClient) -> None:
    """The HTTP bodies are the golden documents, byte for byte (compact encoding)."""
    assert served.get("/api/v1/snapshot").content == _golden_bytes("snapshot_clock.json")
    positions = served.get("/api/v1/positions").content
    assert positions == orjson.dumps({"positions": orjson.loads(_golden_bytes("positions.json"))})
    body = served.get("/api/v1/trades", params={"limit": 1000}).json()
    assert body["trades"] == orjson.loads(_golden_bytes("trades.json"))[:1000]
    body = served.get("/api/v1/orders", params={"limit": 1000}).json()
    assert body["orders"] == orjson.loads(_golden_bytes("orders.json"))[:1000]


# Families whose samples depend on what other parts of the service configure (health checks,
# ingest counters): their names, types, help and label names are checked, not their samples.
_LABELS_ONLY = ("algowatch_health_", "algowatch_ingest_", "trading_broker_up")


def _label_names(family: dict[str, Any]) -> set[tuple[str, ...]]:
    return {tuple(sorted(sample[1])) for sample in family["samples"]}


def test_metrics_exposition_matches_golden_file(served: TestClient) -> None:
    """Every recorded family keeps its name, type, help, label sets and values (to 1e-12).

    Values are compared to a relative 1e-12, not bit for bit: the exporter used to
    divide the snapshot's milliseconds by 1000, the figures hold seconds. Families
    added later by other collectors are allowed; a renamed or dropped one fails.
    """
    got = {f["name"]: f for f in _exposition(served.get("/metrics").text)}
    path = GOLDEN / "metrics.json"
    if _WRITE:
        path.write_bytes(
            orjson.dumps(sorted(got.values(), key=lambda f: f["name"]), option=orjson.OPT_INDENT_2)
            + b"\n"
        )
    want = orjson.loads(path.read_bytes())
    assert sorted({f["name"] for f in want} - set(got)) == []
    for want_family in want:
        got_family = got[want_family["name"]]
        assert (got_family["type"], got_family["help"]) == (
            want_family["type"],
            want_family["help"],
        )
        if want_family["name"].startswith(_LABELS_ONLY):
            assert _label_names(got_family) == _label_names(want_family), want_family["name"]
            continue
        got_samples = got_family["samples"]
        want_samples = want_family["samples"]
        assert [s[:2] for s in got_samples] == [s[:2] for s in want_samples], want_family["name"]
        for (name, labels, value), (_, _, expected) in zip(got_samples, want_samples, strict=True):
            if expected == "NaN" or value == "NaN":
                assert value == expected, (name, labels)
            else:
                assert math.isclose(value, expected, rel_tol=1e-12, abs_tol=0.0), (name, labels)
