"""The README's examples run against a real service and do what the README says."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from algowatch.server import ServerThread, create_app
from algowatch.settings import HealthSettings, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _block(language: str, contains: str) -> str:
    for block in re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.DOTALL):
        if contains in block:
            return str(block)
    msg = f"no {language} block containing {contains!r} in README.md"
    raise AssertionError(msg)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ServerThread]:
    """The service on a free loopback port, with a private data folder."""
    settings = Settings(
        data_dir=str(tmp_path / "data"), health=HealthSettings(system_metrics=False)
    )
    with ServerThread(create_app(settings)) as server:
        yield server


def test_readme_sdk_example_records_the_fill(service: ServerThread) -> None:
    """The SDK example opens a 100-share AAPL position marked at 189.40."""
    code = _block("python", "from algowatch.client import Client")
    exec(code.replace("http://127.0.0.1:8000", service.url), {})
    positions = httpx.get(f"{service.url}/api/v1/positions").json()["positions"]
    (position,) = [p for p in positions if p["symbol"] == "AAPL"]
    assert position["quantity"] == 100
    # 100 x (189.40 - 189.21) - 0.35 fee in the cost basis = 18.65
    assert position["unrealized_pnl"] == pytest.approx(18.65, abs=1e-9)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_curl_example_is_accepted(service: ServerThread) -> None:
    """The curl example posts one mark and gets 202."""
    command = _block("bash", "curl -X POST").replace("http://127.0.0.1:8000", service.url)
    command = command.replace("curl ", "curl -sS -o /dev/null -w '%{http_code}' ", 1)
    result = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout == "202"
    # stamped now (not a fixed date in the past): the session, in event time, is today's
    session = httpx.get(f"{service.url}/api/v1/snapshot").json()["session"]
    start, end = (datetime.fromisoformat(session[k][:26] + "+00:00") for k in ("start", "end"))
    assert start <= datetime.now(UTC) < end
