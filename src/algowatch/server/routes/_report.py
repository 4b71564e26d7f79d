"""``GET /report``: the HTML report of the service's own state (``algowatch.report``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from algowatch.report import render_report, report_from_monitor
from algowatch.server._auth import require_token
from algowatch.server._dependencies import ServiceDep

__all__ = ["router"]

router = APIRouter(tags=["read"], dependencies=[Depends(require_token)])


@router.get(
    "/report",
    summary="The HTML report of the current state",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}, "description": "one self-contained page"}},
)
async def get_report(service: ServiceDep) -> HTMLResponse:
    """Return the report page (``algowatch report`` of this service), no benchmark.

    The engine's state is read on the event loop, as every read route does; the page is
    drawn in a worker thread, so ingest keeps flowing while it renders.
    """
    data = report_from_monitor(
        service.monitor,
        service.settings,
        source="this service (GET /report)",
        generated_ts=service.clock.time_ns(),
    )
    page = await run_in_threadpool(render_report, data)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
