"""docs/snapshot.md lists every snapshot field; docs/engine.md's example and settings hold."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import msgspec

from algowatch.monitor import Monitor
from algowatch.server import render_snapshot
from algowatch.settings import MonitorSettings
from algowatch.testing import EventFactory

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _documented(page: str) -> set[str]:
    return set(re.findall(r"^\| `([a-z_0-9]+)`", (DOCS / page).read_text(encoding="utf-8"), re.M))


def test_every_snapshot_field_is_documented():
    """Each key of the snapshot and of its sections has a row in docs/snapshot.md."""
    f = EventFactory()
    m = Monitor()
    m.apply_many([f.submitted("o1", "X", "buy", 1), f.filled("o1", 1, 1.0), f.mark("X", 2.0)])
    snap = render_snapshot(m.figures())
    documented = _documented("snapshot.md")
    keys = set(snap) | set(snap["trading"]) | set(snap["execution"]) | set(snap["signals"])
    assert keys - documented == set()
    stale = documented - keys
    assert stale == set(), f"documented but not produced: {stale}"


def test_every_monitor_setting_is_documented():
    """Each MonitorSettings field appears in the settings table of docs/engine.md."""
    text = (DOCS / "engine.md").read_text(encoding="utf-8")
    table = text[text.index("## Settings") :]
    fields = msgspec.structs.fields(MonitorSettings)
    missing = [field.name for field in fields if f"`{field.name}`" not in table]
    assert missing == []


def test_engine_page_example_runs_and_prints_what_it_says():
    """The Python block of docs/engine.md runs and prints the commented value."""
    text = (DOCS / "engine.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "engine.md", "exec"), {})
    assert out.getvalue().strip() == "47.0"


def test_engine_page_rendering_example_runs_and_its_asserts_hold():
    """The "Reading the state" block of docs/engine.md renders the JSON with algowatch.server."""
    text = (DOCS / "engine.md").read_text(encoding="utf-8")
    section = text[text.index("## Reading the state") : text.index("## Determinism")]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1
    assert "render_snapshot(m.figures())" in blocks[0]
    exec(compile(blocks[0], "engine.md", "exec"), {})
