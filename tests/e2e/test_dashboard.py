"""The demo's dashboard in real headless Chromium (Debian's /usr/bin/chromium via Playwright).

Each test runs the demo (service + risk guard + simulator through the SDK) on a free
loopback port, loads the dashboard, and checks: no console errors, every chart has
data, the numbers shown equal ``GET /api/v1/snapshot``, and the risk panel shows the
drawdown breach. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from algowatch._cli._demo_app import DemoApp, demo_settings
from algowatch.settings import Settings, load_settings

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHARTS = [
    "chart-equity",
    "chart-drawdown",
    "chart-daily",
    "chart-positions",
    "chart-latency",
    "chart-orders",
    "chart-slippage",
    "chart-signals",
]


# undefined until two sessions have closed (one-day demos): the page says so
SESSION_RATIOS = ("trading.sharpe_ratio", "trading.var_95")


def _settings(tmp_path: Path) -> Settings:
    # the demo command's own defaults (health checks, risk timeouts, log file)
    loaded = load_settings(environ={}, overrides={"server.port": 0, "data_dir": str(tmp_path)})
    return demo_settings(loaded, tmp_path / "demo")


@pytest.fixture
def run_demo(tmp_path: Path) -> Iterator[Callable[..., DemoApp]]:
    apps: list[DemoApp] = []

    def start(scenario: str, speed: float) -> DemoApp:
        app = DemoApp(
            _settings(tmp_path), scenario=scenario, speed=speed, seed=42, configure_logs=False
        )
        app.start()
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.stop()


def _open(browser: Any, url: str) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(url + "/")
    return page, problems


def _money(v: float, sign: bool) -> str:
    text = f"${abs(v):,.2f}"
    if v < 0:
        return "-" + text
    return ("+" if sign and v > 0 else "") + text


def _expected(value: Any, kind: str, sign: bool) -> str:
    if value is None:
        return "—"
    return {
        "money": lambda: _money(value, sign),
        "percent": lambda: f"{value * 100:.2f}%",
        "ratio": lambda: f"{value:.2f}",
        "integer": lambda: f"{round(value):,}",
        "bps": lambda: f"{value:.2f} bps",
    }[kind]()


def _pick(snapshot: dict[str, Any], path: str) -> Any:
    node: Any = snapshot
    for key in path.split("."):
        node = node.get(key)
    return node


def _wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def test_dashboard_shows_every_chart_and_the_snapshot_numbers(
    run_demo: Callable[..., DemoApp], browser: Any
) -> None:
    """Normal scenario: no console errors, data in every chart, numbers equal the API."""
    app = run_demo("normal", speed=20)
    page, problems = _open(browser, app.url)

    def charts_filled() -> bool:
        points = page.eval_on_selector_all(".chart", "els => els.map(e => e.dataset.points)")
        return len(points) == len(CHARTS) and all(p not in (None, "0") for p in points)

    _wait_for(charts_filled, 90, "every chart to have data")
    assert app.pause(), "the SDK did not deliver every event"
    snapshot = httpx.get(app.url + "/api/v1/snapshot").json()
    _wait_for(
        lambda: (
            page.evaluate("window.algowatch.snapshot.events_applied") == snapshot["events_applied"]
        ),
        10,
        "the stream to deliver the final state",
    )
    page.wait_for_timeout(2500)  # one more poll of orders and risk
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-normal.png"), full_page=True)

    shown = page.eval_on_selector_all(
        "[data-field]",
        "els => els.map(e => [e.dataset.field, e.dataset.format, e.hasAttribute('data-sign'),"
        " e.textContent])",
    )
    assert len(shown) >= 15
    for field, kind, sign, text in shown:
        value = _pick(snapshot, field)
        if value is None and field in SESSION_RATIOS and snapshot["trading"]["sessions"] < 2:
            assert text == "needs ≥ 2 sessions", field  # not a bare dash: says why
        else:
            assert text == _expected(value, kind, sign), field
    points = dict(
        page.eval_on_selector_all(".chart", "els => els.map(e => [e.id, e.dataset.points])")
    )
    assert sorted(points) == sorted(CHARTS)
    assert int(points["chart-positions"]) == len(snapshot["positions"])
    assert int(points["chart-orders"]) == 5
    texts = page.eval_on_selector_all("#chart-orders text", "els => els.map(e => e.textContent)")
    execution = snapshot["execution"]
    for key in ("orders_filled", "orders_rejected", "orders_canceled"):
        assert str(execution[key]) in texts
    health_rows = page.eval_on_selector_all("#health tr[data-check]", "els => els.length")
    assert health_rows == 1 + len(httpx.get(app.url + "/health").json()["checks"])
    assert page.text_content("#risk-level") == "ok"
    assert problems == []


def test_dashboard_risk_panel_shows_the_drawdown_breach(
    run_demo: Callable[..., DemoApp], browser: Any
) -> None:
    """Drawdown scenario: the guard flattens and the risk panel shows the breach."""
    app = run_demo("drawdown", speed=25)
    page, problems = _open(browser, app.url)
    _wait_for(
        lambda: page.text_content("#risk-level") == "flatten", 120, "the risk level to be flatten"
    )
    page.wait_for_selector('#risk-alerts li[data-limit="max_drawdown"][data-level="flatten"]')
    levels = page.eval_on_selector_all(
        '#risk-alerts li[data-limit="max_drawdown"]', "els => els.map(e => e.dataset.level)"
    )
    # newest first on screen; the guard escalates without skipping back (how many steps it
    # sees depends on how far the crash moved between two checks on a busy machine)
    rank = ["ok", "warn", "stop_entries", "flatten"]
    oldest_first = [rank.index(level) for level in levels[::-1]]
    assert oldest_first == sorted(oldest_first)
    assert levels[0] == "flatten"
    row = page.text_content('#risk-limits tr[data-limit="max_drawdown"]')
    assert "flatten" in row
    risk = httpx.get(app.url + "/api/v1/risk").json()
    assert risk["level"] == "flatten"
    assert risk["latched"] is True
    breach = next(
        a for a in risk["alerts"] if a["limit"] == "max_drawdown" and a["level"] == "flatten"
    )
    assert breach["value"] >= 0.15
    summary = page.text_content("#risk-summary")
    assert "kill switch engaged" in summary
    assert "new entries blocked" in summary
    # the strategies obeyed: the book is flat once the flattening orders filled
    _wait_for(
        lambda: httpx.get(app.url + "/api/v1/snapshot").json()["trading"]["num_positions"] == 0,
        60,
        "the book to be flat",
    )
    snapshot = httpx.get(app.url + "/api/v1/snapshot").json()
    assert snapshot["trading"]["max_drawdown"] >= 0.15
    metrics = httpx.get(app.url + "/metrics").text
    assert "trading_risk_level 3.0" in metrics.splitlines()
    page.wait_for_timeout(2500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-drawdown.png"), full_page=True)
    assert problems == []
