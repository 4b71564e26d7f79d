"""``InProcessMonitor``: the whole service inside a bot's own process."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import httpx

from algowatch._datalock import DataLock, lock_data_folder
from algowatch.client import Client, ClientClosedError
from algowatch.clock import Clock
from algowatch.monitor import Monitor
from algowatch.server._app import create_app
from algowatch.server._runner import ServerThread
from algowatch.settings import Settings

__all__ = ["InProcessMonitor"]


class InProcessMonitor:
    """Run the algowatch service inside this process, for a single-process bot.

    A :class:`~algowatch.monitor.Monitor` and the whole app (dashboard, API,
    ``/metrics``, health) are served by uvicorn from a background thread on a
    loopback port (``port=0``: a free one, see :attr:`url`). The bot sends events
    with :meth:`client`, exactly as it would to a separate service, so events are
    journaled before they count and the state survives a restart.

    Parameters
    ----------
    settings
        The configuration (``data_dir`` holds the journal); the host must be loopback.
    clock
        The service's clock.
    port
        The port to listen on; 0 picks a free one.

    Examples
    --------
    >>> import tempfile
    >>> from algowatch.settings import Settings
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with InProcessMonitor(Settings(data_dir=tmp)) as service:
    ...         with service.client() as client:
    ...             client.mark("AAPL", 190.5)
    ...             client.flush(timeout=10)
    ...         service.snapshot()["events_applied"]
    FlushResult(settled=True, sent=1, rejected=0, dropped=0, failed=0)
    1

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       Moved from ``algowatch.client`` to :mod:`algowatch.server`, so that the SDK
       imports neither the server nor the engine.
    """

    def __init__(
        self, settings: Settings | None = None, *, clock: Clock | None = None, port: int = 0
    ) -> None:
        self.settings = settings or Settings()
        self._clock = clock
        self._port = port
        self.monitor = Monitor(self.settings.monitor, clock=clock)
        self._server: ServerThread | None = None
        self._lock: DataLock | None = None

    @property
    def url(self) -> str:
        """Return the service's base URL (after :meth:`start`)."""
        if self._server is None:
            msg = "the in-process monitor is not started; call start() first"
            raise ClientClosedError(msg)
        return self._server.url

    def start(self) -> Self:
        """Open the journal, replay it, and start serving; return self.

        Raises
        ------
        DataFolderInUseError
            When another live process (an ``algowatch serve``, another bot) uses
            ``settings.data_dir``.
        """
        lock = lock_data_folder(
            self.settings.data_path, hint="stop it or give this bot another data_dir"
        )
        try:
            app = create_app(self.settings, clock=self._clock, monitor=self.monitor)
            server = ServerThread(app, host=self.settings.server.host, port=self._port)
            server.start()
        except BaseException:
            lock.release()
            raise
        self._lock = lock
        self._server = server
        return self

    def client(self, **options: Any) -> Client:
        """Return a :class:`~algowatch.client.Client` connected to this service.

        ``options`` are those of :class:`~algowatch.client.Client`; the token and the
        clock default to the service's.
        """
        options.setdefault("token", self.settings.server.token)
        options.setdefault("clock", self._clock)
        return Client(self.url, **options)

    def snapshot(self, timeout: float = 10.0) -> dict[str, Any]:
        """Return the service's snapshot document (``GET /api/v1/snapshot``).

        The document is read over HTTP, as any bot reads the service, so it is
        computed on the service's thread.

        .. versionchanged:: 0.2.0
           Read from the read API rather than by calling the removed
           ``Monitor.snapshot()``.
        """
        token = self.settings.server.token
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = httpx.get(f"{self.url}/api/v1/snapshot", headers=headers, timeout=timeout)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    def stop(self) -> None:
        """Stop serving: queued batches reach the journal, which is then closed."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
