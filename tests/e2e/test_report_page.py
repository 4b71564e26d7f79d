"""The report file in headless Chromium with the network off: no request, no error, charts drawn.

The page is opened from disk at 1400, 1024 and 390 px. Every request the page makes is
recorded (and refused) by a route on the whole context, and the context is offline, so
a font, a stylesheet or a script from anywhere would show up as a request and fail the
test. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from algowatch.report import collect, render_report
from algowatch.settings import Settings

from .. import report_kit

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHARTS = {
    "equity",
    "underwater",
    "monthly",
    "rolling-sharpe",
    "rolling-volatility",
    "distribution",
    "trade-pnl",
    "cumulative-pnl",
    "slippage",
    "strategy-pnl-momentum",
    "strategy-slippage-momentum",
    "strategy-pnl-meanrev",
    "strategy-slippage-meanrev",
}


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    events = report_kit.write_events(folder / "events.ndjson", days=120)
    bench = report_kit.write_returns(folder / "bench.csv", n=120, start="2025-01-02")
    data = collect(str(events), Settings(), generated_ts=0, benchmark=bench)
    out = folder / "report.html"
    out.write_text(render_report(data), encoding="utf-8")
    return out


@pytest.mark.parametrize("width", [1400, 1024, 390])
def test_report_offline_draws_every_chart(browser: Any, report_file: Path, width: int) -> None:
    """No request but the file, no console error, every chart drawn, nothing wider than the page."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    file_url = report_file.as_uri()
    requests: list[str] = []

    def refuse_others(route: Any) -> None:
        url = route.request.url
        requests.append(url)
        if url == file_url:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", refuse_others)
    context.set_offline(True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto(file_url, wait_until="load")
    drawn = page.evaluate(
        """() => [...document.querySelectorAll('figure.chart')].map(f => {
            const svg = f.querySelector('svg');
            const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
            const marks = svg ? svg.querySelectorAll('polyline, polygon, rect').length : 0;
            return [f.dataset.chart, marks, box.width, box.height,
                    f.querySelector('.empty') !== null];
        })"""
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"report-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert requests == [file_url]
    assert errors == []
    assert {name for name, *_ in drawn} == CHARTS
    for name, marks, w, h, is_empty in drawn:
        assert not is_empty, name
        assert marks > 0, name
        assert w > 100, (name, w)
        assert h > 20, (name, h)
    assert overflow <= width


def test_pdf_is_printed_by_chromium(report_file: Path, tmp_path: Path) -> None:
    """``--pdf`` prints the page with Debian's Chromium: a PDF file with pages."""
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed; run scripts/bootstrap --system")
    from algowatch.report._pdf import print_pdf  # noqa: PLC0415

    pdf = tmp_path / "report.pdf"
    print_pdf(report_file, pdf, browser="/usr/bin/chromium")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.count(b"/Type /Page") + data.count(b"/Type/Page") >= 2
