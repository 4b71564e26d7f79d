"""docs/metrics.md documents every public metric and its examples run."""

from __future__ import annotations

import doctest
import inspect
import re
from pathlib import Path

import algowatch.analytics

DOC = Path(__file__).resolve().parents[3] / "docs" / "metrics.md"


def test_every_public_function_and_class_has_an_entry() -> None:
    """Each name in algowatch.analytics.__all__ is a heading (or named in one)."""
    headings = "\n".join(re.findall(r"^#{2,4} .*$", DOC.read_text(encoding="utf-8"), re.M))
    results = {"ReturnsSummary", "TradeSummary", "ImplementationShortfall", "SignalDecay"}
    documented_elsewhere = {n for n in results if n in DOC.read_text(encoding="utf-8")}
    missing = [
        name
        for name in algowatch.analytics.__all__
        if name not in headings and name not in documented_elsewhere
    ]
    assert not missing, f"docs/metrics.md has no entry for {missing}"
    assert all(inspect.getattr_static(algowatch.analytics, n) for n in algowatch.analytics.__all__)


def test_examples_in_the_metrics_page_run() -> None:
    """The >>> examples of docs/metrics.md pass as doctests."""
    result = doctest.testfile(str(DOC), module_relative=False, verbose=False)
    assert result.attempted >= 10
    assert result.failed == 0
