"""``GET /report``: the report of the service's own state, behind the read routes' token."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from algowatch.server import create_app

from .... import report_kit
from ..conftest import LOOPBACK, TOKEN, make_settings

_FIGURE = re.compile(r'data-figure="([^"]+)" data-value="([^"]+)"')


def _load(client: TestClient, headers: dict[str, str]) -> None:
    body = "".join(json.dumps(row) + "\n" for row in report_kit.events(days=20)).encode()
    response = client.post(
        "/api/v1/events",
        content=body,
        headers={**headers, "content-type": "application/x-ndjson"},
    )
    assert response.status_code == 202, response.text


def test_report_needs_the_token_like_the_read_routes(tmp_path: Path) -> None:
    """Without the token: 401 with the read routes' body; with it: the page."""
    app = create_app(make_settings(tmp_path / "data", token=TOKEN))
    with TestClient(app, base_url=LOOPBACK) as client:
        refused = client.get("/report")
        snapshot_refused = client.get("/api/v1/snapshot")
        assert refused.status_code == snapshot_refused.status_code == 401
        assert refused.json() == snapshot_refused.json()
        ok = client.get("/report", headers={"authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200
        assert ok.headers["content-type"].startswith("text/html")
        assert ok.text.startswith("<!doctype html>")


def test_report_shows_the_snapshots_figures(tmp_path: Path) -> None:
    """The page's engine figures equal the JSON snapshot's at the same moment."""
    auth = {"authorization": f"Bearer {TOKEN}"}
    app = create_app(make_settings(tmp_path / "data", token=TOKEN))
    with TestClient(app, base_url=LOOPBACK) as client:
        _load(client, auth)
        snapshot = client.get("/api/v1/snapshot", headers=auth).json()
        page = client.get("/report", headers=auth).text
    ours = {name: float(value) for name, value in _FIGURE.findall(page)}
    assert ours["trading.trades"] == snapshot["trading"]["num_trades"] == 40
    assert ours["trading.win_rate"] == snapshot["trading"]["win_rate"]
    assert ours["execution.fill_rate"] == snapshot["execution"]["fill_rate"]
    assert ours["execution.mean_slippage_bps"] == snapshot["execution"]["avg_slippage_bps"]
    assert ours["signals.accuracy"] == snapshot["signals"]["signal_accuracy"]
    assert ours["sharpe_ratio"] == snapshot["trading"]["sharpe_ratio"]
    assert "this service (GET /report)" in page
    assert "no benchmark" in page
