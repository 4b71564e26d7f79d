"""The risk guard's routes under ``/api/v1/risk``.

- ``GET /api/v1/risk``: :meth:`RiskGuard.report` (level, latch, limits, recent alerts).
- ``POST /api/v1/risk/reset``: release the flatten latch; an ``application/json`` body
  ``{"by": ..., "reason": ...}`` (``by`` up to 200 characters, ``reason`` up to 2,000,
  the body up to 16 KiB).

Both need ``Authorization: Bearer <token>`` when a token is configured (the one token
dependency of every ``/api/v1`` router). The guard decides; this module renders.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from algowatch.server._auth import require_token
from algowatch.server._render import render_health
from algowatch.server._responses import json_response, problem
from algowatch.server._web import read_request_body

if TYPE_CHECKING:
    from algowatch.risk import RiskGuard

__all__ = ["MAX_BY_CHARS", "MAX_REASON_CHARS", "MAX_RESET_BODY_BYTES", "router"]

MAX_BY_CHARS = 200
MAX_REASON_CHARS = 2000
MAX_RESET_BODY_BYTES = 16 * 1024

_RESET_EXAMPLE = 'body must be JSON like {"by": "alice", "reason": "checked positions"}'


class _ResetRequest(msgspec.Struct, forbid_unknown_fields=True):
    by: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_BY_CHARS)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REASON_CHARS)]


_OPENAPI_RESET: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["by", "reason"],
                    "additionalProperties": False,
                    "properties": {
                        "by": {"type": "string", "minLength": 1, "maxLength": MAX_BY_CHARS},
                        "reason": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": MAX_REASON_CHARS,
                        },
                    },
                }
            }
        },
    }
}


def _document(guard: RiskGuard) -> dict[str, Any]:
    # the guard's report and the health report its last evaluation judged (null if none)
    health = guard.last_health
    return {**guard.report(), "health": None if health is None else render_health(health)}


def router(guard: RiskGuard) -> APIRouter:
    """Return a router serving ``guard``'s state and its reset under ``/api/v1/risk``."""
    api = APIRouter(prefix="/api/v1/risk", tags=["risk"], dependencies=[Depends(require_token)])

    @api.get("")
    async def get_risk() -> Response:
        """Return the risk guard's level, limits and recent alerts."""
        return json_response(_document(guard))

    @api.post("/reset", openapi_extra=_OPENAPI_RESET)
    async def reset_risk(request: Request) -> Response:
        """Release the kill switch (the flatten latch); audited as an override."""
        raw = await read_request_body(request, ("application/json",), MAX_RESET_BODY_BYTES)
        if isinstance(raw, Response):
            return raw
        try:
            body = msgspec.json.decode(raw, type=_ResetRequest)
        except msgspec.ValidationError as exc:
            return problem(422, str(exc))
        except msgspec.DecodeError:
            return problem(422, _RESET_EXAMPLE)
        guard.reset(by=body.by, reason=body.reason)
        return json_response(_document(guard))

    return api
