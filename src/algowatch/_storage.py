"""What a journal can store: the characters, sizes and shapes every event string obeys.

The storage rules of the event contract (:mod:`algowatch.events` applies them at the
boundary), identical for the SQLite and the PostgreSQL journal:

- a lone surrogate cannot be encoded as UTF-8, so no journal can store it;
- NUL cannot be stored in PostgreSQL text and truncates C strings;
- control characters in an identifier or a label corrupt logs, metric labels, terminals;
- unknown fields (an event's ``extra``) are bounded in count, size, depth and numbers.

Pure functions and constants, no I/O.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from algowatch.errors import FieldError

__all__ = [
    "LABEL_FORBIDDEN",
    "MAX_EXTRA_DEPTH",
    "MAX_EXTRA_FIELDS",
    "MAX_EXTRA_VALUES",
    "MAX_TEXT",
    "TEXT_FORBIDDEN",
    "extra_errors",
    "short_repr",
    "string",
]

MAX_TEXT: Final = 4096

MAX_EXTRA_FIELDS: Final = 64
MAX_EXTRA_VALUES: Final = 1000
MAX_EXTRA_DEPTH: Final = 8
_MAX_KEY: Final = 128
_INT64: Final = 2**63

# Lone surrogates cannot be encoded as UTF-8 (no journal can store them); NUL cannot be
# stored in a PostgreSQL text column and truncates C strings; control characters in an
# identifier or label corrupt logs, metric labels and terminals.
_SURROGATE: Final = "\ud800-\udfff"
LABEL_FORBIDDEN: Final = re.compile(f"[\x00-\x1f\x7f-\x9f{_SURROGATE}]")
TEXT_FORBIDDEN: Final = re.compile(f"[\x00{_SURROGATE}]")
_SAFE_KEY: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]{0,127}", re.ASCII)


def string(
    value: Any, *, max_length: int, min_length: int = 1, forbidden: re.Pattern[str] | None
) -> str:
    """Return ``value`` if it is a string within the limits, else raise ``ValueError``.

    The error's message states the expectation (``must not contain a NUL character``).
    """
    if not isinstance(value, str):
        msg = "must be a string"
        raise ValueError(msg)
    if len(value) < min_length:
        msg = "must not be empty"
        raise ValueError(msg)
    if len(value) > max_length:
        msg = f"must be at most {max_length} characters"
        raise ValueError(msg)
    if forbidden is not None:
        found = forbidden.search(value)
        if found is not None:
            raise ValueError(_character_problem(found.group()))
    return value


def _character_problem(char: str) -> str:
    if "\ud800" <= char <= "\udfff":
        return "must not contain a lone surrogate (not encodable as UTF-8)"
    if char == "\x00":
        return "must not contain a NUL character"
    return "must not contain control characters"


class _ExtraCheck:
    # The storage rules for unknown fields, walked depth first within a budget of values.

    def __init__(self, raw_type: str) -> None:
        self.raw_type = raw_type
        self.budget = MAX_EXTRA_VALUES
        self.found: list[FieldError] = []

    def errors(self, extra: dict[str, Any]) -> list[FieldError]:
        if len(extra) > MAX_EXTRA_FIELDS:
            msg = f"must be at most {MAX_EXTRA_FIELDS} unknown fields, received {len(extra)}"
            self.found.append(FieldError(f"{self.raw_type}.extra", msg))
        for key, value in extra.items():
            if self.budget < 0:
                break
            self._key(key, self.raw_type)
            self._value(value, f"{self.raw_type}.{_path_part(key)}", 1)
        if self.budget < 0:
            msg = (
                f"must hold at most {MAX_EXTRA_VALUES} values in all unknown fields, received more"
            )
            self.found.append(FieldError(f"{self.raw_type}.extra", msg))
        return self.found

    def _add(self, path: str, problem: str, value: Any) -> None:
        self.found.append(FieldError(path, f"{problem}, received {short_repr(value)}"))

    def _key(self, key: str, path: str) -> None:
        try:
            string(key, max_length=_MAX_KEY, min_length=0, forbidden=LABEL_FORBIDDEN)
        except ValueError as exc:
            self._add(path, f"field names {exc}", key)

    def _value(self, value: Any, path: str, depth: int) -> None:
        self.budget -= 1
        if self.budget < 0:
            return
        if isinstance(value, dict | list):
            self._container(value, path, depth)
        else:
            self._scalar(value, path)

    def _scalar(self, value: Any, path: str) -> None:
        if value is None or isinstance(value, bool):
            return
        if isinstance(value, str):
            try:
                string(value, max_length=MAX_TEXT, min_length=0, forbidden=TEXT_FORBIDDEN)
            except ValueError as exc:
                self._add(path, str(exc), value)
            return
        if isinstance(value, int):
            if not -_INT64 <= value < _INT64:
                self._add(path, "must be an integer within 64 bits", value)
            return
        if isinstance(value, float):
            if not math.isfinite(value):
                self._add(path, "must be a finite number", value)
            return
        self._add(path, "must be a JSON value", value)

    def _container(self, value: dict[str, Any] | list[Any], path: str, depth: int) -> None:
        if depth > MAX_EXTRA_DEPTH:
            self._add(path, f"must be nested at most {MAX_EXTRA_DEPTH} levels deep", value)
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                if self.budget < 0:
                    return
                self._value(item, f"{path}[{index}]", depth + 1)
            return
        for key, item in value.items():
            if self.budget < 0:
                return
            self._key(key, path)
            self._value(item, f"{path}.{_path_part(key)}", depth + 1)


def _path_part(key: str) -> str:
    # a field name goes into an error's field path as is only when it is plainly safe
    return key if isinstance(key, str) and _SAFE_KEY.fullmatch(key) else f"[{short_repr(key)}]"


def short_repr(value: Any) -> str:
    """Return ``repr(value)``, cut to 80 characters (error messages echo client input)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def extra_errors(raw_type: str, extra: dict[str, Any]) -> list[FieldError]:
    """Return every violation of the storage rules in an event's unknown fields.

    Fields are named ``<type>.<name>`` (nested: ``.key`` and ``[index]``); a field name that
    is not plainly safe appears as its ``repr`` in brackets.
    """
    return _ExtraCheck(raw_type).errors(extra)
