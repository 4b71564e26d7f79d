"""Wait for an ``algowatch serve`` subprocess that a test started to answer."""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

import httpx
import pytest


def wait_until_up(
    process: subprocess.Popen[bytes],
    url: str,
    log: Path,
    *,
    path: str = "/live",
    timeout: float = 60.0,
) -> None:
    """Return once ``url + path`` answers 200; fail with the log if the service exits or is late."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    pytest.fail(f"the service did not answer {path} within {timeout} s:\n{log.read_text()}")
