"""JournalCollector: the journal's state as Prometheus families, named and documented."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from algowatch.exporters import JournalCollector, naming_problems
from algowatch.journal import JournalState

DOCS = Path(__file__).resolve().parents[3] / "docs"


def scrape(state: JournalState) -> dict[str, float]:
    registry = CollectorRegistry()
    registry.register(JournalCollector(lambda: state))
    text = generate_latest(registry).decode()
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_store_up_exports_one_and_the_counts() -> None:
    """Up is 1; the counters carry the journal's own counts."""
    assert scrape(JournalState(up=True, failures=4, reconnects=2)) == {
        "algowatch_journal_up": 1.0,
        "algowatch_journal_failures_total": 4.0,
        "algowatch_journal_reconnects_total": 2.0,
    }


def test_store_down_exports_zero() -> None:
    """Down is 0 (the pg_up convention), what the JournalDown alert watches."""
    assert scrape(JournalState(up=False, failures=1))["algowatch_journal_up"] == 0.0


def test_describe_yields_the_families_without_calling_the_provider() -> None:
    """Registration does not read the state (no collection under the registry lock)."""
    calls: list[int] = []

    def state() -> JournalState:
        calls.append(1)
        return JournalState(up=True)

    collector = JournalCollector(state)
    names = [(m.name, m.type) for m in collector.describe()]
    assert names == [
        ("algowatch_journal_up", "gauge"),
        ("algowatch_journal_failures", "counter"),
        ("algowatch_journal_reconnects", "counter"),
    ]
    assert calls == []


def test_every_family_follows_the_naming_rules_and_is_documented() -> None:
    """Each family passes the naming checker and appears in docs/prometheus.md."""
    docs = (DOCS / "prometheus.md").read_text(encoding="utf-8")
    for family in JournalCollector(lambda: JournalState(up=True)).describe():
        name = family.name + "_total" if family.type == "counter" else family.name
        assert naming_problems(name, family.type) == []
        assert f"`{name}`" in docs, name
