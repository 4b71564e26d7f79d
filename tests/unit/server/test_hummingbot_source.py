"""The hummingbot source's message handling: store, refuse, retry, and report (no broker)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from algowatch.clock import SystemClock
from algowatch.errors import JournalError, MissingDependencyError, ServiceUnavailableError
from algowatch.events import Event, Heartbeat
from algowatch.server import create_app
from algowatch.server._hummingbot import HummingbotSource, build_sources
from algowatch.settings import HummingbotSourceSettings, load_settings

HEARTBEAT = b'{"ts": 1780000000500000}'


class Recorder:
    """The service's submit and count, as the source sees them, failing on demand."""

    def __init__(self, failures: Sequence[Exception] = ()) -> None:
        self.batches: list[list[Event]] = []
        self.counts: list[str] = []
        self.failures = list(failures)

    async def submit(self, events: Sequence[Event]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.batches.append(list(events))

    def count(self, name: str) -> None:
        self.counts.append(name)


def source(recorder: Recorder) -> HummingbotSource:
    return HummingbotSource(
        HummingbotSourceSettings(enabled=True),
        submit=recorder.submit,
        count=recorder.count,
        clock=SystemClock(),
        max_future_seconds=300.0,
    )


def test_a_good_message_is_submitted_as_one_batch() -> None:
    recorder = Recorder()
    subscriber = source(recorder)
    asyncio.run(subscriber.handle("hbot/bot-1/hb", HEARTBEAT))
    ((event,),) = recorder.batches
    assert isinstance(event, Heartbeat)
    assert (subscriber.stats.messages, subscriber.stats.events) == (1, 1)


def test_a_bad_message_is_counted_as_rejected_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    subscriber = source(recorder)
    asyncio.run(subscriber.handle("hbot/bot-1/hb", b'{"ts": "soon"}'))
    assert recorder.batches == []
    assert recorder.counts == ["rejected_batches"]
    assert subscriber.stats.rejected_messages == 1
    assert "hummingbot.hb.ts must be a finite number > 0, received 'soon'" in caplog.text


def test_an_ignored_message_submits_nothing() -> None:
    recorder = Recorder()
    subscriber = source(recorder)
    asyncio.run(subscriber.handle("hbot/bot-1/status_updates", b'{"timestamp": 1, "msg": "hi"}'))
    assert (recorder.batches, recorder.counts) == ([], [])
    assert subscriber.stats.ignored_messages == 1


def test_a_busy_journal_is_retried() -> None:
    recorder = Recorder([ServiceUnavailableError("behind"), ServiceUnavailableError("behind")])
    subscriber = source(recorder)
    asyncio.run(subscriber.handle("hbot/bot-1/hb", HEARTBEAT))
    assert len(recorder.batches) == 1
    assert subscriber.stats.dropped_messages == 0


def test_a_journal_that_stays_unavailable_drops_the_message(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("algowatch.server._hummingbot._RETRY_SECONDS", 0.001)
    recorder = Recorder([ServiceUnavailableError("down")] * 5)
    subscriber = source(recorder)
    asyncio.run(subscriber.handle("hbot/bot-1/hb", HEARTBEAT))
    assert recorder.batches == []
    assert subscriber.stats.dropped_messages == 1
    assert "dropped after 5 attempts" in caplog.text


def test_a_batch_the_journal_refuses_is_counted_as_rejected() -> None:
    recorder = Recorder([JournalError("refused")])
    subscriber = source(recorder)
    asyncio.run(subscriber.handle("hbot/bot-1/hb", HEARTBEAT))
    assert recorder.counts == ["rejected_batches"]
    assert subscriber.stats.rejected_messages == 1


def test_the_source_is_off_by_default() -> None:
    recorder = Recorder()
    assert build_sources(load_settings(environ={}), submit=recorder.submit,
                         count=recorder.count, clock=SystemClock()) == []  # fmt: skip


def test_the_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiomqtt", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'algowatch\[hummingbot\]'"):
        source(Recorder())


def test_the_service_reports_the_source_in_health(tmp_path: Path) -> None:
    """With the source on, /health has its check, disconnected before it connects."""
    settings = load_settings(
        environ={
            "ALGOWATCH_DATA_DIR": str(tmp_path),
            "ALGOWATCH_SOURCES__HUMMINGBOT__ENABLED": "true",
        }
    )
    service = create_app(settings).state.service
    (check,) = [c for c in service.health.checks if c.name == "hummingbot"]
    outcome = asyncio.run(check.probe())
    assert (check.kind, check.critical, outcome.status) == ("mqtt", False, "disconnected")
    assert outcome.error == "not connected to the MQTT broker yet"
    assert outcome.details["broker"] == "127.0.0.1:1883"
