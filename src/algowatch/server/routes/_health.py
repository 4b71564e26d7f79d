"""The routes ``/health``, ``/ready`` and ``/live`` over a :class:`~algowatch.health.HealthRunner`.

Every handler only reads the runner's cache: it never waits on a dependency, so a
hung broker or database cannot hang a probe. The runner returns the results; this
module renders them.

============  ===========================================  ==========================
route         200                                          503
============  ===========================================  ==========================
``/health``   healthy, degraded                            unhealthy, starting
``/ready``    healthy, degraded                            unhealthy, starting
``/live``     always, while the event loop answers         never
============  ===========================================  ==========================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from fastapi import APIRouter, Response

from algowatch.server._render import render_health

if TYPE_CHECKING:
    from algowatch.health import HealthRunner

__all__ = ["router"]

_JSON = "application/json"
_ALIVE = b'{"status":"alive"}'
_OK_STATUSES = frozenset({"healthy", "degraded"})


def _status_code(status: str) -> int:
    return 200 if status in _OK_STATUSES else 503


def router(runner: HealthRunner) -> APIRouter:
    """Return an ``APIRouter`` serving ``/health``, ``/ready`` and ``/live`` for ``runner``.

    ``/health`` renders :meth:`HealthRunner.report` (overall status, every check with
    its status, latency, age, error and last check time, and system metrics), with
    503 while ``unhealthy`` or ``starting``. ``/ready`` returns ``{"status": ...}``
    with 200 when :attr:`HealthRunner.ready` (healthy or degraded, and every check
    that gates readiness up), else 503. ``/live`` returns 200 with
    ``{"status": "alive"}`` and checks nothing else. The probes need no token.

    Examples
    --------
    >>> import asyncio
    >>> import httpx
    >>> from fastapi import FastAPI
    >>> from algowatch.health import HealthRunner
    >>> from algowatch.settings import HealthSettings
    >>> app = FastAPI()
    >>> app.include_router(router(HealthRunner(HealthSettings(system_metrics=False))))
    >>> async def probe() -> tuple[int, object]:
    ...     transport = httpx.ASGITransport(app=app)
    ...     async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
    ...         ready, live = await client.get("/ready"), await client.get("/live")
    ...     return ready.status_code, live.json()
    >>> asyncio.run(probe())
    (503, {'status': 'alive'})

    .. versionadded:: 0.1.0
    """
    api = APIRouter(tags=["health"])

    @api.get("/health", summary="Overall health with every check's detail")
    async def health() -> Response:
        report = runner.report()
        return Response(
            orjson.dumps(render_health(report)),
            status_code=_status_code(report.status),
            media_type=_JSON,
        )

    @api.get("/ready", summary="Readiness: 200 when healthy or degraded and the journal is up")
    async def ready() -> Response:
        status = runner.status
        body = orjson.dumps({"status": status})
        code = 200 if runner.ready else 503
        return Response(body, status_code=code, media_type=_JSON)

    @api.get("/live", summary="Liveness: 200 while the process answers")
    async def live() -> Response:
        return Response(_ALIVE, media_type=_JSON)

    return api
