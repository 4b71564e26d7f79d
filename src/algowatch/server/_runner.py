"""Run the app under uvicorn: in the foreground (``algowatch serve``) or in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType, TracebackType
from typing import Self, TypeVar

import uvicorn
from fastapi import FastAPI

from algowatch.errors import ServiceUnavailableError
from algowatch.server._connections import AcceptErrorLimiter, connection_budget, guarded_protocol

__all__ = ["ServerThread", "serve_forever"]

_T = TypeVar("_T")
# the GIL switch interval of `algowatch serve` (Python's default is 5 ms)
_SWITCH_INTERVAL_SECONDS = 0.001
# the collector's first threshold in `algowatch serve` (Python's default is 700 allocations)
_GC_THRESHOLD = 10_000
_log = logging.getLogger("algowatch.server")


class _Server(uvicorn.Server):
    # uvicorn waits for open responses before the lifespan shutdown; server-sent event
    # streams never end by themselves, so they are ended first.
    def __init__(self, config: uvicorn.Config, app: FastAPI, *, tune_gc: bool = False) -> None:
        super().__init__(config)
        self._app = app
        self._tune_gc = tune_gc

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().set_exception_handler(AcceptErrorLimiter())
        await super().startup(sockets=sockets)
        if self._tune_gc:
            # The lifespan has replayed the journal: that state lives as long as the process.
            # Frozen, the collector never scans it again (a full collection over a large
            # engine state stops every thread for tens of milliseconds); a larger first
            # threshold makes the young collections under ingest rarer.
            gc.collect()
            gc.freeze()
            gc.set_threshold(_GC_THRESHOLD, *gc.get_threshold()[1:])

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._app.state.service.begin_shutdown()
        await super().shutdown(sockets=sockets)


def _config(app: FastAPI, *, log_level: str, access_log: bool) -> uvicorn.Config:
    settings = app.state.service.settings.server
    # the connection cap and the accept batch fit the file-descriptor limit, so a flood
    # of connections is shed by closing the slowest instead of failing accept()
    budget = connection_budget(settings.max_connections)
    return uvicorn.Config(
        app,
        # uvicorn's own dictConfig would give its loggers plain-text handlers that do not
        # propagate; without it they reach the JSON handler of configure_logging
        log_config=None,
        log_level=log_level,
        access_log=access_log,
        http=guarded_protocol(settings, app.state.http_stats, budget),
        backlog=budget.backlog,
        timeout_keep_alive=max(1, math.ceil(settings.keep_alive_timeout_seconds)),
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout_seconds)),
        lifespan="on",
        server_header=False,
    )


def serve_forever(app: FastAPI, *, log_level: str = "info") -> None:
    """Serve ``app`` on ``settings.server.host:port`` until SIGINT or SIGTERM.

    On a signal the open streams end, queued batches reach the journal, the journal
    and the audit trail are closed, and this returns normally (the process can exit
    0). A second Ctrl-C forces the exit without waiting for open connections. While
    it runs, the interpreter's GIL switch interval is 1 ms (restored on return); once the
    journal is replayed, the objects alive are frozen out of garbage collection
    (:func:`gc.freeze`) and the collector's first threshold is 10,000 (both undone on
    return).

    Raises
    ------
    Exception
        The error that stopped the app's startup (journal, audit trail, data folder),
        or :class:`~algowatch.errors.ServiceUnavailableError` if the port is taken.
    """
    service = app.state.service
    config = _config(app, log_level=log_level, access_log=False)
    config.host, config.port = service.settings.server.host, service.settings.server.port
    server = _Server(config, app, tune_gc=True)
    # The journal writer and the decoding threads run Python code; the event loop waits
    # for the GIL up to one switch interval whenever it wakes. 1 ms instead of 5 keeps
    # /health and reads answering within milliseconds under ingest (this process only).
    previous_interval, previous_threshold = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(_SWITCH_INTERVAL_SECONDS)
    try:
        with _signals_end_the_run():
            server.run()
    except SystemExit:
        # uvicorn exits the process when startup fails; report the cause instead
        if service.startup_error is None and server.started:
            raise
    finally:
        sys.setswitchinterval(previous_interval)
        gc.set_threshold(*previous_threshold)
        gc.unfreeze()
    if service.startup_error is not None:
        raise service.startup_error
    if not server.started:
        msg = f"the service could not listen on {config.host}:{config.port}; see the log above"
        raise ServiceUnavailableError(msg)


@contextlib.contextmanager
def _signals_end_the_run() -> Iterator[None]:
    # uvicorn handles SIGINT/SIGTERM (graceful shutdown), then restores the handlers it
    # found and raises the signal again, which by default ends the process with
    # KeyboardInterrupt or a SIGTERM death. The signal has done its job by then, so the
    # handlers found here ignore the re-raised signal.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, _already_handled) for sig in handled}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _already_handled(signum: int, frame: FrameType | None) -> None:
    _log.info("signal %d: the service has stopped", signum)


class ServerThread:
    """Serve an app on a loopback port from a background thread.

    Parameters
    ----------
    app
        The app from :func:`~algowatch.server.create_app`.
    host, port
        Where to listen; port 0 (default) picks a free port, see :attr:`url`.

    Examples
    --------
    >>> import tempfile
    >>> from algowatch.server import create_app
    >>> from algowatch.settings import Settings
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with ServerThread(create_app(Settings(data_dir=tmp))) as server:
    ...         server.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, app: FastAPI, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._socket = socket.socket(
            socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM
        )
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError as exc:
            self._socket.close()
            msg = f"cannot listen on {host}:{port}: {exc.strerror}"
            raise OSError(exc.errno, msg) from None
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        self._server = _Server(_config(app, log_level="warning", access_log=False), app)
        self._thread = threading.Thread(target=self._run, name="algowatch-server", daemon=True)

    def _run(self) -> None:
        # uvicorn calls sys.exit when the app's startup fails; start() reports the cause
        with contextlib.suppress(SystemExit):
            self._server.run(sockets=[self._socket])

    @property
    def url(self) -> str:
        """Return the base URL, e.g. ``http://127.0.0.1:54321``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start serving; return once the app has started (journal replayed).

        Raises
        ------
        ServiceUnavailableError
            When the app did not start within ``timeout`` seconds (its error is logged).
        """
        self._thread.start()
        deadline_step = 0.01
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive():
                error = self.app.state.service.startup_error
                if error is not None:
                    raise error
                msg = f"the algowatch service failed to start on {self.url}; see its log"
                raise ServiceUnavailableError(msg)
            if waited >= timeout:
                msg = f"the algowatch service did not start within {timeout} s"
                raise ServiceUnavailableError(msg)
            self._thread.join(deadline_step)
            waited += deadline_step

    def call(self, function: Callable[[], _T], *, timeout: float = 10.0) -> _T:
        """Run ``function`` on the service's event loop and return its result.

        The Monitor is single-threaded: read it from another thread only this way.
        """

        async def _call() -> _T:
            return function()

        loop: asyncio.AbstractEventLoop = self.app.state.service.loop
        return asyncio.run_coroutine_threadsafe(_call(), loop).result(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop serving: end streams, finish queued batches, close the journal."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
