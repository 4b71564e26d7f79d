"""The examples of docs/journal.md run and hold."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).parents[3] / "docs" / "journal.md"


def test_python_examples_in_journal_docs_run() -> None:
    """Every ```python block of docs/journal.md runs without error (its asserts hold)."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert blocks, "docs/journal.md has no python example"
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {"__name__": "docs_example"})
