"""Hostile input shared by the boundary tests: Hypothesis strategies and an HTTP corpus.

Loaded by path (``load_hostile_kit``) from the unit and integration tests, which run the
same inputs against the SQLite and the PostgreSQL journal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from algowatch.events import event_to_dict
from algowatch.testing import event_strategy

TS = "2025-01-02T14:30:00Z"
JSON = "application/json"
NDJSON = "application/x-ndjson"

# --------------------------------------------------------------------------- strategies

# characters a client may send: any code point, lone surrogates and controls included
_CHARS = st.one_of(
    st.characters(),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.sampled_from("\x00\x01\x09\x0a\x1f\x7f\x85\x9f\u2028\ufeff"),
)
hostile_text = st.one_of(
    st.text(_CHARS, max_size=8),
    st.sampled_from(["", "x" * 300, "y" * 5000, "\ud800", "a\x00b", "\udfff\ud800"]),
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and infinities included
    hostile_text,
)
hostile_value = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)
hostile_ts = st.one_of(
    st.sampled_from(
        [
            "2300-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "1677-09-21T00:12:43.145224191Z",
            "1677-09-21T00:12:43.145224192Z",
            "2262-04-11T23:47:16.854775807Z",
            "2262-04-11T23:47:16.854775808Z",
            "2200-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            TS,
        ]
    ),
    st.integers(min_value=1, max_value=9999).map(lambda y: f"{y:04d}-06-15T12:00:00Z"),
    hostile_value,
)
_FIELDS = [
    "type",
    "ts",
    "event_id",
    "strategy",
    "account",
    "order_id",
    "symbol",
    "side",
    "quantity",
    "price",
    "fee",
    "message",
    "component",
    "reason",
    "exchange_ts",
    "bars_held",
    "confidence",
    "extra",
    "venue",
]


@st.composite
def hostile_object(draw: Callable[..., Any]) -> Any:
    """Return a JSON-like value: mostly a valid event with some fields made hostile.

    Some events are left untouched (no field replaced), so that a run always explores
    both sides of the boundary, whatever values the other draws favour.
    """
    if draw(st.integers(0, 9)) == 0:
        return draw(hostile_value)
    obj = event_to_dict(draw(event_strategy()))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(_FIELDS) | hostile_text)
        obj[key] = draw(hostile_ts if key in {"ts", "exchange_ts"} else hostile_value)
    return obj


def encode_hostile(obj: Any, ascii_only: bool) -> bytes:
    """Encode ``obj`` as a client might: escaped JSON, or raw text (surrogates then break UTF-8)."""
    text = json.dumps(obj, ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogatepass")


# --------------------------------------------------------------------------- HTTP corpus


def _event(**fields: Any) -> dict[str, Any]:
    return {"type": "heartbeat", "ts": TS, "component": "feed", **fields}


def _mark(**fields: Any) -> dict[str, Any]:
    return {"type": "mark", "ts": TS, "symbol": "AAPL", "price": 101.0, **fields}


def _fill(**fields: Any) -> dict[str, Any]:
    base = {"type": "order_filled", "ts": TS, "order_id": "o1", "fill_id": "f1"}
    return {**base, "quantity": 1, "price": 1.0, **fields}


def _array(*objs: Any) -> bytes:
    return json.dumps(list(objs)).encode()


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def http_corpus(future_ts: str, max_body_bytes: int) -> list[tuple[str, str | None, bytes]]:
    """Return ``(name, content type, body)`` of hostile requests, none of which may be stored.

    ``future_ts`` must be beyond the service's allowed future; ``max_body_bytes`` is the
    service's body limit.
    """
    corpus: list[tuple[str, str | None, bytes]] = []

    def add(name: str, body: bytes, content_type: str | None = JSON) -> None:
        corpus.append((name, content_type, body))

    # malformed JSON and empty or non-event bodies
    for i, body in enumerate(
        [
            b"{",
            b"[",
            b"[{]",
            b"nul",
            b'{"type":',
            b"[1,]",
            b"{'type': 'mark'}",
            b"\xff\xfe[]",
            b'\xef\xbb\xbf[{"type":"heartbeat"}]',
            b'[{"type":"mark","ts":"' + TS.encode() + b'","symbol":"A","price":1}',
            b"null",
            b"true",
            b"42",
            b'"a string"',
            b"[null]",
            b"[[]]",
            b"[1, 2, 3]",
            b"[" * 100_000 + b"]" * 100_000,
            b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
            b'[{"type":"mark","symbol":"\xc3\x28","price":1}]',
            b'[{"type":"mark","symbol":"\xed\xa0\x80","price":1}]',
            b"[" + b",".join([b"1"] * 20_000) + b"]",
        ]
    ):
        add(f"malformed-{i}", body)
    add("ndjson-garbage", b"not json\n{}\n", NDJSON)
    add("ndjson-one-bad-line", json.dumps(_event()).encode() + b"\n{bad\n", NDJSON)
    # wrong content types
    good = _array(_event())
    for i, content_type in enumerate(
        [None, "text/plain", "application/xml", "multipart/form-data", "application/jsonx", ""]
    ):
        add(f"content-type-{i}", good, content_type)
    add("too-large", b"[" + b" " * (max_body_bytes + 10) + b"]")
    # wrong types and values of known fields
    for name, obj in {
        "type-missing": {"ts": TS, "component": "c"},
        "type-unknown": _event(type="bogus"),
        "type-empty": _event(type=""),
        "type-number": _event(type=5),
        "type-null": _event(type=None),
        "type-surrogate": _event(type="\ud800"),
        "ts-number": _event(ts=1735828200),
        "ts-garbage": _event(ts="yesterday"),
        "ts-2300": _event(ts="2300-01-01T00:00:00Z"),
        "ts-0001": _event(ts="0001-01-01T00:00:00Z"),
        "ts-9999": _event(ts="9999-12-31T23:59:59Z"),
        "ts-just-past-int64": _event(ts="2262-04-11T23:47:16.854775808Z"),
        "ts-just-before-int64": _event(ts="1677-09-21T00:12:43.145224191Z"),
        "ts-future": _event(ts=future_ts),
        "ts-2200": _event(ts="2200-01-01T00:00:00Z"),
        "exchange-ts-2300": _mark(exchange_ts="2300-01-01T00:00:00Z"),
        "quantity-string": _fill(quantity="ten"),
        "quantity-bool": _fill(quantity=True),
        "quantity-list": _fill(quantity=[1]),
        "quantity-negative": _fill(quantity=-5),
        "quantity-zero": _fill(quantity=0),
        "quantity-huge": _fill(quantity=1e16),
        "quantity-int-huge": _fill(quantity=10**400),
        "price-negative": _mark(price=-1.0),
        "price-missing": {"type": "mark", "ts": TS, "symbol": "A"},
        "side-long": {**_fill(), "type": "order_submitted", "side": "long", "order_type": "x"},
        "confidence-2": {
            "type": "signal",
            "ts": TS,
            "signal_id": "s",
            "symbol": "A",
            "direction": "long",
            "confidence": 2,
        },
        "bars-negative": {
            "type": "signal_outcome",
            "ts": TS,
            "signal_id": "s",
            "actual_direction": "flat",
            "bars_held": -1,
        },
        "component-number": _event(component=5),
        "component-empty": _event(component=""),
        "component-long": _event(component="c" * 129),
        "order-id-long": _fill(order_id="o" * 257),
        "symbol-long": _mark(symbol="S" * 65),
        "message-long": {
            "type": "error",
            "ts": TS,
            "error_type": "e",
            "component": "c",
            "message": "m" * 4097,
        },
        "event-id-empty": _event(event_id=""),
        # surrogates, NUL and control characters
        "surrogate-component": _event(component="\ud800"),
        "surrogate-low-component": _event(component="x\udfff"),
        "surrogate-event-id": _event(event_id="e\ud800"),
        "surrogate-strategy": _event(strategy="\udbff"),
        "surrogate-message": {
            "type": "error",
            "ts": TS,
            "error_type": "e",
            "component": "c",
            "message": "bad \ud800 text",
        },
        "surrogate-extra-value": _event(venue="\ud800"),
        "surrogate-extra-key": _event(**{"ven\ud800ue": 1}),
        "surrogate-nested-key": _event(meta={"k\ud800": 1}),
        "surrogate-nested-value": _event(meta={"k": ["\udc00"]}),
        "nul-event-id": _event(event_id="e\x00"),
        "nul-order-id": _fill(order_id="o\x00"),
        "nul-symbol": _mark(symbol="AA\x00PL"),
        "nul-account": _event(account="acc\x00"),
        "nul-message": {
            "type": "error",
            "ts": TS,
            "error_type": "e",
            "component": "c",
            "message": "m\x00",
        },
        "nul-reason": {"type": "order_rejected", "ts": TS, "order_id": "o", "reason": "\x00"},
        "nul-extra-value": _event(note="a\x00b"),
        "nul-extra-key": _event(**{"no\x00te": 1}),
        "control-symbol": _mark(symbol="AAPL\n"),
        "control-strategy": _event(strategy="s\x1b[31m"),
        "control-component": _event(component="c\r"),
        "control-del-id": _event(event_id="e\x7f"),
        "control-c1-id": _event(event_id="e\x85"),
        # unknown fields past the limits
        "extra-too-many": _event(**{f"f{i}": i for i in range(65)}),
        "extra-too-deep": _event(meta=_nested(9)),
        "extra-huge-array": _event(values=list(range(2000))),
        "extra-long-string": _event(note="n" * 4097),
        "extra-long-key": _event(**{"k" * 129: 1}),
        "extra-nan": _event(score=float("nan")),
        "extra-inf": _event(score=float("inf")),
        "extra-int-huge": _event(big=2**64),
    }.items():
        add(name, _array(obj))
        if len(corpus) % 3 == 0:  # some also as NDJSON, one line per event
            add(f"{name}-ndjson", json.dumps(obj).encode() + b"\n", NDJSON)
    # raw (unescaped) characters a JSON encoder may emit
    add(
        "raw-nul-in-string",
        b'[{"type":"heartbeat","ts":"' + TS.encode() + b'","component":"a\x00"}]',
    )
    add(
        "raw-c1-in-label",
        '[{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"a\x85"}]'.encode(),
    )
    add(
        "raw-del-in-label",
        b'[{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"a\x7f"}]',
    )
    add("nan-literal", b'[{"type":"mark","ts":"2025-01-02T14:30:00Z","symbol":"A","price":NaN}]')
    add("infinity-literal", b'[{"type":"account","ts":"2025-01-02T14:30:00Z","equity":Infinity}]')
    add("huge-literal", b'[{"type":"account","ts":"2025-01-02T14:30:00Z","equity":1e999}]')
    add("duplicate-key", b'[{"type":"mark","type":"bogus","ts":"2025-01-02T14:30:00Z"}]')
    # one poison event spoils only its own batch: a good event beside it is not applied
    add("good-then-poison", _array(_event(), _event(component="\ud800")))
    add("good-then-future", _array(_event(), _event(ts=future_ts)))
    add(
        "poison-ndjson-line",
        json.dumps(_event()).encode()
        + b"\n"
        + json.dumps(_event(event_id="\x00")).encode()
        + b"\n",
        NDJSON,
    )
    return corpus


# --------------------------------------------------------------------------- checks


def problem_fields(status: int, body: Any) -> list[str]:
    """Return the fields a 4xx body names (``invalid[*].errors[*].field`` or from ``detail``)."""
    if isinstance(body, dict) and isinstance(body.get("invalid"), list):
        return [
            error["field"]
            for item in body["invalid"]
            for error in item["errors"]
            if isinstance(error.get("field"), str) and error["field"]
        ]
    detail = body.get("detail", "") if isinstance(body, dict) else ""
    return [word for word in ("content-type", "body") if word in detail and status in {413, 415}]


# --------------------------------------------------------------------------- runners


def _snapshot(http: Any) -> dict[str, Any]:
    snapshot: dict[str, Any] = http.get("/api/v1/snapshot").json()
    snapshot.pop("as_of", None)
    return snapshot


def run_corpus(base_url: str, max_body_bytes: int) -> tuple[int, list[str]]:
    """Send the corpus to a running service; return how many were sent and every failure.

    A failure is: a 5xx; a 2xx that stored something; a 4xx whose body names no field;
    a snapshot that changed after a rejection.
    """
    import httpx  # noqa: PLC0415 - test dependency

    from algowatch.clock import SystemClock  # noqa: PLC0415
    from algowatch.events import format_timestamp  # noqa: PLC0415

    future = format_timestamp(SystemClock().time_ns() + 3600 * 10**9)
    corpus = http_corpus(future, max_body_bytes)
    failures: list[str] = []
    with httpx.Client(base_url=base_url, timeout=60) as http:
        before = _snapshot(http)
        for name, content_type, body in corpus:
            headers = {} if content_type is None else {"content-type": content_type}
            response = http.post("/api/v1/events", content=body, headers=headers)
            status = response.status_code
            after = _snapshot(http)
            if status >= 500:
                failures.append(f"{name}: HTTP {status} {response.text[:200]}")
            elif status == 202:
                if response.json()["accepted"] != 0:
                    failures.append(f"{name}: accepted {response.text[:200]}")
            elif not problem_fields(status, response.json()):
                failures.append(f"{name}: HTTP {status} names no field: {response.text[:200]}")
            if after != before:
                failures.append(f"{name}: HTTP {status} changed the state")
                before = after
    return len(corpus), failures


def poison_batches(future_ts: str) -> list[bytes]:
    """Return batches that each hold a good event and one poison (all must get 422)."""
    good = _event()
    return [
        _array(good, _event(ts="2300-01-01T00:00:00Z")),
        _array(good, _event(ts="0001-01-01T00:00:00Z")),
        _array(good, _event(ts="9999-12-31T23:59:59Z")),
        _array(good, _event(component="\ud800")),
        _array(good, _event(venue={"k": "\udc00"})),
        _array(good, _event(**{"k\ud800": 1})),
        _array(good, _event(event_id="e\x00")),
        _array(good, _event(note="n\x00")),
        _array(good, _event(ts=future_ts)),
    ]


def run_blast(
    base_url: str, *, seconds: float = 10.0, innocents: int = 3, max_batches: int = 5_000
) -> dict[str, Any]:
    """Post valid batches from ``innocents`` clients while one client posts poison.

    Each client is a thread with its own HTTP client; every loop is bounded by time and
    by count. Return the status counts per role and the events the innocents got accepted.
    """
    import threading  # noqa: PLC0415
    import time  # noqa: PLC0415

    import httpx  # noqa: PLC0415 - test dependency

    from algowatch.clock import SystemClock  # noqa: PLC0415
    from algowatch.events import format_timestamp  # noqa: PLC0415

    clock = SystemClock()
    future = format_timestamp(clock.time_ns() + 3600 * 10**9)
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    results: dict[str, Any] = {"innocent": {}, "poison": {}, "accepted": 0, "errors": []}

    def record(role: str, status: int) -> None:
        with lock:
            results[role][status] = results[role].get(status, 0) + 1

    def innocent(number: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            for batch_no in range(max_batches):
                if time.monotonic() > deadline:
                    return
                ts = format_timestamp(clock.time_ns())
                batch = [
                    _mark(
                        ts=ts,
                        symbol=f"S{number}",
                        price=100.0 + i,
                        event_id=f"c{number}-b{batch_no}-e{i}",
                    )
                    for i in range(20)
                ]
                response = http.post(
                    "/api/v1/events", content=_array(*batch), headers={"content-type": JSON}
                )
                record("innocent", response.status_code)
                if response.status_code == 202:
                    with lock:
                        results["accepted"] += response.json()["accepted"]
                else:
                    with lock:
                        results["errors"].append(response.text[:300])

    def poisoner() -> None:
        batches = poison_batches(future)
        with httpx.Client(base_url=base_url, timeout=30) as http:
            for batch_no in range(max_batches):
                if time.monotonic() > deadline:
                    return
                body = batches[batch_no % len(batches)]
                response = http.post("/api/v1/events", content=body, headers={"content-type": JSON})
                record("poison", response.status_code)

    threads = [threading.Thread(target=innocent, args=(n,)) for n in range(innocents)]
    threads.append(threading.Thread(target=poisoner))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return results
