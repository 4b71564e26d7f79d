r"""Event files: NDJSON, a JSON array or CSV, optionally gzip-compressed.

Each record is decoded on its own, so one bad record does not hide the others: reading
yields ``(line_number, event)`` for a valid record and ``(line_number, error)`` for an
invalid one, where the error is an :class:`~algowatch.errors.InvalidEventError` naming
every bad field. Line numbers are 1-based lines of the (decompressed) file: the line of
the record in NDJSON and CSV, the line where the element starts in a JSON array.

:meth:`EventFile.batches` reads the same records in :class:`EventBatch` es instead: NDJSON
is read in large blocks and each block is decoded at once by
:func:`~algowatch.events.decode_batch` (the fast path), with the same events, errors and
line numbers as record by record; this is what ``algowatch replay`` uses.

The format comes from the suffix (``.ndjson``/``.jsonl``, ``.json``, ``.csv``, each
optionally followed by ``.gz``) and, for ``.json`` and unknown suffixes, from the first
non-blank character (``[`` is a JSON array, ``{`` NDJSON, anything else CSV). Gzip is
recognised by its magic bytes. A CSV file has a header row with one column per field;
``type`` is required, empty cells count as absent, and number fields are converted.

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = Path(tmp) / "events.ndjson"
...     _ = path.write_text(
...         '{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"feed"}\n'
...         '{"type":"heartbeat","ts":"2025-01-02T14:30:01Z"}\n'
...     )
...     for line, item in read_event_file(path):
...         print(line, type(item).__name__, getattr(item, "component", item))
1 Heartbeat feed
2 InvalidEventError line 2: heartbeat.component is required

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeAlias, get_args

import numpy as np

from algowatch._codec import decode_ndjson_block
from algowatch.errors import DataFileError, FieldError, InvalidEventError
from algowatch.events import (
    Event,
    decode_event,
    event_fields,
    event_from_mapping,
    event_types,
)

__all__ = ["EventBatch", "EventFile", "EventFileFormat", "read_event_file"]

EventFileFormat: TypeAlias = Literal["ndjson", "json", "csv"]
Record: TypeAlias = tuple[int, Event | InvalidEventError]

_GZIP_MAGIC: Final = b"\x1f\x8b"
_BOM: Final = b"\xef\xbb\xbf"  # a UTF-8 byte order mark, written by some spreadsheet tools
_SUFFIXES: Final[dict[str, EventFileFormat | None]] = {
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": None,
    ".csv": "csv",
}
_SNIFF_BYTES: Final = 4096
# a block of NDJSON decoded at once (~350 events of 180 bytes): large enough that per-block
# costs vanish, small enough that its lines, wire structs and events stay in the CPU caches
# (under cachegrind a replay with 64 KiB blocks had ~40% fewer last-level cache misses than 1 MiB)
_BLOCK_BYTES: Final = 64 * 1024
# records per batch for the formats read record by record (JSON array, CSV)
_BATCH_RECORDS: Final = 4096
_NEWLINE: Final = ord("\n")
_ARRAY_START: Final = re.compile(rb"[ \t\n\r\x0b\x0c]*\[")  # what bytes.lstrip() strips, then "["
_TIMESTAMP_COLUMNS: Final = frozenset({"ts", "exchange_ts"})


@dataclass(frozen=True, slots=True)
class EventBatch:
    """Consecutive records of an event file, decoded together (:meth:`EventFile.batches`).

    Iterating a batch gives its records in file order: each valid event, and each invalid
    record's :class:`~algowatch.errors.InvalidEventError` (which carries its line number).

    .. versionadded:: 0.1.0

    Attributes
    ----------
    events
        The valid events, in file order.
    errors
        The invalid records, in file order.
    """

    events: list[Event]
    errors: list[InvalidEventError]
    # the position of each error among the batch's records, to restore the file order
    _error_positions: tuple[int, ...] = ()

    @property
    def records(self) -> int:
        """Return how many records the batch holds, valid or not."""
        return len(self.events) + len(self.errors)

    def __iter__(self) -> Iterator[Event | InvalidEventError]:
        events = iter(self.events)
        done = 0
        for position, error in zip(self._error_positions, self.errors, strict=True):
            for _ in range(position - done):
                yield next(events)
            yield error
            done = position + 1
        yield from events


class EventFile:
    """An event file opened for reading; iterate it for ``(line_number, event or error)``.

    Attributes
    ----------
    path
        The file.
    format
        ``"ndjson"``, ``"json"`` (an array) or ``"csv"``.
    compressed
        Whether the file is gzip-compressed.
    size
        The file's size on disk in bytes (compressed size for gzip).

    Raises
    ------
    DataFileError
        If the file cannot be opened, is damaged gzip, or is a CSV file without a
        ``type`` column.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._raw: io.BufferedReader = self.path.open("rb")
        except OSError as exc:
            msg = f"cannot read event file {str(self.path)!r}: {exc.strerror or exc}"
            raise DataFileError(msg) from exc
        try:
            self.size = self.path.stat().st_size
            self.compressed = self._raw.read(2) == _GZIP_MAGIC
            self._raw.seek(0)
            self._stream: gzip.GzipFile | io.BufferedReader = (
                gzip.GzipFile(fileobj=self._raw, mode="rb") if self.compressed else self._raw
            )
            self.format = self._detect_format()
        except BaseException:
            self._raw.close()
            raise

    @property
    def bytes_read(self) -> int:
        """Return how many bytes of the file on disk were consumed so far."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return self.size

    def __iter__(self) -> Iterator[Record]:
        readers: dict[EventFileFormat, Callable[[], Iterator[Record]]] = {
            "ndjson": self._read_ndjson,
            "json": self._read_array,
            "csv": self._read_csv,
        }
        with self._damage_reported():
            yield from readers[self.format]()

    def batches(self) -> Iterator[EventBatch]:
        """Yield the file's records in batches, in file order.

        The records, events and errors (with their line numbers) are those of iterating
        the file; NDJSON is read in blocks of 64 KiB, each decoded at once through
        :func:`~algowatch.events.decode_batch` (one C-level decode of the block's lines),
        so that a consumer such as ``Monitor.apply_many`` takes a batch per call. Memory
        stays flat: one block is held at a time.

        Raises
        ------
        DataFileError
            If the file cannot be read or is damaged.
        """
        with self._damage_reported():
            if self.format == "ndjson":
                yield from self._ndjson_batches()
                return
            batch: list[Record] = []
            for record in self:
                batch.append(record)
                if len(batch) >= _BATCH_RECORDS:
                    yield _batch_of(batch)
                    batch = []
            if batch:
                yield _batch_of(batch)

    def close(self) -> None:
        """Close the file."""
        self._stream.close()
        self._raw.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EventFile({str(self.path)!r}, format={self.format!r})"

    # ------------------------------------------------------------------ detection

    def _detect_format(self) -> EventFileFormat:
        suffixes = [s.lower() for s in self.path.suffixes]
        if suffixes and suffixes[-1] == ".gz":
            suffixes.pop()
        known = _SUFFIXES.get(suffixes[-1]) if suffixes else None
        if known is not None:
            return known
        with self._damage_reported():
            head = self._stream.peek(_SNIFF_BYTES)
        first = head.removeprefix(_BOM).lstrip(b" \t\r\n")[:1]
        if first == b"[":
            return "json"
        if first == b"{" or not first:
            return "ndjson"
        return "csv"

    def _damage_reported(self) -> _DamageGuard:
        return _DamageGuard(self.path)

    # ------------------------------------------------------------------ readers

    def _read_ndjson(self) -> Iterator[Record]:
        for line_no, raw in enumerate(self._stream, start=1):
            # without its newline, as decode_batch splits lines: a JSON error points into it
            line = raw.removesuffix(b"\n")
            if line_no == 1:
                line = line.removeprefix(_BOM)
            if line.strip():
                yield _decode_line(line, line_no)

    def _ndjson_batches(self) -> Iterator[EventBatch]:
        read = self._stream.read
        head = read(_BLOCK_BYTES)
        while 0 < len(head) < len(_BOM) and _BOM.startswith(head):  # a short read mid-BOM
            more = read(_BLOCK_BYTES)
            if not more:
                break
            head += more
        chunk = head.removeprefix(_BOM) or read(_BLOCK_BYTES)  # the head may be the BOM alone
        line = 1  # the line number of the next block's first line
        carry: list[bytes] = []  # the start of a line that the last read cut
        while chunk:
            cut = chunk.rfind(b"\n") + 1
            if cut == 0:
                carry.append(chunk)
            else:
                block = b"".join((*carry, chunk[:cut])) if carry else chunk[:cut]
                carry = [chunk[cut:]] if cut < len(chunk) else []
                newlines = _count_newlines(block)
                yield _decode_block(block, line, newlines)
                line += newlines
            chunk = read(_BLOCK_BYTES)
        if carry:
            block = b"".join(carry)
            yield _decode_block(block, line, _count_newlines(block))

    def _read_array(self) -> Iterator[Record]:
        data = self._stream.read()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            yield line, _invalid(line, "file", f"is not valid UTF-8: {exc.reason}")
            return
        decoder = json.JSONDecoder(parse_constant=_reject_constant)
        position = _skip_space(text, 0)
        line = text.count("\n", 0, position) + 1  # always the line of `position`
        if text[position : position + 1] != "[":
            yield line, _invalid(line, "file", "must hold a JSON array of events")
            return
        position += 1
        first = True
        while True:
            after = _skip_space(text, position)
            line, position = line + text.count("\n", position, after), after
            if first and text[position : position + 1] == "]":
                return
            first = False
            try:
                item, end = decoder.raw_decode(text, position)
            except ValueError as exc:
                yield line, _invalid(line, "file", f"is not valid JSON: {exc}")
                return
            try:
                yield line, event_from_mapping(item)
            except InvalidEventError as exc:
                yield line, InvalidEventError(exc.errors, line=line)
            after = _skip_space(text, end)
            line, position = line + text.count("\n", position, after), after
            separator = text[position : position + 1]
            if separator == "]":
                return
            if separator != ",":
                reason = f"expected ',' or ']' after an event, received {separator!r}"
                yield line, _invalid(line, "file", reason)
                return
            position += 1

    def _read_csv(self) -> Iterator[Record]:
        text = io.TextIOWrapper(self._stream, encoding="utf-8-sig", newline="")
        try:
            yield from self._csv_records(csv.reader(text))
        finally:
            text.detach()  # the stream is closed by close(), not by the wrapper

    def _csv_records(self, reader: Any) -> Iterator[Record]:
        try:
            header = next(reader)
        except StopIteration:
            return
        header = [name.strip() for name in header]
        if "type" not in header:
            msg = (
                f"event file {str(self.path)!r}: the CSV header must have a 'type' column, "
                f"received {header!r}"
            )
            raise DataFileError(msg)
        type_index = header.index("type")
        line_no = reader.line_num
        for cells in reader:
            start, line_no = line_no + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                yield (
                    start,
                    _invalid(
                        start,
                        "row",
                        f"must have at most {len(header)} cells (the header's), "
                        f"received {len(cells)}",
                    ),
                )
                continue
            converters = _CSV_CONVERTERS.get(cells[type_index].strip().lower(), {})
            obj: dict[str, Any] = {}
            for name, cell in zip(header, cells, strict=False):
                if cell == "":
                    continue
                convert = converters.get(name)
                obj[name] = convert(cell) if convert is not None else cell
            try:
                yield start, event_from_mapping(obj)
            except InvalidEventError as exc:
                yield start, InvalidEventError(exc.errors, line=start)


def read_event_file(path: str | Path) -> Iterator[Record]:
    """Yield ``(line_number, event or InvalidEventError)`` for each record of an event file.

    See the module documentation for the formats. The file is read as a stream (a JSON
    array is read whole).

    Raises
    ------
    DataFileError
        If the file cannot be read or is damaged.
    """
    with EventFile(path) as file:
        yield from file


# ---------------------------------------------------------------------------- helpers


class _DamageGuard:
    # turns a truncated or corrupt gzip stream, or an I/O error mid-file, into DataFileError
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, gzip.BadGzipFile | EOFError | zlib.error):
            msg = f"event file {str(self.path)!r} is damaged gzip: {exc or 'truncated'}"
            raise DataFileError(msg) from exc
        if isinstance(exc, OSError):
            msg = f"cannot read event file {str(self.path)!r}: {exc.strerror or exc}"
            raise DataFileError(msg) from exc


def _batch_of(records: list[Record]) -> EventBatch:
    events: list[Event] = []
    errors: list[InvalidEventError] = []
    positions: list[int] = []
    for position, (_line, item) in enumerate(records):
        if isinstance(item, InvalidEventError):
            errors.append(item)
            positions.append(position)
        else:
            events.append(item)
    return EventBatch(events, errors, tuple(positions))


def _decode_block(block: bytes, first_line: int, newlines: int) -> EventBatch:
    # Whole NDJSON lines, `first_line` being the file line of the first one, holding
    # `newlines` newlines (counted for the line numbers, and spared to the decoder). decode_batch
    # would take a block whose first record starts with "[" for a JSON array: such a (bad)
    # line is decoded line by line, as the record-by-record reader does.
    if _ARRAY_START.match(block):
        return _batch_of(list(_decode_lines(block, first_line)))
    result = decode_ndjson_block(block, newlines)
    if not result.errors:
        return EventBatch(result.events, [])
    errors = [
        InvalidEventError(error.errors, line=first_line - 1 + (error.line or 1))
        for error in result.errors
    ]
    positions = tuple(error.index or 0 for error in result.errors)
    return EventBatch(result.events, errors, positions)


def _count_newlines(block: bytes) -> int:
    # bytes.count(b"\n") loops byte by byte (~90 us per 64 KiB block, 3-5% of a replay);
    # numpy compares the block as a vector (~20 us), without copying it
    return int(np.count_nonzero(np.frombuffer(block, dtype=np.uint8) == _NEWLINE))


def _decode_lines(block: bytes, first_line: int) -> Iterator[Record]:
    for line_no, line in enumerate(block.split(b"\n"), start=first_line):
        if line.strip():
            yield _decode_line(line, line_no)


# one NDJSON line as a record: the event, or its error carrying the line number
def _decode_line(line: bytes, line_no: int) -> Record:
    try:
        return line_no, decode_event(line)
    except InvalidEventError as exc:
        return line_no, InvalidEventError(exc.errors, line=line_no)


def _invalid(line: int, field: str, message: str) -> InvalidEventError:
    return InvalidEventError([FieldError(field, message)], line=line)


def _reject_constant(name: str) -> Any:
    msg = f"{name} is not a JSON number"
    raise ValueError(msg)


def _skip_space(text: str, position: int) -> int:
    length = len(text)
    while position < length and text[position] in " \t\r\n":
        position += 1
    return position


def _to_float(cell: str) -> Any:
    try:
        return float(cell)
    except ValueError:
        return cell  # the validator reports it with the field's expectation


def _to_int(cell: str) -> Any:
    try:
        return int(cell)
    except ValueError:
        return cell


def _csv_converters(event_type: str) -> dict[str, Callable[[str], Any]]:
    converters: dict[str, Callable[[str], Any]] = {}
    for field in event_fields(event_type):
        if field.name in _TIMESTAMP_COLUMNS:
            continue
        # the decoder's type without null and constraints: float, int, str or a Literal
        value_type = next(t for t in get_args(field.type) or (field.type,) if t is not type(None))
        base = get_args(value_type)[0] if hasattr(value_type, "__metadata__") else value_type
        if base is float:
            converters[field.name] = _to_float
        elif base is int:
            converters[field.name] = _to_int
    return converters


_CSV_CONVERTERS: Final[dict[str, dict[str, Callable[[str], Any]]]] = {
    event_type: _csv_converters(event_type) for event_type in event_types()
}
