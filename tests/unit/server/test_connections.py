"""Slow and surplus clients: header deadline, connection cap, rate-limited accept errors."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from algowatch.server import ServerThread, create_app
from algowatch.server._connections import AcceptErrorLimiter, connection_budget

from .conftest import make_settings

GET_LIVE = b"GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    settings = make_settings(tmp_path, header_timeout_seconds=0.5, max_connections=3)
    with ServerThread(create_app(settings)) as running:
        yield running


def _connect(server: ServerThread, data: bytes = b"") -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=5)
    if data:
        sock.sendall(data)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True


def _response(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    answer = b""
    while not answer.endswith(b'{"status":"alive"}'):
        chunk = sock.recv(4096)
        assert chunk, answer
        answer += chunk
    return answer


def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.01)


def test_headers_not_complete_in_time_close_the_connection(server: ServerThread) -> None:
    """A client trickling its request line is closed at the header deadline."""
    stats = server.app.state.http_stats
    sock = _connect(server, b"GET /live HT")
    started = time.monotonic()
    assert _closed_by_server(sock)
    assert 0.4 < time.monotonic() - started < 3.0
    sock.close()
    assert stats.closed["header_timeout"] == 1


def test_idle_connection_without_a_byte_is_closed_at_the_header_deadline(
    server: ServerThread,
) -> None:
    sock = _connect(server)
    assert _closed_by_server(sock)
    sock.close()
    assert server.app.state.http_stats.closed["header_timeout"] == 1


def test_request_in_time_and_keep_alive_requests_are_served(server: ServerThread) -> None:
    """The deadline restarts after each response: three requests 0.3 s apart on one socket."""
    sock = _connect(server)
    for _ in range(3):
        assert _response(sock, GET_LIVE).startswith(b"HTTP/1.1 200 ")
        time.sleep(0.3)
    sock.close()
    assert server.app.state.http_stats.closed["header_timeout"] == 0


def test_slow_response_is_not_cut_by_the_header_deadline(tmp_path: Path) -> None:
    """Once the headers are in, the deadline is off: a stream outlives it."""
    settings = make_settings(tmp_path, header_timeout_seconds=0.3, stream_interval_seconds=0.1)
    with ServerThread(create_app(settings)) as running:
        sock = _connect(running, b"GET /api/v1/stream?limit=8 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        time.sleep(0.6)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
        sock.close()
        assert running.app.state.http_stats.closed["header_timeout"] == 0


@pytest.mark.parametrize("complete", [False, True], ids=["unfinished", "complete"])
def test_request_headers_over_16_kib_get_400_and_the_connection_closes(
    server: ServerThread, complete: bool
) -> None:
    """A request line and headers past 16 KiB are refused, whether or not they end."""
    head = b"GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + b"a" * 17_000
    sock = _connect(server, head + (b"\r\n\r\n" if complete else b"\r\n"))
    answer = b""
    while chunk := sock.recv(4096):
        answer += chunk
    sock.close()
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert answer.endswith(b"Request line and headers larger than 16 KiB.")


def test_headers_just_under_16_kib_are_served(server: ServerThread) -> None:
    """The limit is on the request line and headers: 16,000 bytes of them pass."""
    filler = b"a" * (16_000 - len(GET_LIVE) - len(b"X-Filler: \r\n"))
    head = GET_LIVE[:-2] + b"X-Filler: " + filler + b"\r\n\r\n"
    assert len(head) == 16_000
    sock = _connect(server)
    assert _response(sock, head).startswith(b"HTTP/1.1 200 ")
    sock.close()


def test_headers_split_at_their_blank_line_are_served(server: ServerThread) -> None:
    """The blank line that ends the headers is found across two reads (held bytes)."""
    sock = _connect(server, GET_LIVE[:-1])
    time.sleep(0.05)
    assert _response(sock, GET_LIVE[-1:]).startswith(b"HTTP/1.1 200 ")
    sock.close()


def test_over_the_cap_the_oldest_waiting_connection_is_closed(server: ServerThread) -> None:
    """Three tricklers fill the cap of 3; a fourth client is served, the oldest trickler goes."""
    stats = server.app.state.http_stats
    tricklers = [_connect(server, b"GET /li") for _ in range(3)]
    _wait_for(lambda: stats.open_connections == 3)
    client = _connect(server)
    assert _response(client, GET_LIVE).startswith(b"HTTP/1.1 200 ")
    assert _closed_by_server(tricklers[0])
    assert stats.closed["connection_limit"] == 1
    client.close()
    for sock in tricklers:
        sock.close()


def test_connection_cap_leaves_room_for_an_accept_batch_under_the_descriptor_limit() -> None:
    """At ``ulimit -n 1024``: 768 connections + 3 accept batches of 64 + 64 reserved = 1024."""
    budget = connection_budget(5000, 1024)
    assert (budget.max_connections, budget.backlog) == (768, 64)
    assert budget.max_connections + 3 * budget.backlog + 64 == 1024
    assert connection_budget(100, 1024).max_connections == 100


def test_accept_errors_are_logged_once_per_interval_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1000 EMFILE contexts in one interval: one line, no traceback; the next says 999."""
    now = [0.0]
    limiter = AcceptErrorLimiter(interval=10.0, monotonic=lambda: now[0])
    loop = asyncio.new_event_loop()
    context = {
        "message": "socket.accept() out of system resource",
        "exception": OSError(errno.EMFILE, "Too many open files"),
    }
    try:
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            for _ in range(1000):
                limiter(loop, context)
            now[0] = 10.5
            limiter(loop, context)
            limiter(loop, {"message": "something else"})
    finally:
        loop.close()
    lines = [r for r in caplog.records if r.name == "asyncio"]
    assert [r.exc_info for r in lines[:2]] == [None, None]
    assert [r.getMessage().split(" (", 1)[1].split(")")[0] for r in lines[:2]] == [
        "0 more in the last 10 s not logged",
        "999 more in the last 10 s not logged",
    ]
    assert lines[2].getMessage() == "something else"
    assert len(lines) == 3


def test_request_sent_a_few_bytes_at_a_time_is_served(server: ServerThread) -> None:
    """Header bytes held back until the blank line still make one whole request."""
    sock = _connect(server)
    for i in range(0, len(GET_LIVE), 3):
        sock.sendall(GET_LIVE[i : i + 3])
        time.sleep(0.005)
    assert _response(sock, b"").startswith(b"HTTP/1.1 200 ")
    sock.close()


def test_headers_over_16_kib_get_400(server: ServerThread) -> None:
    sock = _connect(server, b"GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"x" * 20_000)
    answer = sock.recv(4096)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 400 ")
