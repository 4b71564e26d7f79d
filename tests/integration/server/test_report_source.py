"""``algowatch report http://...`` against a real ``algowatch serve`` on a free port."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ... import report_kit, serve_kit

pytestmark = pytest.mark.integration

TOKEN = "report-token-0123456789"
_FIGURE = re.compile(r'data-figure="([^"]+)" data-value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    """``python -m algowatch serve`` with a token, loaded with 30 days of events."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "service.log"
    env = {
        **os.environ,
        "ALGOWATCH_HEALTH__SYSTEM_METRICS": "false",
        "ALGOWATCH_SERVER__TOKEN": TOKEN,
    }
    command = [sys.executable, "-m", "algowatch", "serve", "--port", str(port)]
    command += ["--data-dir", str(tmp_path / "data"), "--log-level", "warning"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        serve_kit.wait_until_up(process, url, log)
        body = "".join(json.dumps(row) + "\n" for row in report_kit.events(days=30)).encode()
        response = httpx.post(
            f"{url}/api/v1/events",
            content=body,
            headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/x-ndjson"},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        yield url
    finally:
        process.terminate()
        process.wait(30)


def _report(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALGOWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "algowatch", "report", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_url_report_shows_the_services_figures(service: str, tmp_path: Path) -> None:
    """The page's figures are the snapshot's; its trades and orders came through the paged API."""
    out = tmp_path / "report.html"
    done = _report(service, "--out", str(out), "--token", TOKEN)
    assert done.returncode == 0, done.stderr
    snapshot = httpx.get(
        f"{service}/api/v1/snapshot", headers={"authorization": f"Bearer {TOKEN}"}
    ).json()
    ours = {name: float(value) for name, value in _FIGURE.findall(out.read_text())}
    trading = snapshot["trading"]
    assert ours["trading.trades"] == trading["num_trades"] == 60
    assert ours["trading.realized_pnl"] == pytest.approx(trading["realized_pnl"], rel=1e-12)
    assert ours["trading.profit_factor"] == pytest.approx(trading["profit_factor"], rel=1e-12)
    assert ours["execution.mean_fill_latency_seconds"] * 1e3 == pytest.approx(
        snapshot["execution"]["order_to_fill_ms"], rel=1e-12
    )
    assert ours["sharpe_ratio"] == pytest.approx(trading["sharpe_ratio"], rel=1e-9)
    assert ours["latency.fill.count"] == 120
    by_strategy = snapshot["by_strategy"]
    for name, scope in by_strategy.items():
        assert ours[f"strategy.{name}.trading.trades"] == scope["trading"]["num_trades"]


def test_url_report_without_the_token_says_so(service: str, tmp_path: Path) -> None:
    done = _report(service, "--out", str(tmp_path / "r.html"))
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"Error: {service}/api/v1/snapshot refused the request (401): pass --token"
    )
