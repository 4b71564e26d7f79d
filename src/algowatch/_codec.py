"""The event codec: decoding (strict, every invalid field reported at once) and encoding.

Two paths decode an event. The fast path decodes straight into the event classes (their
field kinds are msgspec constraints that accept only canonical, valid events) and finishes
their timestamps with :mod:`algowatch._wire`; anything it refuses takes the validating path,
which checks every field against the field table derived from the same classes
(:mod:`algowatch._event_types`) and names each problem. The public entry
points are in :mod:`algowatch.events`.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from algowatch import _wire
from algowatch._event_types import (
    _BOUNDARY_CHECKS,
    _BY_TAG,
    _COMMON,
    _SPECS,
    _STORED_CHECKS,
    Event,
    event_fields,
)
from algowatch._kinds import KINDS
from algowatch._storage import extra_errors, short_repr
from algowatch._time import format_timestamp
from algowatch.errors import FieldError, InvalidEventError

__all__ = [
    "BatchResult",
    "decode_batch",
    "decode_batch_payloads",
    "decode_event",
    "decode_ndjson_block",
    "decode_stored",
    "encode_event",
    "encode_events",
    "event_from_mapping",
    "event_to_dict",
]


# --------------------------------------------------------------------------- slow path


@dataclass(frozen=True, slots=True)
class _Rules:
    # what one decode call enforces: the value checks, whether the storage rules on
    # unknown fields apply, and the latest acceptable ts (None: no limit)
    checks: Mapping[str, Callable[[Any], Any]]
    boundary: bool
    max_ts: int | None = None


_BOUNDARY: Final = _Rules(_BOUNDARY_CHECKS, boundary=True)
_STORED: Final = _Rules(_STORED_CHECKS, boundary=False)


def _rules(max_ts: int | None) -> _Rules:
    return _BOUNDARY if max_ts is None else _Rules(_BOUNDARY_CHECKS, True, max_ts)


def _field_errors(
    obj: Mapping[str, Any], default_ts: int | None, rules: _Rules
) -> tuple[Event | None, list[FieldError]]:
    raw_type = obj.get("type")
    if not isinstance(raw_type, str) or raw_type not in _SPECS:
        expected = ", ".join(repr(t) for t in _SPECS)
        shown = "missing" if raw_type is None else f"received {short_repr(raw_type)}"
        return None, [FieldError("type", f"must be one of {expected}; {shown}")]
    spec = _SPECS[raw_type]
    checks = rules.checks
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in obj.items():
        if key == "type":
            continue
        field = spec.get(key) or _COMMON.get(key)
        if field is None:
            extra[key] = value
            continue
        if value is None:
            continue
        try:
            values[key] = checks[field[0]](value)
        except ValueError as exc:
            errors.append(FieldError(f"{raw_type}.{key}", f"{exc}, received {short_repr(value)}"))
    if "ts" not in values and default_ts is not None and obj.get("ts") is None:
        values["ts"] = default_ts
    for key, (_kind, required) in (*_COMMON.items(), *spec.items()):
        if required and obj.get(key) is None and key not in values:
            errors.append(FieldError(f"{raw_type}.{key}", "is required"))
    errors.extend(_rule_errors(raw_type, obj.get("ts"), values, extra, rules))
    if errors:
        return None, errors
    if extra:
        values["extra"] = extra
    return _BY_TAG[raw_type](**values), []  # type: ignore[return-value]


def _rule_errors(
    raw_type: str, raw_ts: Any, values: dict[str, Any], extra: dict[str, Any], rules: _Rules
) -> list[FieldError]:
    # the rules beyond each field's own value: the time window and the unknown fields
    errors: list[FieldError] = []
    max_ts = rules.max_ts
    if max_ts is not None and values.get("ts", max_ts) > max_ts:
        msg = (
            f"must be at most {format_timestamp(max_ts)} (the receiver's clock plus the "
            f"future it allows), received {short_repr(raw_ts)}"
        )
        errors.append(FieldError(f"{raw_type}.ts", msg))
    if extra and rules.boundary:
        errors.extend(extra_errors(raw_type, extra))
    return errors


def event_from_mapping(
    obj: Any, *, default_ts: int | None = None, max_ts: int | None = None
) -> Event:
    """Return the event described by a decoded JSON object.

    Parameters
    ----------
    obj
        A mapping as decoded from JSON.
    default_ts
        UNIX nanoseconds to use when ``ts`` is absent (a service passes its receive
        time); ``None`` makes ``ts`` required.
    max_ts
        The latest acceptable ``ts`` in UNIX nanoseconds (a service passes its clock
        plus the future it allows); ``None`` accepts any ``ts`` in range.

    Raises
    ------
    InvalidEventError
        Listing every invalid field at once.
    """
    return _event_from_mapping(obj, default_ts, _rules(max_ts))


def _event_from_mapping(obj: Any, default_ts: int | None, rules: _Rules) -> Event:
    if not isinstance(obj, Mapping):
        raise InvalidEventError(
            [FieldError("event", f"must be a JSON object, received {short_repr(obj)}")]
        )
    event, errors = _field_errors(obj, default_ts, rules)
    if event is None:
        raise InvalidEventError(errors)
    return event


# --------------------------------------------------------------------------- fast path


# The events are the decoder's own types: msgspec checks each field's kind in C and builds
# the event in one go; _wire.settle then turns its timestamps' text into nanoseconds.
_DECODER: Final = msgspec.json.Decoder(type=Event)
_LIST_DECODER: Final = msgspec.json.Decoder(type=list[Event])
_WITH_EXCHANGE_TS: Final[frozenset[type]] = frozenset(
    cls for cls in _BY_TAG.values() if "exchange_ts" in cls.__struct_fields__
)
# per event class, the string fields whose characters the decoder's constraints cannot check
_FORBIDDEN: Final[dict[type, tuple[tuple[str, re.Pattern[str]], ...]]] = {
    cls: tuple(
        (f.name, forbidden)
        for f in event_fields(tag)
        if (forbidden := KINDS[f.kind].forbidden) is not None
    )
    for tag, cls in _BY_TAG.items()
}


def _suspect(data: bytes | str) -> bool:
    # JSON can carry a control character or a surrogate only as an escape (a backslash),
    # except DEL and the C1 controls, which may be raw (UTF-8 C2 80..C2 9F). Bodies without
    # any of these need no per-string scan: three memchr passes over the raw body.
    if isinstance(data, str):
        return "\\" in data or "\x7f" in data or not data.isascii()
    return b"\\" in data or b"\x7f" in data or b"\xc2" in data


def _strings_ok(event: Event) -> bool:
    for name, forbidden in _FORBIDDEN[type(event)]:
        value = getattr(event, name)
        if value is not None and forbidden.search(value) is not None:
            return False
    return True


def _settle(events: list[Event], suspect: bool, rules: _Rules) -> list[int]:
    # Finish freshly decoded events; return the positions of those that need the validating
    # path (a bad timestamp, a forbidden character, a ts too far in the future), which are
    # left exactly as decoded.
    if suspect and rules.boundary:
        bad = {i for i, event in enumerate(events) if not _strings_ok(event)}
        if bad:
            rest = [i for i in range(len(events)) if i not in bad]
            failed = _wire.settle([events[i] for i in rest], _WITH_EXCHANGE_TS, rules.max_ts)
            return sorted({*bad, *(rest[i] for i in failed)})
    return _wire.settle(events, _WITH_EXCHANGE_TS, rules.max_ts)


def _as_mapping(event: Event) -> dict[str, Any]:
    # a decoded event the fast path refused, as the object it was decoded from (its
    # timestamps still as decoded; extra is never decoded, so empty)
    obj: dict[str, Any] = {"type": event.__struct_config__.tag, **msgspec.structs.asdict(event)}
    del obj["extra"]
    return obj


def decode_event(
    data: bytes | str, *, default_ts: int | None = None, max_ts: int | None = None
) -> Event:
    """Decode and validate one JSON-encoded event.

    Parameters
    ----------
    data
        One JSON object.
    default_ts
        UNIX nanoseconds to use when ``ts`` is absent; ``None`` makes ``ts`` required.
    max_ts
        The latest acceptable ``ts`` in UNIX nanoseconds; ``None`` accepts any ``ts``
        in range.

    Raises
    ------
    InvalidEventError
        When the JSON is malformed or any field is invalid (all fields are reported).

    Examples
    --------
    >>> decode_event('{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"feed"}')
    Heartbeat(ts=1735828200000000000, event_id=None, strategy='default', account='default', \
extra={}, component='feed')
    """
    return _decode_one(data, default_ts, _rules(max_ts))


def decode_stored(data: bytes | str) -> Event:
    """Decode an event as a journal stored it (:func:`encode_event`'s output).

    The value rules apply; the storage rules (characters, unknown fields) do not, so that a
    journal written before a rule existed still replays. Never use it on untrusted input.

    Raises
    ------
    InvalidEventError
        When the stored JSON is not an event.

    .. versionadded:: 0.1.0
    """
    return _decode_one(data, None, _STORED)


def _decode_one(data: bytes | str, default_ts: int | None, rules: _Rules) -> Event:
    try:
        event: Event = _DECODER.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        pass  # not the fast path's shape: the validating path below names every problem
    else:
        if not _settle([event], rules.boundary and _suspect(data), rules):
            return event
    return _event_from_mapping(_decode_json(data), default_ts, rules)


def _decode_json(data: bytes | str) -> Any:
    # The validating path parses with the standard library on purpose: it turns 1e999 and the
    # NaN/Infinity literals into floats, so the validator can name the offending field.
    try:
        return json.loads(data)
    except RecursionError:
        raise InvalidEventError([FieldError("body", "is nested too deeply")]) from None
    except UnicodeDecodeError as exc:
        msg = f"is not valid UTF-8: {exc.reason} at byte {exc.start}"
        raise InvalidEventError([FieldError("body", msg)]) from None
    except ValueError as exc:
        raise InvalidEventError([FieldError("body", f"is not valid JSON: {exc}")]) from None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The outcome of decoding a batch: valid events in order, and every error.

    Attributes
    ----------
    events
        The valid events, in input order.
    errors
        One :class:`~algowatch.errors.InvalidEventError` per invalid record, with
        ``index`` (0-based position among records) and, for NDJSON, ``line`` (1-based).
    """

    events: list[Event]
    errors: list[InvalidEventError]

    @property
    def ok(self) -> bool:
        """Return whether every record was valid."""
        return not self.errors


def decode_batch(
    data: bytes | str, *, default_ts: int | None = None, max_ts: int | None = None
) -> BatchResult:
    """Decode a JSON array of events or NDJSON (one event per line).

    A body whose first non-blank character is ``[`` is a JSON array; anything
    else is NDJSON, where blank lines are skipped. Invalid records do not stop
    the decoding: each is reported in :attr:`BatchResult.errors`. ``default_ts``
    and ``max_ts`` are as for :func:`decode_event`.
    """
    raw = data.encode() if isinstance(data, str) else data
    return _decode_batch(raw, default_ts, _rules(max_ts), None)


def decode_ndjson_block(data: bytes, newlines: int) -> BatchResult:
    """Return :func:`decode_batch` of NDJSON ``data`` holding ``newlines`` newline bytes.

    For a caller that counts the newlines anyway (an event file numbers its lines), which
    spares the decoder a count of its own.
    """
    return _decode_batch(data, None, _BOUNDARY, newlines)


def _decode_batch(
    raw: bytes, default_ts: int | None, rules: _Rules, newlines: int | None
) -> BatchResult:
    suspect = _suspect(raw)
    stripped = raw.lstrip()
    if stripped[:1] == b"[":
        return _decode_array(stripped, default_ts, rules, suspect)
    fast = _decode_ndjson_fast(raw, rules, suspect, newlines)
    if fast is not None:
        return BatchResult(fast, [])
    events: list[Event] = []
    errors: list[InvalidEventError] = []
    for index, (line_no, line) in enumerate(_ndjson_lines(raw)):
        try:
            events.append(_decode_one(line, default_ts, rules))
        except InvalidEventError as exc:
            errors.append(_located(exc, index, line_no))
    return BatchResult(events, errors)


_NEWLINE: Final = ord("\n")
# A '}' followed, on the same line, by JSON whitespace and a ',': where one line could hold
# the end of an event and the start of another (see decode_batch_payloads).
_SHARED_LINE: Final = re.compile(rb"\}[ \t\r]*,")


def decode_batch_payloads(
    data: bytes, *, default_ts: int | None = None, max_ts: int | None = None
) -> tuple[BatchResult, list[bytes | None]]:
    """Return :func:`decode_batch` of ``data`` and, per valid event, the JSON it came from.

    The payload of an event is the NDJSON line it was decoded from, exactly as received,
    when :func:`decode_stored` of that line gives back the same event: the line is one JSON
    object and the event took nothing from outside it. It is ``None`` (store the event
    re-encoded) for every event of a JSON array body (the decoder does not say where an
    element starts) and for an event whose ``ts`` is ``default_ts`` (filled in here, absent
    from its line).

    Notes
    -----
    The fast NDJSON path decodes the lines joined as one array, which does not prove that
    line *i* holds event *i*: ``{A},{B`` then ``C}`` are two lines and two events, neither
    line an event of its own. Events on the fast path are flat objects (the decoder refuses
    nested values), so two of them can meet on one line only where a ``}`` is followed, on
    that line, by whitespace and a ``,``. A body holding that anywhere (in a string too)
    takes the line-by-line path, where each line is decoded on its own.
    """
    rules = _rules(max_ts)
    suspect = _suspect(data)
    if data.lstrip()[:1] == b"[":
        batch = _decode_array(data.lstrip(), default_ts, rules, suspect)
        return batch, [None] * len(batch.events)
    if _SHARED_LINE.search(data) is None:
        fast = _decode_ndjson_fast(data, rules, suspect, None)
        if fast is not None:  # a ts is required on the fast path: none was filled in
            lines: list[bytes | None] = [line for line in data.split(b"\n") if line]
            return BatchResult(fast, []), lines
    events: list[Event] = []
    errors: list[InvalidEventError] = []
    payloads: list[bytes | None] = []
    for index, (line_no, line) in enumerate(_ndjson_lines(data)):
        try:
            event = _decode_one(line, default_ts, rules)
        except InvalidEventError as exc:
            errors.append(_located(exc, index, line_no))
            continue
        events.append(event)
        payloads.append(None if event.ts == default_ts else line)
    return BatchResult(events, errors), payloads


def _decode_ndjson_fast(
    raw: bytes, rules: _Rules, suspect: bool, newlines: int | None
) -> list[Event] | None:
    # All lines valid and in canonical shape: one C-level decode of the lines joined as an
    # array. Anything else returns None and the caller takes the per-line path. Blank lines
    # are looked for only when that decode fails (they make it fail: ",,"): a search for
    # b"\n\n" is a byte-by-byte scan of the body (~4% of a replay).
    size = len(raw)
    if size > 1 and raw[0] != _NEWLINE and raw[-1] == _NEWLINE and raw[-2] != _NEWLINE:
        # the common block, each line ending in a newline: "[" + the lines with their
        # newlines turned into commas, but the last (a view) + "]", in two copies
        records = raw.count(b"\n") if newlines is None else newlines
        joined = raw.replace(b"\n", b",")
        array = b"".join((b"[", memoryview(joined)[:-1], b"]"))
    else:
        body = raw.strip(b"\n")
        if not body:
            records = 0
        elif newlines is None:
            records = body.count(b"\n") + 1
        else:
            records = newlines - (size - len(body)) + 1  # strip() removed only newlines
        array = b"[" + body.replace(b"\n", b",") + b"]"
    try:
        events: list[Event] = _LIST_DECODER.decode(array)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        if b"\n\n" not in raw:
            return None
        lines = [line for line in raw.split(b"\n") if line]  # without the blank lines
        records = len(lines)
        try:
            events = _LIST_DECODER.decode(b"[" + b",".join(lines) + b"]")
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            return None
    if len(events) != records:  # a line holding several objects: not NDJSON
        return None
    return None if _settle(events, suspect, rules) else events


def _ndjson_lines(raw: bytes) -> Iterator[tuple[int, bytes]]:
    for line_no, line in enumerate(raw.split(b"\n"), start=1):
        if line.strip():
            yield line_no, line


def _located(exc: InvalidEventError, index: int, line: int | None) -> InvalidEventError:
    return InvalidEventError(exc.errors, index=index, line=line)


def _decode_array(raw: bytes, default_ts: int | None, rules: _Rules, suspect: bool) -> BatchResult:
    events: list[Event] = []
    errors: list[InvalidEventError] = []
    try:
        decoded: list[Event] | None = _LIST_DECODER.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        decoded = None
    if decoded is not None:
        failed = _settle(decoded, suspect, rules)
        if not failed:
            return BatchResult(decoded, [])
        refused = set(failed)
        for index, decoded_event in enumerate(decoded):
            if index not in refused:
                events.append(decoded_event)
                continue
            try:
                events.append(_event_from_mapping(_as_mapping(decoded_event), default_ts, rules))
            except InvalidEventError as exc:
                errors.append(_located(exc, index, None))
        return BatchResult(events, errors)
    items = _decode_json(raw)
    if not isinstance(items, list):  # pragma: no cover - a body starting with '[' decodes to a list
        raise InvalidEventError([FieldError("body", "must be a JSON array or NDJSON")])
    for index, item in enumerate(items):
        try:
            events.append(_event_from_mapping(item, default_ts, rules))
        except InvalidEventError as exc:
            errors.append(_located(exc, index, None))
    return BatchResult(events, errors)


# --------------------------------------------------------------------------- encoding


def event_to_dict(event: Event) -> dict[str, Any]:
    """Return the JSON-ready form of ``event``: ``type`` first, timestamps as RFC 3339.

    Fields left at their defaults are omitted; ``extra`` fields appear at top level.
    """
    return _wire.event_to_dict(event)


_ENCODER: Final = msgspec.json.Encoder()


def encode_event(event: Event) -> bytes:
    """Return ``event`` as compact JSON; :func:`decode_event` gives it back unchanged.

    Examples
    --------
    >>> e = decode_event('{"type":"heartbeat","ts":"2025-01-02T14:30:00Z","component":"feed"}')
    >>> encode_event(e)
    b'{"type":"heartbeat","ts":"2025-01-02T14:30:00.000000000Z","component":"feed"}'
    >>> decode_event(encode_event(e)) == e
    True
    """
    return _ENCODER.encode(_wire.event_to_dict(event))


def encode_events(events: Iterable[Event]) -> bytes:
    """Return ``events`` as NDJSON, one line per event, newline-terminated."""
    return b"".join(encode_event(e) + b"\n" for e in events)
