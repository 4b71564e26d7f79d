"""A page on another origin cannot release the kill switch (real headless Chromium).

The service runs with its risk guard; a drawdown sent through the ingest API, as a
bot would, makes the guard latch ``flatten``. A second HTTP server on another
loopback port serves an attacker's page that tries the two requests a browser makes
cross-origin without a CORS preflight: a ``no-cors`` ``fetch`` with a ``text/plain``
body and an auto-submitted ``text/plain`` form. Both reach the service (counted as
refused) and the latch stays engaged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from algowatch.events import encode_events
from algowatch.server import ServerThread, create_app
from algowatch.settings import HealthSettings, RiskSettings, Settings
from algowatch.testing import EventFactory, FakeClock

pytestmark = pytest.mark.e2e

ATTACK = """<!doctype html>
<title>cat pictures</title>
<iframe name="sink" id="sink"></iframe>
<form id="form" method="POST" action="{target}" enctype="text/plain" target="sink">
<input name='{{"by":"mallory","reason":"form","pad":"' value='"}}'>
</form>
<script>
  const target = "{target}";
  const body = JSON.stringify({{by: "mallory", reason: "fetch"}});
  fetch(target, {{method: "POST", mode: "no-cors", body,
                 headers: {{"content-type": "text/plain"}}}})
    .catch(() => null)
    .then(() => {{
      document.getElementById("sink").addEventListener("load", () => {{
        document.title = "done";
      }});
      document.getElementById("form").submit();
    }});
</script>
"""


class _Attacker(BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def latched_service(tmp_path: Path) -> Iterator[ServerThread]:
    """The service with its guard latched ``flatten`` by a 20 % drawdown (limit 10 %)."""
    settings = Settings(
        data_dir=str(tmp_path),
        health=HealthSettings(system_metrics=False),
        risk=RiskSettings(max_drawdown=0.10, daily_loss_limit=1e12, check_interval_seconds=0.02),
    )
    factory = EventFactory(FakeClock())
    crash = [
        factory.submitted("o1", "AAPL", "buy", 1000),
        factory.filled("o1", 1000, 100.0),
        factory.mark("AAPL", 100.0),
        factory.mark("AAPL", 80.0),
    ]
    with ServerThread(create_app(settings)) as server:
        answer = httpx.post(
            f"{server.url}/api/v1/events",
            content=encode_events(crash),
            headers={"content-type": "application/x-ndjson"},
        )
        assert answer.status_code == 202
        deadline = time.monotonic() + 10
        while not _risk(server)["latched"]:
            assert time.monotonic() < deadline, "the guard never latched"
            time.sleep(0.05)
        yield server


@pytest.fixture
def attacker(latched_service: ServerThread) -> Iterator[str]:
    """A page on another loopback port that posts to the service's reset."""
    _Attacker.page = ATTACK.format(target=f"{latched_service.url}/api/v1/risk/reset").encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Attacker)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _risk(server: ServerThread) -> dict[str, Any]:
    report: dict[str, Any] = httpx.get(f"{server.url}/api/v1/risk").json()
    return report


def test_cross_origin_page_cannot_release_the_kill_switch(
    latched_service: ServerThread, attacker: str, browser: Any
) -> None:
    """no-cors fetch and form POST from another origin: both refused, latch engaged."""
    stats = latched_service.app.state.http_stats
    assert stats.refused["cross_site"] == 0
    page = browser.new_page()
    page.goto(attacker)
    page.wait_for_function("document.title === 'done'", timeout=20_000)
    # both requests reached the service and were refused before any route ran
    assert stats.refused["cross_site"] == 2
    report = _risk(latched_service)
    assert (report["level"], report["latched"]) == ("flatten", True)
    assert not [a for a in report["alerts"] if "mallory" in a["message"]]
    # the same reset from a non-browser client with the JSON body does release it (the
    # guard latches again at its next check, as the drawdown is still there)
    body = msgspec.json.encode({"by": "ops", "reason": "checked positions"})
    answer = httpx.post(
        f"{latched_service.url}/api/v1/risk/reset",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 200
    assert answer.json()["latched"] is False
    assert answer.json()["alerts"][0]["message"] == "kill switch reset by ops: checked positions"
