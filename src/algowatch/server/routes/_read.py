"""The read API: snapshot, positions, trades, orders and the SSE stream."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse

from algowatch.server._auth import require_token
from algowatch.server._dependencies import ServiceDep
from algowatch.server._render import (
    render_orders,
    render_positions,
    render_snapshot,
    render_trades,
)
from algowatch.server._responses import json_response

__all__ = ["MAX_PAGE", "router"]

MAX_PAGE = 1000

router = APIRouter(prefix="/api/v1", tags=["read"], dependencies=[Depends(require_token)])

Offset = Annotated[int, Query(ge=0, le=10**9, description="items to skip (newest first)")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"page size, 1 to {MAX_PAGE}")]

_JSON_OBJECT: dict[str, Any] = {
    "content": {"application/json": {"schema": {"type": "object"}}},
    "description": "JSON object",
}


@router.get(
    "/snapshot",
    summary="The engine's current state",
    responses={200: _JSON_OBJECT},
    response_class=Response,
)
async def get_snapshot(service: ServiceDep) -> Response:
    """Return the Monitor's snapshot (undefined values are ``null``, never 0)."""
    return json_response(render_snapshot(service.monitor.figures()))


@router.get(
    "/positions",
    summary="Open positions",
    responses={200: _JSON_OBJECT},
    response_class=Response,
)
async def get_positions(service: ServiceDep) -> Response:
    """Return ``{"positions": [...]}``, one entry per open (account, symbol)."""
    positions = service.monitor.figures().positions
    return json_response({"positions": render_positions(positions)})


@router.get(
    "/trades",
    summary="Closed trades, newest first (paged)",
    responses={200: _JSON_OBJECT},
    response_class=Response,
)
async def get_trades(service: ServiceDep, offset: Offset = 0, limit: Limit = 100) -> Response:
    """Return ``{"offset", "limit", "trades"}``: round trips, newest first."""
    trades = render_trades(service.monitor.trade_figures(offset=offset, limit=limit))
    return json_response({"offset": offset, "limit": limit, "trades": trades})


@router.get(
    "/orders",
    summary="Orders, newest first (paged)",
    responses={200: _JSON_OBJECT},
    response_class=Response,
)
async def get_orders(service: ServiceDep, offset: Offset = 0, limit: Limit = 100) -> Response:
    """Return ``{"offset", "limit", "orders"}``: orders with their status, newest first."""
    orders = render_orders(service.monitor.order_figures(offset=offset, limit=limit))
    return json_response({"offset": offset, "limit": limit, "orders": orders})


@router.get(
    "/stream",
    summary="Server-sent events of snapshot updates",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "`event: snapshot` messages, at most one per stream interval",
        }
    },
)
async def get_stream(
    service: ServiceDep,
    limit: Annotated[
        int | None, Query(ge=1, le=10**6, description="close after this many snapshots")
    ] = None,
) -> StreamingResponse:
    """Stream ``event: snapshot`` messages: the current snapshot, then each change.

    Updates are sent at most once per ``server.stream_interval_seconds``; the
    stream ends when the service stops, or after ``limit`` snapshots.
    """
    return StreamingResponse(
        service.broadcaster.subscribe(limit),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
