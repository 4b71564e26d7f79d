"""The SDK's shared logic: call-site validation, and what a batch does after each answer."""

from __future__ import annotations

import logging
import math
import random
import re
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algowatch._client_buffer import EventBuffer
from algowatch._client_check import _CHECKED_TYPES, check_event
from algowatch._client_delivery import Delivery, classify, encode_lines, tls_verify
from algowatch._client_report import DropReporter
from algowatch._client_stats import DroppedEvent, FlushResult
from algowatch.client import Client
from algowatch.errors import AlgowatchError, InvalidEventError
from algowatch.events import (
    Event,
    Heartbeat,
    Mark,
    OrderFilled,
    OrderSubmitted,
    decode_batch,
    decode_event,
    encode_event,
    event_types,
)
from algowatch.testing import event_strategy

TS = 1_735_828_200_000_000_000  # 2025-01-02T14:30:00Z
TS_RULE = (
    "must be UNIX nanoseconds (an int such as time.time_ns()) between 1970-04-26 and "
    "2262-04-11, i.e. within [10000000000000000, 9223372036854775807]"
)
ORDER_TYPES = (
    "'market', 'limit', 'stop', 'stop_limit', 'trailing_stop', 'market_on_open', "
    "'market_on_close', 'limit_on_open', 'limit_on_close', 'pegged', 'iceberg'"
)


class Quote:
    """A value JSON cannot hold."""

    def __repr__(self) -> str:
        return "Quote()"


@pytest.fixture
def client() -> Iterator[Client]:
    """A client that never sends during the test (the service is never asked)."""
    client = Client("http://127.0.0.1:9", flush_interval_seconds=3600)
    yield client
    client.close(timeout=0)


CALL_SITE_CASES: list[tuple[str, Callable[[Client], None], str]] = [
    (
        "ns_times_1000",
        lambda c: c.mark("AAPL", 1.0, ts=TS * 1000),
        f"mark.ts {TS_RULE}, received {TS * 1000}",
    ),
    (
        "seconds_float",
        lambda c: c.heartbeat("feed", ts=1_735_828_200.5),  # type: ignore[arg-type]
        f"heartbeat.ts {TS_RULE}, received 1735828200.5",
    ),
    (
        "milliseconds",
        lambda c: c.order_acknowledged("o1", ts=1_735_828_200_000),
        f"order_acknowledged.ts {TS_RULE}, received 1735828200000",
    ),
    (
        "negative",
        lambda c: c.error("Timeout", "broker", ts=-1),
        f"error.ts {TS_RULE}, received -1",
    ),
    (
        "exchange_ts_microseconds",
        lambda c: c.mark("AAPL", 1.0, exchange_ts=1_735_828_200_000_000),
        f"mark.exchange_ts {TS_RULE}, received 1735828200000000",
    ),
    (
        "nan_quantity",
        lambda c: c.order_submitted("o1", "AAPL", "buy", float("nan")),
        "order_submitted.quantity must be a finite number, received nan",
    ),
    (
        "zero_price",
        lambda c: c.order_filled("o1", "f1", 10, 0),
        "order_filled.price must be > 0, received 0",
    ),
    (
        "negative_quantity",
        lambda c: c.order_filled("o1", "f1", -5, 100.0),
        "order_filled.quantity must be > 0, received -5",
    ),
    (
        "infinite_price",
        lambda c: c.mark("AAPL", float("inf")),
        "mark.price must be a finite number, received inf",
    ),
    (
        "boolean_equity",
        lambda c: c.account_snapshot(True),
        "account.equity must be a number, received True",
    ),
    (
        "lone_surrogate",
        lambda c: c.mark("A\ud800", 1.0),
        "mark.symbol must not contain a lone surrogate (not encodable as UTF-8), "
        "received 'A\\ud800'",
    ),
    (
        "nul",
        lambda c: c.heartbeat("feed\x00"),
        "heartbeat.component must not contain a NUL character, received 'feed\\x00'",
    ),
    (
        "nul_in_strategy",
        lambda c: c.order_rejected("o1", "margin", strategy="mo\x00mo"),
        "order_rejected.strategy must not contain a NUL character, received 'mo\\x00mo'",
    ),
    (
        "control_character_in_a_label",
        lambda c: c.mark("AAPL", 1.0, strategy="\x1f"),
        "mark.strategy must not contain control characters, received '\\x1f'",
    ),
    (
        "side",
        lambda c: c.order_submitted("o1", "AAPL", "hold", 1),  # type: ignore[arg-type]
        "order_submitted.side must be one of 'buy', 'sell', received 'hold'",
    ),
    (
        "direction",
        lambda c: c.signal("s1", "AAPL", "up"),  # type: ignore[arg-type]
        "signal.direction must be one of 'long', 'short', 'flat', received 'up'",
    ),
    (
        "order_type",
        lambda c: c.order_submitted("o1", "AAPL", "buy", 1, "limitx"),  # type: ignore[arg-type]
        f"order_submitted.order_type must be one of {ORDER_TYPES}, received 'limitx'",
    ),
    (
        "empty_id",
        lambda c: c.order_canceled(""),
        "order_canceled.order_id must not be empty, received ''",
    ),
    (
        "every_field_at_once",
        lambda c: c.signal_outcome("s1", "sideways", pnl=float("-inf"), bars_held=-1),  # type: ignore[arg-type]
        "signal_outcome.actual_direction must be one of 'long', 'short', 'flat', "
        "received 'sideways'; signal_outcome.pnl must be a finite number, received -inf; "
        "signal_outcome.bars_held must be within [0, 1000000000], received -1",
    ),
    (
        "emit_not_an_event",
        lambda c: c.emit({"type": "mark"}),  # type: ignore[arg-type]
        "event must be an algowatch.events event (Account, Error, Heartbeat, Mark, "
        "OrderAcknowledged, OrderCanceled, OrderFilled, OrderRejected, OrderSubmitted, "
        "Signal, SignalOutcome), received {'type': 'mark'}",
    ),
    (
        "emit_unencodable_extra",
        lambda c: c.emit(Heartbeat(ts=TS, component="feed", extra={"raw": Quote()})),
        "heartbeat.raw must be a JSON value, received Quote()",
    ),
    (
        "field_of_a_non_json_type",
        lambda c: c.mark(Quote(), 1.0),  # type: ignore[arg-type]
        "mark.symbol must be a string, received Quote()",
    ),
    (
        "emit_surrogate_in_extra",
        lambda c: c.emit(Heartbeat(ts=TS, component="feed", extra={"note": "\udfff"})),
        "heartbeat.note must not contain a lone surrogate (not encodable as UTF-8), "
        "received '\\udfff'",
    ),
]


@pytest.mark.parametrize(
    ("call", "message"),
    [pytest.param(call, message, id=name) for name, call, message in CALL_SITE_CASES],
)
def test_helper_given_a_bad_argument_raises_at_the_call_site_and_enqueues_nothing(
    client: Client, call: Callable[[Client], None], message: str
) -> None:
    """The error names the field, the received value and the expectation; nothing is queued."""
    with pytest.raises(InvalidEventError, match=f"^{re.escape(message)}$") as caught:
        call(client)
    assert isinstance(caught.value, AlgowatchError)
    assert isinstance(caught.value, ValueError)
    assert client.stats().enqueued == 0


def test_helper_normalises_what_the_service_would_normalise(client: Client) -> None:
    """Upper-case enums are accepted and lower-cased, exactly as the service decodes them."""
    client.order_submitted("o1", "AAPL", "BUY", 10, "LIMIT", limit_price=1.5, ts=TS)  # type: ignore[arg-type]
    (queued,) = client._buffer.items
    assert queued == OrderSubmitted(
        ts=TS,
        order_id="o1",
        symbol="AAPL",
        side="buy",
        quantity=10.0,
        order_type="limit",
        limit_price=1.5,
    )


def test_check_event_given_the_bounds_of_the_timestamp_range_accepts_both() -> None:
    """10**16 and 2**63 - 1 are the first and last accepted nanosecond timestamps."""
    for ts in (10**16, 2**63 - 1):
        assert check_event(Mark(ts=ts, symbol="A", price=1.0)).ts == ts
    for ts in (10**16 - 1, 2**63):
        with pytest.raises(InvalidEventError, match=f"received {ts}$"):
            check_event(Mark(ts=ts, symbol="A", price=1.0))


# --------------------------------------------------------------------------- Delivery


class Recorder:
    """The pieces a Delivery works with, and what it reported."""

    def __init__(self, **reporter: Any) -> None:
        self.buffer = EventBuffer(100, "drop_oldest", 0.0)
        self.drops: list[DroppedEvent] = []
        self.reporter = DropReporter(
            reporter.pop("on_drop", self.drops.append),
            self.buffer.counts,
            self.buffer.lock,
            **reporter,
        )

    def delivery(self, events: list[Event]) -> Delivery:
        return Delivery(
            events,
            self.buffer,
            self.reporter,
            rng=random.Random(0),
            backoff_initial=0.01,
            backoff_max=0.02,
        )


def marks(count: int) -> list[Event]:
    return [Mark(ts=TS + i, symbol="AAPL", price=100.0 + i) for i in range(count)]


def run(delivery: Delivery, answer: Callable[[bytes], httpx.Response]) -> list[bytes]:
    """Drive ``delivery`` to the end (at most 100 attempts); return the bodies posted."""
    bodies: list[bytes] = []
    for _ in range(100):
        item = delivery.next_part()
        if item is None:
            return bodies
        part, body = item
        bodies.append(body)
        delivery.record(part, classify(answer(body), None))
    pytest.fail("the delivery did not settle within 100 attempts")


def test_422_without_indexes_bisects_down_to_the_bad_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refusal that does not say which event is bad halves the batch until it is alone."""
    recorder = Recorder()
    events = marks(16)
    poison = b'"price":105.0'  # the sixth event

    def answer(body: bytes) -> httpx.Response:
        if poison in body:
            return httpx.Response(422, json={"detail": "bad", "invalid": [{"index": None}]})
        return httpx.Response(202, json={"received": body.count(b"\n"), "duplicates": []})

    bodies = run(recorder.delivery(events), answer)
    delivered = [e for b in bodies[1:] if poison not in b for e in decode_batch(b).events]
    assert [e.ts - TS for e in delivered] == [i for i in range(16) if i != 5]
    assert len(bodies) == 9  # 1 + 2 per halving level (16 -> 8 -> 4 -> 2 -> 1)
    assert [(d.event.ts - TS, d.reason, d.status) for d in recorder.drops] == [(5, "invalid", 422)]
    assert recorder.buffer.stats().rejected == 1
    assert recorder.buffer.stats().sent == 15
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert (
        caplog.records[0]
        .getMessage()
        .startswith("algowatch client dropped 1 event(s) (invalid); first: mark event_id=")
    )


def test_422_naming_indexes_drops_exactly_those_with_the_service_message() -> None:
    """The 422 body's per-event errors become each dropped event's detail."""
    recorder = Recorder()
    events = marks(5)
    answers = iter(
        [
            httpx.Response(
                422,
                json={
                    "detail": "2 of 5 events are invalid; nothing was applied",
                    "invalid": [
                        {
                            "index": 1,
                            "line": 2,
                            "errors": [{"field": "mark.price", "message": "x"}],
                        },
                        {"index": 3, "line": 4, "errors": [{"field": "mark.bid", "message": "y"}]},
                    ],
                },
            ),
            httpx.Response(202, json={"received": 3, "duplicates": []}),
        ]
    )
    bodies = run(recorder.delivery(events), lambda body: next(answers))
    assert [e.ts - TS for e in decode_batch(bodies[1]).events] == [0, 2, 4]
    assert [(d.event.ts - TS, d.detail) for d in recorder.drops] == [
        (1, "mark.price x"),
        (3, "mark.bid y"),
    ]


def test_422_naming_indexes_outside_the_part_bisects_instead_of_looping() -> None:
    """A body naming no event of this part cannot make the client resend it forever."""
    recorder = Recorder()

    def answer(body: bytes) -> httpx.Response:
        if b'"price":101.0' in body:
            return httpx.Response(422, json={"invalid": [{"index": 7, "errors": []}]})
        return httpx.Response(202, json={"received": body.count(b"\n")})

    run(recorder.delivery(marks(3)), answer)
    assert [(d.event.ts - TS, d.reason) for d in recorder.drops] == [(1, "invalid")]
    assert recorder.buffer.stats().sent == 2


@pytest.mark.parametrize("status", [401, 403, 404])
def test_refusal_that_is_not_about_the_events_keeps_them_and_retries(status: int) -> None:
    """401/403/404 keep the batch (retried with backoff, counted as refused), never drop it."""
    recorder = Recorder()
    delivery = recorder.delivery(marks(3))
    for _ in range(3):
        item = delivery.next_part()
        assert item is not None
        wait = delivery.record(item[0], classify(httpx.Response(status, text="no"), None))
        assert wait is not None
        assert 0.005 <= wait <= 0.02
    result = recorder.buffer.stats()
    assert (result.retries, result.refused, result.rejected) == (3, 3, 0)
    assert recorder.drops == []
    assert recorder.reporter.last_error == f"HTTP {status}: no"
    delivery.abandon()
    assert [d.reason for d in recorder.drops] == ["undelivered"] * 3
    assert recorder.drops[0].detail == (
        f"the client closed before delivery (last error: HTTP {status}: no)"
    )
    assert recorder.buffer.stats().failed == 3


def test_event_that_cannot_be_encoded_is_dropped_alone_before_the_first_attempt() -> None:
    """An event that slipped past the call-site check cannot stop the rest of its batch."""
    recorder = Recorder()
    bad = Mark(ts=TS * 1000, symbol="AAPL", price=1.0)  # ULID creation raises
    surrogate = Mark(ts=TS, symbol="\ud800", price=1.0)  # JSON encoding raises
    delivery = recorder.delivery([*marks(2), bad, surrogate])
    item = delivery.next_part()
    assert item is not None
    assert [e.ts - TS for e in decode_batch(item[1]).events] == [0, 1]
    assert [(d.event, d.reason) for d in recorder.drops] == [
        (bad, "invalid"),
        (surrogate, "invalid"),
    ]
    assert recorder.drops[0].detail == (
        "cannot be encoded: ValueError(\"a ULID's time must be within [0, 2**48) ms, "
        f'received {TS * 1000} ns")'
    )
    assert recorder.buffer.stats().rejected == 2


def test_on_drop_callback_that_raises_is_logged_once_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """User code failing in the callback costs a log record and a counter, nothing else."""
    seen: list[DroppedEvent] = []

    def on_drop(drop: DroppedEvent) -> None:
        seen.append(drop)
        msg = "callback bug"
        raise KeyError(msg)

    recorder = Recorder(on_drop=on_drop)
    recorder.delivery(marks(3)).abandon()
    assert len(seen) == 3
    assert recorder.buffer.stats().sender_errors == 3
    raised = [r for r in caplog.records if "on_drop callback raised" in r.getMessage()]
    assert [r.getMessage() for r in raised] == [
        "algowatch client: the on_drop callback raised KeyError('callback bug'); it keeps running"
    ]


def test_repeated_problem_is_logged_once_per_interval_then_says_how_many_were_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Within the interval, repeats are counted, and the next record tells how many."""
    recorder = Recorder(interval_seconds=3600)
    for _ in range(3):
        recorder.delivery(marks(1)).abandon()
    assert len(caplog.records) == 1
    recorder = Recorder(interval_seconds=0)
    recorder.reporter._logged["drop:undelivered"] = (0.0, 4)
    recorder.delivery(marks(1)).abandon()
    assert caplog.records[-1].getMessage().endswith("(4 more like this in the last 0 s)")


def test_flush_result_is_truthy_when_settled_and_counts_since_the_previous_flush() -> None:
    """FlushResult stays usable as the bool flush() used to return, and carries counts."""
    recorder = Recorder()
    recorder.delivery(marks(2)).abandon()
    first = recorder.buffer.flush_result(True)
    assert first == FlushResult(True, failed=2)
    assert first
    assert not recorder.buffer.flush_result(False)
    assert recorder.buffer.flush_result(True) == FlushResult(True)


NUMBERS = st.one_of(st.floats(), st.integers(-(10**16), 10**16), st.booleans())
TEXTS = st.text(st.characters(codec=None, categories=None), max_size=70)


@settings(max_examples=300)
@given(
    mark=st.builds(
        Mark,
        ts=st.just(TS),
        symbol=TEXTS,
        price=NUMBERS,
        bid=st.none() | NUMBERS,
        exchange_ts=st.none() | st.integers(10**16, 2**63 - 1),
        strategy=TEXTS,
    )
)
def test_check_event_accepts_a_mark_exactly_when_the_contract_decoder_does(mark: Mark) -> None:
    """The fast path never lets through what the service's decoder would refuse, or vice versa.

    The reference is the contract's decoder over the encoded event, plus the two SDK rules
    (NUL, lone surrogates). NaN and infinities are excluded from the comparison for optional
    fields: JSON would turn them into null, which the decoder reads as absent.
    """
    texts = [mark.symbol, mark.strategy]
    encodable = all(
        "\x00" not in t and not any(0xD800 <= ord(c) <= 0xDFFF for c in t) for t in texts
    )
    silent_null = isinstance(mark.bid, float) and not math.isfinite(mark.bid)
    try:
        expected = decode_event(encode_event(mark)) if encodable else None
    except InvalidEventError:
        expected = None
    try:
        checked = check_event(mark)
    except InvalidEventError:
        checked = None
    if silent_null:
        assert checked is None
    else:
        assert (checked is None) == (expected is None)
    if checked is not None:
        assert decode_event(encode_event(checked)) == expected


def test_fast_check_covers_every_event_type_of_the_contract() -> None:
    """The C-level check is built for every type (else every helper takes the slow path)."""
    assert set(_CHECKED_TYPES) == set(event_types())


@settings(max_examples=300)
@given(st.lists(event_strategy(), max_size=8))
def test_a_batch_is_encoded_at_once_into_the_lines_encode_event_gives(events: list[Event]) -> None:
    """One encoder call for the batch; each line is the event's own wire form, byte for byte."""
    assert encode_lines(events) == [encode_event(event) for event in events]


def test_encoded_lines_omit_a_zero_fee_and_keep_extra_fields() -> None:
    fill = OrderFilled(ts=TS, order_id="o1", fill_id="f1", quantity=1, price=2.0, fee=float("0"))
    beat = Heartbeat(ts=TS, component="feed", extra={"shard": 3})
    assert encode_lines([fill, beat]) == [
        b'{"type":"order_filled","ts":"2025-01-02T14:30:00.000000000Z","order_id":"o1",'
        b'"fill_id":"f1","quantity":1,"price":2.0}',
        b'{"type":"heartbeat","ts":"2025-01-02T14:30:00.000000000Z","component":"feed","shard":3}',
    ]


def test_a_plain_http_client_loads_no_certificates_and_could_not_speak_tls() -> None:
    """httpx would load the CA bundle (tens of ms) for a service that speaks no TLS."""
    context = tls_verify("http://127.0.0.1:9")
    assert isinstance(context, ssl.SSLContext)
    assert context.cert_store_stats()["x509_ca"] == 0  # trusts no certificate
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert tls_verify("https://monitor.example.org") is True  # httpx's verified default
