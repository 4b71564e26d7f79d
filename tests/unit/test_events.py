"""The v1 event contract: decoding, validation messages, normalisation, round trips."""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from algowatch import events as ev
from algowatch._codec import decode_ndjson_block
from algowatch.errors import InvalidEventError
from algowatch.events import (
    decode_batch,
    decode_event,
    encode_event,
    encode_events,
    event_from_mapping,
    format_timestamp,
    parse_timestamp,
)
from algowatch.server import render_snapshot
from algowatch.testing import event_strategy

from .. import hostile_kit

TS = "2025-01-02T14:30:00Z"
TS_NS = 1_735_828_200 * 1_000_000_000


def _json(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def _errors(data: bytes | str) -> list[str]:
    with pytest.raises(InvalidEventError) as info:
        decode_event(data)
    return [str(e) for e in info.value.errors]


# --------------------------------------------------------------------------- degenerate input


def test_decode_event_given_empty_body_reports_invalid_json() -> None:
    """An empty body is not JSON and says so."""
    (message,) = _errors(b"")
    assert message.startswith("body is not valid JSON")


def test_decode_event_given_invalid_utf8_reports_invalid_json() -> None:
    """Invalid UTF-8 is rejected naming the byte, not with a crash."""
    assert _errors(b'{"type": "heartbeat", "component": "\xff"}') == [
        "body is not valid UTF-8: invalid start byte at byte 36"
    ]


def test_decode_event_given_array_instead_of_object_names_the_problem() -> None:
    """A JSON value that is not an object is rejected naming what was received."""
    assert _errors(b"[1, 2]") == ["event must be a JSON object, received [1, 2]"]


def test_decode_event_given_missing_type_lists_the_types() -> None:
    """The discriminator is required and the message lists the valid types."""
    (message,) = _errors(b"{}")
    assert message.startswith("type must be one of 'order_submitted', ")
    assert message.endswith("; missing")


def test_decode_event_given_unknown_type_shows_the_received_value() -> None:
    """An unknown type is shown verbatim with !r."""
    (message,) = _errors(_json(type="order_exploded", ts=TS))
    assert message.endswith("; received 'order_exploded'")


def test_decode_event_given_nan_literal_names_the_field() -> None:
    """The non-standard NaN literal is parsed only to be rejected by field name."""
    data = b'{"type":"mark","ts":"' + TS.encode() + b'","symbol":"AAPL","price":NaN}'
    assert _errors(data) == ["mark.price must be a finite number, received nan"]


def test_decode_event_given_deep_nesting_never_crashes() -> None:
    """Deeply nested JSON gives InvalidEventError or a kept extra, never another exception."""
    deep = b'{"type":"heartbeat","ts":"' + TS.encode() + b'","component":"c","x":'
    deep += b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(InvalidEventError) as info:
        decode_event(deep)
    assert [str(e) for e in info.value.errors] == ["body is nested too deeply"]


# --------------------------------------------------------------------------- field validation


def test_decode_event_reports_every_invalid_field_at_once() -> None:
    """All invalid and missing fields are reported together, with received values."""
    data = _json(type="order_filled", ts=TS, order_id="", quantity=-5, price="x", fee=True)
    assert _errors(data) == [
        "order_filled.order_id must not be empty, received ''",
        "order_filled.quantity must be > 0, received -5",
        "order_filled.price must be a number, received 'x'",
        "order_filled.fee must be a number, received True",
        "order_filled.fill_id is required",
    ]


def test_decode_event_given_zero_quantity_rejects_it() -> None:
    """Quantities are strictly positive."""
    data = _json(
        type="order_submitted",
        ts=TS,
        order_id="o1",
        symbol="AAPL",
        side="buy",
        quantity=0,
        order_type="market",
    )
    assert _errors(data) == ["order_submitted.quantity must be > 0, received 0"]


def test_decode_event_given_overflowing_price_rejects_it_as_not_finite() -> None:
    """1e999 decodes to infinity in JSON parsers; it is rejected, not stored."""
    data = b'{"type":"mark","ts":"' + TS.encode() + b'","symbol":"AAPL","price":1e999}'
    assert _errors(data) == ["mark.price must be a finite number, received inf"]


def test_event_from_mapping_given_nan_price_rejects_it() -> None:
    """NaN prices from a Python mapping are rejected."""
    with pytest.raises(
        InvalidEventError, match=r"mark.price must be a finite number, received nan"
    ):
        event_from_mapping({"type": "mark", "ts": TS, "symbol": "AAPL", "price": math.nan})


def test_decode_event_given_huge_quantity_rejects_it_with_the_bound() -> None:
    """Magnitudes above 1e15 are rejected with the bound stated."""
    data = _json(type="order_filled", ts=TS, order_id="o", fill_id="f", quantity=10**30, price=1)
    assert _errors(data) == [
        "order_filled.quantity must be <= 1e+15, received 1000000000000000000000000000000"
    ]


def test_decode_event_given_bad_side_lists_the_choices() -> None:
    """An unknown side names the valid choices."""
    data = _json(
        type="order_submitted",
        ts=TS,
        order_id="o1",
        symbol="AAPL",
        side="long",
        quantity=1,
        order_type="market",
    )
    assert _errors(data) == ["order_submitted.side must be one of 'buy', 'sell', received 'long'"]


def test_decode_event_given_fractional_bar_count_rejects_it() -> None:
    """bars_held must be an integer."""
    data = _json(type="signal_outcome", ts=TS, signal_id="s", actual_direction="up", bars_held=1.5)
    assert _errors(data) == [
        "signal_outcome.actual_direction must be one of 'long', 'short', 'flat', received 'up'",
        "signal_outcome.bars_held must be an integer, received 1.5",
    ]


def test_decode_event_given_confidence_above_one_rejects_it() -> None:
    """Confidence is a probability."""
    data = _json(type="signal", ts=TS, signal_id="s", symbol="A", direction="long", confidence=1.5)
    assert _errors(data) == ["signal.confidence must be <= 1, received 1.5"]


def test_decode_event_given_overlong_symbol_rejects_it() -> None:
    """Symbols are at most 64 characters (they become metric labels)."""
    data = _json(type="mark", ts=TS, symbol="X" * 65, price=1)
    assert _errors(data) == [f"mark.symbol must be at most 64 characters, received {'X' * 65!r}"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2025-01-02 14:30:00Z", "must be an RFC 3339 timestamp"),
        ("2025-01-02T14:30:00", "must be an RFC 3339 timestamp"),
        ("2023-02-29T00:00:00Z", "has an impossible calendar date"),
        ("2025-01-02T24:00:00Z", "has an impossible time of day"),
        ("2025-01-02T23:59:60Z", "has an impossible time of day"),
        ("2025-01-02T10:00:00+24:00", "has an impossible UTC offset"),
        ("2025-01-02T10:00:00.1234567890Z", "must be an RFC 3339 timestamp"),
        ("2025-01-0\uff11T10:00:00Z", "must be an RFC 3339 timestamp"),
        ("2025-01-01T00:00:0\uff11Z", "must be an RFC 3339 timestamp"),
    ],
)
def test_decode_event_given_bad_timestamp_names_ts_and_reason(text: str, reason: str) -> None:
    """Malformed or impossible timestamps name the ts field and the reason."""
    (message,) = _errors(_json(type="heartbeat", ts=text, component="c"))
    assert message.startswith(f"heartbeat.ts {reason}")
    assert message.endswith(f"received {text!r}")


def test_decode_event_given_numeric_ts_rejects_it() -> None:
    """Timestamps on the wire are RFC 3339 strings only (no ambiguous epoch numbers)."""
    (message,) = _errors(_json(type="heartbeat", ts=1735828200, component="c"))
    assert message == "heartbeat.ts must be an RFC 3339 timestamp string, received 1735828200"


# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize("side", ["BUY", "Buy", "buy", "bUy"])
def test_decode_event_normalises_side_to_lower_case(side: str) -> None:
    """Side is case-insensitive on input and lower case inside."""
    data = _json(
        type="order_submitted",
        ts=TS,
        order_id="o1",
        symbol="AAPL",
        side=side,
        quantity=3,
        order_type="LIMIT",
        limit_price=10,
    )
    event = decode_event(data)
    assert isinstance(event, ev.OrderSubmitted)
    assert (event.side, event.order_type, event.quantity) == ("buy", "limit", 3.0)


def test_decode_event_keeps_unknown_fields_in_extra() -> None:
    """Unknown fields are kept, not dropped or rejected."""
    event = decode_event(_json(type="heartbeat", ts=TS, component="feed", venue="XNAS", seq=7))
    assert event.extra == {"venue": "XNAS", "seq": 7}
    assert json.loads(encode_event(event))["venue"] == "XNAS"


def test_decode_event_treats_null_optional_fields_as_absent() -> None:
    """A null optional field takes its default."""
    event = decode_event(
        _json(type="order_filled", ts=TS, order_id="o", fill_id="f", quantity=1, price=2, fee=None)
    )
    assert isinstance(event, ev.OrderFilled)
    assert event.fee == 0.0
    assert event.strategy == "default"


def test_decode_event_given_null_required_field_reports_it_required() -> None:
    """A null required field is missing."""
    assert _errors(_json(type="heartbeat", ts=TS, component=None)) == [
        "heartbeat.component is required"
    ]


def test_decode_event_uses_default_ts_only_when_ts_is_absent() -> None:
    """A service may stamp receive time on events sent without ts."""
    event = decode_event(_json(type="heartbeat", component="c"), default_ts=42)
    assert event.ts == 42
    event = decode_event(_json(type="heartbeat", ts=TS, component="c"), default_ts=42)
    assert event.ts == TS_NS


def test_parse_timestamp_keeps_nanoseconds_and_converts_offsets() -> None:
    """Nine fractional digits survive; offsets convert to UTC."""
    assert parse_timestamp("2025-01-02T14:30:00.123456789Z") == TS_NS + 123_456_789
    assert parse_timestamp("2025-01-02T15:30:00.5+01:00") == TS_NS + 500_000_000
    assert parse_timestamp("2025-01-02T09:00:00-05:30") == TS_NS
    assert parse_timestamp("2025-01-02t14:30:00z") == TS_NS


def test_parse_timestamp_in_the_previous_seconds_still_checks_every_digit() -> None:
    """Timestamps in the second just parsed take a shortcut that must not skip any check."""
    assert parse_timestamp("2025-01-02T14:30:00.123456789Z") == TS_NS + 123_456_789
    assert parse_timestamp("2025-01-02T14:30:00.000000007Z") == TS_NS + 7
    # another second, then back: each gets its own seconds
    assert parse_timestamp("2025-01-02T14:30:01.000000001Z") == TS_NS + 1_000_000_001
    assert parse_timestamp("2025-01-02T14:30:00.999999999Z") == TS_NS + 999_999_999
    assert parse_timestamp("2025-01-02T14:30:00.999999999Z") == TS_NS + 999_999_999
    # same second and shape, but not nine ASCII digits: refused like any bad timestamp
    for bad in (
        "2025-01-02T14:30:00.12345678xZ",
        "2025-01-02T14:30:00.1234567 8Z",
        "2025-01-02T14:30:00.+12345678Z",
        "2025-01-02T14:30:00.1234_5678Z",
        "2025-01-02T14:30:00.12345678\u0663Z",  # ARABIC-INDIC DIGIT THREE
    ):
        with pytest.raises(ValueError, match="RFC 3339"):
            parse_timestamp(bad)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_format_then_parse_timestamp_is_identity(ts: int) -> None:
    """format_timestamp and parse_timestamp are inverse for every storable instant (int64 ns)."""
    assert parse_timestamp(format_timestamp(ts)) == ts


# --------------------------------------------------------------------------- round trips


@given(event_strategy())
def test_encode_then_decode_gives_the_same_event(event: ev.Event) -> None:
    """decode(encode(e)) == e for every valid event."""
    assert decode_event(encode_event(event)) == event


@given(event_strategy())
def test_fast_and_validating_paths_agree(event: ev.Event) -> None:
    """The msgspec fast path and the validating path build identical events."""
    data = encode_event(event)
    assert event_from_mapping(msgspec.json.decode(data)) == decode_event(data) == event


@given(st.lists(event_strategy(), max_size=20))
def test_decode_batch_ndjson_and_array_agree(events: list[ev.Event]) -> None:
    """NDJSON and a JSON array of the same events decode to the same list."""
    ndjson = encode_events(events)
    array = b"[" + b",".join(encode_event(e) for e in events) + b"]"
    assert decode_batch(ndjson).events == events
    assert decode_batch(array).events == events


# --------------------------------------------------------------------------- batches


def test_decode_batch_ndjson_reports_bad_lines_with_numbers_and_keeps_good_ones() -> None:
    """Each bad line is reported with its 1-based line number; good lines still decode."""
    good = _json(type="heartbeat", ts=TS, component="c")
    body = b"\n".join([good, b"", b"{not json", _json(type="mark", ts=TS, symbol="A"), good])
    result = decode_batch(body)
    assert len(result.events) == 2
    assert not result.ok
    assert [(e.index, e.line) for e in result.errors] == [(1, 3), (2, 4)]
    assert str(result.errors[1]) == "line 4: mark.price is required"


def test_decode_batch_array_reports_indexes() -> None:
    """Errors in a JSON array carry the element index."""
    good = json.loads(_json(type="heartbeat", ts=TS, component="c"))
    body = json.dumps([good, {"type": "heartbeat", "ts": TS}, good, 5]).encode()
    result = decode_batch(body)
    assert len(result.events) == 2
    assert [(e.index, str(e)) for e in result.errors] == [
        (1, "event 1: heartbeat.component is required"),
        (3, "event 3: event must be a JSON object, received 5"),
    ]


def test_decode_batch_array_with_normalisable_event_takes_the_slow_path() -> None:
    """An array whose events need normalisation still decodes every event."""
    body = json.dumps(
        [
            {"type": "heartbeat", "ts": TS, "component": "c"},
            {"type": "signal", "ts": TS, "signal_id": "s", "symbol": "A", "direction": "LONG"},
        ]
    )
    result = decode_batch(body)
    assert result.ok
    assert isinstance(result.events[1], ev.Signal)
    assert result.events[1].direction == "long"


def test_decode_batch_given_empty_body_returns_nothing() -> None:
    """An empty NDJSON body is an empty, valid batch."""
    result = decode_batch(b"\n\n")
    assert result.events == []
    assert result.ok


def test_event_types_lists_the_contract_in_order() -> None:
    """The contract has exactly the eleven documented types."""
    assert ev.event_types() == (
        "order_submitted",
        "order_acknowledged",
        "order_filled",
        "order_rejected",
        "order_canceled",
        "signal",
        "signal_outcome",
        "mark",
        "account",
        "error",
        "heartbeat",
    )


def test_events_are_immutable() -> None:
    """Events are frozen."""
    event = decode_event(_json(type="heartbeat", ts=TS, component="c"))
    with pytest.raises(AttributeError):
        event.component = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------- storage rules


def _mark_with(**fields: object) -> bytes:
    return _json(type="mark", ts=TS, symbol="AAPL", price=1.0, **fields)


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2300-01-01T00:00:00Z", "'2300-01-01T00:00:00Z'"),
        ("0001-01-01T00:00:00Z", "'0001-01-01T00:00:00Z'"),
        ("9999-12-31T23:59:59Z", "'9999-12-31T23:59:59Z'"),
        ("2262-04-11T23:47:16.854775808Z", "'2262-04-11T23:47:16.854775808Z'"),
        ("1677-09-21T00:12:43.145224191Z", "'1677-09-21T00:12:43.145224191Z'"),
    ],
)
def test_decode_event_given_ts_outside_int64_nanoseconds_names_the_range(
    ts: str, expected: str
) -> None:
    """A ts no journal can store as a signed 64-bit nanosecond count is rejected."""
    assert _errors(_json(type="heartbeat", ts=ts, component="c")) == [
        "heartbeat.ts must be within the 64-bit nanosecond range 1677-09-21T00:12:43.145224192Z "
        f"to 2262-04-11T23:47:16.854775807Z, received {expected}"
    ]


def test_decode_event_accepts_both_ends_of_the_int64_range() -> None:
    """The first and last storable instants are valid timestamps."""
    for ts, ns in [
        ("1677-09-21T00:12:43.145224192Z", -(2**63)),
        ("2262-04-11T23:47:16.854775807Z", 2**63 - 1),
    ]:
        assert decode_event(_json(type="heartbeat", ts=ts, component="c")).ts == ns


def test_decode_event_given_exchange_ts_out_of_range_names_it() -> None:
    """exchange_ts follows the same range as ts."""
    assert _errors(_mark_with(exchange_ts="2300-01-01T00:00:00Z")) == [
        "mark.exchange_ts must be within the 64-bit nanosecond range "
        "1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z, "
        "received '2300-01-01T00:00:00Z'"
    ]


def test_decode_event_given_lone_surrogates_anywhere_reports_every_field() -> None:
    """Lone surrogates in known fields, unknown fields and field names are all reported."""
    body = _json(
        type="error",
        ts=TS,
        error_type="\ud800",
        component="ok",
        message="x\udfff",
        venue="\udbff",
        meta={"k\ud800": 1},
        **{"ven\ud800ue": 1},
    )
    assert _errors(body) == [
        "error.error_type must not contain a lone surrogate (not encodable as UTF-8), "
        "received '\\ud800'",
        "error.message must not contain a lone surrogate (not encodable as UTF-8), "
        "received 'x\\udfff'",
        "error.venue must not contain a lone surrogate (not encodable as UTF-8), "
        "received '\\udbff'",
        "error.meta field names must not contain a lone surrogate (not encodable as UTF-8), "
        "received 'k\\ud800'",
        "error field names must not contain a lone surrogate (not encodable as UTF-8), "
        "received 'ven\\ud800ue'",
    ]


def test_decode_event_given_nul_or_controls_in_ids_and_labels_names_each_field() -> None:
    """Identifiers, symbols and labels hold no control character; free text holds no NUL."""
    body = _json(
        type="order_rejected",
        ts=TS,
        event_id="e\x00",
        strategy="s\n",
        account="a\x85",
        order_id="o\x7f",
        reason="r\x00",
        note="n\x00",
    )
    assert _errors(body) == [
        "order_rejected.event_id must not contain a NUL character, received 'e\\x00'",
        "order_rejected.strategy must not contain control characters, received 's\\n'",
        "order_rejected.account must not contain control characters, received 'a\\x85'",
        "order_rejected.order_id must not contain control characters, received 'o\\x7f'",
        "order_rejected.reason must not contain a NUL character, received 'r\\x00'",
        "order_rejected.note must not contain a NUL character, received 'n\\x00'",
    ]


def test_decode_event_keeps_line_breaks_and_unicode_in_free_text() -> None:
    """Free text may hold tabs, line breaks and any character a journal can store."""
    body = _json(type="error", ts=TS, error_type="e", component="c", message="a\tb\nc é 😀")
    event = decode_event(body)
    assert isinstance(event, ev.Error)
    assert event.message == "a\tb\nc é 😀"


def test_decode_event_given_unknown_fields_past_the_limits_reports_each_limit() -> None:
    """Unknown fields: count, nesting, total values, string and name length, numbers."""
    nested: object = 1
    for _ in range(ev.MAX_EXTRA_DEPTH + 1):
        nested = {"a": nested}
    fields = {f"f{i}": i for i in range(ev.MAX_EXTRA_FIELDS - 5)}
    body = _json(
        type="heartbeat",
        ts=TS,
        component="c",
        deep=nested,
        note="n" * 4097,
        nan=float("nan"),
        big=2**64,
        **{"k" * 129: 1},
        values=list(range(ev.MAX_EXTRA_VALUES)),
        **fields,
    )
    messages = _errors(body)
    assert messages == [
        "heartbeat.extra must be at most 64 unknown fields, received 65",
        "heartbeat.deep.a.a.a.a.a.a.a.a must be nested at most 8 levels deep, received {'a': 1}",
        "heartbeat.note must be at most 4096 characters, received " + repr("n" * 4097)[:77] + "...",
        "heartbeat.nan must be a finite number, received nan",
        "heartbeat.big must be an integer within 64 bits, received 18446744073709551616",
        "heartbeat field names must be at most 128 characters, received "
        + repr("k" * 129)[:77]
        + "...",
        "heartbeat.extra must hold at most 1000 values in all unknown fields, received more",
    ]


def test_decode_event_accepts_unknown_fields_within_the_limits() -> None:
    """Nested unknown fields within the limits are kept as sent."""
    nested: object = 1
    for _ in range(ev.MAX_EXTRA_DEPTH):
        nested = {"a": nested}
    event = decode_event(_json(type="heartbeat", ts=TS, component="c", deep=nested, n=-(2**63)))
    assert event.extra == {"deep": nested, "n": -(2**63)}
    assert decode_event(encode_event(event)) == event


def test_decode_event_given_max_ts_rejects_later_events_with_all_other_errors() -> None:
    """A ts beyond max_ts is reported with the event's other invalid fields."""
    body = _json(type="mark", ts="2200-01-01T00:00:00Z", symbol="AAPL", price=-1)
    with pytest.raises(InvalidEventError) as info:
        decode_event(body, max_ts=TS_NS)
    assert [str(e) for e in info.value.errors] == [
        "mark.price must be > 0, received -1",
        "mark.ts must be at most 2025-01-02T14:30:00.000000000Z (the receiver's clock plus "
        "the future it allows), received '2200-01-01T00:00:00Z'",
    ]
    # at the limit and in the past: accepted; no limit: accepted
    assert decode_event(_json(type="heartbeat", ts=TS, component="c"), max_ts=TS_NS).ts == TS_NS
    assert (
        decode_event(
            _json(type="heartbeat", ts="1990-01-01T00:00:00Z", component="c"), max_ts=TS_NS
        ).ts
        < TS_NS
    )
    assert decode_event(_json(type="heartbeat", ts="2200-01-01T00:00:00Z", component="c")).ts


def test_decode_batch_given_max_ts_reports_only_the_future_events() -> None:
    """In a batch, only the events past max_ts are invalid, on both fast paths."""
    good = _json(type="heartbeat", ts=TS, component="c")
    late = _json(type="heartbeat", ts="2025-01-02T14:30:00.000000001Z", component="c")
    for body in (b"\n".join([good, late, good]), b"[" + b",".join([good, late, good]) + b"]"):
        result = decode_batch(body, max_ts=TS_NS)
        assert len(result.events) == 2
        assert [e.index for e in result.errors] == [1]


def test_decode_stored_replays_what_earlier_versions_journaled() -> None:
    """A journal written before the storage rules (NUL in an id, a control in a label) replays."""
    old = ev.Heartbeat(ts=TS_NS, event_id="e\x00", component="line\nbreak", extra={"k": "\x00"})
    stored = encode_event(old)
    assert ev.decode_stored(stored) == old
    with pytest.raises(InvalidEventError):
        decode_event(stored)


@pytest.mark.parametrize(
    "body",
    [
        _json(type="heartbeat", ts=TS, component="a\x01"),
        b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"a\x7f"}',
        '{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"a\x85"}'.encode(),
        _json(type="heartbeat", ts=TS, component="c", event_id="\u0000"),
    ],
)
def test_every_decoder_entry_point_rejects_forbidden_characters(body: bytes) -> None:
    """decode_event (bytes and str), NDJSON and array batches agree: the event is invalid."""
    with pytest.raises(InvalidEventError):
        decode_event(body)
    with pytest.raises(InvalidEventError):
        decode_event(body.decode())
    assert len(decode_batch(body + b"\n" + body).errors) == 2
    assert len(decode_batch(b"[" + body + b"]").errors) == 1


# --------------------------------------------------------------------------- fuzz


def _decode_all_ways(data: bytes) -> list[ev.Event]:
    """Decode ``data`` through every entry point; return the events the strict ones accept."""
    accepted: list[ev.Event] = []
    for decode in (decode_event, lambda d: decode_event(d.decode("utf-8", "replace"))):
        with contextlib.suppress(InvalidEventError):
            accepted.append(decode(data))
    for body in (data + b"\n" + data, b"[" + data + b"]"):
        with contextlib.suppress(InvalidEventError):
            accepted.extend(decode_batch(body).events)
    return accepted


@given(st.binary(max_size=200))
def test_decoders_given_arbitrary_bytes_raise_only_invalid_event_error(data: bytes) -> None:
    """No byte string makes a decoder raise anything but InvalidEventError."""
    _decode_all_ways(data)


def test_every_accepted_hostile_event_round_trips_through_sqlite_and_the_engine(
    tmp_path: Path,
) -> None:
    """What the decoders accept, the SQLite journal stores and gives back, and the engine applies.

    Inputs are valid events with fields replaced by hostile values (surrogates, NUL,
    controls, huge or non-finite numbers, out-of-range timestamps, deep nesting), encoded
    escaped and raw.
    """
    from algowatch.journal import SqliteJournal  # noqa: PLC0415
    from algowatch.monitor import Monitor  # noqa: PLC0415

    counts = {"accepted": 0, "rejected": 0}
    with SqliteJournal(tmp_path / "j.sqlite3", durability="event") as journal:
        monitor = Monitor()

        @given(hostile_kit.hostile_object(), st.booleans())
        def check(obj: object, ascii_only: bool) -> None:
            data = hostile_kit.encode_hostile(obj, ascii_only)
            events = _decode_all_ways(data)
            counts["accepted" if events else "rejected"] += 1
            stored = []
            for event in events:
                assert decode_event(encode_event(event)) == event
                if journal.append([event]) == [True]:  # not a known event_id
                    stored.append(event)
                monitor.apply(event)
            if stored:
                assert list(journal.replay())[-len(stored) :] == stored
            if events:
                render_snapshot(monitor.figures())

        check()
    # the generator explores both sides of the boundary
    assert counts["accepted"] > 10
    assert counts["rejected"] > 10


def test_decode_event_given_a_flood_of_bad_unknown_fields_reports_a_bounded_list() -> None:
    """100,000 bad field names give at most about MAX_EXTRA_VALUES errors, not 100,000."""
    body = _json(type="heartbeat", ts=TS, component="c", **{f"k{i}\x00": i for i in range(100_000)})
    messages = _errors(body)
    assert messages[0] == "heartbeat.extra must be at most 64 unknown fields, received 100000"
    assert messages[-1] == (
        "heartbeat.extra must hold at most 1000 values in all unknown fields, received more"
    )
    assert len(messages) <= ev.MAX_EXTRA_VALUES + 3


# The fast path decodes straight into the event classes: what they must still refuse.


@pytest.mark.parametrize("body", ["[{line},{line}]", "{line}\n{line}\n"])
def test_decode_batch_keeps_a_field_named_extra_as_an_unknown_field(body: str) -> None:
    """A body's "extra" key is an unknown field like any other, never the event's extra."""
    line = (
        '{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"feed",'
        '"extra":{"venue":"XNAS"}}'
    )
    result = decode_batch(body.format(line=line))
    assert [e.extra for e in result.events] == [{"extra": {"venue": "XNAS"}}] * 2


@pytest.mark.parametrize("body", ["[{a},{b}]", "{a}\n{b}\n"])
def test_decode_batch_given_numeric_exchange_ts_rejects_only_that_event(body: str) -> None:
    """An integer exchange_ts is refused with the reason; the other event decodes."""
    bad = '{"type":"mark","ts":"2025-01-02T14:30:00Z","symbol":"A","price":1,"exchange_ts":5}'
    good = '{"type":"mark","ts":"2025-01-02T14:30:00Z","symbol":"A","price":1}'
    result = decode_batch(body.format(a=bad, b=good))
    assert [e.symbol for e in result.events] == ["A"]  # type: ignore[union-attr]
    assert [e.errors[0].message for e in result.errors] == [
        "must be an RFC 3339 timestamp string, received 5"
    ]


def test_decode_batch_array_given_control_character_rejects_only_that_event() -> None:
    """A forbidden character sends its event to the validating path, which names it."""
    good = '{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"feed"}'
    bad = '{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"fe\\u0001ed"}'
    result = decode_batch(f"[{good},{bad},{good}]")
    assert [e.ts for e in result.events] == [1_735_828_200_000_000_000] * 2
    assert [(e.index, e.errors[0].field) for e in result.errors] == [(1, "heartbeat.component")]


def test_event_fields_follow_the_event_classes() -> None:
    """Each type's fields are its class's fields (extra aside), in order, with their kind."""
    for event_type in ev.event_types():
        names = [f.name for f in ev.event_fields(event_type)]
        assert names[:4] == ["ts", "event_id", "strategy", "account"]
    fields = {f.name: f for f in ev.event_fields("order_filled")}
    assert (fields["quantity"].kind, fields["quantity"].required) == ("positive", True)
    assert (fields["fee"].kind, fields["fee"].required, fields["fee"].default) == (
        "finite",
        False,
        0.0,
    )
    assert fields["quantity"].schema == {
        "type": "number",
        "exclusiveMinimum": 0.0,
        "maximum": 1e15,
    }


def test_decode_batch_given_two_objects_on_one_ndjson_line_rejects_the_line() -> None:
    """NDJSON is one object per line: a line with two objects is invalid JSON, not two events."""
    heartbeat = '{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"a"}'
    result = decode_batch(f"{heartbeat},{heartbeat}\n{heartbeat}\n")
    assert len(result.events) == 1
    assert [(e.line, e.errors[0].field) for e in result.errors] == [(1, "body")]


_HEARTBEAT = b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"a"}'


@pytest.mark.parametrize(
    "body",
    [
        _HEARTBEAT + b"\n" + _HEARTBEAT + b"\n",
        _HEARTBEAT + b"\n" + _HEARTBEAT,  # no final newline
        b"\n\n" + _HEARTBEAT + b"\n\n\n" + _HEARTBEAT + b"\n\n",  # blank lines
        _HEARTBEAT + b"\n \n" + _HEARTBEAT + b"\n",  # a line of spaces
        _HEARTBEAT + b"," + _HEARTBEAT + b"\n" + _HEARTBEAT + b"\n",  # two objects, one line
        _HEARTBEAT + b"\n\n" + _HEARTBEAT + b"," + _HEARTBEAT + b"\n",  # both at once
        _HEARTBEAT + b"\n{not json\n" + _HEARTBEAT + b"\n",
        b"\n\n",
        b"",
    ],
)
def test_decode_ndjson_block_given_its_newline_count_decodes_as_decode_batch(body: bytes) -> None:
    """A block whose newlines the caller counted decodes to decode_batch's events and errors."""
    expected = decode_batch(body)
    result = decode_ndjson_block(body, body.count(b"\n"))
    assert result.events == expected.events
    assert [(e.index, e.line, str(e)) for e in result.errors] == [
        (e.index, e.line, str(e)) for e in expected.errors
    ]


def test_decode_batch_given_blank_lines_between_records_decodes_every_record() -> None:
    """Blank lines are skipped: the records around them all decode."""
    body = b"\n" + _HEARTBEAT + b"\n\n" + _HEARTBEAT.replace(b'"a"', b'"b"') + b"\n\n"
    result = decode_batch(body)
    assert result.ok
    assert [e.component for e in result.events] == ["a", "b"]  # type: ignore[attr-defined]
