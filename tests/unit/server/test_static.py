"""The dashboard assets: ours, self-contained (no network fetches), served at /."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from algowatch.server import STATIC_DIR, create_app
from algowatch.settings import Settings

from .conftest import LOOPBACK

ASSETS = ("index.html", "charts.js", "app.js", "app.css")


def test_assets_reference_nothing_outside_the_service() -> None:
    """No absolute URL except the SVG namespace; scripts and styles are local paths."""
    for name in ASSETS:
        text = (STATIC_DIR / name).read_text(encoding="utf-8")
        urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'`)]*", text))
        assert urls <= {"http://www.w3.org/2000/svg"}, (name, urls)
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<script src="([^"]+)"', html) == ["/charts.js", "/app.js"]
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', html) == ["/app.css"]


def test_every_chart_and_panel_of_the_issue_is_present() -> None:
    """Equity, drawdown, daily P&L, positions, latency, orders, slippage, signals, health, risk."""
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    for element in (
        "chart-equity",
        "chart-drawdown",
        "chart-daily",
        "chart-positions",
        "chart-latency",
        "chart-orders",
        "chart-slippage",
        "chart-signals",
        'id="health"',
        'id="risk-limits"',
        'id="risk-alerts"',
        'data-table="orders"',
        'data-table="fills"',
        'data-table="trades"',
        'id="scope"',
        'data-range="3600000"',
        'data-range="86400000"',
        'data-range="all"',
    ):
        assert element in html


def test_service_serves_the_dashboard(tmp_path: Path) -> None:
    """GET / is the dashboard; its script and style are served with their types."""
    with TestClient(create_app(Settings(data_dir=str(tmp_path))), base_url=LOOPBACK) as client:
        index = client.get("/")
        assert index.status_code == 200
        assert "<title>algowatch</title>" in index.text
        for name in ("/charts.js", "/app.js"):
            script = client.get(name)
            assert script.status_code == 200
            assert script.headers["content-type"].startswith(
                ("text/javascript", "application/javascript")
            )
        assert client.get("/app.css").headers["content-type"].startswith("text/css")
