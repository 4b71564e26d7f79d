"""A small, deterministic YAML writer for the generated deploy artefacts.

Only what the artefacts need: mappings (insertion order kept), sequences,
strings, numbers, booleans and ``None``. Strings that could be misread
(numbers, booleans, anything with YAML punctuation) are single-quoted, or
double-quoted with escapes when they hold control characters; multi-line
strings use a literal block (``|-``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["dump_yaml"]

_PLAIN = re.compile(r"^(?:[A-Za-z_/][A-Za-z0-9_./-]*|[0-9]+(?:ms|s|m|h|d|w))$")
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


def _scalar(value: Any) -> str:  # noqa: PLR0911 - one return per scalar form
    # bool before int: bool is an int subclass
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"YAML value must be finite, received {value!r}"
            raise ValueError(msg)
        return repr(value)
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in _RESERVED:
            return value
        if value.isprintable():
            return "'" + value.replace("'", "''") + "'"
        return _double_quoted(value)
    msg = f"YAML value must be a scalar, mapping or sequence, received {type(value).__name__!r}"
    raise TypeError(msg)


def _double_quoted(value: str) -> str:
    # YAML double-quoted style: printable characters as they are, the rest escaped
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _is_block(value: Any) -> bool:
    # literal blocks only for text they reproduce exactly: no edge whitespace, printable lines
    if not isinstance(value, str) or "\n" not in value or value != value.strip():
        return False
    return all(line.isprintable() and line == line.rstrip() for line in value.split("\n"))


def _block(value: str, indent: int) -> list[str]:
    pad = " " * indent
    return ["|-", *[(pad + line) if line else "" for line in value.split("\n")]]


def _emit(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        if not value:
            return [pad + "{}"]
        for key, item in value.items():
            head = f"{pad}{_scalar(str(key))}:"
            lines.extend(_emit_item(head, item, indent))
        return lines
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            return [pad + "[]"]
        for item in value:
            if isinstance(item, Mapping) and item:
                sub = _emit(item, indent + 2)
                lines.append(f"{pad}- {sub[0][indent + 2 :]}")
                lines.extend(sub[1:])
            else:
                lines.extend(_emit_item(f"{pad}-", item, indent))
        return lines
    return [pad + _scalar(value)]


def _emit_item(head: str, item: Any, indent: int) -> list[str]:
    if _is_block(item):
        block = _block(item, indent + 2)
        return [f"{head} {block[0]}", *block[1:]]
    if isinstance(item, Mapping) and item:
        return [head, *_emit(item, indent + 2)]
    if isinstance(item, Sequence) and not isinstance(item, str) and item:
        return [head, *_emit(item, indent + 2)]
    if isinstance(item, Mapping):
        return [f"{head} {{}}"]
    if isinstance(item, Sequence) and not isinstance(item, str):
        return [f"{head} []"]
    return [f"{head} {_scalar(item)}"]


def dump_yaml(document: Mapping[str, Any], *, header: str | None = None) -> str:
    r"""Return ``document`` as YAML text, with an optional ``#`` comment header.

    Examples
    --------
    >>> print(dump_yaml({"a": [1, "x y", {"b": "5s", "c": "0.5"}], "d": "l1\nl2"}), end="")
    a:
      - 1
      - 'x y'
      - b: 5s
        c: '0.5'
    d: |-
      l1
      l2
    """
    lines: list[str] = []
    if header:
        lines.extend(f"# {line}".rstrip() for line in header.splitlines())
    lines.extend(_emit(document, 0))
    return "\n".join(lines) + "\n"
