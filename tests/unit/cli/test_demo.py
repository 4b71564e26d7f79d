"""``algowatch demo``: options, its data folder, and a short run through the real CLI."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import httpx
import pytest

from algowatch._cli._demo_app import demo_settings
from algowatch._cli.demo import _prepare
from algowatch._datalock import LOCK_FILE
from algowatch.cli import main
from algowatch.settings import RiskSettings, Settings


def test_demo_help_lists_the_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    """--help names every scenario and the demo's own options."""
    assert main(["demo", "--help"]) == 0
    out = capsys.readouterr().out
    for word in ("--scenario", "--speed", "--seed", "--duration", "drawdown", "stale-data"):
        assert word in out


def test_demo_given_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A scenario that does not exist exits 2 and names the choices."""
    assert main(["demo", "--scenario", "crash"]) == 2
    assert "'crash' is not one of" in capsys.readouterr().err


def test_demo_refuses_a_folder_it_did_not_create(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """<data-dir>/demo without the demo's marker is left alone: usage error, nothing deleted."""
    precious = tmp_path / "demo" / "keep.txt"
    precious.parent.mkdir()
    precious.write_text("data")
    assert main(["demo", "--data-dir", str(tmp_path), "--port", "0", "--duration", "1"]) == 2
    assert "was not created by the demo" in capsys.readouterr().err
    assert precious.read_text() == "data"


def test_demo_settings_fill_only_what_the_user_left_unset(tmp_path: Path) -> None:
    """Health checks and risk timeouts are added; configured risk limits are kept."""
    filled = demo_settings(Settings(), tmp_path)
    assert [c.name for c in filled.health.checks] == [
        "market_data",
        "engine",
        "broker",
        "order_flow",
    ]
    assert filled.risk.daily_loss_limit == 25_000.0
    assert filled.logging.file == str(tmp_path / "algowatch.log")
    assert filled.data_dir == str(tmp_path)
    mine = Settings(risk=RiskSettings(max_drawdown=0.05))
    assert demo_settings(mine, tmp_path).risk == mine.risk


def test_demo_runs_for_its_duration_and_stops(tmp_path: Path) -> None:
    """A two-second run serves, writes its journal, audit trail and state, and exits 0."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = ["demo", "--data-dir", str(tmp_path), "--port", str(port), "--duration", "2"]
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert main([*args, "--speed", "20"]) == 0
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    demo_dir = tmp_path / "demo"
    assert (demo_dir / "journal.sqlite3").stat().st_size > 0
    assert (demo_dir / "risk-state.json").is_file()
    assert list((demo_dir / "audit").glob("audit-*.jsonl"))
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/live")


def test_demo_given_a_busy_port_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A port already in use is a runtime error (exit 1) with the OS error named."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["demo", "--data-dir", str(tmp_path), "--port", str(port)]) == 1
    assert f"server.port 127.0.0.1:{port} is not available" in capsys.readouterr().err


def test_demo_folder_left_with_only_its_lock_file_is_reused(tmp_path: Path) -> None:
    """A demo killed between taking the lock and writing its marker leaves only the lock file."""
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / LOCK_FILE).write_text("12345\nalgowatch demo\n")  # its process is gone
    lock = _prepare(folder)
    try:
        assert sorted(p.name for p in folder.iterdir()) == [".algowatch-demo", LOCK_FILE]
    finally:
        lock.release()
    # a second start empties the demo's files but keeps the lock file it locks
    (folder / "journal.sqlite").write_text("old run")
    lock = _prepare(folder)
    lock.release()
    assert sorted(p.name for p in folder.iterdir()) == [".algowatch-demo", LOCK_FILE]
