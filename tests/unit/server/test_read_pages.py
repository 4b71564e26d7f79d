"""The dashboard's reads: orders, trades and fills paged and filtered by scope; the
equity curve (LTTB) and the clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from algowatch.events import encode_events, format_timestamp
from algowatch.server import create_app
from algowatch.sim.runner import SimulatedClock
from algowatch.testing import EventFactory, FakeClock

from .conftest import LOOPBACK, make_settings

NDJSON = {"content-type": "application/x-ndjson"}


@pytest.fixture
def scoped(api: TestClient, factory: EventFactory) -> TestClient:
    """Two strategies on two accounts: alpha/acct-a trades AAPL, beta/acct-b MSFT."""
    f = factory
    alpha = {"strategy": "alpha", "account": "acct-a"}
    beta = {"strategy": "beta", "account": "acct-b"}
    events = [
        f.submitted("a1", "AAPL", "buy", 10, **alpha),
        f.filled("a1", 4, 100.0, fill_id="fa1", **alpha),
        f.filled("a1", 6, 101.0, fill_id="fa2", liquidity="maker", fee=0.5, **alpha),
        f.submitted("b1", "MSFT", "sell", 5, **beta),
        f.filled("b1", 5, 50.0, fill_id="fb1", **beta),
        f.submitted("a2", "AAPL", "sell", 10, **alpha),
        f.filled("a2", 10, 102.0, fill_id="fa3", **alpha),
        f.submitted("b2", "MSFT", "buy", 5, **beta),
        f.filled("b2", 5, 49.0, fill_id="fb2", **beta),
        f.submitted("a3", "AAPL", "buy", 1, **alpha),
        f.rejected("a3", **alpha),
    ]
    response = api.post("/api/v1/events", content=encode_events(events), headers=NDJSON)
    assert response.status_code == 202
    return api


def test_fills_are_listed_newest_first_with_their_order_labels(scoped: TestClient) -> None:
    body = scoped.get("/api/v1/fills").json()
    assert body["total"] == 5
    assert [f["fill_id"] for f in body["fills"]] == ["fb2", "fa3", "fb1", "fa2", "fa1"]
    assert body["fills"][3] == {
        "fill_id": "fa2",
        "order_id": "a1",
        "symbol": "AAPL",
        "side": "buy",
        "quantity": 6.0,
        "price": 101.0,
        "fee": 0.5,
        "liquidity": "maker",
        "strategy": "alpha",
        "account": "acct-a",
        "time": body["fills"][3]["time"],
    }
    times = [f["time"] for f in body["fills"]]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(
    ("query", "orders", "fills", "trades"),
    [
        ("", ["a3", "b2", "a2", "b1", "a1"], ["fb2", "fa3", "fb1", "fa2", "fa1"], 2),
        ("strategy=alpha", ["a3", "a2", "a1"], ["fa3", "fa2", "fa1"], 1),
        ("account=acct-b", ["b2", "b1"], ["fb2", "fb1"], 1),
        ("strategy=alpha&account=acct-b", [], [], 0),
        ("strategy=nobody", [], [], 0),
    ],
)
def test_scope_filters_every_list(
    scoped: TestClient, query: str, orders: list[str], fills: list[str], trades: int
) -> None:
    """strategy and account select the rows; total counts them all, not just the page."""
    body = scoped.get(f"/api/v1/orders?{query}").json()
    assert [o["order_id"] for o in body["orders"]] == orders
    assert body["total"] == len(orders)
    body = scoped.get(f"/api/v1/fills?{query}").json()
    assert [f["fill_id"] for f in body["fills"]] == fills
    assert body["total"] == len(fills)
    body = scoped.get(f"/api/v1/trades?{query}").json()
    assert (body["total"], len(body["trades"])) == (trades, trades)


def test_pages_partition_the_rows(scoped: TestClient) -> None:
    """Walking the pages of two returns every fill once, in order, with the same total."""
    seen: list[str] = []
    for offset in range(0, 6, 2):
        body = scoped.get(f"/api/v1/fills?offset={offset}&limit=2").json()
        assert (body["offset"], body["limit"], body["total"]) == (offset, 2, 5)
        seen += [f["fill_id"] for f in body["fills"]]
    assert seen == ["fb2", "fa3", "fb1", "fa2", "fa1"]
    body = scoped.get("/api/v1/orders?strategy=alpha&offset=1&limit=1").json()
    assert ([o["order_id"] for o in body["orders"]], body["total"]) == (["a2"], 3)


def _marks(api: TestClient, clock: FakeClock, prices: list[float]) -> None:
    # one event a second: each is its own point of the (one-second) equity history
    factory = EventFactory(clock, step_seconds=1.0)
    events = [factory.submitted("o1", "AAPL", "buy", 100), factory.filled("o1", 100, prices[0])]
    events += [factory.mark("AAPL", price) for price in prices]
    response = api.post("/api/v1/events", content=encode_events(events), headers=NDJSON)
    assert response.status_code == 202


def test_equity_has_every_second_below_the_point_budget(api: TestClient, clock: FakeClock) -> None:
    """Equity = 100,000 + 100 x (price - 100) at the fill and each mark, in one minute."""
    _marks(api, clock, [100.0, 101.0, 99.0, 105.0])
    body = api.get("/api/v1/equity").json()
    assert body["downsampled"] is False
    assert [v for _, v in body["points"]] == [100_000.0, 100_000.0, 100_100.0, 99_900.0, 100_500.0]
    assert body["total"] == 5
    # the snapshot's curve has one point for the same minute
    assert len(api.get("/api/v1/snapshot").json()["equity_curve"]) == 1


def test_equity_is_downsampled_with_lttb_and_keeps_the_crash(
    api: TestClient, clock: FakeClock
) -> None:
    """A 2,000-mark walk with a one-mark crash: 50 points are kept, the crash among them."""
    prices = [100.0 + (i % 7) * 0.1 for i in range(2_000)]
    prices[1_234] = 70.0
    _marks(api, clock, prices)
    body = api.get("/api/v1/equity?points=50").json()
    assert body["downsampled"] is True
    assert len(body["points"]) == 50
    assert min(v for _, v in body["points"]) == 100_000.0 + 100 * (70.0 - 100.0)
    times = [t for t, _ in body["points"]]
    assert times == sorted(times)


def test_equity_since_and_until_bound_the_range(api: TestClient, clock: FakeClock) -> None:
    _marks(api, clock, [100.0, 101.0, 102.0, 103.0, 104.0])
    all_points = api.get("/api/v1/equity").json()["points"]
    since, until = all_points[1][0], all_points[3][0]
    body = api.get("/api/v1/equity", params={"since": since, "until": until}).json()
    assert body["points"] == all_points[1:4]
    assert body["total"] == 3
    later = format_timestamp(clock.time_ns() + 10**9)
    assert api.get("/api/v1/equity", params={"since": later}).json()["points"] == []


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("since=yesterday", "since", "since: not an RFC 3339 date-time"),
        ("until=2025-13-01T00:00:00Z", "until", "until: not an RFC 3339 date-time"),
        ("points=1", "points", "Input should be greater than or equal to 2"),
        ("points=10001", "points", "Input should be less than or equal to 10000"),
    ],
)
def test_equity_rejects_bad_parameters_naming_them(
    api: TestClient, query: str, field: str, message: str
) -> None:
    response = api.get(f"/api/v1/equity?{query}")
    assert response.status_code == 422
    detail = response.json()["detail"]
    text = detail if isinstance(detail, str) else f"{detail[0]['loc'][-1]}: {detail[0]['msg']}"
    assert field in text
    assert message in text


def test_clock_of_a_live_service_is_not_simulated(api: TestClient, clock: FakeClock) -> None:
    body = api.get("/api/v1/clock").json()
    assert body == {
        "now": format_timestamp(clock.time_ns()),
        "simulated": False,
        "speed": 1.0,
        "last_event": None,
    }


def test_clock_of_the_demo_is_simulated(tmp_path: Path) -> None:
    """The demo's SimulatedClock runs ahead of the wall clock; the page must say so."""
    base = FakeClock()
    clock = SimulatedClock(20.0, base=base)
    app = create_app(make_settings(tmp_path / "data"), clock=clock)
    with TestClient(app, base_url=LOOPBACK) as client:
        base.advance(3.0)
        body = client.get("/api/v1/clock").json()
    assert body["simulated"] is True
    assert body["speed"] == 20.0
    assert body["now"] == format_timestamp(base.time_ns() - 3 * 10**9 + 60 * 10**9)


def test_last_seen_gives_each_component_s_last_heartbeat_and_each_symbol_s_mark(
    api: TestClient, factory: EventFactory
) -> None:
    f = factory
    assert api.get("/api/v1/last-seen").json() == {
        "heartbeats": {},
        "marks": {},
        "last_order": None,
        "last_event": None,
    }
    first = f.heartbeat("feed")
    mark = f.mark("AAPL", 190.5)
    order = f.submitted("o1", "AAPL", "buy", 1)
    later = f.heartbeat("feed")
    other = f.heartbeat("broker")
    events = [first, mark, order, later, other]
    assert len({e.ts for e in events}) == len(events)  # distinct times, so the test can tell
    response = api.post("/api/v1/events", content=encode_events(events), headers=NDJSON)
    assert response.status_code == 202
    body = api.get("/api/v1/last-seen").json()
    assert body == {
        "heartbeats": {"feed": format_timestamp(later.ts), "broker": format_timestamp(other.ts)},
        "marks": {"AAPL": format_timestamp(mark.ts)},
        "last_order": format_timestamp(order.ts),
        "last_event": format_timestamp(other.ts),
    }
    # the same moments as the exposition's gauges (seconds there)
    metrics = api.get("/metrics").text
    line = next(
        row
        for row in metrics.splitlines()
        if row.startswith('trading_last_heartbeat_timestamp_seconds{component="feed"}')
    )
    assert float(line.rsplit(" ", 1)[1]) == pytest.approx(later.ts / 1e9, abs=1e-6)
