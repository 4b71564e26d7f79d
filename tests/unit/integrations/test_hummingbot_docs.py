"""docs/integrations/hummingbot.md: its configuration loads, its demo session is the one tested."""

from __future__ import annotations

import re
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
