"""The hummingbot source: an MQTT subscriber inside the service, feeding the ingest pipeline.

It connects to the broker of ``[sources.hummingbot]``, subscribes to the bridge's topics
(:func:`algowatch.integrations.hummingbot.subscriptions`), maps each message with
:func:`~algowatch.integrations.hummingbot.events_from_message` and submits the events
through the service's one ingest path (journaled, then applied; ``event_id``
de-duplicated). A malformed message is logged with the field it fails on and counted as a
rejected batch; the subscriber goes on. When the broker goes away it reconnects with
exponential backoff (``reconnect_min_seconds`` doubling up to ``reconnect_max_seconds``).
Its connection is the ``hummingbot`` check of ``/health``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from algowatch.clock import Clock
from algowatch.errors import (
    InvalidEventError,
    JournalError,
    MissingDependencyError,
    ServiceUnavailableError,
)
from algowatch.events import Event
from algowatch.health import Check, Outcome
from algowatch.integrations.hummingbot import events_from_message, subscriptions
from algowatch.settings import HummingbotSourceSettings, Settings

__all__ = ["HummingbotSource", "SourceCheck", "build_sources"]

_log = logging.getLogger("algowatch.sources.hummingbot")
# a message whose events the journal cannot take now (behind, store down) is retried this
# many times, doubling the pause from _RETRY_SECONDS; MQTT QoS 0 has no redelivery
_SUBMIT_ATTEMPTS = 5
_RETRY_SECONDS = 0.2

Submit = Callable[[Sequence[Event]], Awaitable[Any]]


@dataclass(slots=True)
class SourceStats:
    """What the subscriber has seen since the service started (``/health`` details)."""

    connected: bool = False
    connections: int = 0
    disconnections: int = 0
    messages: int = 0
    events: int = 0
    rejected_messages: int = 0
    ignored_messages: int = 0
    dropped_messages: int = 0
    last_error: str | None = None


class HummingbotSource:
    """Subscribe to hummingbot's MQTT bridge and submit its events to the service.

    Parameters
    ----------
    settings
        ``[sources.hummingbot]``.
    submit
        The service's ingest entry point (``Service.submit``).
    count
        The service's counters (``Service.count``): rejected messages add to
        ``rejected_batches``, as invalid HTTP batches do.
    clock
        For the future limit on ``ts`` (``max_future_seconds``).
    max_future_seconds
        ``server.max_future_seconds``.

    Raises
    ------
    MissingDependencyError
        When the ``hummingbot`` extra (aiomqtt) is not installed.
    """

    def __init__(
        self,
        settings: HummingbotSourceSettings,
        *,
        submit: Submit,
        count: Callable[[str], None],
        clock: Clock,
        max_future_seconds: float,
    ) -> None:
        try:
            self._aiomqtt: Any = importlib.import_module("aiomqtt")
        except ImportError:
            msg = (
                "sources.hummingbot needs the 'hummingbot' extra (module 'aiomqtt' is not "
                "installed): pip install 'algowatch[hummingbot]'"
            )
            raise MissingDependencyError(msg) from None
        self.settings = settings
        self._submit = submit
        self._count = count
        self._clock = clock
        self._max_future_ns = round(max_future_seconds * 1e9)
        self._topics = subscriptions(settings.namespace, settings.instances)
        self.stats = SourceStats()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.check = SourceCheck("hummingbot", self)

    def start(self) -> None:
        """Start connecting (in a task on the running loop); return at once."""
        self._stopping.clear()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="algowatch-mqtt")

    async def stop(self) -> None:
        """Disconnect and stop; a message being submitted finishes first."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.stats.connected = False

    def _client(self) -> Any:
        aiomqtt = self._aiomqtt
        settings = self.settings
        return aiomqtt.Client(
            settings.host,
            settings.port,
            username=settings.username,
            password=settings.password,
            identifier=settings.client_id,
            keepalive=settings.keepalive_seconds,
            tls_context=ssl.create_default_context() if settings.tls else None,
        )

    async def _run(self) -> None:
        settings = self.settings
        delay = settings.reconnect_min_seconds
        where = f"{settings.host}:{settings.port}"
        while not self._stopping.is_set():
            try:
                async with self._client() as client:
                    for topic in self._topics:
                        await client.subscribe(topic, qos=1)
                    self.stats.connected = True
                    self.stats.connections += 1
                    self.stats.last_error = None
                    delay = settings.reconnect_min_seconds
                    _log.info("connected to MQTT broker %s, subscribed to %s", where, self._topics)
                    async for message in client.messages:
                        await self.handle(str(message.topic), message.payload)
            except self._aiomqtt.MqttError as exc:
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                _log.warning(
                    "MQTT broker %s unreachable or lost (%s); reconnecting in %g s",
                    where,
                    exc,
                    delay,
                )
            finally:
                if self.stats.connected:
                    self.stats.disconnections += 1
                self.stats.connected = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, settings.reconnect_max_seconds)

    async def handle(self, topic: str, payload: Any) -> None:
        """Map one message and submit its events; never raise (the loop must go on)."""
        stats = self.stats
        stats.messages += 1
        settings = self.settings
        try:
            events = events_from_message(
                topic,
                _body(payload),
                namespace=settings.namespace,
                strategy=settings.strategy,
                component=settings.component,
                max_ts=self._clock.time_ns() + self._max_future_ns,
            )
        except InvalidEventError as exc:
            stats.rejected_messages += 1
            self._count("rejected_batches")
            _log.error("hummingbot message on %s rejected, nothing stored: %s", topic, exc)
            return
        except Exception:  # a mapping bug must not end the subscription
            stats.rejected_messages += 1
            self._count("rejected_batches")
            _log.exception("hummingbot message on %s could not be mapped", topic)
            return
        if not events:
            stats.ignored_messages += 1
            return
        await self._store(topic, events)

    async def _store(self, topic: str, events: list[Event]) -> None:
        pause = _RETRY_SECONDS
        for attempt in range(1, _SUBMIT_ATTEMPTS + 1):
            try:
                await self._submit(events)
            except ServiceUnavailableError as exc:
                if attempt == _SUBMIT_ATTEMPTS or self._stopping.is_set():
                    self.stats.dropped_messages += 1
                    _log.error(
                        "hummingbot message on %s dropped after %d attempts: %s",
                        topic,
                        attempt,
                        exc,
                    )
                    return
                await asyncio.sleep(pause)
                pause *= 2
            except JournalError as exc:
                self.stats.rejected_messages += 1
                self._count("rejected_batches")
                _log.error("hummingbot message on %s refused by the journal: %s", topic, exc)
                return
            else:
                self.stats.events += len(events)
                return


def _body(payload: Any) -> bytes | str:
    # aiomqtt types a payload as bytes, bytearray, str, numbers or None; the bridge sends bytes
    if isinstance(payload, bytes | str):
        return payload
    return bytes(payload) if isinstance(payload, bytearray) else b""


class SourceCheck(Check):
    """Report whether the hummingbot source is connected to its broker (``/health``).

    Not critical: while the broker is away the service is ``degraded`` and says why; it
    still serves and ingests over HTTP.
    """

    kind = "mqtt"

    def __init__(self, name: str, source: HummingbotSource) -> None:
        super().__init__(name, timeout_seconds=1.0, interval_seconds=1.0, critical=False)
        self._source = source

    async def probe(self) -> Outcome:
        """Return the subscriber's connection state and counters."""
        stats = self._source.stats
        settings = self._source.settings
        details = asdict(stats) | {"broker": f"{settings.host}:{settings.port}"}
        if stats.connected:
            return Outcome("connected", details=details)
        error = stats.last_error or "not connected to the MQTT broker yet"
        return Outcome("disconnected", error=error, details=details)


def build_sources(
    settings: Settings, *, submit: Submit, count: Callable[[str], None], clock: Clock
) -> list[HummingbotSource]:
    """Return the sources ``[sources]`` enables (not started)."""
    config = settings.sources.hummingbot
    if not config.enabled:
        return []
    return [
        HummingbotSource(
            config,
            submit=submit,
            count=count,
            clock=clock,
            max_future_seconds=settings.server.max_future_seconds,
        )
    ]
