"""Helpers shared by the artefact builders."""

from __future__ import annotations

__all__ = ["duration", "number"]


def duration(seconds: float) -> str:
    """Return ``seconds`` as a Prometheus duration (``90`` -> ``"1m30s"``).

    Raises
    ------
    ValueError
        If ``seconds`` is not positive or not a whole number of milliseconds.

    Examples
    --------
    >>> duration(5), duration(90), duration(0.5), duration(3600)
    ('5s', '1m30s', '500ms', '1h')
    """
    millis = round(seconds * 1000)
    if millis <= 0 or abs(millis - seconds * 1000) > 1e-6:
        msg = f"duration must be a positive whole number of milliseconds, received {seconds!r}"
        raise ValueError(msg)
    parts: list[str] = []
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def number(value: float) -> str:
    """Return ``value`` as a short PromQL number literal.

    Examples
    --------
    >>> number(0.15), number(5000.0), number(3 * 1024**3)
    ('0.15', '5000', '3221225472')
    """
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))
