"""Running the app: a refused bind leaks nothing; ``algowatch serve`` stops cleanly on signals."""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import httpx
import pytest

from algowatch.events import encode_events
from algowatch.journal import open_journal
from algowatch.logging import configure_logging, shutdown_logging
from algowatch.server import ServerThread, create_app
from algowatch.settings import JournalSettings, LoggingSettings
from algowatch.testing import EventFactory

from .conftest import make_settings


def test_refused_bind_closes_the_socket(tmp_path: Path) -> None:
    """A port in use raises an OSError naming the address; the socket is not leaked."""
    app = create_app(make_settings(tmp_path / "data"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}: ") as info:
                ServerThread(app, port=port)
            del info
            gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_and_exits_0_on_a_signal(
    tmp_path: Path, factory: EventFactory, signum: signal.Signals
) -> None:
    """The accepted event is in the journal, the audit trail is closed, the exit code 0."""
    data = tmp_path / "data"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALGOWATCH_")}
    args = ["serve", "--port", str(port), "--data-dir", str(data), "--log-level", "warning"]
    with subprocess.Popen(
        [sys.executable, "-m", "algowatch", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as process:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1].decode()
            try:
                if httpx.get(f"{url}/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "algowatch serve did not start"
                time.sleep(0.05)
        event = factory.heartbeat("engine")
        answer = httpx.post(
            f"{url}/api/v1/events",
            content=encode_events([event]),
            headers={"content-type": "application/x-ndjson"},
        )
        assert answer.status_code == 202
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()
    assert (data / "audit" / "checkpoints.jsonl").stat().st_size > 0
    journal = open_journal(JournalSettings(), data)
    try:
        journaled = list(journal.replay())
    finally:
        journal.close()
    # the risk guard may journal an alert of its own (a loaded machine can trip a limit)
    ours = [e for e in journaled if getattr(e, "error_type", None) != "risk_alert"]
    assert [e.event_id for e in ours] == [event.event_id]


def test_uvicorn_log_lines_come_out_as_json(tmp_path: Path) -> None:
    """Running the server leaves logging to configure_logging: uvicorn's lines are JSON."""
    stream = io.StringIO()
    configure_logging(LoggingSettings(level="info"), stream=stream)
    try:
        with ServerThread(create_app(make_settings(tmp_path / "data"))):
            logging.getLogger("uvicorn.error").warning("probe %d", 7)
    finally:
        shutdown_logging()
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    probe = [r for r in records if r.get("event") == "probe 7"]
    assert len(probe) == 1
    assert probe[0]["logger"] == "uvicorn.error"
    assert probe[0]["level"] == "warning"
