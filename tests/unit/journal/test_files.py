"""Event files: every accepted form decodes to the same events, bad records keep their line."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from algowatch.errors import DataFileError, InvalidEventError
from algowatch.events import Event, encode_event, event_to_dict
from algowatch.journal import EventFile, files, read_event_file
from algowatch.testing import EventFactory


def sample(factory: EventFactory) -> list[Event]:
    return [
        factory.submitted("o1", "AAPL", "buy", 10, limit_price=101.5, signal_id="s1"),
        factory.acknowledged("o1"),
        factory.filled("o1", 10, 101.25, fee=0.35, liquidity="maker"),
        factory.signal("s1", "AAPL", "long", confidence=0.5),
        factory.outcome("s1", "short", pnl=-3.0, bars_held=4),
        factory.mark("AAPL", 102.0, exchange_ts=1_735_828_199_000_000_000),
        factory.account_snapshot(100_000.0, buying_power=250_000.0),
        factory.heartbeat("engine", event_id=None, extra={"host": "box-1"}),
    ]


def as_ndjson(events: list[Event]) -> bytes:
    return b"".join(encode_event(e) + b"\n" for e in events)


def as_json_array(events: list[Event]) -> bytes:
    return json.dumps([event_to_dict(e) for e in events], indent=2).encode()


def as_csv(events: list[Event]) -> bytes:
    rows = [event_to_dict(e) for e in events]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


WRITERS: dict[str, Callable[[list[Event]], bytes]] = {
    "ndjson": as_ndjson,
    "json": as_json_array,
    "csv": as_csv,
}


def write(path: Path, data: bytes) -> Path:
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("form", ["ndjson", "json", "csv"])
def test_read_given_each_form_returns_the_written_events(
    tmp_path: Path, factory: EventFactory, form: str, compressed: bool
) -> None:
    """NDJSON, a JSON array and CSV, plain or gzip, all give back the same events."""
    events = sample(factory)
    name = f"events.{form}" + (".gz" if compressed else "")
    path = write(tmp_path / name, WRITERS[form](events))
    with EventFile(path) as file:
        assert (file.format, file.compressed) == (form, compressed)
        records = list(file)
        assert file.bytes_read == file.size
    assert [item for _line, item in records] == events


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b'  [{"type": "heartbeat"}]', "json"), (b'{"a": 1}\n', "ndjson"), (b"type,ts\n", "csv")],
)
def test_format_given_unknown_suffix_is_sniffed_from_content(
    tmp_path: Path, data: bytes, expected: str
) -> None:
    """Without a telling suffix, the first non-blank character decides (gzip too)."""
    plain = write(tmp_path / "events.txt", data)
    packed = write(tmp_path / "events.gz", data)
    with EventFile(plain) as first, EventFile(packed) as second:
        assert (first.format, second.format, second.compressed) == (expected, expected, True)


def test_ndjson_given_bad_lines_reports_their_line_and_keeps_good_ones(tmp_path: Path) -> None:
    """Each bad line is an error naming line, field and reason; blank lines are skipped."""
    text = (
        '{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"feed"}\n'
        "\n"
        '{"type":"order_filled","ts":"2025-01-02T14:30:01Z","order_id":"o1",'
        '"fill_id":"f1","quantity":-5,"price":"x"}\n'
        "not json\n"
        '{"type":"heartbeat","ts":"2025-01-02T14:30:02Z","component":"feed"}\n'
    )
    records = list(read_event_file(write(tmp_path / "e.ndjson", text.encode())))
    assert [line for line, _item in records] == [1, 3, 4, 5]
    bad = records[1][1]
    assert isinstance(bad, InvalidEventError)
    assert str(bad) == (
        "line 3: order_filled.quantity must be > 0, received -5; "
        "order_filled.price must be a number, received 'x'"
    )
    assert bad.line == 3
    assert [e.field for e in bad.errors] == ["order_filled.quantity", "order_filled.price"]
    syntax = records[2][1]
    assert isinstance(syntax, InvalidEventError)
    assert syntax.line == 4
    assert syntax.errors[0].field == "body"
    assert syntax.errors[0].message.startswith("is not valid JSON: ")
    assert not isinstance(records[3][1], InvalidEventError)


def test_json_array_given_bad_element_reports_the_line_it_starts_on(tmp_path: Path) -> None:
    """In a pretty-printed array, an invalid element is reported at its first line."""
    text = """[
  {"type": "heartbeat", "ts": "2025-01-02T14:30:00Z", "component": "feed"},
  {
    "type": "mark",
    "ts": "2025-01-02T14:30:01Z",
    "symbol": "AAPL",
    "price": 0
  },
  {"type": "heartbeat", "ts": "2025-01-02T14:30:02Z", "component": "feed"}
]
"""
    records = list(read_event_file(write(tmp_path / "e.json", text.encode())))
    assert [line for line, _item in records] == [2, 3, 9]
    bad = records[1][1]
    assert isinstance(bad, InvalidEventError)
    assert str(bad) == "line 3: mark.price must be > 0, received 0"


def test_json_array_given_syntax_error_reports_it_and_stops(tmp_path: Path) -> None:
    """After broken JSON the rest of an array cannot be trusted: one error, then stop."""
    text = (
        '[{"type": "heartbeat", "ts": "2025-01-02T14:30:00Z", "component": "a"}\n'
        '{"type": "heartbeat", "ts": "2025-01-02T14:30:01Z", "component": "b"}]\n'
    )
    records = list(read_event_file(write(tmp_path / "e.json", text.encode())))
    assert len(records) == 2
    line, error = records[1]
    assert line == 2
    assert isinstance(error, InvalidEventError)
    assert str(error) == "line 2: file expected ',' or ']' after an event, received '{'"


def test_json_array_given_nan_reports_invalid_json(tmp_path: Path) -> None:
    """JSON has no NaN: it is refused like any other syntax error."""
    text = '[{"type": "mark", "ts": "2025-01-02T14:30:00Z", "symbol": "A", "price": NaN}]'
    [(line, error)] = list(read_event_file(write(tmp_path / "e.json", text.encode())))
    assert line == 1
    assert isinstance(error, InvalidEventError)
    assert "is not valid JSON: NaN is not a JSON number" in str(error)


def test_empty_files_yield_nothing(tmp_path: Path) -> None:
    """An empty file of any form is simply empty."""
    for name, data in [("a.ndjson", b""), ("b.json", b"[ ]"), ("c.csv", b""), ("d.csv", b"type\n")]:
        assert list(read_event_file(write(tmp_path / name, data))) == []


def test_csv_converts_numbers_and_reports_bad_cells_with_their_line(tmp_path: Path) -> None:
    """Number columns are converted, empty cells are absent, identifiers stay text."""
    text = (
        "type,ts,order_id,fill_id,quantity,price,fee,symbol,component\n"
        "order_filled,2025-01-02T14:30:00Z,123,7,10,101.5,,,\n"
        "order_filled,2025-01-02T14:30:01Z,124,8,ten,101.5,0.1,,\n"
        "heartbeat,2025-01-02T14:30:02Z,,,,,,,feed\n"
        'heartbeat,2025-01-02T14:30:03Z,,,,,,,"multi\nline"\n'
        "mark,2025-01-02T14:30:04Z,,,,nan,,AAPL,,extra-cell\n"
    )
    records = list(read_event_file(write(tmp_path / "e.csv", text.encode())))
    assert [line for line, _item in records] == [2, 3, 4, 5, 7]
    first = records[0][1]
    assert not isinstance(first, InvalidEventError)
    assert event_to_dict(first) == {
        "type": "order_filled",
        "ts": "2025-01-02T14:30:00.000000000Z",
        "order_id": "123",
        "fill_id": "7",
        "quantity": 10.0,
        "price": 101.5,
    }
    assert str(records[1][1]) == ("line 3: order_filled.quantity must be a number, received 'ten'")
    # the quoted multi-line cell is one cell; a label must not hold a line break
    assert str(records[3][1]) == (
        "line 5: heartbeat.component must not contain control characters, received 'multi\\nline'"
    )
    assert str(records[4][1]) == (
        "line 7: row must have at most 9 cells (the header's), received 10"
    )


def test_csv_given_no_type_column_raises_data_file_error(tmp_path: Path) -> None:
    """A CSV file without a ``type`` column cannot describe events."""
    path = write(tmp_path / "e.csv", b"ts,symbol,price\n2025-01-02T14:30:00Z,AAPL,1\n")
    with pytest.raises(
        DataFileError,
        match=r"the CSV header must have a 'type' column, received \['ts', 'symbol', 'price'\]$",
    ):
        list(read_event_file(path))


def test_missing_file_raises_data_file_error(tmp_path: Path) -> None:
    """A missing file is reported with its path and the system's reason."""
    with pytest.raises(
        DataFileError, match=r"^cannot read event file '.*nope.ndjson': No such file or directory$"
    ):
        EventFile(tmp_path / "nope.ndjson")


def test_truncated_gzip_raises_data_file_error(tmp_path: Path, factory: EventFactory) -> None:
    """A damaged gzip file is an error of the file, not of a line."""
    data = gzip.compress(as_ndjson([factory.heartbeat() for _ in range(2000)]))
    path = tmp_path / "e.ndjson.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError, match=r"^event file '.*e.ndjson.gz' is damaged gzip: "):
        list(read_event_file(path))


@pytest.mark.parametrize("name", ["e.ndjson", "e.json", "e.csv", "e.txt"])
def test_read_given_byte_order_mark_ignores_it(
    tmp_path: Path, factory: EventFactory, name: str
) -> None:
    """A UTF-8 byte order mark (spreadsheet exports) does not make line 1 bad."""
    events = sample(factory)
    writer = WRITERS[name.split(".")[1] if not name.endswith(".txt") else "ndjson"]
    path = write(tmp_path / name, b"\xef\xbb\xbf" + writer(events))
    assert [item for _line, item in read_event_file(path)] == events


# ---------------------------------------------------------------------------- batches

GOOD = [
    b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"feed"}',
    b'{"type":"mark","ts":"2025-01-02T14:30:01.5Z","symbol":"AAPL","price":101.5,'
    b'"exchange_ts":"2025-01-02T14:30:01Z"}',
    b'{"type":"heartbeat","ts":"2025-01-02T15:30:00+01:00","component":"slow path"}',
]
BAD = [
    b'{"type":"order_filled","ts":"2025-01-02T14:30:01Z","order_id":"o1","fill_id":"f1",'
    b'"quantity":-5,"price":"x"}',
    b"not json",
    b"[1, 2]",  # a line that decode_batch alone would take for a JSON array
    b'{"type":"heartbeat","ts":"2025-13-02T14:30:00Z","component":"feed"}',
    b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"feed"} {"type":"x"}',
    b"\xff\xfe",
    b'{"type":"heartbeat","ts":"2025-01-02T14:30:00Z"',  # a torn line
]
BLANK = [b"", b"  ", b"\r", b"\t \r"]


def _records(path: Path) -> list[tuple[object, str | None]]:
    # each record as (event or None, the error's text with its line): comparable across readers
    return [
        (None, str(item)) if isinstance(item, InvalidEventError) else (item, None)
        for _line, item in read_event_file(path)
    ]


def _batched(path: Path) -> list[tuple[object, str | None]]:
    with EventFile(path) as file:
        return [
            (None, str(item)) if isinstance(item, InvalidEventError) else (item, None)
            for batch in file.batches()
            for item in batch
        ]


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("form", ["ndjson", "json", "csv"])
def test_batches_given_each_form_give_the_records_in_file_order(
    tmp_path: Path, factory: EventFactory, form: str, compressed: bool
) -> None:
    """Reading in batches gives the events of reading record by record, in order."""
    events = sample(factory)
    path = write(
        tmp_path / (f"events.{form}" + (".gz" if compressed else "")), WRITERS[form](events)
    )
    with EventFile(path) as file:
        batches = list(file.batches())
    assert [event for batch in batches for event in batch.events] == events
    assert sum(batch.records for batch in batches) == len(events)
    assert all(not batch.errors for batch in batches)


def test_batches_given_bad_lines_keep_their_line_numbers_and_order(tmp_path: Path) -> None:
    """A bad line in a batch is reported with its file line, between its neighbours."""
    lines = [GOOD[0], b"", BAD[0], GOOD[1], BAD[1], b"", b"", GOOD[0].replace(b"feed", b"b")]
    path = write(tmp_path / "e.ndjson", b"\n".join(lines) + b"\n")
    with EventFile(path) as file:
        [batch] = list(file.batches())
    assert [e.line for e in batch.errors] == [3, 5]
    assert batch.records == 5
    kinds = [type(item).__name__ for item in batch]
    assert kinds == ["Heartbeat", "InvalidEventError", "Mark", "InvalidEventError", "Heartbeat"]
    assert str(batch.errors[0]) == (
        "line 3: order_filled.quantity must be > 0, received -5; "
        "order_filled.price must be a number, received 'x'"
    )
    assert _batched(path) == _records(path)


def test_ndjson_given_a_torn_line_reports_the_json_error_inside_that_line(tmp_path: Path) -> None:
    """A truncated record's JSON error points into its own line, not at the next one."""
    path = write(tmp_path / "e.ndjson", GOOD[0] + b"\n" + BAD[-1] + b"\n" + GOOD[0] + b"\n")
    expected = [
        "line 2: body is not valid JSON: Expecting ',' delimiter: line 1 column 48 (char 47)"
    ]
    assert [error for _event, error in _records(path) if error] == expected
    assert [error for _event, error in _batched(path) if error] == expected


def test_batches_given_a_line_longer_than_a_block_decode_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record cut by several block reads is put back together before it is decoded."""
    monkeypatch.setattr(files, "_BLOCK_BYTES", 16)
    long_line = GOOD[2].replace(b"slow path", b"x" * 120)
    path = write(tmp_path / "e.ndjson", b"\n".join([GOOD[0], long_line, BAD[1], GOOD[1]]))
    assert _batched(path) == _records(path)
    assert [error for _event, error in _batched(path) if error] == [
        "line 3: body is not valid JSON: Expecting value: line 1 column 1 (char 0)"
    ]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(st.sampled_from(GOOD + BAD + BLANK), max_size=40),
    block=st.integers(min_value=1, max_value=400),
    bom=st.booleans(),
    newline=st.sampled_from([b"\n", b"\r\n"]),
    final_newline=st.booleans(),
    compressed=st.booleans(),
)
def test_batches_equal_record_by_record_reading_for_any_ndjson(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: list[bytes],
    block: int,
    bom: bool,
    newline: bytes,
    final_newline: bool,
    compressed: bool,
) -> None:
    """Whatever the lines and the block size, batches hold the same records, errors and lines."""
    monkeypatch.setattr(files, "_BLOCK_BYTES", block)
    data = (b"\xef\xbb\xbf" if bom else b"") + newline.join(lines)
    if final_newline and lines:
        data += newline
    path = write(tmp_path / ("e.ndjson.gz" if compressed else "e.ndjson"), data)
    assert _batched(path) == _records(path)
