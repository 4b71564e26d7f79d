"""One helper builds every metric name; one checker states the naming rules.

The rules follow Prometheus's naming guide and ``promtool check metrics``:
snake case, a namespace prefix, base units (``_seconds``, ``_bytes``), ``_ratio``
for 0..1 fractions, ``_total`` on counters only, and no suffix reserved for
histogram samples (``_count``, ``_sum``, ``_bucket``) on a metric's own name.
``_usd`` and ``_basis_points`` are domain units and allowed.
"""

from __future__ import annotations

import re

__all__ = ["NAMESPACES", "metric_name", "naming_problems"]

#: Prefixes every algowatch metric starts with.
NAMESPACES: tuple[str, ...] = ("trading", "algowatch")

_WORD = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# non-base units promtool and the naming guide reject, and ambiguous spellings
_BAD_UNITS = (
    "_ms",
    "_milliseconds",
    "_microseconds",
    "_nanoseconds",
    "_minutes",
    "_hours",
    "_days",
    "_kb",
    "_mb",
    "_gb",
    "_kilobytes",
    "_megabytes",
    "_gigabytes",
    "_percent",
    "_percentage",
    "_bps",
)
_RESERVED = ("_count", "_sum", "_bucket", "_created", "_info")


def metric_name(namespace: str, *words: str, unit: str | None = None, total: bool = False) -> str:
    """Return the metric name ``namespace_words[_unit][_total]``.

    Parameters
    ----------
    namespace
        One of :data:`NAMESPACES`.
    words
        Snake-case words naming the quantity.
    unit
        A base or domain unit (``"seconds"``, ``"bytes"``, ``"ratio"``, ``"usd"``,
        ``"basis_points"``), or ``None`` for a count or a unitless number.
    total
        Append ``_total`` (counters).

    Raises
    ------
    ValueError
        If the namespace is unknown or the result breaks a naming rule.

    Examples
    --------
    >>> metric_name("trading", "order_latency", unit="seconds")
    'trading_order_latency_seconds'
    >>> metric_name("trading", "orders", total=True)
    'trading_orders_total'
    >>> metric_name("trading", "fill_time", unit="ms")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: metric name 'trading_fill_time_ms' breaks a naming rule: uses the non-base ...

    .. versionadded:: 0.1.0
    """
    if namespace not in NAMESPACES:
        msg = f"metric namespace must be one of {NAMESPACES!r}, received {namespace!r}"
        raise ValueError(msg)
    parts = [namespace, *words]
    if unit:
        parts.append(unit)
    if total:
        parts.append("total")
    name = "_".join(parts)
    problems = naming_problems(name, "counter" if total else "gauge")
    if problems:
        msg = f"metric name {name!r} breaks a naming rule: {'; '.join(problems)}"
        raise ValueError(msg)
    return name


def naming_problems(name: str, kind: str) -> list[str]:
    """Return the naming rules ``name`` (a metric family of type ``kind``) breaks.

    ``kind`` is the exposition type: ``counter``, ``gauge``, ``histogram``,
    ``summary``, ``info``, ``stateset`` or ``unknown``. For counters ``name``
    is the exposed name, with ``_total``.

    Examples
    --------
    >>> naming_problems("trading_position_count", "gauge")
    ["ends in '_count', which is reserved for samples a client library adds"]
    >>> naming_problems("trading_orders_total", "counter")
    []

    .. versionadded:: 0.1.0
    """
    problems: list[str] = []
    if not _NAME.match(name) or not _WORD.match(name):
        problems.append("is not snake case ([a-z0-9_], no double or trailing underscore)")
    if not name.startswith(tuple(f"{ns}_" for ns in NAMESPACES)):
        problems.append(f"does not start with one of the namespaces {NAMESPACES!r}")
    for bad in _BAD_UNITS:
        if name.endswith(bad) or f"{bad}_" in f"{name}_":
            problems.append(f"uses the non-base unit suffix {bad!r}")
            break
    if kind == "counter":
        if not name.endswith("_total"):
            problems.append("is a counter but does not end in '_total'")
    elif name.endswith("_total"):
        problems.append(f"ends in '_total' but is a {kind}, not a counter")
    problems.extend(
        f"ends in {reserved!r}, which is reserved for samples a client library adds"
        for reserved in _RESERVED
        if name.endswith(reserved)
    )
    return problems
