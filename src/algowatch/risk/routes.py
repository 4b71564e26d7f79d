"""HTTP routes of the risk guard, for :func:`algowatch.server.create_app` to include.

- ``GET /api/v1/risk``: :meth:`RiskGuard.report` (level, latch, limits, recent alerts).
- ``POST /api/v1/risk/reset``: release the flatten latch; body ``{"by": ..., "reason": ...}``;
  needs ``Authorization: Bearer <token>`` when a token is configured.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import secrets
from typing import Any

import msgspec
from fastapi import APIRouter, Header, HTTPException, Request

from algowatch.risk.guard import RiskGuard

__all__ = ["risk_router"]


class _ResetRequest(msgspec.Struct, forbid_unknown_fields=True):
    by: str
    reason: str


def risk_router(guard: RiskGuard, *, token: str | None = None) -> APIRouter:
    """Return a router serving the guard's state and its reset under ``/api/v1/risk``."""
    router = APIRouter(prefix="/api/v1/risk", tags=["risk"])

    @router.get("")
    async def get_risk() -> dict[str, Any]:
        """Return the risk guard's level, limits and recent alerts."""
        return guard.report()

    @router.post("/reset")
    async def reset_risk(
        request: Request, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        """Release the kill switch (the flatten latch); audited as an override."""
        if token is not None and not secrets.compare_digest(authorization or "", f"Bearer {token}"):
            raise HTTPException(status_code=401, detail="a valid bearer token is required")
        try:
            body = msgspec.json.decode(await request.body(), type=_ResetRequest)
        except msgspec.ValidationError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        except msgspec.DecodeError:
            detail = 'body must be JSON like {"by": "alice", "reason": "checked positions"}'
            raise HTTPException(status_code=422, detail=detail) from None
        guard.reset(by=body.by, reason=body.reason)
        return guard.report()

    return router
