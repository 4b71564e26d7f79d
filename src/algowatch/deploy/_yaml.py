"""YAML output of the generated deploy artefacts, written with PyYAML.

``yaml.SafeDumper`` with insertion order kept (``sort_keys=False``), block style,
no line wrapping (a PromQL expression stays on its line) and multi-line strings as
literal blocks (``|``), which is how Prometheus rule files are usually written.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["dump_yaml"]


class _Dumper(yaml.SafeDumper):
    """SafeDumper that indents sequences under their key and writes literal blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


# Unicode line breaks other than \n: PyYAML writes them raw inside plain, single-quoted and
# literal scalars (allow_unicode), where a reader folds them; double quotes escape them
_UNICODE_BREAKS = frozenset("\x85\u2028\u2029")


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML keeps the literal style only where it can represent the text exactly
    # (its analyzer falls back to quoting otherwise)
    style: str | None = "|" if "\n" in value else None
    if not _UNICODE_BREAKS.isdisjoint(value):
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(document: Any, *, header: str | None = None) -> str:
    r"""Return ``document`` as YAML, with ``header`` as ``#`` comment lines on top.

    Examples
    --------
    >>> print(dump_yaml({"groups": [{"name": "g", "expr": "a > 1\nand b"}]}, header="hi"))
    # hi
    groups:
      - name: g
        expr: |-
          a > 1
          and b
    <BLANKLINE>
    """
    text = yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=float("inf"),
    )
    if header is None:
        return text
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comment + text
