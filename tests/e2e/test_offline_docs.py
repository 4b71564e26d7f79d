"""``/docs`` and ``/redoc`` render the API in Chromium with every non-loopback request blocked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from algowatch.server import ServerThread, create_app
from algowatch.settings import HealthSettings, Settings

pytestmark = pytest.mark.e2e

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ServerThread]:
    settings = Settings(data_dir=str(tmp_path), health=HealthSettings(system_metrics=False))
    with ServerThread(create_app(settings)) as server:
        yield server


def _offline_page(browser: Any) -> tuple[Any, Any, list[str], list[str]]:
    """Return a page whose requests to any host but loopback are aborted (and recorded)."""
    context = browser.new_context()
    page = context.new_page()
    blocked: list[str] = []
    errors: list[str] = []

    def _route(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in {"http", "https"} and parts.hostname not in _LOOPBACK:
            blocked.append(url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", _route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, blocked, errors


def test_swagger_ui_renders_every_operation_offline(browser: Any, service: ServerThread) -> None:
    schema = service.app.openapi()
    operations = sum(len(methods) for methods in schema["paths"].values())
    context, page, blocked, errors = _offline_page(browser)
    try:
        page.goto(f"{service.url}/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        rendered = page.locator(".opblock").count()
        paths = page.locator(".opblock-summary-path").all_inner_texts()
    finally:
        context.close()
    assert rendered == operations
    assert any("/api/v1/snapshot" in path for path in paths)
    assert blocked == []
    assert errors == []


def test_redoc_renders_the_api_offline(browser: Any, service: ServerThread) -> None:
    schema = service.app.openapi()
    summaries = [
        operation["summary"]
        for methods in schema["paths"].values()
        for operation in methods.values()
        if operation.get("summary")
    ]
    assert summaries
    context, page, blocked, errors = _offline_page(browser)
    try:
        page.goto(f"{service.url}/redoc")
        page.wait_for_selector("h2", timeout=20_000)
        headings = page.locator("h2").all_inner_texts()
        title = page.locator("h1").first.inner_text()
    finally:
        context.close()
    assert title.startswith("algowatch")
    # one heading per operation, by its summary
    assert set(summaries) <= {heading.strip() for heading in headings}
    assert blocked == []
    # Redoc's sidebar names its maker with a logo from cdn.redoc.ly: the page's policy
    # blocks it before any request is made (so `blocked` is empty), which Chromium reports
    assert [e for e in errors if "https://cdn.redoc.ly/redoc/logo-mini.svg" not in e] == []
