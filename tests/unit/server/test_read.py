"""The read API: snapshot, positions, trades, orders (paged), SSE, OpenAPI."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from algowatch.events import encode_events
from algowatch.server import render_snapshot
from algowatch.testing import EventFactory

NDJSON = {"content-type": "application/x-ndjson"}


@pytest.fixture
def traded(api: TestClient, factory: EventFactory) -> TestClient:
    """A service that saw one AAPL round trip (+8 - 6 = +2) and an open MSFT position."""
    f = factory
    events = [
        f.submitted("o1", "AAPL", "buy", 10),
        f.filled("o1", 10, 100.0),
        f.mark("AAPL", 101.0),
        f.submitted("o2", "AAPL", "sell", 4),
        f.filled("o2", 4, 102.0),
        f.submitted("o3", "AAPL", "sell", 6),
        f.filled("o3", 6, 99.0),
        f.submitted("o4", "MSFT", "buy", 5),
        f.filled("o4", 5, 50.0),
    ]
    response = api.post("/api/v1/events", content=encode_events(events), headers=NDJSON)
    assert response.status_code == 202
    return api


def test_snapshot_is_the_monitor_snapshot(traded: TestClient) -> None:
    """GET /api/v1/snapshot returns exactly render_snapshot(Monitor.figures()) as JSON."""
    monitor = traded.app.state.service.monitor  # type: ignore[attr-defined]
    expected = orjson.loads(orjson.dumps(render_snapshot(monitor.figures())))
    assert traded.get("/api/v1/snapshot").json() == expected
    assert expected["events_applied"] == 9


def test_positions_lists_open_positions(traded: TestClient) -> None:
    """Only MSFT is still open."""
    assert traded.get("/api/v1/positions").json() == {
        "positions": [
            {
                "account": "default",
                "symbol": "MSFT",
                "side": "long",
                "quantity": 5.0,
                "average_cost": 50.0,
                "mark": 50.0,
                "market_value": 250.0,
                "unrealized_pnl": 0.0,
                "lots": 1,
            }
        ]
    }


def test_trades_lists_the_round_trip(traded: TestClient) -> None:
    """Exit price is the VWAP of the closing fills: (4*102 + 6*99) / 10 = 100.2; P&L 2."""
    assert traded.get("/api/v1/trades").json() == {
        "offset": 0,
        "limit": 100,
        "total": 1,
        "trades": [
            {
                "account": "default",
                "symbol": "AAPL",
                "strategy": "default",
                "side": "long",
                "quantity": 10.0,
                "entry_time": "2025-01-02T14:30:00.002000000Z",
                "exit_time": "2025-01-02T14:30:00.007000000Z",
                "entry_price": 100.0,
                "exit_price": 100.2,
                "pnl": 2.0,
                "fees": 0.0,
                "fills": 3,
                "duration_seconds": 0.005,
            }
        ],
    }


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("", ["o4", "o3", "o2", "o1"]),
        ("?limit=2", ["o4", "o3"]),
        ("?offset=1&limit=2", ["o3", "o2"]),
        ("?offset=3", ["o1"]),
        ("?offset=10", []),
    ],
)
def test_orders_are_paged_newest_first(traded: TestClient, query: str, ids: list[str]) -> None:
    """offset skips the newest orders, limit bounds the page."""
    body = traded.get(f"/api/v1/orders{query}").json()
    assert [o["order_id"] for o in body["orders"]] == ids
    assert set(body) == {"offset", "limit", "total", "orders"}
    assert body["total"] == 4


@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/trades", "/api/v1/fills"])
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("limit=0", "limit", "Input should be greater than or equal to 1"),
        ("limit=1001", "limit", "Input should be less than or equal to 1000"),
        ("offset=-1", "offset", "Input should be greater than or equal to 0"),
        (
            "limit=ten",
            "limit",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
    ],
)
def test_invalid_paging_gets_422_naming_the_parameter(
    api: TestClient, path: str, query: str, field: str, message: str
) -> None:
    """Paging parameters are validated; the error names the parameter."""
    response = api.get(f"{path}?{query}")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (["query", field], message)


def test_stream_sends_the_snapshot_as_server_sent_events(traded: TestClient) -> None:
    """The first message is the current snapshot; limit closes the stream."""
    response = traded.get("/api/v1/stream?limit=1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    retry, message = response.text.split("\n\n", 1)
    assert retry == "retry: 2000"
    event, data = message.rstrip("\n").split("\n")
    assert event == "event: snapshot"
    snapshot = orjson.loads(data.removeprefix("data: "))
    expected = traded.get("/api/v1/snapshot").json()
    snapshot.pop("as_of"), expected.pop("as_of")
    assert snapshot == expected


def test_openapi_documents_every_route(api: TestClient) -> None:
    """/openapi.json lists the API routes and the ingest responses."""
    schema = api.get("/openapi.json").json()
    assert {
        "/api/v1/events",
        "/api/v1/snapshot",
        "/api/v1/positions",
        "/api/v1/trades",
        "/api/v1/orders",
        "/api/v1/fills",
        "/api/v1/equity",
        "/api/v1/clock",
        "/api/v1/last-seen",
        "/api/v1/stream",
        "/health",
        "/ready",
        "/live",
    } <= set(schema["paths"])
    responses = schema["paths"]["/api/v1/events"]["post"]["responses"]
    assert set(responses) == {"202", "401", "413", "415", "422", "503"}


def test_dashboard_is_served_at_root(api: TestClient) -> None:
    """/ answers with HTML (the dashboard, or a pointer to the API without its assets)."""
    response = api.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
