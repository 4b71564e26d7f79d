"""The examples of docs/audit.md and docs/logging.md run and hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[3] / "docs"


@pytest.mark.parametrize("name", ["audit.md", "logging.md"])
def test_python_examples_in_docs_run(name: str) -> None:
    doc = DOCS / name
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.DOTALL)
    assert blocks, f"docs/{name} has no python example"
    for block in blocks:
        exec(compile(block, str(doc), "exec"), {"__name__": "docs_example"})
