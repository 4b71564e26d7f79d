"""The data folder's lock: a second live process is refused with a clear message.

Every test here uses two real processes: this one and an ``algowatch`` (or a small
Python) subprocess.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.serve_kit import wait_until_up

from algowatch._datalock import LOCK_FILE, lock_data_folder
from algowatch.errors import DataFolderInUseError
from algowatch.server import InProcessMonitor
from algowatch.settings import HealthSettings, Settings

ALGOWATCH = [sys.executable, "-m", "algowatch"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ALGOWATCH, *args], capture_output=True, text=True, timeout=60, check=False, cwd=cwd
    )


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """``algowatch serve --data-dir ./data`` (relative, as a user types it), up and answering."""
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*ALGOWATCH, "serve", "--data-dir", "data", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        wait_until_up(process, f"http://127.0.0.1:{port}", log)
        yield process, tmp_path / "data"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_served_folder_is_refused_to_every_other_process_until_kill_9(
    serving: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    """One `algowatch serve` (its start-up is the slow part) against each kind of user."""
    process, data = serving
    # a second `algowatch serve`
    result = _run("serve", "--data-dir", "data", "--port", str(_free_port()), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: data folder ./data is in use by pid {process.pid} (algowatch serve); "
        "stop it or use another folder (--data-dir)\n"
    )
    # `algowatch replay --journal` into it: refused, nothing written
    events = tmp_path / "events.ndjson"
    events.write_text('{"type":"mark","ts":"2026-01-02T10:00:00Z","symbol":"AAPL","price":190.5}\n')
    files = {p.name: p.stat().st_size for p in data.iterdir()}
    result = _run("replay", str(events), "--journal", "data", cwd=tmp_path)
    assert result.returncode == 1
    assert f"data folder ./data is in use by pid {process.pid} (algowatch serve)" in result.stderr
    assert {p.name: p.stat().st_size for p in data.iterdir()} == files
    # a bot's InProcessMonitor (sdk_bot.py --in-process), in this process
    settings = Settings(data_dir=str(data), health=HealthSettings(system_metrics=False))
    monitor = InProcessMonitor(settings)
    with pytest.raises(
        DataFolderInUseError,
        match=rf"in use by pid {process.pid} \(algowatch serve\); stop it or give this bot",
    ):
        monitor.start()
    monitor.stop()  # harmless: nothing was started
    assert process.poll() is None  # the holder is untouched
    # kill -9: the lock file stays, the lock does not
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert (data / LOCK_FILE).is_file()
    with lock_data_folder(data) as lock:
        assert lock.folder == data.resolve()
        assert (data / LOCK_FILE).read_text().split("\n")[0] == str(os.getpid())


def test_second_demo_on_the_same_folder_is_refused_and_keeps_the_first_ones_files(
    tmp_path: Path,
) -> None:
    # this process plays the running demo: it holds <data-dir>/demo with its files in it
    demo_dir = tmp_path / "data" / "demo"
    demo_dir.mkdir(parents=True)
    (demo_dir / ".algowatch-demo").write_text("created by `algowatch demo`\n")
    (demo_dir / "journal.sqlite").write_text("the running demo's journal\n")
    with lock_data_folder(demo_dir):
        result = _run(
            "demo", "--data-dir", "data", "--port", str(_free_port()), "--duration", "1",
            cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 1
        assert f"data folder ./data/demo is in use by pid {os.getpid()}" in result.stderr
        assert (demo_dir / "journal.sqlite").read_text() == "the running demo's journal\n"


def test_a_lock_released_in_one_process_is_free_for_another(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from algowatch._datalock import lock_data_folder
        with lock_data_folder(Path({str(folder)!r})):
            print("locked")
        """
    )
    lock = lock_data_folder(folder)
    held = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert held.returncode == 1
    assert f"is in use by pid {os.getpid()}" in held.stderr
    lock.release()
    lock.release()  # a second release is harmless
    free = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert free.returncode == 0, free.stderr
    assert free.stdout == "locked\n"


def test_the_same_process_shares_its_lock(tmp_path: Path) -> None:
    """The CLI locks the folder, then the service it starts locks it again: shared."""
    folder = tmp_path / "data"
    outer = lock_data_folder(folder)
    inner = lock_data_folder(folder)
    assert inner is outer
    inner.release()
    script = (
        "from pathlib import Path; from algowatch._datalock import lock_data_folder as f; "
        f"f(Path({str(folder)!r}))"
    )
    still = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert still.returncode == 1  # one hold is left
    outer.release()
    free = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert free.returncode == 0, free.stderr
