"""The SDK's NATS JetStream transport: ``Client("nats://...")`` publishes each event to JetStream.

Each event is one message on ``algowatch.events.<account>.<bot>`` whose payload is the
event's JSON object (the encoding the HTTP ingest accepts) and whose ``Nats-Msg-Id``
header is its ``event_id``, so JetStream drops a re-publish within its duplicate window
and the service's journal drops it forever. An event counts as sent when JetStream
acknowledges it (stored, or a duplicate of a stored one).

Everything else is the HTTP client's: the same bounded buffer and overflow policy, the
same batches (a batch is published as a pipeline and its acknowledgements awaited
together), the same :class:`~algowatch._client_delivery.Delivery` bookkeeping, retries,
``on_drop`` callback, counters and flush/close deadlines. Per event:

========================================  ==========================================
acknowledged                              sent (``duplicates`` when JetStream says so)
too large (server ``max_payload`` or the  dropped alone as ``"too_large"``
stream's ``max_msg_size``)
no stream captures the subject, or the    kept and retried with backoff, counted in
server refuses the credentials            ``stats().refused`` (like an HTTP 401/404)
not connected, connection lost, no ack    kept and retried with backoff
within ``timeout_seconds``
========================================  ==========================================

nats-py runs on asyncio: :class:`AsyncClient` publishes from its own task on the
caller's loop; :class:`Client`'s sending thread hands each batch to an event loop in a
daemon thread that every ``nats://`` Client of the process shares
(:class:`~algowatch._client_nats_link.NatsLink`). The connection is
opened in the background at construction and re-opened by nats-py after any loss, so
neither constructing a client nor calling a helper ever waits on the network. ``nats``
is imported only when a ``nats://`` (or ``tls://``) URL is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

import msgspec

from algowatch._client_delivery import Delivery, Verdict
from algowatch.errors import MissingDependencyError

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsConnection
    from nats.js.client import JetStreamContext

    from algowatch import events as ev

__all__ = [
    "STREAM",
    "STREAM_SUBJECTS",
    "SUBJECT_PREFIX",
    "NatsPublisher",
    "default_bot",
    "deliver_async",
    "is_nats_url",
    "nats_publisher",
    "parse_servers",
    "settle",
    "subject_token",
]

SUBJECT_PREFIX: Final = "algowatch.events"
STREAM: Final = "ALGOWATCH"
STREAM_SUBJECTS: Final = ("algowatch.events.>",)
_SCHEMES: Final = ("nats", "tls")
# JetStream's error code for a message above the stream's max_msg_size
_ERR_MESSAGE_TOO_LARGE: Final = 10054
# How often a waiting publisher looks at the abandon flag and the connection (seconds).
_POLL_SECONDS: Final = 0.02
# Longest a publish attempt waits for a connection that is being (re)opened.
_CONNECT_WAIT_SECONDS: Final = 1.0
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

# One event ready to publish (as _client_delivery prepares it): the event and its NDJSON line.
_Item = tuple["ev.Event", bytes]
# Per event of a part: True/False when acknowledged (a duplicate or not), else the error.
Result = bool | BaseException


def is_nats_url(url: str) -> bool:
    """Return whether ``url`` names NATS servers (``nats://`` or ``tls://``)."""
    return url.split("://", 1)[0].lower() in _SCHEMES


def parse_servers(url: str) -> list[str]:
    """Return the server URLs in ``url`` (comma-separated), checked.

    Raises
    ------
    ValueError
        When one of them is not ``nats://host[:port]`` or ``tls://host[:port]``.
    """
    servers = [part.strip() for part in url.split(",") if part.strip()]
    for server in servers or [url]:
        parts = urlsplit(server)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme.lower() not in _SCHEMES or not parts.hostname or port == -1:
            msg = (
                "base_url must be a NATS server such as 'nats://127.0.0.1:4222' (several "
                f"separated by commas), received {url!r}"
            )
            raise ValueError(msg)
    return servers


def subject_token(label: str) -> str:
    """Return ``label`` as one NATS subject token (``.``, ``*``, ``>``, spaces become ``_``).

    Examples
    --------
    >>> subject_token("desk-1"), subject_token("eu.equities"), subject_token("")
    ('desk-1', 'eu_equities', '_')
    """
    return _UNSAFE.sub("_", label) or "_"


def default_bot(strategy: str) -> str:
    """Return the bot name used when none is given: the strategy label, else the program's name.

    The program's name is the stem of ``sys.argv[0]`` (``momentum`` for
    ``python momentum.py``); ``"bot"`` when there is none (``python -c``, a REPL).
    """
    if strategy != "default":
        return strategy
    program = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] else ""
    return program if program not in ("", "-c", "-m", "__main__") else "bot"


def _missing_nats() -> MissingDependencyError:
    msg = (
        "a nats:// URL needs nats-py, the 'nats' extra of algowatch (not installed): "
        "pip install 'algowatch[nats]'"
    )
    return MissingDependencyError(msg)


class NatsPublisher:
    """Publish parts of a batch to JetStream on one asyncio loop, and report per event.

    Parameters
    ----------
    servers
        ``nats://`` URLs (credentials may be in them: ``nats://user:password@host:4222``).
    bot
        The subject's last token (made safe with :func:`subject_token`).
    token
        A NATS authentication token, if the server wants one.
    create_stream
        When no stream captures the subject, create this one (subjects
        :data:`STREAM_SUBJECTS`); ``None`` (the default) only reports it.
    timeout_seconds
        How long a part waits for its acknowledgements.
    reconnect_seconds
        Wait between two connection attempts to the same server.
    """

    def __init__(
        self,
        servers: Sequence[str],
        *,
        bot: str,
        token: str | None,
        create_stream: str | None,
        timeout_seconds: float,
        reconnect_seconds: float,
    ) -> None:
        try:
            import nats  # noqa: PLC0415, F401 - optional extra, loaded only for nats:// URLs
        except ImportError:
            raise _missing_nats() from None
        self.servers = list(servers)
        self.bot = subject_token(bot)
        self._token = token
        self._create_stream = create_stream
        self._timeout = timeout_seconds
        self._reconnect = reconnect_seconds
        self._nc: NatsConnection | None = None
        self._js: JetStreamContext | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._subjects: dict[str, str] = {}
        self._inbox = ""
        self._waiting: dict[str, tuple[_Attempt, int]] = {}
        self._replies = itertools.count()
        self.connection_error: BaseException | None = None
        self._closed = False

    @property
    def part_seconds(self) -> float:
        """Return a bound on one :meth:`publish`: the connection wait and the ack timeout."""
        return _CONNECT_WAIT_SECONDS + self._timeout * 2 + 5.0

    def subject(self, account: str) -> str:
        """Return the subject of an event of ``account``."""
        subject = self._subjects.get(account)
        if subject is None:
            subject = f"{SUBJECT_PREFIX}.{subject_token(account)}.{self.bot}"
            self._subjects[account] = subject
        return subject

    def start(self) -> None:
        """Start opening the connection in the background (call on the publisher's loop)."""
        if self._connecting is None and not self._closed:
            self._connecting = asyncio.get_running_loop().create_task(
                self._connect(), name="algowatch-client-nats-connect"
            )

    async def _connect(self) -> None:
        from algowatch._nats_direct import DirectConnection  # noqa: PLC0415 - optional extra

        nc = DirectConnection()
        self._nc = nc
        try:
            await nc.connect(
                servers=self.servers,
                token=self._token,
                name=f"algowatch-sdk:{self.bot}",
                error_cb=self._on_error,
                reconnected_cb=self._on_reconnected,
                allow_reconnect=True,
                max_reconnect_attempts=-1,  # forever: the buffer and its policy bound the cost
                reconnect_time_wait=self._reconnect,  # type: ignore[arg-type]  # a float works
                connect_timeout=max(1, round(min(self._timeout, 2.0))),
                # subjects are made of safe tokens here (subject_token), replies are ours
                skip_subject_validation=True,
            )
            # every acknowledgement comes back on one wildcard inbox (re-subscribed by
            # nats-py after a reconnect), matched to its event by the reply's last token;
            # read raw (no nats-py Msg per acknowledgement: one per event adds up)
            self._inbox = f"{nc.new_inbox()}."
            await nc.subscribe_direct(f"{self._inbox}*", self._on_ack)
        except Exception as exc:  # a bad option: reported by every publish attempt
            self.connection_error = exc
            return
        self._js = nc.jetstream(timeout=self._timeout)
        self.connection_error = None

    def _on_ack(self, subject: bytes, _reply: bytes, data: bytes, headers: bytes) -> None:
        waiting = self._waiting.pop(subject[len(self._inbox) :].decode(), None)
        if waiting is None:  # late: its part was settled (timed out) already
            return
        attempt, index = waiting
        attempt.answer(index, _ack_result(data, headers))

    async def _on_error(self, exc: Exception) -> None:
        # nats-py reports connection trouble here (its default callback logs a traceback)
        self.connection_error = exc

    async def _on_reconnected(self) -> None:
        self.connection_error = None

    def _connected(self) -> bool:
        return self._js is not None and self._nc is not None and self._nc.is_connected

    async def _wait(
        self, done: Callable[[], bool], seconds: float, abandoned: Callable[[], bool]
    ) -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        while not done() and not abandoned():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            await asyncio.sleep(min(_POLL_SECONDS, left))

    async def publish(self, part: Sequence[_Item], abandoned: Callable[[], bool]) -> list[Result]:
        """Publish ``part`` and wait for its acknowledgements; return one result per event.

        Waits at most about a second for a connection being opened and
        ``timeout_seconds`` for the acknowledgements, less when ``abandoned()``
        becomes true or the connection is lost meanwhile.
        """
        self.start()
        if not self._connected():
            await self._wait(self._connected, min(self._timeout, _CONNECT_WAIT_SECONDS), abandoned)
        if not self._connected():
            return [self._not_connected()] * len(part)
        assert self._js is not None
        nc = self._nc
        assert nc is not None
        # Every event is published at once (pipelined, in order, on one connection) with
        # a reply subject of its own; JetStream answers each on the ack inbox.
        attempt = _Attempt(len(part))
        tokens: list[str] = []
        for i, (event, line) in enumerate(part):
            token = str(next(self._replies))
            self._waiting[token] = (attempt, i)
            tokens.append(token)
            try:
                await nc.publish(
                    self.subject(event.account),
                    line[:-1] if line.endswith(b"\n") else line,
                    reply=self._inbox + token,
                    headers={"Nats-Msg-Id": str(event.event_id)},
                )
            except Exception as exc:  # judged per event by settle()
                self._waiting.pop(token, None)
                attempt.answer(i, exc)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while attempt.remaining and self._connected() and not abandoned():
            left = deadline - loop.time()
            if left <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(attempt.done.wait(), min(_POLL_SECONDS * 5, left))
        for token in tokens:
            self._waiting.pop(token, None)
        results = attempt.results
        if attempt.remaining:
            late: Result = (
                TimeoutError(f"no JetStream acknowledgement within {self._timeout:g} s")
                if self._connected() and not abandoned()
                else self._not_connected()
            )
            results = [late if r is None else r for r in results]
        done = [r if r is not None else ConnectionAbortedError("abandoned") for r in results]
        if self._create_stream is not None and any(_no_stream(r) for r in done):
            done = await self._create_missing_stream(done)
        return done

    def _not_connected(self) -> ConnectionError:
        reason = f": {self.connection_error!r}" if self.connection_error is not None else ""
        error = ConnectionError(f"not connected to NATS at {', '.join(self.servers)}{reason}")
        error.__cause__ = self.connection_error
        return error

    async def _create_missing_stream(self, results: list[Result]) -> list[Result]:
        from nats.js.api import StreamConfig  # noqa: PLC0415 - optional extra

        assert self._js is not None
        assert self._create_stream is not None
        try:
            await self._js.add_stream(
                StreamConfig(name=self._create_stream, subjects=list(STREAM_SUBJECTS))
            )
        except Exception as exc:  # reported with the events it concerns
            failure: Result = _StreamNotCreatedError(
                f"no JetStream stream captures {SUBJECT_PREFIX}.*, and creating stream "
                f"{self._create_stream!r} failed: {exc}"
            )
            return [failure if _no_stream(r) else r for r in results]
        created = ConnectionError(f"created JetStream stream {self._create_stream!r}; retrying")
        return [created if _no_stream(r) else r for r in results]

    async def close(self) -> None:
        """Close the connection (its pending messages are flushed first, briefly)."""
        self._closed = True
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            with contextlib.suppress(BaseException):
                await self._connecting
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nc.close(), timeout=2.0)


class _Attempt:
    # The results of one publish of a part, filled in as the acknowledgements arrive.
    __slots__ = ("done", "remaining", "results")

    def __init__(self, size: int) -> None:
        self.results: list[Result | None] = [None] * size
        self.remaining = size
        self.done = asyncio.Event()
        if not size:
            self.done.set()

    def answer(self, index: int, result: Result) -> None:
        if self.results[index] is None:
            self.results[index] = result
            self.remaining -= 1
            if not self.remaining:
                self.done.set()


class _ApiError(msgspec.Struct):
    code: int | None = None
    err_code: int | None = None
    description: str | None = None


class _PubAck(msgspec.Struct):
    # JetStream's answer to a publish: {"stream": ..., "seq": ..., "duplicate": true} or
    # {"error": {...}}; the other fields are not needed here
    duplicate: bool = False
    error: _ApiError | None = None


_decode_ack = msgspec.json.Decoder(_PubAck).decode


def _ack_result(data: bytes, headers: bytes) -> Result:
    # JetStream's answer to one publish: a PubAck, an error, or "no responders" (no stream).
    if not data and headers.startswith(b"NATS/1.0 503"):
        from nats.js.errors import NoStreamResponseError  # noqa: PLC0415 - optional extra

        return NoStreamResponseError()
    try:
        answer = _decode_ack(data)
    except msgspec.DecodeError:
        return ValueError(f"unexpected JetStream answer: {data[:200]!r}")
    error = answer.error
    if error is not None:
        from nats.js.errors import APIError  # noqa: PLC0415 - optional extra

        return APIError(code=error.code, err_code=error.err_code, description=error.description)
    return answer.duplicate


class _StreamNotCreatedError(RuntimeError):
    """No stream captures the subject, and the client could not create the one it was given."""


def _no_stream(result: Result) -> bool:
    from nats.js.errors import NoStreamResponseError  # noqa: PLC0415 - optional extra

    return isinstance(result, NoStreamResponseError | _StreamNotCreatedError)


def _too_large(result: Result) -> str | None:
    from nats.errors import MaxPayloadError  # noqa: PLC0415 - optional extra
    from nats.js.errors import APIError  # noqa: PLC0415

    if isinstance(result, MaxPayloadError):
        return "the event is larger than the NATS server's max_payload"
    if isinstance(result, APIError) and result.err_code == _ERR_MESSAGE_TOO_LARGE:
        return f"JetStream refused it: {result.description}"
    return None


def _refusal(result: Result, subject: str) -> str | None:
    # Not the events' fault: the stream or the credentials. The events are kept.
    from nats.errors import AuthorizationError  # noqa: PLC0415 - optional extra

    if isinstance(result, _StreamNotCreatedError):
        return str(result)
    if _no_stream(result):
        return (
            f"no JetStream stream captures subject {subject!r}: start `algowatch serve` with "
            f"[sources.nats] (it creates stream {STREAM!r} with subjects "
            f"{list(STREAM_SUBJECTS)}), or pass create_stream={STREAM!r} to the client"
        )
    cause = result.__cause__ if isinstance(result, ConnectionError) else result
    if isinstance(cause, AuthorizationError):
        return f"the NATS server refused the credentials: {cause!r}"
    return None


def _transient(result: Result) -> bool:
    from nats.errors import Error as NatsError  # noqa: PLC0415 - optional extra

    return isinstance(result, NatsError | OSError | TimeoutError | asyncio.CancelledError)


def settle(delivery: Delivery, part: Sequence[_Item], results: Sequence[Result]) -> float | None:
    """Account for one publish of ``part`` in ``delivery``; return seconds to wait, if any.

    The acknowledged events are counted as sent; of the rest, events too large are
    dropped alone, and the others are kept for a retry after backoff (a refusal that is
    not about the events, such as a missing stream, also counts in ``refused``).
    """
    stored = {i: r for i, r in enumerate(results) if isinstance(r, bool)}
    rest = delivery.record_stored(part, stored)
    if not rest:
        return None
    errors = [r for r in results if not isinstance(r, bool)]
    too_large = {i: text for i, r in enumerate(errors) if (text := _too_large(r)) is not None}
    if too_large:
        return delivery.record(
            rest,
            Verdict(
                "resend",
                invalid=too_large,
                error=next(iter(too_large.values())),
                drop_reason="too_large",
            ),
        )
    subject = f"{SUBJECT_PREFIX}.{subject_token(rest[0][0].account)}"
    for error in errors:
        refusal = _refusal(error, subject + ".<bot>")
        if refusal is not None:
            return delivery.record(rest, Verdict("hold", error=refusal))
    first = errors[0]
    if _transient(first):
        return delivery.record(rest, Verdict("retry", error=f"NATS: {first!r}"))
    internal = first if isinstance(first, Exception) else RuntimeError(repr(first))
    return delivery.record(rest, Verdict("retry", error=repr(first), internal=True), internal)


async def deliver_async(
    publisher: NatsPublisher,
    delivery: Delivery,
    abandon: asyncio.Event,
    progress: asyncio.Event,
) -> None:
    """Publish every part of ``delivery`` from the caller's loop (:class:`AsyncClient`)."""
    while (item := delivery.next_part()) is not None:
        if abandon.is_set():
            delivery.abandon()
            break
        part = item[0]
        try:
            results = await publisher.publish(part, abandon.is_set)
        except Exception as exc:  # whatever nats-py raises: retried, counted
            wait = delivery.record_error(part, exc)
        else:
            wait = settle(delivery, part, results)
        progress.set()
        if wait is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(abandon.wait(), wait)


def nats_publisher(
    base_url: str,
    *,
    strategy: str,
    bot: str | None,
    token: str | None,
    create_stream: str | None,
    timeout_seconds: float,
    backoff_max_seconds: float,
) -> NatsPublisher | None:
    """Return the publisher for a ``nats://`` ``base_url`` (``None`` for HTTP), options checked.

    Raises
    ------
    ValueError
        When ``bot`` or ``create_stream`` is given with an HTTP URL, or a URL is malformed.
    MissingDependencyError
        When nats-py (the ``nats`` extra) is not installed.
    """
    if not is_nats_url(base_url):
        for name, value in (("bot", bot), ("create_stream", create_stream)):
            if value is not None:
                msg = (
                    f"{name} applies to nats:// URLs only, received {name}={value!r} "
                    f"with {base_url!r}"
                )
                raise ValueError(msg)
        return None
    if bot is not None and not bot:
        msg = f"bot must be a non-empty name, received {bot!r}"
        raise ValueError(msg)
    return NatsPublisher(
        parse_servers(base_url),
        bot=bot or default_bot(strategy),
        token=token,
        create_stream=create_stream,
        timeout_seconds=timeout_seconds,
        # nats-py re-opens a lost connection at this pace (capped at a second)
        reconnect_seconds=min(1.0, max(0.05, backoff_max_seconds)),
    )
