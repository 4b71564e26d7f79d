"""Fixtures of the NautilusTrader integration tests: a live ``algowatch serve`` and Nautilus's venv.

NautilusTrader needs Python >= 3.12; ``scripts/bootstrap`` builds ``.venv-nautilus`` with it
(the ``nautilus`` extra), and these tests run the demo backtest there as a subprocess.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .... import serve_kit

ROOT = Path(__file__).resolve().parents[4]
NAUTILUS_PYTHON = ROOT / ".venv-nautilus" / "bin" / "python"
BACKTEST = ROOT / "examples" / "nautilus_backtest.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Service:
    """``python -m algowatch serve`` as a subprocess on a free port."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / "service.log"
        env = {**os.environ, "ALGOWATCH_HEALTH__SYSTEM_METRICS": "false"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "algowatch",
                    "serve",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(data_dir),
                    "--log-level",
                    "warning",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        serve_kit.wait_until_up(self.process, self.url, self.log)

    def snapshot(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/api/v1/snapshot", timeout=10)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    running = Service(tmp_path / "data")
    yield running
    running.stop()


def _run_backtest(*args: str, timeout: float = 600) -> dict[str, Any]:
    """Run the demo backtest in Nautilus's interpreter; return the figures it prints."""
    assert NAUTILUS_PYTHON.exists(), (
        f"{NAUTILUS_PYTHON} is missing: scripts/bootstrap builds it (needs Python 3.12)"
    )
    result = subprocess.run(
        [str(NAUTILUS_PYTHON), "-W", "ignore", str(BACKTEST), "--json", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


@pytest.fixture
def run_backtest() -> Callable[..., dict[str, Any]]:
    """Run the demo backtest (examples/nautilus_backtest.py) under Nautilus's Python."""
    return _run_backtest


def _assert_figures_agree(snapshot: dict[str, Any], nautilus: dict[str, Any]) -> None:
    # Nautilus's figures (the backtest script's JSON) against the service's snapshot, after
    # the conventions of docs/integrations/nautilus.md
    trading = snapshot["trading"]
    execution = snapshot["execution"]

    # the run exercises what the mapping covers
    assert nautilus["open_positions"] == 1
    assert nautilus["orders_open"] >= 1
    assert nautilus["flips"] > 10
    assert nautilus["maker_fills"] > 0
    assert nautilus["orders_expired"] > 0
    assert nautilus["orders_rejected"] > 0
    assert nautilus["orders_partially_filled"] == 0
    # Nautilus's books agree with themselves
    assert nautilus["realized_pnl"] == pytest.approx(nautilus["balance_change"], abs=1e-6)

    cent = 1e-6
    assert trading["fees"] == pytest.approx(nautilus["fees"], abs=cent)
    total = nautilus["realized_pnl"] + nautilus["unrealized_pnl"]
    assert trading["total_pnl"] == pytest.approx(total, abs=cent)
    # convention 1: the open lot's opening fee is unrealized (in its basis) for algowatch
    assert trading["unrealized_pnl"] == pytest.approx(
        nautilus["unrealized_pnl"] - nautilus["open_position_fees"], abs=cent
    )
    assert trading["realized_pnl"] == pytest.approx(
        nautilus["realized_pnl"] + nautilus["open_position_fees"], abs=cent
    )
    assert trading["num_trades"] == nautilus["closed_positions"]
    assert trading["num_positions"] == nautilus["open_positions"]
    assert trading["net_exposure"] == pytest.approx(
        nautilus["net_position"] * nautilus["last_price"], rel=1e-12
    )
    # convention 2: per round trip, a flip's fee share differs by less than half a cent
    assert trading["largest_win"] == pytest.approx(nautilus["largest_win"], abs=0.005)
    assert trading["largest_loss"] == pytest.approx(nautilus["largest_loss"], abs=0.005)
    assert round(trading["win_rate"] * trading["num_trades"]) == nautilus["winning_positions"]

    assert execution["orders_submitted"] == nautilus["orders"]
    assert execution["orders_filled"] == nautilus["orders_filled"]
    assert execution["orders_rejected"] == nautilus["orders_rejected"]
    assert execution["orders_canceled"] == nautilus["orders_canceled"] + nautilus["orders_expired"]
    assert execution["orders_open"] == nautilus["orders_open"]


@pytest.fixture
def assert_figures_agree() -> Callable[[dict[str, Any], dict[str, Any]], None]:
    """Assert that the service's snapshot agrees with Nautilus's own figures."""
    return _assert_figures_agree
