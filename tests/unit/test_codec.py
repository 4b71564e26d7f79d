"""decode_batch_payloads: each event's payload, as received, replays to exactly that event."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algowatch._codec import decode_batch_payloads
from algowatch.events import Event, decode_batch, decode_stored, encode_event, event_to_dict
from algowatch.testing import EventFactory, event_strategy

TS = "2025-01-02T14:30:00Z"
RECEIVED = 1_800_000_000 * 1_000_000_000
HEARTBEAT = b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"feed"}'


def _replays(events: list[Event], payloads: list[bytes | None]) -> None:
    # the journal's promise: a stored payload decodes back to exactly its event
    assert len(payloads) == len(events)
    for event, payload in zip(events, payloads, strict=True):
        if payload is not None:
            assert decode_stored(payload) == event


def test_given_an_empty_body_returns_no_events_and_no_payloads() -> None:
    """An empty body is an empty batch."""
    batch, payloads = decode_batch_payloads(b"")
    assert (batch.events, batch.errors, payloads) == ([], [], [])


def test_given_canonical_ndjson_every_payload_is_its_line_as_received() -> None:
    """The fast path's events each get their own line, byte for byte."""
    f = EventFactory()
    events = [
        f.submitted("o1", "AAPL", "buy", 10, limit_price=100.0),
        f.acknowledged("o1"),
        f.filled("o1", 10, 100.0, fee=0.5),
        f.mark("AAPL", 101.0, bid=100.9),
        f.signal("s1", "AAPL", "long", confidence=0.5),
        f.heartbeat(extra={"pid": 7}),
    ]
    lines = [encode_event(e) for e in events]
    batch, payloads = decode_batch_payloads(b"\n".join(lines) + b"\n", default_ts=RECEIVED)
    assert batch.events == events
    assert payloads == lines


def test_given_blank_and_crlf_lines_payloads_follow_the_non_blank_lines() -> None:
    """Blank lines are skipped and a CR stays with its line (JSON whitespace)."""
    body = b"\n" + HEARTBEAT + b"\r\n\n\n" + HEARTBEAT.replace(b"feed", b"bus") + b"\n\n"
    batch, payloads = decode_batch_payloads(body)
    assert [e.component for e in batch.events] == ["feed", "bus"]  # type: ignore[attr-defined]
    assert payloads == [HEARTBEAT + b"\r", HEARTBEAT.replace(b"feed", b"bus")]


def test_given_a_missing_or_null_ts_the_event_is_journaled_encoded() -> None:
    """A ts filled in from the receive time is not in the line: no payload for that event."""
    body = b"\n".join(
        [
            HEARTBEAT,
            b'{"type":"heartbeat","component":"feed"}',
            b'{"type":"heartbeat","ts":null,"component":"feed"}',
            b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"feed","ts":null}',
        ]
    )
    batch, payloads = decode_batch_payloads(body, default_ts=RECEIVED)
    assert [e.ts for e in batch.events] == [1_735_828_200 * 10**9] + [RECEIVED] * 3
    assert payloads == [HEARTBEAT, None, None, None]


def test_given_a_json_array_every_event_is_journaled_encoded() -> None:
    """An array's elements have no position from the decoder: all are re-encoded."""
    batch, payloads = decode_batch_payloads(b" [" + HEARTBEAT + b"," + HEARTBEAT + b"]")
    assert len(batch.events) == 2
    assert payloads == [None, None]


HOSTILE = [
    pytest.param(HEARTBEAT.replace(b",", b" \t\r " * 5000 + b","), id="huge-whitespace"),
    pytest.param(HEARTBEAT.replace(b"feed", rb"\u0066\u0065ed\u00e9\ud83d\ude00"), id="escapes"),
    pytest.param(
        b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"a","component":"b"}',
        id="duplicate-field",
    ),
    pytest.param(
        b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","ts":"2025-01-03T00:00:00Z",'
        b'"component":"a"}',
        id="duplicate-ts",
    ),
    pytest.param(
        b'{"type":"heartbeat","ts":null,"ts":"2025-01-03T00:00:00Z","component":"a"}',
        id="null-then-ts",
    ),
    pytest.param(
        b'{"type":"heartbeat","type":"mark","ts":"2025-01-02T14:30:00Z","component":"a",'
        b'"symbol":"X","price":1}',
        id="duplicate-type",
    ),
    pytest.param(
        b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"a","event_id":"e",'
        b'"event_id":null}',
        id="duplicate-event-id-null-last",
    ),
    pytest.param(
        b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"a","x":1,"x":[2]}',
        id="duplicate-unknown-field",
    ),
    pytest.param(
        b'{"type":"order_submitted","ts":"2025-01-02T14:30:00+02:00","order_id":"o",'
        b'"symbol":"S","side":"BUY","quantity":1e0,"order_type":"LIMIT","strategy":"default"}',
        id="normalised-values",
    ),
    pytest.param(
        b'{"type":"error","ts":"2025-01-02T14:30:00Z","error_type":"e","component":"c",'
        b'"message":"x} ,{y"}',
        id="brace-comma-in-a-string",
    ),
]


@pytest.mark.parametrize("line", HOSTILE)
def test_given_a_hostile_line_its_payload_replays_to_the_live_event(line: bytes) -> None:
    """Whitespace, escapes, duplicate keys, normalised values: replay reads what live kept."""
    for body in (line, HEARTBEAT + b"\n" + line + b"\n" + HEARTBEAT):
        batch, payloads = decode_batch_payloads(body, default_ts=RECEIVED)
        assert not batch.errors
        assert batch.events == decode_batch(body, default_ts=RECEIVED).events
        assert line in payloads
        _replays(batch.events, payloads)


def test_given_lines_that_split_events_across_them_the_body_is_refused() -> None:
    """``{A},{B`` then ``C}``: as many events as lines, yet no line is one event."""
    x = HEARTBEAT.replace(b"feed", b"x")
    y = HEARTBEAT.replace(b"feed", b"y")
    lines = [
        x + b" , " + y,
        b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"a}',
        b'{b","event_id":"z"}',
    ]
    body = b"\n".join(lines)
    assert len(decode_batch(body).events) == 3  # the joined lines are a valid array
    batch, payloads = decode_batch_payloads(body)
    assert (batch.events, payloads) == ([], [])
    assert [(e.index, e.line) for e in batch.errors] == [(0, 1), (1, 2), (2, 3)]


def _formatted(event: Event, draw: st.DrawFn) -> bytes:
    # the event as some client might write it: any spacing, escapes or not, keys shuffled,
    # and a field repeated with a decoy value first (the last one wins)
    obj = event_to_dict(event)
    keys = draw(st.permutations(list(obj)))
    space = draw(st.sampled_from(["", " ", "\t", " \r "]))
    ascii_only = draw(st.booleans())
    members = [
        json.dumps(k, ensure_ascii=ascii_only)
        + space
        + ":"
        + space
        + json.dumps(obj[k], ensure_ascii=ascii_only)
        for k in keys
    ]
    decoy = draw(st.sampled_from([k for k in keys if k != "type"] or [None]))
    if decoy is not None and draw(st.booleans()):
        members.insert(0, json.dumps(decoy) + ":" + json.dumps("decoy"))
    return (space + "{" + space + ("," + space).join(members) + space + "}").encode()


@given(st.data())
def test_any_formatting_of_valid_events_replays_to_the_live_events(data: st.DataObject) -> None:
    """Live decode and replay of the stored payloads agree, whatever the formatting."""
    events = data.draw(st.lists(event_strategy(), min_size=1, max_size=5))
    body = b"\n".join(_formatted(e, data.draw) for e in events)
    batch, payloads = decode_batch_payloads(body, default_ts=RECEIVED)
    assert not batch.errors
    assert batch.events == decode_batch(body, default_ts=RECEIVED).events
    _replays(batch.events, payloads)
