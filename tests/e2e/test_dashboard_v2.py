"""Dashboard v2 in real headless Chromium at 1400, 1024 and 390 px: one demo for all.

The demo (service + risk guard + simulator through the SDK, on a simulated clock 100
times faster than the wall clock) runs until its event time spans more than 20 minutes,
then pauses, so the page and the API describe the same state. At each width: no console
errors, every chart has data, a tooltip appears on hovering every chart, the numbers
equal the API, the time range changes the equity data (to exactly what
``/api/v1/equity?since=`` returns), and the header says the time is simulated. Then
drill-down per strategy, paging and zoom. Screenshots go to ``$ALGOWATCH_TEST_ARTIFACTS``
(default ``test-artifacts/``, git-ignored); their paths are printed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright

from algowatch._cli._demo_app import DemoApp, demo_settings
from algowatch.events import parse_timestamp
from algowatch.settings import load_settings

from .conftest import ARGS, CHROMIUM
from .test_dashboard import _pick

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(
    os.environ.get("ALGOWATCH_TEST_ARTIFACTS")
    or Path(__file__).resolve().parents[2] / "test-artifacts"
)
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
SPEED = 100.0
MINUTE_NS = 60 * 10**9


def _fixed(value: float, digits: int) -> str:
    # JavaScript's toFixed and Intl round the exact binary value half away from zero
    # (Python's format rounds half to even): 0.625 -> "0.63"
    exact = Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{exact:,}" if digits == 2 else str(exact)


def _expected(value: Any, kind: str, sign: bool) -> str:
    """The page's text for ``value`` (app.js ``format``)."""
    if value is None:
        return "—"
    if kind == "money":
        text = "$" + _fixed(abs(value), 2)
        return "-" + text if value < 0 else ("+" if sign and value > 0 else "") + text
    if kind == "percent":
        return _fixed(value * 100, 2).replace(",", "") + "%"
    if kind == "ratio":
        return _fixed(value, 2).replace(",", "")
    if kind == "bps":
        return _fixed(value, 2).replace(",", "") + " bps"
    assert kind == "integer"
    return f"{round(value):,}"


def _wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoApp]:
    """The normal scenario, paused once its event time spans 20 minutes with trades."""
    data = tmp_path_factory.mktemp("demo")
    # at 100x a busy machine's scheduling gaps are long in simulated time: the guard's
    # timeouts are relaxed so that it does not flatten the book mid-test
    overrides = {
        "server.port": 0,
        "data_dir": str(data),
        "risk.heartbeat_timeout_seconds": 3600.0,
        "risk.no_trading_timeout_seconds": 7200.0,
        "risk.daily_loss_limit": 25_000.0,
    }
    loaded = load_settings(environ={}, overrides=overrides)
    app = DemoApp(
        demo_settings(loaded, data / "demo"),
        scenario="normal",
        speed=SPEED,
        seed=42,
        configure_logs=False,
    )
    app.start()
    try:

        def ready() -> bool:
            snap = httpx.get(app.url + "/api/v1/snapshot").json()
            curve = snap["equity_curve"]
            span = parse_timestamp(snap["as_of"]) - parse_timestamp(curve[0][0]) if curve else 0
            return (
                span > 20 * MINUTE_NS
                and snap["trading"]["num_trades"] > 0
                and snap["signals"]["outcomes_total"] > 0
                and len(snap["by_strategy"]) > 1
                and len(snap["positions"]) > 0
            )

        _wait_for(ready, 45, "20 minutes of demo event time with trades and signal outcomes")
        assert app.pause(), "the SDK did not deliver every event"
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the module (Debian's, through Playwright)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed; run scripts/bootstrap --system")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


def _open(chromium: Any, demo: DemoApp, width: int) -> tuple[Any, list[str]]:
    page = chromium.new_page(viewport={"width": width, "height": 900})
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
    page.goto(demo.url + "/")
    events = httpx.get(demo.url + "/api/v1/snapshot").json()["events_applied"]

    def settled() -> bool:
        points = page.eval_on_selector_all(".chart", "els => els.map(e => e.dataset.points)")
        return (
            page.evaluate("window.algowatch.snapshot && window.algowatch.snapshot.events_applied")
            == events
            and page.evaluate("window.algowatch.polls") >= 1
            and len(points) == len(CHARTS)
            and all(p not in (None, "0") for p in points)
        )

    _wait_for(settled, 20, "the page to show the paused demo in every chart")
    return page, problems


def _hover(page: Any, chart: str) -> None:
    # the chart's box stays; its SVG is redrawn at every update
    box_locator = page.locator(f"#{chart}")
    box_locator.scroll_into_view_if_needed()
    box = box_locator.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.6)


def _polled(page: Any, polls: int) -> Callable[[], bool]:
    return lambda: page.evaluate("window.algowatch.polls") >= polls


def _screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


@pytest.mark.parametrize("width", [1400, 1024, 390])
def test_dashboard_at_width(demo: DemoApp, chromium: Any, width: int) -> None:
    """Every chart filled and hoverable, numbers equal the API, the range changes the data."""
    page, problems = _open(chromium, demo, width)
    # read in one evaluation: the demo's clock runs on while paused, and a snapshot arriving
    # over the stream between two reads would move the header
    snapshot, header = page.evaluate(
        "[window.algowatch.snapshot, document.getElementById('as-of').textContent]"
    )
    assert snapshot == httpx.get(demo.url + "/api/v1/snapshot").json() | {
        "as_of": snapshot["as_of"]
    }

    # event time, readable and labelled simulated (the demo's clock runs ahead)
    as_of = snapshot["as_of"]
    assert header == f"simulated time {as_of[:10]} {as_of[11:19]} UTC"
    assert page.text_content("#clock-kind") == f"simulated ×{SPEED:g}"

    # key figures: the snapshot's, formatted; undefined ratios say why
    shown = page.eval_on_selector_all(
        "[data-field]",
        "els => els.map(e => [e.dataset.field, e.dataset.format, e.hasAttribute('data-sign'),"
        " e.textContent])",
    )
    assert len(shown) >= 16
    sessions = snapshot["trading"]["sessions"]
    for field, kind, sign, text in shown:
        value = _pick(snapshot, field)
        if value is None and field in ("trading.sharpe_ratio", "trading.var_95") and sessions < 2:
            assert text == "needs ≥ 2 sessions", field
        else:
            assert text == _expected(value, kind, sign), field
    # the risk table's drawdown is the key figure's (one figure, one source)
    assert page.text_content('#risk-limits tr[data-limit="max_drawdown"] td[data-source]') == (
        page.text_content('[data-field="trading.current_drawdown"]')
    )

    # every chart: data, and a tooltip on hover
    for chart in CHARTS:
        _hover(page, chart)
        tip = page.locator(f"#{chart} .tooltip")
        tip.wait_for(state="visible", timeout=5000)
        assert tip.text_content(), chart
    page.mouse.move(0, 0)

    # the equity chart shows exactly what the API serves for the page's query
    query = page.evaluate("window.algowatch.equityQuery")
    api = httpx.get(demo.url + query).json()
    assert page.evaluate("window.algowatch.equity.length") == len(api["points"])
    assert page.evaluate("window.algowatch.equityTotal") == api["total"]
    assert len(api["points"]) > 100, "the curve has the resolution of the session"

    # time range: 15 minutes of event time before the latest event
    before = page.eval_on_selector("#chart-equity", "e => Number(e.dataset.from)")
    total_all = api["total"]
    polls = page.evaluate("window.algowatch.polls")
    page.click('[data-range="900000"]')
    _wait_for(_polled(page, polls + 2), 10, "the page to poll with the new range")
    query = page.evaluate("window.algowatch.equityQuery")
    assert "since=" in query
    api = httpx.get(demo.url + query).json()
    assert page.evaluate("window.algowatch.equityTotal") == api["total"] < total_all
    after = page.eval_on_selector("#chart-equity", "e => Number(e.dataset.from)")
    latest_ms = parse_timestamp(snapshot["as_of"]) / 1e6
    assert after > before
    assert after >= latest_ms - 15 * 60e3 - 1
    _screenshot(page, f"dashboard-v2-{width}-15m.png")
    polls = page.evaluate("window.algowatch.polls")
    page.click('[data-range="all"]')
    _wait_for(_polled(page, polls + 2), 10, "the page to poll with the whole range")
    assert page.evaluate("window.algowatch.equityTotal") == total_all
    # a hovered chart for the record
    _hover(page, "chart-equity")
    _screenshot(page, f"dashboard-v2-{width}.png")
    assert problems == []
    page.close()


def test_drill_down_per_strategy_and_paged_tables(demo: DemoApp, chromium: Any) -> None:
    """The scope selector switches the key figures and the tables; pages follow the API."""
    page, problems = _open(chromium, demo, 1400)
    snapshot = page.evaluate("window.algowatch.snapshot")
    name = max(
        snapshot["by_strategy"],
        key=lambda s: snapshot["by_strategy"][s]["execution"]["orders_submitted"],
    )
    polls = page.evaluate("window.algowatch.polls")
    page.select_option("#scope", f"strategy:{name}")
    _wait_for(_polled(page, polls + 2), 10, "the page to poll the strategy's rows")
    scope = snapshot["by_strategy"][name]
    for field, kind, sign, text, path in page.eval_on_selector_all(
        ".kpis [data-field]",
        "els => els.map(e => [e.dataset.field, e.dataset.format, e.hasAttribute('data-sign'),"
        " e.textContent, e.dataset.path])",
    ):
        assert path == f"by_strategy.{name}.{field}"
        value = _pick(scope, field)
        if value is not None:
            assert text == _expected(value, kind, sign), field
    orders_chart = page.eval_on_selector_all(
        "#chart-orders text", "els => els.map(e => e.textContent)"
    )
    assert str(scope["execution"]["orders_filled"]) in orders_chart

    api = httpx.get(
        demo.url + "/api/v1/orders", params={"strategy": name, "limit": 20, "offset": 20}
    ).json()
    card = '[data-table="orders"]'
    assert page.eval_on_selector(card, "e => Number(e.dataset.total)") == api["total"] > 20
    strategies = page.eval_on_selector_all(
        f"{card} tr[data-row] td:nth-child(3)", "els => els.map(e => e.textContent)"
    )
    assert strategies
    assert set(strategies) == {name}
    polls = page.evaluate("window.algowatch.polls")
    page.click(f'{card} [data-page="next"]')
    page.wait_for_function(
        "() => document.querySelector('[data-table=\"orders\"]').dataset.offset === '20'"
    )
    _wait_for(_polled(page, polls + 1), 10, "a poll of the second page")
    ids = page.eval_on_selector_all(
        f"{card} tr[data-row] td:nth-child(2)", "els => els.map(e => e.textContent)"
    )
    assert ids == [o["order_id"] for o in api["orders"]]
    for table, key in (("fills", "fills"), ("trades", "trades")):
        total = httpx.get(demo.url + f"/api/v1/{table}", params={"strategy": name}).json()
        assert (
            page.eval_on_selector(f'[data-table="{table}"]', "e => Number(e.dataset.total)")
            == total["total"]
        ), key
    _screenshot(page, "dashboard-v2-strategy.png")
    assert problems == []
    page.close()


def test_zoom_by_dragging_and_reset(demo: DemoApp, chromium: Any) -> None:
    """Dragging across the equity chart zooms every time chart; double-click resets."""
    page, problems = _open(chromium, demo, 1024)
    span = "e => Number(e.dataset.to) - Number(e.dataset.from)"
    start = "e => Number(e.dataset.from)"
    full = page.eval_on_selector("#chart-equity", span)
    first = page.eval_on_selector("#chart-equity", start)
    page.locator("#chart-equity").scroll_into_view_if_needed()
    box = page.locator("#chart-equity").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
    page.mouse.up()
    zoomed = page.eval_on_selector("#chart-equity", span)
    assert 0 < zoomed < full * 0.5
    assert page.eval_on_selector("#chart-drawdown", span) == pytest.approx(zoomed)
    assert page.is_visible("#zoom-reset")
    page.mouse.dblclick(box["x"] + box["width"] / 2, y)
    # the whole range again: from the same first point, and at least as long as before
    # (the demo goes on adding event time meanwhile)
    assert page.eval_on_selector("#chart-equity", start) == pytest.approx(first)
    assert page.eval_on_selector("#chart-equity", span) >= full - 1e-6 * full
    assert not page.is_visible("#zoom-reset")
    assert problems == []
    page.close()
