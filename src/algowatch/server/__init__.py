"""The algowatch service: ingest API, read API, SSE stream, dashboard, ``/metrics``, health.

Build it with :func:`create_app` and run it with any ASGI server, or use
``algowatch serve``. :func:`run_in_thread` runs it on a free loopback port for
tests and single-process bots.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from algowatch.server._app import STATIC_DIR, create_app
from algowatch.server._auth import check_bind, is_loopback
from algowatch.server._runner import ServerThread, serve_forever

__all__ = ["STATIC_DIR", "ServerThread", "check_bind", "create_app", "is_loopback", "serve_forever"]
