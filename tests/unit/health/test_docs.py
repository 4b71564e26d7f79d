"""docs/health.md: its configuration example loads and builds every check it shows."""

from __future__ import annotations

import re
from pathlib import Path

from algowatch.exporters import HealthCollector, SystemCollector
from algowatch.health import HealthRunner
from algowatch.monitor import LastSeen
from algowatch.settings import load_settings

DOC = Path(__file__).parents[3] / "docs" / "health.md"


def test_toml_example_builds_a_runner(tmp_path):
    """The [[health.checks]] example is valid configuration."""
    block = re.search(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block is not None
    config = tmp_path / "algowatch.toml"
    config.write_text(block.group(1), encoding="utf-8")
    settings = load_settings(config, environ={})
    runner = HealthRunner(settings.health, last_seen=LastSeen, audit_state=lambda: "ok")
    kinds = [c.kind for c in runner.checks]
    assert kinds == [
        "redis", "postgres", "broker_http", "market_data", "heartbeat", "order_flow", "clock",
        "audit",
    ]  # fmt: skip


def test_every_exported_metric_is_documented():
    """Each metric family the collector can export appears in the docs table."""
    text = DOC.read_text(encoding="utf-8")
    runner = HealthRunner(load_settings(environ={}).health)
    collectors = (HealthCollector(runner.report), SystemCollector(runner))
    names = {m.name for c in collectors for m in c.describe()}
    assert len(names) == 26
    missing = sorted(n for n in names if f"`{n}" not in text)
    assert missing == []
