"""The NATS source's wire helpers: ack metadata and raw header blocks (no server)."""

from __future__ import annotations

import pytest

from algowatch.server._nats_wire import header_map, is_status, message_id, parse_reply


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"$JS.ACK.ALGOWATCH.solo.1.42.7.1700000000123456789.3", (42, 7, 1700000000123456789, 3)),
        # the form with a JetStream domain and account hash (and a trailing token)
        (
            b"$JS.ACK.hub.ACC123.ALGOWATCH.solo.2.42.7.1700000000123456789.3.rnd",
            (42, 7, 1700000000123456789, 3),
        ),
    ],
)
def test_parse_reply_reads_stream_and_consumer_sequence_timestamp_and_pending(
    reply: bytes, expected: tuple[int, int, int, int]
) -> None:
    assert parse_reply(reply) == expected


def test_header_map_keeps_every_named_line_and_skips_the_version_and_malformed_lines() -> None:
    block = b"NATS/1.0\r\nNats-Msg-Id: e-1\r\nBot-Version:7\r\nno colon\r\n: empty name\r\n\r\n"
    assert header_map(block) == {"Nats-Msg-Id": "e-1", "Bot-Version": "7"}


def test_header_map_replaces_undecodable_bytes_instead_of_raising() -> None:
    assert header_map(b"NATS/1.0\r\nNote: caf\xe9\r\n\r\n") == {"Note": "caf\ufffd"}


def test_message_id_reads_the_header_of_a_delivery_and_none_without_headers() -> None:
    headers = b"NATS/1.0\r\nNats-Msg-Id: fill-9\r\n\r\n"
    assert message_id((b"s", b"r", b"{}", headers)) == "fill-9"
    assert message_id((b"s", b"r", b"{}", b"")) is None


@pytest.mark.parametrize(
    ("payload", "headers", "expected"),
    [
        (b"", b"NATS/1.0 404 No Messages\r\n\r\n", True),
        (b"", b"NATS/1.0 409 Exceeded MaxWaiting\r\n\r\n", True),
        (b"{}", b"NATS/1.0 404 No Messages\r\n\r\n", False),  # a payload is a message
        (b"", b"NATS/1.0\r\nNats-Msg-Id: a\r\n\r\n", False),  # headers, no status
    ],
)
def test_is_status_recognises_server_statuses_only(
    payload: bytes, headers: bytes, expected: bool
) -> None:
    assert is_status(payload, headers) is expected
