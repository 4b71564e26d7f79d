"""The algowatch service: ingest API, read API, SSE stream, dashboard, ``/metrics``, health.

Build it with :func:`create_app` and run it with any ASGI server, or use
``algowatch serve``. :class:`ServerThread` runs it on a free loopback port for
tests, and :class:`InProcessMonitor` runs the whole service inside a
single-process bot (the bot still sends its events through the SDK).
:func:`render_snapshot`, :func:`render_positions`, :func:`render_trades`,
:func:`render_orders` and :func:`render_fills` turn the engine's typed figures
(:meth:`algowatch.monitor.Monitor.figures` and friends) into the read API's JSON
documents.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from algowatch.server._app import STATIC_DIR, create_app
from algowatch.server._auth import check_bind, is_loopback
from algowatch.server._in_process import InProcessMonitor
from algowatch.server._render import (
    render_fills,
    render_orders,
    render_positions,
    render_snapshot,
    render_trades,
)
from algowatch.server._runner import ServerThread, serve_forever

__all__ = [
    "STATIC_DIR",
    "InProcessMonitor",
    "ServerThread",
    "check_bind",
    "create_app",
    "is_loopback",
    "render_fills",
    "render_orders",
    "render_positions",
    "render_snapshot",
    "render_trades",
    "serve_forever",
]
