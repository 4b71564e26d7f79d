"""``POST /api/v1/events``: validate a whole batch, journal it, then apply it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from algowatch._codec import decode_batch_payloads
from algowatch.errors import InvalidEventError, JournalError, ServiceUnavailableError
from algowatch.events import Event
from algowatch.server._auth import require_token
from algowatch.server._dependencies import ServiceDep
from algowatch.server._responses import json_response, problem
from algowatch.server._schema import event_body_schema
from algowatch.server._service import Service
from algowatch.server._web import read_request_body

__all__ = ["router", "store_events"]

router = APIRouter(prefix="/api/v1", tags=["ingest"], dependencies=[Depends(require_token)])

_CONTENT_TYPES = ("application/json", "application/x-ndjson")
# Bodies above this size (about 200 events, ~1 ms of decoding) are decoded on a worker
# thread: the event loop keeps serving (/health, other clients) while a batch decodes.
_THREAD_DECODE_BYTES = 32 * 1024


class FieldProblem(BaseModel):
    """One invalid field."""

    field: str = Field(examples=["order_filled.quantity"])
    message: str = Field(examples=["must be > 0, received -5"])


class InvalidEvent(BaseModel):
    """One invalid event of a rejected batch."""

    index: int | None = Field(description="0-based position in the batch; null for the body")
    line: int | None = Field(description="1-based NDJSON line, when the body is NDJSON")
    errors: list[FieldProblem]


class BatchRejected(BaseModel):
    """422: nothing of the batch was applied."""

    detail: str
    invalid: list[InvalidEvent]


class BatchAccepted(BaseModel):
    """202: the batch is in the journal and applied."""

    received: int = Field(description="events in the batch")
    accepted: int = Field(description="new events, journaled and applied")
    duplicates: list[str] = Field(description="event_id of each event already known (ignored)")


class Problem(BaseModel):
    """An error with a human-readable ``detail``."""

    detail: str


_EVENT_SCHEMA: dict[str, Any] = event_body_schema()

_OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": _EVENT_SCHEMA}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


def _invalid_payload(errors: list[InvalidEventError], received: int | None) -> dict[str, Any]:
    invalid = [
        {
            "index": exc.index,
            "line": exc.line,
            "errors": [{"field": e.field, "message": e.message} for e in exc.errors],
        }
        for exc in errors
    ]
    if received is None:
        detail = "the body is not a JSON array or NDJSON of events; nothing was applied"
    else:
        detail = f"{len(errors)} of {received} events are invalid; nothing was applied"
    return {"detail": detail, "invalid": invalid}


@router.post(
    "/events",
    status_code=202,
    summary="Ingest a batch of events (JSON array or NDJSON)",
    response_model=BatchAccepted,
    responses={
        401: {"model": Problem, "description": "missing or wrong bearer token"},
        413: {"model": Problem, "description": "body larger than server.max_body_bytes"},
        415: {"model": Problem, "description": "not application/json or application/x-ndjson"},
        422: {
            "model": BatchRejected,
            "description": "invalid events, or a batch the journal refused; nothing applied",
        },
        503: {"model": Problem, "description": "journal behind or unavailable; retry after"},
    },
    openapi_extra=_OPENAPI_BODY,
)
async def post_events(request: Request, service: ServiceDep) -> Response:
    """Validate the whole batch, store it in the journal, then apply it.

    The response is sent only once the events are durable. A batch is all or
    nothing: one invalid event rejects the batch (422, every invalid field listed)
    and nothing is applied; it never affects another client's batch. Events whose
    ``event_id`` is already known are ignored and listed in ``duplicates``; events
    without ``ts`` get the receive time; a ``ts`` more than ``server.max_future_seconds``
    ahead of the service clock is invalid. 503 means only "the journal is behind or
    unavailable right now": retry it.
    """
    settings = service.settings.server
    body = await read_request_body(request, _CONTENT_TYPES, settings.max_body_bytes)
    if isinstance(body, Response):
        return body
    received_ns = service.clock.time_ns()
    future = settings.max_future_seconds
    max_ts = None if math.isinf(future) else received_ns + round(future * 1e9)
    try:
        # the payloads are the received lines, which the journal stores as they are
        if len(body) > _THREAD_DECODE_BYTES:
            batch, payloads = await run_in_threadpool(
                decode_batch_payloads, body, default_ts=received_ns, max_ts=max_ts
            )
        else:
            batch, payloads = decode_batch_payloads(body, default_ts=received_ns, max_ts=max_ts)
    except InvalidEventError as exc:
        service.count("rejected_batches")
        return json_response(_invalid_payload([exc], None), status_code=422)
    if batch.errors:
        service.count("rejected_batches")
        total = len(batch.events) + len(batch.errors)
        return json_response(_invalid_payload(batch.errors, total), status_code=422)
    return await store_events(service, batch.events, payloads)


async def store_events(
    service: Service,
    events: Sequence[Event],
    payloads: Sequence[bytes | None] | None = None,
) -> Response:
    """Journal then apply ``events`` as one batch and answer as ``POST /api/v1/events`` does.

    202 with :class:`BatchAccepted` once the events are durable; 503 (with
    ``Retry-After``) while the journal is behind or unavailable; 422 when the journal
    refused the batch itself. The ingest routes (events, freqtrade) all answer
    through this function. ``payloads`` are as for :meth:`Service.submit`.
    """
    settings = service.settings.server
    try:
        result = await service.submit(events, payloads)
    except ServiceUnavailableError as exc:
        return problem(
            503, str(exc), headers={"Retry-After": str(max(1, settings.retry_after_seconds))}
        )
    except JournalError as exc:  # this batch alone cannot be stored; resending cannot help
        service.count("rejected_batches")
        refused = {
            "detail": "the journal refused the batch; nothing was applied",
            "invalid": [
                {"index": None, "line": None, "errors": [{"field": "batch", "message": str(exc)}]}
            ],
        }
        return json_response(refused, status_code=422)
    return json_response(
        {"received": result.received, "accepted": result.accepted, "duplicates": result.duplicates},
        status_code=202,
    )
