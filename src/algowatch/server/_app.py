"""``create_app``: the FastAPI application, one router per area and a lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry

from algowatch import __version__
from algowatch.clock import Clock, SystemClock
from algowatch.exporters import (
    JournalCollector,
    RiskCollector,
    SystemCollector,
    metrics_endpoint,
    register_collectors,
)
from algowatch.monitor import Monitor
from algowatch.server import _ingest, routes
from algowatch.server._auth import check_bind, protected
from algowatch.server._metrics import HttpCollector, IngestCollector
from algowatch.server._nats_metrics import NatsCollector
from algowatch.server._responses import problem
from algowatch.server._service import Service
from algowatch.server._web import HttpStats, WebGuard
from algowatch.settings import Settings

__all__ = ["DOCS_ASSETS_URL", "STATIC_DIR", "create_app"]

STATIC_DIR = Path(__file__).parent / "static"
# where /docs (Swagger UI) and /redoc find their scripts: fastapi-offline's copies, served
# by the app itself, so the pages work without a network (no CDN)
DOCS_ASSETS_URL = "/docs-assets"

_NO_DASHBOARD = (
    "<!doctype html><title>algowatch</title><h1>algowatch</h1>"
    "<p>The dashboard assets are not installed. The API is at "
    '<a href="/api/v1/snapshot">/api/v1/snapshot</a>; its schema at '
    '<a href="/docs">/docs</a>.</p>'
)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    service: Service = app.state.service
    try:
        try:
            await service.start()
        except Exception as exc:
            service.startup_error = exc
            raise
        yield
    finally:
        await service.stop()


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    monitor: Monitor | None = None,
    risk_loop: bool = True,
) -> FastAPI:
    """Return the algowatch service as a FastAPI application.

    The app serves the ingest API (``POST /api/v1/events``), the read API
    (``/api/v1/snapshot``, ``/positions``, ``/trades``, ``/orders``, ``/stream``),
    and the dashboard at ``/``. Its lifespan opens the journal under
    ``settings.data_dir``, replays it into the Monitor, and on shutdown finishes the
    queued batches and closes the journal.

    With ``settings.risk.enabled`` (the default) the app holds one
    :class:`~algowatch.risk.RiskGuard` (``app.state.risk_guard``, else ``None``): its
    state in ``<data_dir>/risk-state.json``, its records in the service's audit
    trail, its events ingested like any other, its routes at ``/api/v1/risk`` and its
    metrics on ``/metrics``; the lifespan evaluates it every
    ``settings.risk.check_interval_seconds``.

    Parameters
    ----------
    settings
        The whole configuration; ``settings.server`` and ``settings.journal`` matter most.
    clock
        The wall clock (receive time of events without ``ts``; the Monitor's clock).
    monitor
        A Monitor to serve (the journal is replayed into it); a new one by default.
    risk_loop
        Evaluate the risk guard periodically in the lifespan. ``False`` leaves the
        evaluations to the caller (``await app.state.service.risk.evaluate_now()`` on
        the service's loop).

    Raises
    ------
    ConfigError
        When ``server.host`` is not loopback and no ``server.token`` is set.
    """
    check_bind(settings.server)
    clock = clock or SystemClock()
    monitor = monitor if monitor is not None else Monitor(settings.monitor, clock=clock)
    service = Service(settings, clock=clock, monitor=monitor, risk_loop=risk_loop)
    app = FastAPIOffline(
        title="algowatch",
        version=__version__,
        summary="Monitoring for algorithmic trading systems",
        lifespan=_lifespan,
        static_url=DOCS_ASSETS_URL,
    )
    app.state.service = service
    app.state.risk_guard = service.risk_guard
    app.state.http_stats = http_stats = HttpStats()
    app.include_router(_ingest.router)
    app.include_router(routes.read_router)
    app.include_router(routes.report_router)
    app.include_router(routes.freqtrade_router())
    app.include_router(routes.health_router(service.health))
    if service.risk_guard is not None:
        app.include_router(routes.risk_router(service.risk_guard))
    app.add_middleware(WebGuard, settings=settings.server, stats=http_stats)
    registry = CollectorRegistry()
    register_collectors(
        registry,
        monitor,
        health=service.health.report,
        audit=service.audit_state if settings.audit.enabled else None,
    )
    registry.register(IngestCollector(service))
    registry.register(JournalCollector(service.journal_state))
    registry.register(HttpCollector(http_stats))
    if service.nats is not None:
        registry.register(NatsCollector(service.nats))
    if settings.health.system_metrics:
        registry.register(SystemCollector(service.health))
    if service.risk_guard is not None:
        registry.register(RiskCollector(service.risk_guard))
    app.state.registry = registry
    app.add_route("/metrics", protected(metrics_endpoint(registry)), include_in_schema=False)
    _add_error_handler(app)
    _add_dashboard(app)
    return app


def _add_error_handler(app: FastAPI) -> None:
    # every refusal a route raises gets the one problem body
    @app.exception_handler(HTTPException)
    async def _refused(request: Request, exc: HTTPException) -> Response:
        return problem(exc.status_code, str(exc.detail), headers=exc.headers)

    # Last line of defence: an unexpected error answers 500 with a short body and is
    # logged; it never takes the service down.
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        logging.getLogger("algowatch.server").error(
            "request to %s failed: %r", request.url.path, exc, exc_info=exc
        )
        return problem(500, "internal error; the service logged the details")


def _add_dashboard(app: FastAPI) -> None:
    index = STATIC_DIR / "index.html"
    if index.is_file():

        @app.get("/", include_in_schema=False)
        async def _dashboard() -> Response:
            return FileResponse(index, media_type="text/html")

        app.mount("/", StaticFiles(directory=STATIC_DIR), name="dashboard")
    else:

        @app.get("/", include_in_schema=False)
        async def _missing_dashboard() -> Response:
            return HTMLResponse(_NO_DASHBOARD)
