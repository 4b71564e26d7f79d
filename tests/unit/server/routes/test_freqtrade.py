"""POST /api/v1/sources/freqtrade: token in the URL, 422 naming the field, re-sends ignored."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from algowatch.logging import configure_logging, shutdown_logging
from algowatch.server import create_app
from algowatch.settings import LoggingSettings

from ..conftest import LOOPBACK, TOKEN, make_settings

ROUTE = "/api/v1/sources/freqtrade"
OPEN = "2026-09-01 10:00:00+00:00"
ENTRY = {
    "type": "entry",
    "trade_id": "3",
    "pair": "ETH/USDT",
    "direction": "Long",
    "amount": "0.5",
    "order_rate": "2500.0",
    "open_rate": "2500.0",
    "order_type": "limit",
    "open_date": OPEN,
    "sub_trade": "False",
    "enter_tag": "None",
    "exchange": "Binance",
    "current_rate": "2501.0",
    "strategy": "SampleStrategy",
}


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path / "data", token=TOKEN))
    with TestClient(app, base_url=LOOPBACK) as client:
        yield client


def snapshot(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/v1/snapshot", headers={"authorization": f"Bearer {TOKEN}"})
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("query", "headers"),
    [("", {}), ("?token=wrong-token-0123456789", {}), ("?token=", {})],
)
def test_without_the_token_is_refused(
    secured: TestClient, query: str, headers: dict[str, str]
) -> None:
    response = secured.post(ROUTE + query, json=ENTRY, headers=headers)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "a valid 'Authorization: Bearer <token>' header or '?token=<token>' query "
        "parameter is required"
    }
    assert snapshot(secured)["events_applied"] == 0


def test_token_in_the_url_or_the_header_is_accepted(secured: TestClient) -> None:
    response = secured.post(f"{ROUTE}?token={TOKEN}", json=ENTRY)
    assert response.status_code == 202
    assert response.json() == {"received": 1, "accepted": 1, "duplicates": []}
    fill = {key: value for key, value in ENTRY.items() if key != "current_rate"}
    response = secured.post(
        ROUTE, json={**fill, "type": "entry_fill"}, headers={"authorization": f"Bearer {TOKEN}"}
    )
    assert response.json()["accepted"] == 1
    [position] = snapshot(secured)["positions"]
    assert (position["symbol"], position["quantity"]) == ("ETH/USDT", 0.5)


def test_token_in_the_url_does_not_open_the_other_routes(secured: TestClient) -> None:
    assert secured.get(f"/api/v1/snapshot?token={TOKEN}").status_code == 401
    assert secured.post(f"/api/v1/events?token={TOKEN}", json=[]).status_code == 401


def test_resent_message_is_reported_as_duplicates(secured: TestClient) -> None:
    url = f"{ROUTE}?token={TOKEN}"
    first = secured.post(url, json=ENTRY).json()
    again = secured.post(url, json=ENTRY).json()
    assert first["accepted"] == 1
    assert again["accepted"] == 0
    [duplicate] = again["duplicates"]
    assert duplicate.startswith("ft-")
    assert duplicate.endswith("-order_submitted")
    assert snapshot(secured)["events_applied"] == 1


def test_malformed_message_is_refused_with_its_fields_and_nothing_applied(
    secured: TestClient,
) -> None:
    url = f"{ROUTE}?token={TOKEN}"
    response = secured.post(url, json={**ENTRY, "amount": "0", "order_type": "iceberg-ish"})
    assert response.status_code == 422
    assert response.json() == {
        "detail": "the freqtrade message is invalid; nothing was applied",
        "invalid": [
            {
                "index": None,
                "line": None,
                "errors": [
                    {
                        "field": "freqtrade.entry.amount",
                        "message": "must be a number > 0, received '0'",
                    },
                    {
                        "field": "freqtrade.entry.order_type",
                        "message": "must be one of limit, market, stoploss, stop_loss, stop, "
                        "stop_limit, stop_loss_limit, received 'iceberg-ish'",
                    },
                ],
            }
        ],
    }
    not_json = secured.post(url, content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
    assert not_json.json()["invalid"][0]["errors"][0]["field"] == "freqtrade"
    state = snapshot(secured)
    assert state["events_applied"] == 0
    assert state["execution"]["orders_submitted"] == 0


def test_form_encoded_body_is_refused_with_415(secured: TestClient) -> None:
    response = secured.post(f"{ROUTE}?token={TOKEN}", data={"type": "status"})
    assert response.status_code == 415


def test_access_log_line_of_the_route_does_not_show_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """uvicorn's access line carries the full path; the JSON log redacts ``token=``."""
    access = logging.getLogger("uvicorn.access")
    # a server started by an earlier test may have set uvicorn's logger to its own level
    monkeypatch.setattr(access, "level", logging.INFO)
    monkeypatch.setattr(access, "propagate", True)
    monkeypatch.setattr(access, "disabled", False)
    out = io.StringIO()
    configure_logging(LoggingSettings(), stream=out)
    try:
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "POST",
            f"{ROUTE}?token={TOKEN}",
            "1.1",
            202,
        )
    finally:
        shutdown_logging()
    line = out.getvalue()
    assert f"{ROUTE}?token=[REDACTED]" in line
    assert TOKEN not in line


def test_fill_after_a_restart_finds_the_order_placed_before_it(tmp_path: Path) -> None:
    """The mapper's memory is gone; the engine, rebuilt from the journal, has the order."""
    settings = make_settings(tmp_path / "data")
    fill = {key: value for key, value in ENTRY.items() if key != "current_rate"}
    with TestClient(create_app(settings), base_url=LOOPBACK) as client:
        assert client.post(ROUTE, json=ENTRY).json()["accepted"] == 1
    with TestClient(create_app(settings), base_url=LOOPBACK) as client:
        response = client.post(ROUTE, json={**fill, "type": "entry_fill"})
        assert response.json() == {"received": 1, "accepted": 1, "duplicates": []}
        [order] = client.get("/api/v1/orders").json()["orders"]
        assert (order["status"], order["filled_quantity"]) == ("filled", 0.5)
        assert snapshot(client)["anomalies"] == {}
