"""``algowatch sim`` publishes a fleet to a real NATS JetStream server, bot by bot."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from algowatch import events as ev
from algowatch.cli import main

from ...nats_server_kit import STREAM, NatsServer, stream_messages

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("nats-server") is None, reason="nats-server is not installed"),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[NatsServer]:
    nats_server = NatsServer(tmp_path / "jetstream").start()
    try:
        yield nats_server
    finally:
        nats_server.kill()


def test_sim_publishes_each_bot_on_its_own_subject(
    server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """3 bots from index 5: subjects algowatch.events.bot-00i.bot-00i, every event delivered."""
    code = main(
        [
            "sim",
            "--bots",
            "3",
            "--first-bot",
            "5",
            "--transport",
            "nats",
            "--url",
            server.url,
            "--create-stream",
            STREAM,
            "--speed",
            "20",
            "--duration",
            "1.5",
        ]
    )
    assert code == 0
    final = capsys.readouterr().err.strip().splitlines()[-1]
    messages = stream_messages(server.url)
    assert final.startswith(
        f"algowatch sim stopped: enqueued {len(messages)}, sent {len(messages)},"
    )
    assert len(messages) > 30
    by_subject: dict[str, set[str]] = {}
    for message in messages:
        event = ev.decode_event(message.data)
        assert message.headers["Nats-Msg-Id"] == event.event_id
        by_subject.setdefault(message.subject, set()).add(event.account)
    assert by_subject == {
        f"algowatch.events.bot-00{i}.bot-00{i}": {f"bot-00{i}"} for i in (5, 6, 7)
    }


def test_sim_refuses_a_url_of_the_other_transport(capsys: pytest.CaptureFixture[str]) -> None:
    """--transport http with a nats:// URL is a usage error (exit 2) naming both."""
    assert main(["sim", "--transport", "http", "--url", "nats://127.0.0.1:4222"]) == 2
    assert "--url 'nats://127.0.0.1:4222' does not match --transport http" in (
        capsys.readouterr().err
    )
