"""FaultProxy: a loopback TCP relay to PostgreSQL that cuts connections on demand.

Not a test module: the journal and service fault tests load it by path.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Literal

CommitFault = Literal["forward", "drop"]


class FaultProxy:
    """A loopback TCP relay to the PostgreSQL server that injects connection faults.

    ``cut()`` closes every relayed connection; ``refuse(True)`` closes new connections at
    once (the server looks down); ``cut_at_commit("forward")`` relays the next client
    packet holding ``COMMIT`` and then cuts before the answer comes back (the commit
    happened, the client cannot know); ``cut_at_commit("drop")`` cuts without relaying it.
    """

    def __init__(self, server_host: str = "127.0.0.1", server_port: int = 5432) -> None:
        self._server = (server_host, server_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self.accepted = 0
        self._refuse = False
        self._commit_fault: CommitFault | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            if self._refuse:
                client.close()
                continue
            try:
                server = socket.create_connection(self._server, timeout=5)
            except OSError:  # the server is down: so is the relayed connection
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.append((client, server))
            for source, target, upstream in ((client, server, True), (server, client, False)):
                thread = threading.Thread(
                    target=self._pump, args=(source, target, upstream), daemon=True
                )
                thread.start()

    def _pump(self, source: socket.socket, target: socket.socket, upstream: bool) -> None:
        try:
            while chunk := source.recv(65536):
                fault = self._commit_fault
                if upstream and fault is not None and b"COMMIT" in chunk:
                    self._commit_fault = None
                    if fault == "forward":
                        target.sendall(chunk)
                    self._close_pair(source, target)
                    return
                target.sendall(chunk)
        except OSError:
            pass
        self._close_pair(source, target)

    def _close_pair(self, a: socket.socket, b: socket.socket) -> None:
        for sock in (a, b):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def cut(self) -> None:
        """Close every relayed connection (both sides)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, server in pairs:
            self._close_pair(client, server)

    def refuse(self, refuse: bool) -> None:
        """Close new connections at once (True) or relay them again (False)."""
        self._refuse = refuse

    def cut_at_commit(self, fault: CommitFault) -> None:
        """Cut the connection at the next ``COMMIT``, after (forward) or instead of relaying it."""
        self._commit_fault = fault

    def close(self) -> None:
        """Stop accepting and close every connection."""
        self._stop.set()
        self._listener.close()
        self._threads[0].join(timeout=2)
        self.cut()
