r"""Forward what a NautilusTrader node writes to Redis to algowatch: no code in the bot.

Give the node a message bus database (``MessageBusConfig(database=DatabaseConfig(...),
encoding="json", stream_per_topic=False)``) and Nautilus appends every order event,
account state, bar and quote to the Redis stream ``trader-<TRADER_ID>:stream``, each
entry holding ``topic``, ``payload`` (the event's ``to_dict`` form, JSON or msgpack)
and ``encoding``. The bridge reads those streams, keeps the topics it maps
(``events.order.*``, ``events.account.*``, ``data.bars.*``, ``data.quotes.*``) and
sends the events through :class:`algowatch.client.Client`::

    python -m algowatch.integrations.nautilus.bridge \\
        --redis redis://127.0.0.1:6379/0 --stream trader-TRADER-001:stream \\
        --url http://127.0.0.1:8000

Reading from the start of a stream again is safe: events carry Nautilus's event ids
(marks a key made of the price's bar type or instrument and time), and the service
counts an event id once. A payload that is not valid JSON or msgpack, or an event
the mapper cannot map, is logged with the stream entry id, counted in
:attr:`BridgeStats.invalid` and skipped; the rest flows on. Needs the ``redis``
extra, not ``nautilus_trader``.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from algowatch import events as ev
from algowatch.client import Client
from algowatch.errors import FieldError, InvalidEventError, MissingDependencyError
from algowatch.integrations.nautilus._mapping import NautilusMapper
from algowatch.integrations.nautilus._marks import MarkThrottle

__all__ = ["BridgeStats", "NautilusBridge", "main"]

_log = logging.getLogger("algowatch.integrations.nautilus.bridge")
_TOPICS = ("events.order.", "events.account.", "data.bars.", "data.quotes.")
_JSON = msgspec.json.Decoder()
_MSGPACK = msgspec.msgpack.Decoder()


@dataclass
class BridgeStats:
    """What the bridge has read so far.

    Attributes
    ----------
    entries
        Stream entries read.
    forwarded
        algowatch events handed to the client (marks after throttling included).
    invalid
        Entries skipped because their payload could not be decoded or mapped.
    """

    entries: int = 0
    forwarded: int = 0
    invalid: int = 0


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _mark(values: Mapping[str, Any]) -> ev.Mark:
    kind = values.get("type")
    try:
        if kind == "Bar":
            bar_type = str(values["bar_type"]).split("@", 1)[0]
            symbol = bar_type.rsplit("-", 4)[0]
            price, bid, ask = float(values["close"]), None, None
        else:
            symbol = str(values["instrument_id"])
            bid, ask = float(values["bid_price"]), float(values["ask_price"])
            price = (bid + ask) / 2
        ts = int(values["ts_event"])
    except (KeyError, TypeError, ValueError) as exc:
        field = FieldError(f"nautilus.{kind}", f"is not a price: {exc!r}")
        raise InvalidEventError([field]) from exc
    return ev.Mark(
        ts=ts, event_id=f"mark:{symbol}:{ts}", symbol=symbol, price=price, bid=bid, ask=ask
    )


class NautilusBridge:
    """Read Nautilus message bus streams from Redis and forward them to a client.

    Parameters
    ----------
    redis
        A ``redis.Redis`` connection (``redis.Redis.from_url(...)``).
    streams
        Stream keys, e.g. ``["trader-TRADER-001:stream"]``.
    client
        Where the events go (its helpers never wait on the network).
    mark_interval_seconds
        At most one mark per symbol per this much event time.
    start_id
        ``"0"`` reads each stream from its start, ``"$"`` only what arrives from now on.
    """

    def __init__(
        self,
        redis: Any,
        streams: Sequence[str],
        client: Client,
        *,
        mark_interval_seconds: float = 1.0,
        start_id: str = "0",
    ) -> None:
        if not streams:
            msg = "streams must name at least one stream key"
            raise ValueError(msg)
        self._redis = redis
        self._client = client
        self._positions: dict[str, str] = dict.fromkeys(streams, start_id)
        self._mapper = NautilusMapper()
        self._marks = MarkThrottle(interval_seconds=mark_interval_seconds)
        self.stats = BridgeStats()

    def poll(self, *, block_ms: int = 1000, count: int = 1000) -> int:
        """Read and forward the next entries (waiting at most ``block_ms``); return how many."""
        answer = self._redis.xread(self._positions, count=count, block=block_ms)
        read = 0
        for stream, entries in answer or []:
            key = _text(stream)
            for entry_id, fields in entries:
                self._positions[key] = _text(entry_id)
                self._handle(key, _text(entry_id), fields)
                read += 1
        self.stats.entries += read
        return read

    def drain(self) -> None:
        """Send the marks the throttle holds back (call before stopping)."""
        for mark in self._marks.drain():
            self._client.emit(mark)
            self.stats.forwarded += 1

    def run(self, *, idle_exit_seconds: float | None = None, block_ms: int = 1000) -> None:
        """Forward until interrupted, or until nothing arrived for ``idle_exit_seconds``."""
        idle_since = time.monotonic()
        try:
            while True:
                if self.poll(block_ms=block_ms):
                    idle_since = time.monotonic()
                else:
                    self.drain()
                    if (
                        idle_exit_seconds is not None
                        and time.monotonic() - idle_since >= idle_exit_seconds
                    ):
                        return
        finally:
            self.drain()

    def _handle(self, stream: str, entry_id: str, fields: Mapping[Any, Any]) -> None:
        topic = _text(fields.get(b"topic", fields.get("topic", "")))
        if not topic.startswith(_TOPICS):
            return
        payload = fields.get(b"payload", fields.get("payload", b""))
        encoding = _text(fields.get(b"encoding", fields.get("encoding", "Json"))).lower()
        try:
            mapped = self._events(topic, payload, encoding)
            for event in mapped:
                self._client.emit(event)
        except (ValueError, msgspec.DecodeError) as exc:
            # InvalidEventError is a ValueError: a clear error, nothing counted
            self.stats.invalid += 1
            _log.error("skipped %s entry %s (topic %s): %s", stream, entry_id, topic, exc)
            return
        self.stats.forwarded += len(mapped)

    def _events(self, topic: str, payload: Any, encoding: str) -> list[ev.Event]:
        raw = payload if isinstance(payload, bytes) else str(payload).encode()
        values = (_MSGPACK if encoding == "msgpack" else _JSON).decode(raw)
        if not isinstance(values, dict):
            field = FieldError("nautilus.payload", f"must be an object, received {values!r}"[:120])
            raise InvalidEventError([field])
        if topic.startswith("data."):
            mark = self._marks.offer(_mark(values))
            return [] if mark is None else [mark]
        return self._mapper.map(values)


def _connect(url: str) -> Any:
    try:
        import redis  # noqa: PLC0415
    except ImportError as exc:
        msg = "the Nautilus bridge needs redis: pip install 'algowatch[redis]'"
        raise MissingDependencyError(msg) from exc
    return redis.Redis.from_url(url)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the bridge from the command line (``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m algowatch.integrations.nautilus.bridge",
        description="Forward a NautilusTrader node's Redis message bus streams to algowatch.",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis URL")
    parser.add_argument(
        "--stream",
        action="append",
        required=True,
        help="stream key, e.g. trader-TRADER-001:stream (repeatable)",
    )
    parser.add_argument("--url", required=True, help="the algowatch service")
    parser.add_argument("--token", help="the service's bearer token")
    parser.add_argument("--mark-interval-seconds", type=float, default=1.0)
    parser.add_argument(
        "--from-now", action="store_true", help="skip what the streams already hold"
    )
    parser.add_argument(
        "--idle-exit-seconds",
        type=float,
        help="stop after this long without a new entry (a replay)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with Client(args.url, token=args.token) as client:
        bridge = NautilusBridge(
            _connect(args.redis),
            args.stream,
            client,
            mark_interval_seconds=args.mark_interval_seconds,
            start_id="$" if args.from_now else "0",
        )
        with contextlib.suppress(KeyboardInterrupt):
            bridge.run(idle_exit_seconds=args.idle_exit_seconds)
        _log.info("bridge stopped: %s", bridge.stats)


if __name__ == "__main__":
    main()
