"""Property: journaling, restarting from the journal and continuing equals one pass."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from algowatch.events import Event
from algowatch.journal import Journal, open_journal
from algowatch.monitor import Monitor
from algowatch.server import render_snapshot
from algowatch.settings import JournalSettings


def load_crash_kit() -> ModuleType:
    path = Path(__file__).with_name("crash_worker.py")
    spec = importlib.util.spec_from_file_location("algowatch_crash_kit", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


KIT = load_crash_kit()


def ingest(journal: Journal, monitor: Monitor, events: list[Event]) -> None:
    for event, new in zip(events, journal.append(events), strict=True):
        if new:
            monitor.apply(event)


def comparable(monitor: Monitor) -> dict[str, Any]:
    return KIT.comparable(render_snapshot(monitor.figures()))  # type: ignore[no-any-return]


@settings(max_examples=40)
@given(
    seed=st.integers(0, 2**16),
    count=st.integers(0, 400),
    split=st.floats(0, 1),
    overlap=st.integers(0, 25),
    durability=st.sampled_from(["event", "group"]),
)
def test_split_restart_continue_equals_one_pass(
    seed: int, count: int, split: float, overlap: int, durability: str
) -> None:
    """Stop after any event, restart from the journal, resend a little, continue: same state.

    The restarted engine equals the one that was stopped, and the final state equals
    one uninterrupted pass over the stream (resent events are not counted twice).
    """
    stream: list[Event] = KIT.make_stream(seed, count)
    cut = round(split * len(stream))
    journal_settings = JournalSettings(durability=durability)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as tmp:
        before = Monitor()
        with open_journal(journal_settings, Path(tmp)) as journal:
            ingest(journal, before, stream[:cut])
        after = Monitor()
        with open_journal(journal_settings, Path(tmp)) as journal:
            after.apply_many(journal.replay())
            assert comparable(after) == comparable(before)
            ingest(journal, after, stream[max(0, cut - overlap) :])
            assert journal.count() == len(stream)
    one_pass = Monitor()
    one_pass.apply_many(stream)
    assert comparable(after) == comparable(one_pass)
