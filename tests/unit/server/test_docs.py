"""The Python examples of docs/sdk.md run against a real service."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from algowatch.server import ServerThread

DOC = Path(__file__).parents[3] / "docs" / "sdk.md"
# the NATS example runs in tests/integration/test_client_nats.py, against a server of its own
BLOCKS = [
    block
    for block in re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    if "nats://" not in block
]
# events each block leaves in the live service (None: the block runs its own service)
APPLIED = [6, 0, 1, 1, None]


def test_the_sdk_guide_has_examples() -> None:
    assert len(BLOCKS) == len(APPLIED)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_sdk_guide_example_runs(
    index: int, live: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each block runs as written, pointed at a live service instead of port 8000."""
    monkeypatch.chdir(tmp_path)
    code = BLOCKS[index].replace("http://127.0.0.1:8000", live.url)
    namespace: dict[str, object] = {}
    exec(compile(code, f"{DOC.name}[{index}]", "exec"), namespace)
    run = namespace.get("run")
    if callable(run):
        asyncio.run(run())
    if APPLIED[index] is not None:
        applied = live.call(live.app.state.service.monitor.figures).events_applied
        assert applied == APPLIED[index]
