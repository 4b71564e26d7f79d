"""The NATS source's pure parts: subject matching, settings, readiness, metrics (no server)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from algowatch.errors import ConfigError
from algowatch.health import CheckResult
from algowatch.server._nats import NatsSource, build_nats_sources, subject_matches
from algowatch.server._nats_metrics import NatsCollector
from algowatch.settings import NatsSourceSettings

pytest.importorskip("nats")


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        # NATS subject semantics (docs.nats.io "Subject-Based Messaging", wildcards)
        ("algowatch.events.>", "algowatch.events.acct-1.bot-1", True),
        ("algowatch.events.>", "algowatch.events", False),  # '>' needs one token or more
        ("algowatch.events.*.bot-1", "algowatch.events.acct-1.bot-1", True),
        ("algowatch.events.*", "algowatch.events.acct-1.bot-1", False),
        ("algowatch.events.acct-1.>", "algowatch.events.acct-2.bot-1", False),
        ("algowatch.events.>", "algowatch.dead.algowatch.events.acct-1.bot-1", False),
        (">", "algowatch.dead.x", True),
        ("a.b", "a.b", True),
        ("a.b", "a.b.c", False),
    ],
)
def test_subject_matches_follows_nats_wildcards(pattern: str, subject: str, expected: bool) -> None:
    assert subject_matches(pattern, subject) is expected


def test_settings_refuse_names_nats_cannot_take_and_empty_subjects() -> None:
    with pytest.raises(ConfigError, match=r"sources\.nats\.durable must be"):
        NatsSourceSettings(servers=("nats://127.0.0.1:4222",), durable="replica.a")
    with pytest.raises(ConfigError, match=r"sources\.nats\.stream must be"):
        NatsSourceSettings(stream="ALGO WATCH")
    with pytest.raises(ConfigError, match=r"sources\.nats\.subjects must list"):
        NatsSourceSettings(subjects=())
    with pytest.raises(ConfigError, match=r"dead_letter_prefix"):
        NatsSourceSettings(dead_letter_prefix="algowatch.>")


def test_the_source_runs_only_when_servers_are_set(tmp_path: Path) -> None:
    def build(settings: NatsSourceSettings) -> list[NatsSource]:
        return build_nats_sources(
            settings, submit=_never, count=lambda _: None, data_path=tmp_path, max_future_seconds=5
        )

    assert build(NatsSourceSettings()) == []
    (source,) = build(NatsSourceSettings(servers=("nats://127.0.0.1:4222",), durable="a"))
    assert source.check.name == "nats"


async def _never(events: object, payloads: object) -> None:
    raise AssertionError("nothing is submitted here")


def _source(tmp_path: Path, **settings: object) -> NatsSource:
    config = NatsSourceSettings(servers=("nats://127.0.0.1:4222",), durable="replica-a", **settings)  # type: ignore[arg-type]
    return NatsSource(
        config, submit=_never, count=lambda _: None, data_path=tmp_path, max_future_seconds=5
    )


def _result(status: str) -> CheckResult:
    return CheckResult("nats", "nats", False, status, 0.0, 0)  # type: ignore[arg-type]


def test_readiness_waits_for_the_replica_to_catch_up(tmp_path: Path) -> None:
    source = _source(tmp_path, ready_max_lag_events=100)
    check = source.check
    outcome = asyncio.run(check.probe())
    assert outcome.status == "disconnected"
    source.stats.connected = True
    source.stats.lag_events = 5_000
    outcome = asyncio.run(check.probe())
    assert (outcome.status, outcome.error) == (
        "degraded",
        "catching up with stream ALGOWATCH: 5000 events behind",
    )
    assert not check.admits(_result(outcome.status))
    source.stats.caught_up = True
    source.stats.lag_events = 101
    outcome = asyncio.run(check.probe())
    assert outcome.status == "degraded"
    assert "ready_max_lag_events 100" in (outcome.error or "")
    source.stats.lag_events = 100
    outcome = asyncio.run(check.probe())
    assert outcome.status == "connected"
    assert check.admits(_result(outcome.status))


def test_position_file_round_trips_and_a_damaged_one_restarts_from_the_beginning(
    tmp_path: Path,
) -> None:
    source = _source(tmp_path)
    assert source._read_position() == 0
    source._write_position(41_999)
    assert (tmp_path / "nats-ALGOWATCH-replica-a.position").read_text() == "41999"
    assert _source(tmp_path)._read_position() == 41_999
    (tmp_path / "nats-ALGOWATCH-replica-a.position").write_text("4x")
    assert _source(tmp_path)._read_position() == 0  # duplicates by event_id are no-ops


def test_the_collector_exports_lag_and_sequences_with_stream_and_consumer_labels(
    tmp_path: Path,
) -> None:
    source = _source(tmp_path)
    source.stats.lag_events = 12
    source.stats.applied_sequence = 988
    source.stats.stream_last_sequence = 1_000
    registry = CollectorRegistry()
    registry.register(NatsCollector(source))
    text = generate_latest(registry).decode()
    labels = '{consumer="replica-a",stream="ALGOWATCH"}'
    assert f"algowatch_nats_consumer_lag_events{labels} 12.0" in text
    assert f"algowatch_nats_applied_sequence{labels} 988.0" in text
    assert f"algowatch_nats_stream_last_sequence{labels} 1000.0" in text
    assert f"algowatch_nats_caught_up{labels} 0.0" in text


def test_an_empty_journal_forgets_a_stale_position(tmp_path: Path) -> None:
    source = _source(tmp_path)
    source._write_position(500)
    source.forget_position()
    assert not (tmp_path / "nats-ALGOWATCH-replica-a.position").exists()
    assert source._read_position() == 0
