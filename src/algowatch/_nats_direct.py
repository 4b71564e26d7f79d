"""A nats-py connection that hands the messages of chosen subscriptions straight to a function.

nats-py turns every message it receives into a ``Msg`` (headers parsed into a dict,
subject and reply decoded), queues it, and awaits the subscription's callback from a
task: about 8 µs a message, more than the rest of the service's work per event. The
NATS source's pull inbox and the SDK's acknowledgement inbox receive tens of thousands
of messages a second and need none of that, so :class:`DirectConnection` passes their
raw parts (subject, reply, payload, header block, all ``bytes``) to a plain function,
synchronously and in arrival order, from nats-py's own protocol parser. Every other
subscription (and every request nats-py makes itself, such as JetStream's API) takes
nats-py's usual path.

This overrides nats-py's private ``Client._process_msg`` (the parser's one call per
message, ``(sid, subject, reply, data, headers)`` since nats-py 2.0);
``tests/unit/test_nats_direct.py`` checks its signature, so an upgrade that changes it
fails there, not in production. Import this module only when ``nats`` is installed.
"""

from __future__ import annotations

from collections.abc import Callable

from nats.aio.client import Client
from nats.aio.subscription import Subscription

__all__ = ["DirectConnection", "DirectHandler"]

DirectHandler = Callable[[bytes, bytes, bytes, bytes], None]
"""``handler(subject, reply, payload, header_block)``; the header block is ``b""`` when none."""


class DirectConnection(Client):
    """A nats-py ``Client`` whose :meth:`subscribe_direct` subscriptions skip ``Msg`` objects."""

    def __init__(self) -> None:
        super().__init__()
        self._direct: dict[int, DirectHandler] = {}

    async def subscribe_direct(self, subject: str, handler: DirectHandler) -> Subscription:
        """Subscribe to ``subject``; each message is handed to ``handler`` as raw bytes.

        The handler runs on the connection's read loop, so it must be quick; an exception
        it raises goes to the connection's ``error_cb`` (as a callback's does in nats-py)
        and the next message is read as usual. nats-py re-subscribes after a reconnect as
        for any subscription; ``unsubscribe()`` the returned subscription to end it.
        """
        subscription = await self.subscribe(subject)
        sid: int = subscription._id  # the key nats-py's parser hands back
        self._direct[sid] = handler
        return subscription

    async def _process_msg(
        self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes
    ) -> None:
        handler = self._direct.get(sid)
        if handler is None:
            await super()._process_msg(sid, subject, reply, data, headers)
        elif sid in self._subs:
            try:
                handler(subject, reply, data, headers or b"")
            except Exception as exc:  # the read loop must outlive a handler's bug
                await self._error_cb(exc)
        else:  # unsubscribed: a message still in flight is dropped, as nats-py does
            del self._direct[sid]
