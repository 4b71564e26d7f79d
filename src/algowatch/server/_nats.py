"""The NATS JetStream source: a durable pull consumer inside the service, feeding the pipeline.

Bots publish one event per message on ``algowatch.events.<account>.<bot>`` with the header
``Nats-Msg-Id`` = ``event_id``. Each replica of the service (``[sources.nats]``) owns a
durable consumer on the stream and:

1. fetches a batch, checks it arrived in order (the consumer sequence has no gap), and
   drops what its journal already holds (stream sequence at or below the applied one);
2. decodes the batch at once with HTTP ingest's validation
   (:func:`~algowatch.server._nats_decode.decode_messages`);
3. submits the valid events to the service's one ingest path, as one batch, and waits
   until the journal has committed and the Monitor applied them;
4. republishes each refused message to ``<dead_letter_prefix>.<original subject>``,
   counts it in ``rejected_batches`` as a refused HTTP batch is, and logs why;
5. records the stream sequence it reached (``nats-<stream>-<durable>.position`` in the
   data folder) and acks the batch (one ack: the consumer acks all up to it).

So the engine applies the stream in stream-sequence order, on every replica. At start,
and whenever a delivery was lost or came out of order (a NATS node died mid-fetch), the
durable consumer is recreated to start right after the recorded position: redelivery
order would put old messages behind new ones, so it is never relied on. The position
is written after the journal commits, so it never runs ahead of the journal; events
between it and the journal's true end come again and are duplicates by ``event_id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from algowatch.errors import (
    ConfigError,
    JournalError,
    MissingDependencyError,
    ServiceUnavailableError,
)
from algowatch.events import Event
from algowatch.health import Check, CheckResult, Outcome
from algowatch.server._nats_decode import decode_messages
from algowatch.server._nats_wire import (
    Delivery,
    Puller,
    header_map,
    message_id,
    parse_reply,
    subject_matches,
)
from algowatch.settings import NatsSourceSettings

__all__ = ["NatsCheck", "NatsSource", "NatsStats", "build_nats_sources", "subject_matches"]

_log = logging.getLogger("algowatch.sources.nats")

Submit = Callable[[Sequence[Event], Sequence[bytes | None] | None], Awaitable[Any]]
_RETRY_SECONDS = 0.2
_RETRY_MAX_SECONDS = 5.0
_API_TIMEOUT = 5.0


@dataclass(slots=True)
class NatsStats:
    """What the consumer has seen since the service started (``/health`` and ``/metrics``)."""

    connected: bool = False
    connections: int = 0
    disconnections: int = 0
    messages: int = 0
    events: int = 0  # valid events handed to the journal (duplicates by event_id included)
    redelivered_messages: int = 0
    rejected_messages: int = 0
    consumer_resets: int = 0
    applied_sequence: int = 0
    stream_last_sequence: int = 0
    lag_events: int = 0
    caught_up: bool = False
    last_error: str | None = None


class NatsSource:
    """Consume ``[sources.nats]``'s stream with a durable pull consumer; see the module doc.

    Parameters
    ----------
    settings
        ``[sources.nats]``.
    submit
        The service's ingest entry point (``Service.submit``).
    count
        The service's counters: a refused message adds to ``rejected_batches``.
    data_path
        The data folder (where the consumed position is kept).
    max_future_seconds
        ``server.max_future_seconds``, measured from each message's stream timestamp.

    Raises
    ------
    MissingDependencyError
        When the ``nats`` extra (nats-py) is not installed.
    """

    def __init__(
        self,
        settings: NatsSourceSettings,
        *,
        submit: Submit,
        count: Callable[[str], None],
        data_path: Path,
        max_future_seconds: float,
    ) -> None:
        try:
            self._api: Any = importlib.import_module("nats.js.api")
            self._errors: Any = importlib.import_module("nats.errors")
            self._js_errors: Any = importlib.import_module("nats.js.errors")
            self._direct: Any = importlib.import_module("algowatch._nats_direct")
        except ImportError:
            msg = (
                "sources.nats needs the 'nats' extra (module 'nats' is not installed): "
                "pip install 'algowatch[nats]'"
            )
            raise MissingDependencyError(msg) from None
        self.settings = settings
        self._submit = submit
        self._count = count
        self._position_file = data_path / f"nats-{settings.stream}-{settings.durable}.position"
        future = max_future_seconds
        self._max_future_ns = None if future == float("inf") else round(future * 1e9)
        own = set(settings.subjects) == set(settings.stream_subjects)
        self._filters: tuple[str, ...] = () if own else settings.subjects
        self.stats = NatsStats()
        self._nc: Any = None
        self._js: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._expected_consumer_seq = 0
        self._start_target = 0
        self._bound = False
        self.check = NatsCheck("nats", self)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start consuming (in a task on the running loop); return at once."""
        self._stopping.clear()
        self.stats.applied_sequence = self._read_position()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="algowatch-nats")

    async def stop(self) -> None:
        """Stop consuming; a batch being journaled finishes (and is acked) first."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        nc, self._nc = self._nc, None
        if nc is not None:
            with contextlib.suppress(Exception):
                await nc.close()
        self.stats.connected = False

    async def _run(self) -> None:
        settings = self.settings
        delay = settings.reconnect_seconds
        while not self._stopping.is_set():
            consumed = self.stats.messages
            try:
                await self._connect()
                await self._ensure_stream()
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                if self.stats.messages != consumed:  # it worked for a while: retry soon
                    delay = settings.reconnect_seconds
                log = _log.error if isinstance(exc, ConfigError) else _log.warning
                log(
                    "NATS source (%s, stream %s): %s; retrying in %g s",
                    ",".join(settings.servers),
                    settings.stream,
                    self.stats.last_error,
                    delay,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, max(_RETRY_MAX_SECONDS * 6, settings.reconnect_seconds))

    async def _connect(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            return
        stats = self.stats

        async def disconnected() -> None:
            if stats.connected:
                stats.disconnections += 1
            stats.connected = False

        async def reconnected() -> None:
            stats.connected = True
            stats.connections += 1

        async def error(exc: Exception) -> None:
            stats.last_error = f"{type(exc).__name__}: {exc}"

        options: dict[str, Any] = {
            "servers": list(self.settings.servers),
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": self.settings.reconnect_seconds,
            "connect_timeout": 2,
            "disconnected_cb": disconnected,
            "reconnected_cb": reconnected,
            "error_cb": error,
            "name": f"algowatch-{self.settings.durable}",
        }
        if self.settings.credentials_file is not None:
            options["user_credentials"] = self.settings.credentials_file
        nc = self._direct.DirectConnection()
        await nc.connect(**options)
        self._nc = nc
        self._js = self._nc.jetstream(timeout=_API_TIMEOUT)
        stats.connected = True
        stats.connections += 1
        stats.last_error = None
        _log.info("connected to NATS %s", self._nc.connected_url.netloc)

    async def _ensure_stream(self) -> None:
        settings = self.settings
        js = self._js
        try:
            info = await js.stream_info(settings.stream)
        except self._js_errors.NotFoundError:
            config = self._api.StreamConfig(
                name=settings.stream,
                subjects=list(settings.stream_subjects),
                num_replicas=settings.replicas,
                duplicate_window=settings.duplicate_window_seconds,
                storage=self._api.StorageType.FILE,
            )
            try:
                info = await js.add_stream(config)
                _log.info(
                    "created stream %s on %s (R%d)",
                    settings.stream,
                    settings.stream_subjects,
                    settings.replicas,
                )
            except self._js_errors.BadRequestError:  # another replica created it first
                info = await js.stream_info(settings.stream)
        subjects = list(info.config.subjects or ())
        dead = [
            f"{settings.dead_letter_prefix}.{s.replace('*', 'x').replace('>', 'x')}"
            for s in subjects
        ]
        captured = [s for s in subjects if any(subject_matches(s, d) for d in dead)]
        if captured:
            msg = (
                f"sources.nats.dead_letter_prefix {settings.dead_letter_prefix!r}: the stream "
                f"{settings.stream}'s own subjects {captured} would capture its dead letters "
                "(and redeliver them forever); choose a prefix outside them"
            )
            raise ConfigError(msg)
        self.stats.stream_last_sequence = info.state.last_seq

    # ------------------------------------------------------------------ consuming

    async def _reset_consumer(self) -> Puller:
        # recreate the durable to start right after the position the journal holds
        settings = self.settings
        js = self._js
        self._bound = False
        with contextlib.suppress(self._js_errors.NotFoundError):
            await js.delete_consumer(settings.stream, settings.durable)
        start = self.stats.applied_sequence + 1
        api = self._api
        config = api.ConsumerConfig(
            durable_name=settings.durable,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            ack_policy=api.AckPolicy.ALL,
            ack_wait=settings.ack_wait_seconds,
            max_ack_pending=max(4 * settings.batch_size, 10_000),
            max_waiting=16,
        )
        if len(self._filters) == 1:
            config.filter_subject = self._filters[0]
        elif self._filters:
            config.filter_subjects = list(self._filters)  # nats-server >= 2.10
        info = await js.add_consumer(settings.stream, config)
        self._expected_consumer_seq = 0
        self.stats.consumer_resets += 1
        self.stats.stream_last_sequence = max(
            self.stats.stream_last_sequence, info.delivered.stream_seq
        )
        if not self.stats.caught_up:
            self._start_target = self.stats.stream_last_sequence
        next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{settings.stream}.{settings.durable}"
        puller = Puller(self._nc, next_subject, settings.batch_size, settings.fetch_timeout_seconds)
        await puller.open()
        self._bound = True
        return puller

    async def _consume(self) -> None:
        settings = self.settings
        puller = await self._reset_consumer()
        try:
            while not self._stopping.is_set():
                if puller.wants_more:
                    await puller.request()
                messages = await puller.take(settings.fetch_timeout_seconds + _API_TIMEOUT)
                if not messages:
                    if puller.expired:
                        self._idle()
                    continue
                if not await self._handle(messages, puller):
                    _log.warning(
                        "NATS delivery out of order (a lost or redelivered batch); consumer %s "
                        "restarts after stream sequence %d",
                        settings.durable,
                        self.stats.applied_sequence,
                    )
                    await puller.close()
                    puller = await self._reset_consumer()
        finally:
            await puller.close()

    def _idle(self) -> None:
        # a fetch that found nothing: this replica holds everything its filter matches
        stats = self.stats
        stats.lag_events = 0
        stats.caught_up = True

    async def _handle(self, messages: list[Delivery], puller: Puller) -> bool:
        """Journal, apply and ack one fetched batch; return False when it broke order."""
        stats = self.stats
        applied = stats.applied_sequence
        expected = self._expected_consumer_seq
        fresh: list[Delivery] = []
        stamps: list[int] = []
        last: Delivery | None = None
        last_sequence = applied
        pending = stats.lag_events
        in_order = True
        for message in messages:
            stream_seq, consumer_seq, stamp, pending = parse_reply(message[1])
            if consumer_seq != expected + 1:
                in_order = False
                break
            expected = consumer_seq
            last = message
            if stream_seq <= applied:  # already journaled (redelivered after a restart)
                stats.redelivered_messages += 1
                continue
            applied = stream_seq
            fresh.append(message)
            stamps.append(stamp)
        self._expected_consumer_seq = expected
        stats.messages += len(fresh)
        if fresh:
            await self._store(fresh, stamps)
            last_sequence = applied
            stats.applied_sequence = last_sequence
            self._write_position(last_sequence)
        if last is not None:
            await puller.ack(last)
        stats.lag_events = pending
        stats.stream_last_sequence = max(stats.stream_last_sequence, last_sequence + pending)
        if not stats.caught_up and (pending == 0 or last_sequence >= self._start_target):
            stats.caught_up = True
        return in_order

    async def _store(self, messages: list[Delivery], stamps: list[int]) -> None:
        batch = decode_messages([m[2] for m in messages], stamps, self._max_future_ns)
        for index, reason in batch.rejected:
            await self._dead_letter(messages[index], reason)
        if batch.events:
            self.stats.events += await self._submit_until_stored(
                batch.events, batch.payloads, messages
            )

    async def _submit_until_stored(
        self, events: list[Event], payloads: list[bytes | None], messages: list[Delivery]
    ) -> int:
        # the journal being down or behind is waited out (the stream keeps the messages,
        # nothing is acked); a batch the journal refuses is split to find the event
        pause = _RETRY_SECONDS
        while True:
            try:
                await self._submit(events, payloads)
            except ServiceUnavailableError as exc:
                self.stats.last_error = f"journal unavailable: {exc}"
                if self._stopping.is_set():
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, _RETRY_MAX_SECONDS)
                continue
            except JournalError as exc:
                if len(events) > 1:
                    stored = 0
                    for event, payload in zip(events, payloads, strict=True):
                        stored += await self._submit_until_stored([event], [payload], messages)
                    return stored
                owner = {message_id(m): m for m in messages}.get(events[0].event_id)
                await self._dead_letter(owner or messages[0], f"refused by the journal: {exc}")
                return 0
            return len(events)

    async def _dead_letter(self, message: Delivery, reason: str) -> None:
        stats = self.stats
        stats.rejected_messages += 1
        self._count("rejected_batches")
        original, reply, data, raw_headers = message
        stream_sequence = parse_reply(reply)[0]
        subject = f"{self.settings.dead_letter_prefix}.{original.decode()}"
        _log.error(
            "NATS message on %s (stream sequence %d) rejected, nothing stored: %s; "
            "republished to %s",
            original.decode(),
            stream_sequence,
            reason,
            subject,
        )
        headers = header_map(raw_headers)
        headers.pop("Nats-Msg-Id", None)  # so a dead-letter stream keeps every copy
        headers["Algowatch-Error"] = reason.replace("\r", " ").replace("\n", " ")[:1000]
        headers["Algowatch-Stream-Sequence"] = str(stream_sequence)
        try:
            await self._nc.publish(subject, data, headers=headers)
        except Exception as exc:  # the refusal is logged and counted; never block on it
            _log.error("dead letter to %s not published: %r", subject, exc)

    # ------------------------------------------------------------------ position

    def _read_position(self) -> int:
        try:
            return int(self._position_file.read_text().strip() or "0")
        except FileNotFoundError:
            return 0
        except (OSError, ValueError) as exc:  # unreadable: start over, duplicates are no-ops
            _log.warning("NATS position %s unreadable (%r)", self._position_file, exc)
            return 0

    def forget_position(self) -> None:
        """Consume from the stream's start: the journal is empty, so the position is stale."""
        if self._read_position():
            _log.warning(
                "the journal is empty but %s records a position: consuming from the start",
                self._position_file,
            )
            self._position_file.unlink(missing_ok=True)

    def _write_position(self, sequence: int) -> None:
        temporary = self._position_file.with_suffix(".tmp")
        temporary.write_text(str(sequence))
        os.replace(temporary, self._position_file)

    async def refresh_lag(self) -> None:
        """Ask the server how far this replica's consumer is behind (``/health``, lag metric)."""
        js = self._js
        if js is None or not self.stats.connected or not self._bound:
            return
        info = await js.consumer_info(self.settings.stream, self.settings.durable, timeout=1.0)
        stats = self.stats
        behind = info.num_pending + info.num_ack_pending
        stats.lag_events = behind
        stats.stream_last_sequence = max(stats.stream_last_sequence, info.delivered.stream_seq)
        if behind == 0:
            stats.caught_up = True


class NatsCheck(Check):
    """Report whether this replica is connected and has caught up with its stream.

    Gates readiness: ``/ready`` answers 503 until the replica has applied the stream as
    it stood when the consumer started, and again while it is more than
    ``ready_max_lag_events`` behind. Not critical: while NATS is away the service is
    ``degraded`` and says why.
    """

    kind = "nats"
    gates_readiness = True

    def __init__(self, name: str, source: NatsSource) -> None:
        super().__init__(name, timeout_seconds=2.0, interval_seconds=1.0, critical=False)
        self._source = source

    def admits(self, result: CheckResult) -> bool:
        """Return True only when connected and caught up (``degraded`` means catching up)."""
        return result.status == "connected"

    async def probe(self) -> Outcome:
        """Return the consumer's connection state, position and lag."""
        source = self._source
        with contextlib.suppress(Exception):
            await source.refresh_lag()
        stats = source.stats
        settings = source.settings
        details = asdict(stats) | {"stream": settings.stream, "durable": settings.durable}
        if not stats.connected:
            error = stats.last_error or "not connected to NATS yet"
            return Outcome("disconnected", error=error, details=details)
        if not stats.caught_up:
            error = f"catching up with stream {settings.stream}: {stats.lag_events} events behind"
            return Outcome("degraded", error=error, details=details)
        if stats.lag_events > settings.ready_max_lag_events:
            error = (
                f"{stats.lag_events} events behind stream {settings.stream} "
                f"(ready_max_lag_events {settings.ready_max_lag_events})"
            )
            return Outcome("degraded", error=error, details=details)
        return Outcome("connected", details=details)


def build_nats_sources(
    settings: NatsSourceSettings,
    *,
    submit: Submit,
    count: Callable[[str], None],
    data_path: Path,
    max_future_seconds: float,
) -> list[NatsSource]:
    """Return the NATS source ``[sources.nats]`` enables (not started), or none."""
    if not settings.enabled:
        return []
    return [
        NatsSource(
            settings,
            submit=submit,
            count=count,
            data_path=data_path,
            max_future_seconds=max_future_seconds,
        )
    ]
