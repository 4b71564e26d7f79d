"""``POST /api/v1/sources/freqtrade``: freqtrade's webhook messages, as events.

The body is one message as freqtrade's webhook posts it with ``"format": "json"`` and the
block ``algowatch config freqtrade`` prints. :class:`~algowatch.integrations.freqtrade.
FreqtradeMapper` turns it into events, which are journaled and applied like a batch of
``POST /api/v1/events``. The token may be in the URL (``?token=``): freqtrade's webhook
cannot set a header.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from algowatch.errors import InvalidEventError
from algowatch.integrations.freqtrade import MESSAGE_TYPES, ROUTE, FreqtradeMapper
from algowatch.server._auth import require_url_token
from algowatch.server._dependencies import ServiceDep

# the ingest route's own storing step: one 202/422/503 policy for every source route
from algowatch.server._ingest import BatchAccepted, BatchRejected, Problem, store_events
from algowatch.server._responses import json_response
from algowatch.server._web import read_request_body

__all__ = ["MAX_MESSAGE_BYTES", "router"]

MAX_MESSAGE_BYTES = 64 * 1024
"""The largest freqtrade message accepted (one message is well under 2 KiB)."""

_OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"type": "string", "enum": list(MESSAGE_TYPES)},
                    },
                    "additionalProperties": {"type": "string"},
                }
            }
        },
    }
}


def _orders(service: Any) -> Iterator[tuple[str, str]]:
    # the engine's open and recent orders, newest first (read only after a restart)
    monitor = service.monitor
    settings = service.settings.monitor
    limit = settings.max_open_orders + settings.max_recent_orders
    for order in monitor.order_figures(limit=limit):
        yield order.order_id, order.status


def router() -> APIRouter:
    """Return a router serving ``POST /api/v1/sources/freqtrade`` with its own mapper."""
    mapper = FreqtradeMapper()
    api = APIRouter(tags=["sources"], dependencies=[Depends(require_url_token)])

    @api.post(
        ROUTE,
        status_code=202,
        summary="Ingest one freqtrade webhook message",
        response_model=BatchAccepted,
        responses={
            401: {"model": Problem, "description": "missing or wrong token (header or ?token=)"},
            413: {"model": Problem, "description": f"body over {MAX_MESSAGE_BYTES} bytes"},
            415: {"model": Problem, "description": "not application/json"},
            422: {"model": BatchRejected, "description": "invalid message; nothing applied"},
            503: {"model": Problem, "description": "journal behind or unavailable; retry"},
        },
        openapi_extra=_OPENAPI_BODY,
    )
    async def post_freqtrade(request: Request, service: ServiceDep) -> Response:
        """Turn one freqtrade message into events; journal and apply them.

        A message freqtrade sends again (its webhook retries) maps to the same events,
        which are reported as ``duplicates``. An invalid message is refused with 422
        naming every invalid freqtrade field (``freqtrade.exit_fill.profit_amount``),
        and nothing of it is applied.
        """
        body = await read_request_body(request, ("application/json",), MAX_MESSAGE_BYTES)
        if isinstance(body, Response):
            return body
        future = service.settings.server.max_future_seconds
        received_ns = service.clock.time_ns()
        max_ts = None if math.isinf(future) else received_ns + round(future * 1e9)
        try:
            message = orjson.loads(body)
            events = mapper.map(
                message, received_ns=received_ns, max_ts=max_ts, orders=lambda: _orders(service)
            )
        except (orjson.JSONDecodeError, InvalidEventError) as exc:
            service.count("rejected_batches")
            errors = (
                [{"field": e.field, "message": e.message} for e in exc.errors]
                if isinstance(exc, InvalidEventError)
                else [{"field": "freqtrade", "message": f"is not JSON: {exc}"}]
            )
            rejected = {
                "detail": "the freqtrade message is invalid; nothing was applied",
                "invalid": [{"index": None, "line": None, "errors": errors}],
            }
            return json_response(rejected, status_code=422)
        if not events:
            return json_response({"received": 0, "accepted": 0, "duplicates": []}, status_code=202)
        return await store_events(service, events)

    return api
