"""The service's HTTP routes, one router per area.

Every ``/api/v1`` router shares one token dependency
(``algowatch.server._auth.require_token``) and every error one problem body
(``{"detail": ...}``, ``algowatch.server._responses.problem``). The domain packages
(``health/``, ``risk/``) return results; these routers render them.

- :func:`health_router`: ``/health``, ``/ready``, ``/live`` (no token).
- :data:`read_router`: snapshot, positions, trades, orders, the SSE stream.
- :data:`report_router`: ``GET /report``, the HTML report of the service's state.
- :func:`risk_router`: the risk guard's report and its reset.
- :func:`freqtrade_router`: ``POST /api/v1/sources/freqtrade``, freqtrade's webhooks (the
  token may be in the URL, :func:`~algowatch.server._auth.require_url_token`).

The ingest route (``POST /api/v1/events``) is in ``algowatch.server._ingest``.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from algowatch.server.routes._freqtrade import router as freqtrade_router
from algowatch.server.routes._health import router as health_router
from algowatch.server.routes._read import router as read_router
from algowatch.server.routes._report import router as report_router
from algowatch.server.routes._risk import router as risk_router

__all__ = ["freqtrade_router", "health_router", "read_router", "report_router", "risk_router"]
