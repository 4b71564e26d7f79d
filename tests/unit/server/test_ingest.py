"""POST /api/v1/events: all-or-nothing batches, 4xx naming the field, durability."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from algowatch.events import encode_events
from algowatch.server import create_app
from algowatch.settings import Settings
from algowatch.testing import EventFactory, FakeClock

from .conftest import LOOPBACK, make_settings, state

URL = "/api/v1/events"
JSON = {"content-type": "application/json"}
NDJSON = {"content-type": "application/x-ndjson"}
TYPES = (
    "'order_submitted', 'order_acknowledged', 'order_filled', 'order_rejected', "
    "'order_canceled', 'signal', 'signal_outcome', 'mark', 'account', 'error', 'heartbeat'"
)
MARK = '{"type":"mark","ts":"2025-01-02T14:30:00Z","symbol":"AAPL","price":%s}'


def one_invalid(index: int, line: int | None, *errors: tuple[str, str], of: int = 1) -> dict:
    return {
        "detail": f"1 of {of} events are invalid; nothing was applied",
        "invalid": [
            {
                "index": index,
                "line": line,
                "errors": [{"field": f, "message": m} for f, m in errors],
            }
        ],
    }


def body_invalid(message: str) -> dict:
    return {
        "detail": "the body is not a JSON array or NDJSON of events; nothing was applied",
        "invalid": [
            {"index": None, "line": None, "errors": [{"field": "body", "message": message}]}
        ],
    }


CORPUS = [
    pytest.param(
        b'[{"type": "mark",',
        body_invalid(
            "is not valid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 18 (char 17)"
        ),
        id="invalid-json",
    ),
    pytest.param(
        b'{"type": "mark",\n' + (MARK % "1").encode(),
        one_invalid(
            0,
            1,
            (
                "body",
                "is not valid JSON: Expecting property name enclosed in double quotes: "
                "line 1 column 17 (char 16)",
            ),
            of=2,
        ),
        id="invalid-ndjson-line",
    ),
    pytest.param(
        b'[{"type":"order_filled","ts":"2025-01-02T14:30:00Z","order_id":7,'
        b'"fill_id":"f","quantity":"ten","price":true}]',
        one_invalid(
            0,
            None,
            ("order_filled.order_id", "must be a string, received 7"),
            ("order_filled.quantity", "must be a number, received 'ten'"),
            ("order_filled.price", "must be a number, received True"),
        ),
        id="wrong-types",
    ),
    pytest.param(
        b'[{"type":"order_submitted","ts":"2025-01-02T14:30:00Z"}]',
        one_invalid(
            0,
            None,
            ("order_submitted.order_id", "is required"),
            ("order_submitted.symbol", "is required"),
            ("order_submitted.side", "is required"),
            ("order_submitted.quantity", "is required"),
            ("order_submitted.order_type", "is required"),
        ),
        id="missing-fields",
    ),
    pytest.param(
        b'[{"type":"teleport","ts":"2025-01-02T14:30:00Z"}]',
        one_invalid(0, None, ("type", f"must be one of {TYPES}; received 'teleport'")),
        id="unknown-type",
    ),
    pytest.param(
        b'[{"type":"order_submitted","ts":"2025-01-02T14:30:00Z","order_id":"o",'
        b'"symbol":"A","side":"buy","quantity":0,"order_type":"market"}]',
        one_invalid(0, None, ("order_submitted.quantity", "must be > 0, received 0")),
        id="zero-quantity",
    ),
    pytest.param(
        b'[{"type":"order_filled","ts":"2025-01-02T14:30:00Z","order_id":"o",'
        b'"fill_id":"f","quantity":-5,"price":10}]',
        one_invalid(0, None, ("order_filled.quantity", "must be > 0, received -5")),
        id="negative-quantity",
    ),
    pytest.param(
        ("[" + MARK % "1e999" + "]").encode(),
        one_invalid(0, None, ("mark.price", "must be a finite number, received inf")),
        id="infinite-price",
    ),
    pytest.param(
        ("[" + MARK % "NaN" + "]").encode(),
        one_invalid(0, None, ("mark.price", "must be a finite number, received nan")),
        id="nan-price",
    ),
    pytest.param(
        ("[" + MARK % "1e300" + "]").encode(),
        one_invalid(0, None, ("mark.price", "must be <= 1e+15, received 1e+300")),
        id="huge-price",
    ),
    pytest.param(
        ("[" + MARK % ("9" * 40) + "]").encode(),
        one_invalid(0, None, ("mark.price", f"must be <= 1e+15, received {'9' * 40}")),
        id="huge-integer",
    ),
    pytest.param(
        ("[" + MARK % ("9" * 400) + "]").encode(),
        one_invalid(0, None, ("mark.price", f"must be a finite number, received {'9' * 77}...")),
        id="integer-beyond-float-range",
    ),
    pytest.param(
        b"[" * 100_000 + b"]" * 100_000,
        body_invalid("is nested too deeply"),
        id="deep-nesting",
    ),
    pytest.param(
        ("[" + (MARK % "1")[:-1] + ',"x":' + "[" * 5000 + "]" * 5000 + "}]").encode(),
        body_invalid("is nested too deeply"),
        id="deep-nesting-in-extra-field",
    ),
    pytest.param(
        b'[{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"\xff\xfe"}]',
        body_invalid("is not valid UTF-8: invalid start byte at byte 62"),
        id="invalid-utf8",
    ),
    pytest.param(
        b'[{"type":"heartbeat","ts":"yesterday","component":"c"}]',
        one_invalid(
            0,
            None,
            (
                "heartbeat.ts",
                "must be an RFC 3339 timestamp such as '2025-01-02T14:30:00.123456789Z', "
                "received 'yesterday'",
            ),
        ),
        id="bad-timestamp",
    ),
    pytest.param(
        b"5",
        one_invalid(0, 1, ("event", "must be a JSON object, received 5")),
        id="scalar-body",
    ),
]


def test_empty_body_accepts_nothing(api: TestClient) -> None:
    """An empty batch is valid and changes nothing."""
    before = state(api)
    response = api.post(URL, content=b"", headers=NDJSON)
    assert (response.status_code, response.json()) == (
        202,
        {"received": 0, "accepted": 0, "duplicates": []},
    )
    assert state(api) == before


@pytest.mark.parametrize(("body", "expected"), CORPUS)
def test_malformed_body_is_rejected_naming_the_field(
    api: TestClient, body: bytes, expected: dict
) -> None:
    """Each malformed input gets 422 naming every invalid field; nothing changes; still up."""
    api.post(URL, json=[{"type": "mark", "symbol": "MSFT", "price": 100}])
    before = state(api)
    response = api.post(URL, content=body, headers=JSON)
    assert response.status_code == 422
    assert response.json() == expected
    assert state(api) == before
    assert api.get("/live").status_code == 200


def test_one_invalid_event_rejects_the_whole_batch(api: TestClient) -> None:
    """A batch is all or nothing: the valid events of a rejected batch are not applied."""
    before = state(api)
    good = '{"type":"mark","ts":"2025-01-02T14:30:00Z","symbol":"AAPL","price":10,"event_id":"m1"}'
    bad = '{"type":"mark","ts":"2025-01-02T14:30:00Z","symbol":"AAPL","price":-1}'
    response = api.post(URL, content=f"[{good},{bad},{bad}]", headers=JSON)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "2 of 3 events are invalid; nothing was applied",
        "invalid": [
            {
                "index": i,
                "line": None,
                "errors": [{"field": "mark.price", "message": "must be > 0, received -1"}],
            }
            for i in (1, 2)
        ],
    }
    assert state(api) == before
    # m1 was not journaled either: sent alone it is new, not a duplicate
    response = api.post(URL, content=good, headers=NDJSON)
    assert response.json() == {"received": 1, "accepted": 1, "duplicates": []}


def test_duplicate_event_ids_are_listed_and_applied_once(
    api: TestClient, factory: EventFactory
) -> None:
    """Known event_ids are ignored and reported, within a batch and across batches."""
    events = [factory.mark("AAPL", 100.0), factory.mark("AAPL", 101.0)]
    body = encode_events([*events, events[0]])
    first = api.post(URL, content=body, headers=NDJSON)
    assert (first.status_code, first.json()) == (
        202,
        {"received": 3, "accepted": 2, "duplicates": ["evt-1"]},
    )
    applied = state(api)["events_applied"]
    again = api.post(URL, content=body, headers=NDJSON)
    assert again.json() == {
        "received": 3,
        "accepted": 0,
        "duplicates": ["evt-1", "evt-2", "evt-1"],
    }
    assert state(api)["events_applied"] == applied == 2


def test_event_without_ts_gets_the_receive_time(api: TestClient, clock: FakeClock) -> None:
    """A missing ts is filled with the service clock at receipt."""
    clock.set("2025-03-04T10:00:00Z")
    api.post(URL, json=[{"type": "heartbeat", "component": "feed"}])
    heartbeats = api.app.state.service.monitor.last_seen().heartbeats  # type: ignore[attr-defined]
    assert heartbeats == {"feed": clock.time_ns()}


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "", "application/jsonx"])
def test_other_content_types_get_415(api: TestClient, content_type: str) -> None:
    """Only application/json and application/x-ndjson are accepted."""
    response = api.post(URL, content=MARK % "1", headers={"content-type": content_type})
    assert response.status_code == 415
    assert response.json() == {
        "detail": "content-type must be one of application/json, application/x-ndjson, "
        f"received {content_type!r}"
    }


def test_content_type_parameters_are_allowed(api: TestClient) -> None:
    """A charset parameter does not matter."""
    response = api.post(
        URL, content=MARK % "1", headers={"content-type": "application/x-ndjson; charset=utf-8"}
    )
    assert response.status_code == 202


def test_ten_megabyte_body_gets_413_and_nothing_changes(api: TestClient) -> None:
    """A body over server.max_body_bytes (5 MiB default) is refused before decoding."""
    before = state(api)
    line = (MARK % "1").encode() + b"\n"
    body = line * (10 * 1024 * 1024 // len(line) + 1)
    response = api.post(URL, content=body, headers=NDJSON)
    assert response.status_code == 413
    assert response.json() == {"detail": "the body is larger than the limit of 5242880 bytes"}
    assert state(api) == before
    assert api.get("/live").status_code == 200


def test_streamed_body_over_the_limit_gets_413(tmp_path: Path, clock: FakeClock) -> None:
    """Without Content-Length (chunked), the limit is enforced while reading."""
    settings = make_settings(tmp_path, max_body_bytes=1000)

    def chunks():
        for _ in range(100):
            yield (MARK % "1").encode() + b"\n"

    with TestClient(create_app(settings, clock=clock), base_url=LOOPBACK) as api:
        response = api.post(URL, content=chunks(), headers=NDJSON)
        assert response.status_code == 413
        assert response.json() == {"detail": "the body is larger than the limit of 1000 bytes"}
        assert api.get("/api/v1/snapshot").json()["events_applied"] == 0


def test_accepted_events_survive_a_restart(settings: Settings, factory: EventFactory) -> None:
    """202 means journaled: a new app on the same data folder replays them."""
    events = [factory.submitted("o1", "AAPL", "buy", 10), factory.filled("o1", 10, 100.0)]
    with TestClient(create_app(settings), base_url=LOOPBACK) as api:
        assert api.post(URL, content=encode_events(events), headers=NDJSON).status_code == 202
        positions = api.get("/api/v1/positions").json()
    with TestClient(create_app(settings), base_url=LOOPBACK) as api:
        assert api.get("/api/v1/positions").json() == positions
        assert api.get("/api/v1/snapshot").json()["events_applied"] == 2
        again = api.post(URL, content=encode_events(events), headers=NDJSON)
        assert again.json()["duplicates"] == ["evt-1", "evt-2"]
    assert len(positions["positions"]) == 1


def test_journal_failure_answers_503_and_changes_nothing(
    api: TestClient, factory: EventFactory
) -> None:
    """When the journal cannot store a batch, the answer is 503 with Retry-After."""
    before = state(api)
    api.app.state.service.journal.close()  # type: ignore[attr-defined]
    response = api.post(URL, content=encode_events([factory.mark("AAPL", 1.0)]), headers=NDJSON)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["detail"].startswith("the journal is unavailable (")
    assert state(api) == before
    assert api.get("/live").status_code == 200


# --------------------------------------------------------------------------- time window


def _heartbeat_at(ts: str) -> bytes:
    return f'[{{"type":"heartbeat","ts":"{ts}","component":"engine"}}]'.encode()


def test_event_beyond_the_allowed_future_gets_422_naming_ts(api: TestClient) -> None:
    """A heartbeat stamped 2200 is rejected and does not move the session (issue 12)."""
    before = state(api)
    response = api.post(URL, content=_heartbeat_at("2200-01-01T00:00:00Z"), headers=JSON)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "1 of 1 events are invalid; nothing was applied",
        "invalid": [
            {
                "index": 0,
                "line": None,
                "errors": [
                    {
                        "field": "heartbeat.ts",
                        "message": "must be at most 2025-01-02T14:35:00.000000000Z (the "
                        "receiver's clock plus the future it allows), "
                        "received '2200-01-01T00:00:00Z'",
                    }
                ],
            }
        ],
    }
    assert state(api) == before


def test_the_future_window_follows_the_injected_clock(api: TestClient, clock: FakeClock) -> None:
    """Up to max_future_seconds (300 s) ahead is accepted; one nanosecond more is not."""
    edge = "2025-01-02T14:35:00Z"
    assert api.post(URL, content=_heartbeat_at(edge), headers=JSON).status_code == 202
    late = "2025-01-02T14:35:00.000000001Z"
    assert api.post(URL, content=_heartbeat_at(late), headers=JSON).status_code == 422
    clock.advance(1)
    assert api.post(URL, content=_heartbeat_at(late), headers=JSON).status_code == 202


@pytest.mark.parametrize(
    "ts", ["1677-09-21T00:12:43.145224192Z", "1970-01-01T00:00:00Z", "2001-09-11T13:46:40Z"]
)
def test_history_is_accepted_whatever_its_age(api: TestClient, ts: str) -> None:
    """Backfills and backtests: any past ts in the storable range is accepted."""
    assert api.post(URL, content=_heartbeat_at(ts), headers=JSON).status_code == 202


def test_max_future_seconds_inf_turns_the_check_off(tmp_path: Path, clock: FakeClock) -> None:
    """With server.max_future_seconds = inf any storable ts is accepted."""
    settings = make_settings(tmp_path / "data", max_future_seconds=float("inf"))
    with TestClient(create_app(settings, clock=clock), base_url=LOOPBACK) as client:
        response = client.post(URL, content=_heartbeat_at("2200-01-01T00:00:00Z"), headers=JSON)
        assert response.status_code == 202


def test_journal_replay_at_start_never_applies_the_window(tmp_path: Path, clock: FakeClock) -> None:
    """Events accepted while the clock allowed them replay after a restart with an earlier clock."""
    settings = make_settings(tmp_path / "data")
    with TestClient(create_app(settings, clock=clock), base_url=LOOPBACK) as client:
        response = client.post(URL, content=_heartbeat_at("2025-01-02T14:34:00Z"), headers=JSON)
        assert response.status_code == 202
        before = state(client)
    clock.set("2025-01-01T00:00:00Z")  # the restarted service's clock is a day earlier
    with TestClient(create_app(settings, clock=clock), base_url=LOOPBACK) as client:
        assert client.app.state.service.replayed_events == 1  # type: ignore[attr-defined]
        assert state(client)["events_applied"] == before["events_applied"] == 1


# --------------------------------------------------------------------------- as received

# Lines as a careless or hostile client may write them; the journal stores each line as
# received unless its event took something from outside it (a ts filled in).
_AS_RECEIVED = [
    b'{"type":"order_submitted","order_id":"o1","symbol":"AAPL","side":"BUY","quantity":10,'
    b'"order_type":"market","event_id":"e1"}',
    b'   {"type" : "order_filled",  "ts":"2025-01-02T14:30:01Z", "ts":"2025-01-02T14:30:02Z",'
    + b" " * 3000
    + b'"order_id":"o1","fill_id":"f1","quantity":4,"price":100,"price":101,"event_id":"e2"}\r',
    b'{"type":"order_filled","ts":null,"order_id":"o1","fill_id":"f2","quantity":6,'
    b'"price":102,"event_id":"e3"}',
    b'{"type":"mark","ts":"2025-01-02T14:30:03Z","symbol":"\\u0041APL","price":103,'
    b'"event_id":"e4"}',
    b'{"type":"error","ts":"2025-01-02T14:30:04Z","error_type":"e","component":"c",'
    b'"message":"x} ,{y","event_id":"e5"}',
    b'{"type":"heartbeat","ts":"2025-01-02T14:30:05Z","component":"a","component":"b",'
    b'"x":1,"x":{"deep":[1]}}',
    b'{"type":"mark","ts":"2025-01-02T14:30:03Z","symbol":"AAPL","price":104,"event_id":"e4"}',
]


def _views(api: TestClient) -> list[object]:
    return [state(api)] + [
        api.get(f"/api/v1/{view}").json() for view in ("positions", "orders", "fills", "trades")
    ]


def test_a_restart_replays_events_journaled_as_received_to_the_live_state(
    settings: Settings, clock: FakeClock
) -> None:
    """Whitespace, escapes, duplicate keys, filled-in ts: the replayed state is the live one."""
    with TestClient(create_app(settings, clock=clock), base_url=LOOPBACK) as api:
        first = api.post(URL, content=b"\n".join(_AS_RECEIVED), headers=NDJSON)
        assert first.status_code == 202
        assert first.json() == {"received": 7, "accepted": 6, "duplicates": ["e4"]}
        clock.advance(3600)
        array = b'[{"type":"order_submitted","order_id":"o2","symbol":"AAPL","side":"sell",'
        array += b'"quantity":10,"order_type":"market"}]'
        assert api.post(URL, content=array, headers=JSON).status_code == 202
        live = _views(api)
    orders, fills = live[2], live[3]
    assert isinstance(orders, dict)
    assert isinstance(fills, dict)
    # the ts filled in from the receive time, in the NDJSON batch and in the array
    times = {f["fill_id"]: f["time"] for f in fills["fills"]}
    assert times["f2"] == "2025-01-02T14:30:00.000000000Z"
    submitted = {o["order_id"]: o["submitted_time"] for o in orders["orders"]}
    assert submitted == {
        "o1": "2025-01-02T14:30:00.000000000Z",
        "o2": "2025-01-02T15:30:00.000000000Z",
    }
    clock.advance(3600)
    with TestClient(create_app(settings, clock=clock), base_url=LOOPBACK) as api:
        clock.advance(-3600)  # the same "now" as the live views
        assert _views(api) == live


def test_lines_that_split_events_across_them_are_refused(api: TestClient) -> None:
    """``{A} , {B`` then ``C}``: no line is one event, so the batch is invalid (422)."""
    lines = [
        (MARK % "1").encode() + b" , " + (MARK % "2").encode(),
        b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"a}',
        b'{b"}',
    ]
    response = api.post(URL, content=b"\n".join(lines), headers=NDJSON)
    assert response.status_code == 422
    assert response.json()["detail"] == "3 of 3 events are invalid; nothing was applied"
    assert api.get("/api/v1/snapshot").json()["events_applied"] == 0
