"""docs/integrations/hummingbot.md: its configuration loads, its demo session is the one tested."""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path

from algowatch.settings import load_settings

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "integrations" / "hummingbot.md"


def test_the_copy_paste_configuration_loads(tmp_path: Path) -> None:
    """The TOML block is a valid configuration that turns the source on."""
    block = re.search(r"```toml\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert block is not None
    path = tmp_path / "algowatch.toml"
    path.write_text(re.sub(r"^ +", "", block.group(1), flags=re.MULTILINE))
    source = load_settings(path, environ={}).sources.hummingbot
    assert (source.enabled, source.host, source.port, source.namespace) == (
        True,
        "127.0.0.1",
        1883,
        "hbot",
    )


def test_the_replay_command_names_files_that_exist() -> None:
    """The demo's script and session are where the page says."""
    text = DOC.read_text()
    for name in ("examples/hummingbot/replay.py", "examples/hummingbot/session.jsonl"):
        assert name in text
        assert (ROOT / name).is_file()


def test_the_replay_shifts_the_session_to_end_now() -> None:
    """Default replay: every time moves by the same whole seconds, the last one is now."""
    spec = importlib.util.spec_from_file_location("replay", ROOT / "examples/hummingbot/replay.py")
    assert spec is not None
    assert spec.loader is not None
    replay = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(replay)
    recorded = replay.load(replay.SESSION, keep_times=True)
    shifted = replay.load(replay.SESSION, keep_times=False)
    shifts = {
        replay._seconds(b) - replay._seconds(a) for a, b in zip(recorded, shifted, strict=True)
    }
    assert len({round(s, 6) for s in shifts}) == 1
    assert abs(max(replay._seconds(line) for line in shifted) - time.time()) < 5
    created = shifted[2]["payload"]
    assert created["data"]["creation_timestamp"] - created["timestamp"] == -0.25
