"""Prometheus collector for the event journal: is its store up, how often it failed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from algowatch.exporters._naming import metric_name

if TYPE_CHECKING:
    from algowatch.journal import JournalState

__all__ = ["JournalCollector"]

_UP = metric_name("algowatch", "journal_up")
# CounterMetricFamily adds the `_total` suffix that metric_name checks for
_FAILURES = metric_name("algowatch", "journal_failures", total=True).removesuffix("_total")
_RECONNECTS = metric_name("algowatch", "journal_reconnects", total=True).removesuffix("_total")


class JournalCollector(Collector):
    """Expose the journal's :class:`~algowatch.journal.JournalState` at scrape time.

    ``algowatch_journal_up`` is 1 while the store is usable (PostgreSQL: the journal
    holds a working connection), 0 while it is down (the ``pg_up`` convention);
    ``algowatch_journal_failures_total`` counts connection losses, failed reconnect
    attempts and operational errors of the store; ``algowatch_journal_reconnects_total``
    counts connections re-established after a loss. The alert ``JournalDown`` watches
    the gauge.

    Parameters
    ----------
    state
        Returns the current state, e.g. ``journal.state`` (must not block: the
        journal reads its own counters, it never asks the database).

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> from algowatch.journal import JournalState
    >>> registry = CollectorRegistry()
    >>> registry.register(JournalCollector(lambda: JournalState(up=False, failures=3)))
    >>> text = generate_latest(registry).decode()
    >>> "algowatch_journal_up 0.0" in text, "algowatch_journal_failures_total 3.0" in text
    (True, True)

    .. versionadded:: 0.2.0
    """

    def __init__(self, state: Callable[[], JournalState]) -> None:
        self._state = state

    @staticmethod
    def _empty() -> tuple[GaugeMetricFamily, CounterMetricFamily, CounterMetricFamily]:
        return (
            GaugeMetricFamily(
                _UP, "1 while the event journal's store is usable, 0 while it is down."
            ),
            CounterMetricFamily(
                _FAILURES,
                "Journal store failures: connection losses, failed reconnect attempts and "
                "operational errors.",
            ),
            CounterMetricFamily(_RECONNECTS, "Journal connections re-established after a loss."),
        )

    def describe(self) -> Iterator[Metric]:
        """Yield the three families, without samples."""
        return iter(self._empty())

    def collect(self) -> Iterator[Metric]:
        """Yield the three families with the journal's current state."""
        state = self._state()
        up, failures, reconnects = self._empty()
        up.add_metric([], 1.0 if state.up else 0.0)
        failures.add_metric([], state.failures)
        reconnects.add_metric([], state.reconnects)
        return iter((up, failures, reconnects))
