"""The read API: snapshot, positions, trades, orders, fills, equity, clock, last-seen, stream."""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response, StreamingResponse

from algowatch.analytics.downsample import largest_triangle_three_buckets
from algowatch.events import format_timestamp, parse_timestamp
from algowatch.server._auth import require_token
from algowatch.server._dependencies import ServiceDep
from algowatch.server._render import (
    render_fills,
    render_orders,
    render_positions,
    render_snapshot,
    render_trades,
)
from algowatch.server._responses import json_response

__all__ = ["MAX_EQUITY_POINTS", "MAX_PAGE", "router"]

MAX_PAGE = 1000
MAX_EQUITY_POINTS = 10_000

router = APIRouter(prefix="/api/v1", tags=["read"], dependencies=[Depends(require_token)])

Offset = Annotated[int, Query(ge=0, le=10**9, description="items to skip (newest first)")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"page size, 1 to {MAX_PAGE}")]
Strategy = Annotated[
    str | None, Query(max_length=200, description="only this strategy's rows (all by default)")
]
Account = Annotated[
    str | None, Query(max_length=200, description="only this account's rows (all by default)")
]
Moment = Annotated[
    str | None, Query(max_length=64, description="RFC 3339 event time, e.g. 2026-01-02T10:00:00Z")
]

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
    summary="Closed trades, newest first (paged, filtered by scope)",
    responses={200: _JSON_OBJECT},
    response_class=Response,
)
async def get_trades(
    service: ServiceDep,
    offset: Offset = 0,
    limit: Limit = 100,
    strategy: Strategy = None,
    account: Account = None,
) -> Response:
    """Return ``{"offset", "limit", "total", "trades"}``: round trips, newest first.

    ``total`` counts the kept trades that match ``strategy`` and ``account``.
    """
    total, page = service.monitor.trade_page(
        offset=offset, limit=limit, strategy=strategy, account=account
    )
    return json_response(
        {"offset": offset, "limit": limit, "total": total, "trades": render_trades(page)}
    )


@router.get(
    "/orders",
    summary="Orders, newest first (paged, filtered by scope)",
    responses={200: _JSON_OBJECT},
    response_class=Response,
)
async def get_orders(
    service: ServiceDep,
    offset: Offset = 0,
    limit: Limit = 100,
    strategy: Strategy = None,
    account: Account = None,
) -> Response:
    """Return ``{"offset", "limit", "total", "orders"}``: orders with their status, newest first."""
    total, page = service.monitor.order_page(
        offset=offset, limit=limit, strategy=strategy, account=account
    )
    return json_response(
        {"offset": offset, "limit": limit, "total": total, "orders": render_orders(page)}
    )


@router.get(
    "/fills",
    summary="Fills, newest first (paged, filtered by scope)",
    responses={200: _JSON_OBJECT},
    response_class=Response,
)
async def get_fills(
    service: ServiceDep,
    offset: Offset = 0,
    limit: Limit = 100,
    strategy: Strategy = None,
    account: Account = None,
) -> Response:
    """Return ``{"offset", "limit", "total", "fills"}``: the recent fills, newest first."""
    total, page = service.monitor.fill_page(
        offset=offset, limit=limit, strategy=strategy, account=account
    )
    return json_response(
        {"offset": offset, "limit": limit, "total": total, "fills": render_fills(page)}
    )


def _moment(name: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise HTTPException(422, f"{name}: not an RFC 3339 date-time ({exc})") from exc


@router.get(
    "/equity",
    summary="The portfolio's equity curve in event time, down-sampled with LTTB",
    responses={200: _JSON_OBJECT},
    response_class=Response,
)
async def get_equity(
    service: ServiceDep,
    points: Annotated[
        int,
        Query(
            ge=2,
            le=MAX_EQUITY_POINTS,
            description=f"at most this many points (2 to {MAX_EQUITY_POINTS}), LTTB-selected",
        ),
    ] = 1000,
    since: Moment = None,
    until: Moment = None,
) -> Response:
    """Return ``{"points": [[time, equity], ...], "total", "downsampled"}``, oldest first.

    The series is the engine's finest (one point per
    ``monitor.equity_history_interval_seconds`` over the last
    ``monitor.equity_history_points``, the ``equity_curve`` interval points before);
    ``since`` and ``until`` bound it in event time (inclusive); ``total`` is how many
    points it has in that range before Largest-Triangle-Three-Buckets keeps ``points``.
    """
    start, end = _moment("since", since), _moment("until", until)
    series = [
        (ts, equity)
        for ts, equity in service.monitor.equity_history()
        if math.isfinite(equity) and (start is None or ts >= start) and (end is None or ts <= end)
    ]
    kept = series
    if len(series) > points:
        ts_array = np.fromiter((ts for ts, _ in series), dtype=np.float64, count=len(series))
        equity_array = np.fromiter((e for _, e in series), dtype=np.float64, count=len(series))
        indices = largest_triangle_three_buckets(ts_array, equity_array, points)
        kept = [series[i] for i in indices.tolist()]
    return json_response(
        {
            "points": [[format_timestamp(ts), equity] for ts, equity in kept],
            "total": len(series),
            "downsampled": len(kept) < len(series),
        }
    )


@router.get(
    "/clock",
    summary="The service's clock: now, and whether it is simulated (the demo)",
    responses={200: _JSON_OBJECT},
    response_class=Response,
)
async def get_clock(service: ServiceDep) -> Response:
    """Return ``{"now", "simulated", "speed", "last_event"}``.

    ``simulated`` is true when the service runs on a simulated clock
    (``algowatch demo``: event time runs ``speed`` times faster than the wall clock).
    """
    clock = service.clock
    last = service.monitor.last_seen().last_event_ts
    return json_response(
        {
            "now": format_timestamp(clock.time_ns()),
            "simulated": bool(getattr(clock, "simulated", False)),
            "speed": float(getattr(clock, "speed", 1.0)),
            "last_event": _optional_time(last),
        }
    )


@router.get(
    "/last-seen",
    summary="When each component's heartbeat, each symbol's mark and the last order were seen",
    responses={200: _JSON_OBJECT},
    response_class=Response,
)
async def get_last_seen(service: ServiceDep) -> Response:
    """Return ``{"heartbeats", "marks", "last_order", "last_event"}`` in event time.

    ``heartbeats`` maps each component to the time of its last ``heartbeat`` event,
    ``marks`` each symbol to its last mark's (RFC 3339, nanoseconds kept). The same
    figures as ``trading_last_heartbeat_timestamp_seconds`` and
    ``trading_last_mark_timestamp_seconds`` in ``/metrics``, without building every
    other series: a watchdog or a lag probe can read it many times a second.
    """
    seen = service.monitor.last_seen()
    return json_response(
        {
            "heartbeats": {name: format_timestamp(ts) for name, ts in seen.heartbeats.items()},
            "marks": {symbol: format_timestamp(ts) for symbol, ts in seen.marks.items()},
            "last_order": _optional_time(seen.last_order_ts),
            "last_event": _optional_time(seen.last_event_ts),
        }
    )


def _optional_time(ts: int | None) -> str | None:
    return None if ts is None else format_timestamp(ts)


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
