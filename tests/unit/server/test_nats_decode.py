"""Decoding a fetched NATS batch: HTTP's validation, and the same verdicts however it is cut."""

from __future__ import annotations

import json

import pytest

from algowatch.events import OrderFilled, decode_event, decode_stored
from algowatch.server._nats_decode import decode_messages

STAMP = 1_767_225_600 * 10**9  # 2026-01-01T00:00:00Z, the stream's timestamp


def _mark(i: int, **extra: object) -> bytes:
    row = {"type": "mark", "symbol": "BTC", "price": 100 + i, "event_id": f"m-{i}"}
    row |= {"ts": "2026-01-01T00:00:00Z"} | extra
    return json.dumps(row).encode()


def test_a_valid_batch_decodes_in_message_order_like_single_events() -> None:
    payloads = [_mark(i) for i in range(5)]
    batch = decode_messages(payloads, [STAMP + i for i in range(5)], None)
    assert batch.rejected == []
    assert batch.events == [decode_event(p) for p in payloads]


def test_invalid_messages_are_refused_by_index_with_the_field_and_the_rest_kept() -> None:
    payloads = [
        _mark(0),
        b'{"type":"order_filled","order_id":"o1","event_id":"f-1","ts":"2026-01-01T00:00:00Z"}',
        b"not json",
        b"",
        _mark(4, price=-3),
        b'{"type": "mark",\n "symbol": "ETH", "price": 5, "event_id": "m-5"}',  # pretty-printed
    ]
    batch = decode_messages(payloads, [STAMP] * len(payloads), None)
    assert [e.event_id for e in batch.events] == ["m-0", "m-5"]
    reasons = dict(batch.rejected)
    assert sorted(reasons) == [1, 2, 3, 4]
    assert "order_filled.fill_id is required" in reasons[1]
    assert "order_filled.price is required" in reasons[1]
    assert "mark.price" in reasons[4]


def test_event_without_ts_takes_the_stream_timestamp_not_a_clock() -> None:
    body = b'{"type":"order_acknowledged","order_id":"o1","event_id":"a-1"}'
    batch = decode_messages([_mark(0), body], [STAMP, STAMP + 123], None)
    assert batch.rejected == []
    assert batch.events[1].ts == STAMP + 123


def test_event_id_is_required_on_nats() -> None:
    body = b'{"type":"mark","symbol":"BTC","price":1,"ts":"2026-01-01T00:00:00Z"}'
    batch = decode_messages([body], [STAMP], None)
    assert batch.events == []
    assert batch.rejected[0][0] == 0
    assert "mark.event_id is required on NATS" in batch.rejected[0][1]


def test_the_future_limit_is_measured_from_each_message_own_stream_timestamp() -> None:
    # 2026-01-01T00:00:10Z is 10 s after the first stamp, 10 s before the second
    late = _mark(0, ts="2026-01-01T00:00:10Z")
    early = _mark(1, ts="2026-01-01T00:00:10Z")
    batch = decode_messages([late, early], [STAMP, STAMP + 20 * 10**9], 5 * 10**9)
    assert [e.event_id for e in batch.events] == ["m-1"]
    assert batch.rejected[0][0] == 0
    assert "after the time the stream stored the message" in batch.rejected[0][1]


@pytest.mark.parametrize("cut", range(7))
def test_the_verdicts_do_not_depend_on_where_fetches_cut_the_stream(cut: int) -> None:
    """Replicas fetch different batches: each message must get the same verdict and event."""
    payloads = [
        _mark(0),
        b'{"type":"order_filled","order_id":"o1","fill_id":"f","quantity":1,"price":2,"event_id":"f-1"}',
        _mark(2, ts="2026-01-01T00:01:00Z"),
        b"{",
        _mark(4),
        b'{"type":"heartbeat","component":"bot"}',
    ]
    stamps = [STAMP + i * 10**9 for i in range(len(payloads))]
    whole = decode_messages(payloads, stamps, 30 * 10**9)
    first = decode_messages(payloads[:cut], stamps[:cut], 30 * 10**9)
    second = decode_messages(payloads[cut:], stamps[cut:], 30 * 10**9)
    assert first.events + second.events == whole.events
    shifted = [(i + cut, reason) for i, reason in second.rejected]
    assert first.rejected + shifted == whole.rejected
    filled = [e for e in whole.events if isinstance(e, OrderFilled)]
    assert filled[0].ts == stamps[1]  # no ts: its own message's stamp
    assert [i for i, _ in whole.rejected] == [2, 3, 5]


def test_payloads_that_are_not_one_line_objects_get_their_own_verdicts_among_valid_ones() -> None:
    """An array, a leading blank or a trailing newline never merges with its neighbours."""
    payloads = [
        _mark(0),
        b"[" + _mark(1) + b"," + _mark(2) + b"]",  # two events in one message: refused
        b" " + _mark(3),
        _mark(4) + b"\n",
        _mark(5),
    ]
    batch = decode_messages(payloads, [STAMP] * len(payloads), None)
    singles = decode_messages(payloads[2:4], [STAMP] * 2, None)
    assert [e.event_id for e in batch.events] == ["m-0", "m-3", "m-4", "m-5"]
    assert batch.events[1:3] == singles.events
    assert [i for i, _ in batch.rejected] == [1]


def test_each_event_keeps_its_message_data_as_payload_unless_its_ts_was_filled_in() -> None:
    """The journal stores a message's data as received; a ts taken from the stamp is not in it."""
    no_ts = b'{"type":"mark","symbol":"BTC","price":7,"event_id":"m-9"}'
    spaced = b'  {"type" : "mark", "symbol":"\\u0042TC", "price":8, "price":9, "event_id":"m-8",'
    spaced += b'"ts":"2026-01-01T00:00:00Z"}  '
    payloads = [_mark(0), no_ts, b"not json", spaced, _mark(1, symbol="x} ,{y")]
    batch = decode_messages(payloads, [STAMP + 5] * len(payloads), None)
    assert [e.event_id for e in batch.events] == ["m-0", "m-9", "m-8", "m-1"]
    assert batch.payloads == [payloads[0], None, spaced, payloads[4]]
    assert [e.ts for e in batch.events][1] == STAMP + 5
    for event, payload in zip(batch.events, batch.payloads, strict=True):
        if payload is not None:
            assert decode_stored(payload) == event


def test_messages_that_split_events_across_them_are_each_refused() -> None:
    """``{A} , {B`` then ``C}``: two lines joining into two events, yet neither is one."""
    first = _mark(0) + b" , " + _mark(1)[:-1] + b',"strategy":"a}'
    second = b'{b"}'
    batch = decode_messages([first, second, _mark(2)], [STAMP + 1] * 3, None)
    assert [e.event_id for e in batch.events] == ["m-2"]
    assert batch.payloads == [_mark(2)]
    assert sorted(index for index, _ in batch.rejected) == [0, 1]
