"""The examples in examples/ run against a real service."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from algowatch.server import ServerThread

EXAMPLES = Path(__file__).parents[3] / "examples"


def test_sdk_bot_example_reports_its_trades(live: ServerThread) -> None:
    spec = importlib.util.spec_from_file_location("sdk_bot", EXAMPLES / "sdk_bot.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--url", live.url, "--orders", "10"]) == 0
    figures = live.call(live.app.state.service.monitor.figures)
    assert figures.events_applied == 10 * 6
    assert figures.portfolio.execution.orders_filled == 10
    assert figures.portfolio.trading.trades == 5


@pytest.mark.skipif(shutil.which("curl") is None, reason="the example needs curl")
def test_curl_ndjson_example_is_accepted(live: ServerThread) -> None:
    result = subprocess.run(
        ["bash", str(EXAMPLES / "ingest_ndjson.sh")],
        env={"ALGOWATCH_URL": live.url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    accepted, positions = result.stdout.strip().splitlines()
    assert json.loads(accepted) == {"received": 4, "accepted": 4, "duplicates": []}
    [position] = json.loads(positions)["positions"]
    assert (position["symbol"], position["quantity"], position["mark"]) == ("AAPL", 10.0, 191.0)
