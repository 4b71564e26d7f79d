"""JSON responses encoded with orjson (NaN and infinity become ``null``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi.responses import Response

__all__ = ["json_response", "problem"]


def json_response(
    payload: Any, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """Return ``payload`` as an ``application/json`` response."""
    return Response(
        orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS),
        status_code=status_code,
        media_type="application/json",
        headers=dict(headers) if headers else None,
    )


def problem(status_code: int, detail: str, *, headers: Mapping[str, str] | None = None) -> Response:
    """Return an error response ``{"detail": ...}``."""
    return json_response({"detail": detail}, status_code=status_code, headers=headers)
