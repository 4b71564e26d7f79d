"""Crash test: SIGKILL an ingesting process at random points, then restart from the journal."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from algowatch.journal import open_journal
from algowatch.settings import JournalSettings


def load_crash_kit() -> ModuleType:
    path = Path(__file__).with_name("crash_worker.py")
    spec = importlib.util.spec_from_file_location("algowatch_crash_worker", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sigkill_at_random_points_loses_nothing_acknowledged_and_counts_nothing_twice(
    tmp_path: Path,
) -> None:
    """20 kills of a worker ingesting through the SQLite journal, each checked on restart.

    Nothing acknowledged is lost, nothing is journaled or counted twice (acknowledged
    batches are resent after restarts), and the rebuilt engine equals an uninterrupted run.
    """
    kit = load_crash_kit()
    kills = kit.run_crash_rounds(
        data_dir=tmp_path,
        open_for_check=lambda: open_journal(JournalSettings(), tmp_path),
        rounds=20,
        seed=7,
    )
    assert kills == 20
