"""The web surface: Host allow-list, cross-site refusal, media types, body limits, headers."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from algowatch.errors import ConfigError
from algowatch.server import ServerThread, create_app
from algowatch.settings import ServerSettings, load_settings

from .conftest import LOOPBACK, TOKEN, make_settings

MARK = b'{"type":"mark","symbol":"AAPL","price":1}'
NDJSON = {"content-type": "application/x-ndjson"}
AUTH = {"authorization": f"Bearer {TOKEN}"}
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path, token=TOKEN)), base_url=LOOPBACK) as api:
        yield api


def _applied(api: TestClient, headers: dict[str, str] | None = None) -> int:
    return int(api.get("/api/v1/snapshot", headers=headers).json()["events_applied"])


def _metric(api: TestClient, name: str, labels: dict[str, str] | None = None) -> float:
    for family in text_string_to_metric_families(api.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and sample.labels == (labels or {}):
                return float(sample.value)
    raise AssertionError(name)


# ---------------------------------------------------------------- Host allow-list


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.2", "10.0.0.1"])
def test_unknown_host_header_gets_400(api: TestClient, host: str) -> None:
    """A DNS-rebinding page reaches the loopback port under its own name: refused."""
    response = api.get("/api/v1/snapshot", headers={"host": host})
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"the Host header {host!r} is not allowed; add it to server.allowed_hosts"
    }
    assert _metric(api, "algowatch_http_refused_requests_total", {"reason": "host"}) == 1.0


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:8000", "localhost:9", "LOCALHOST", "[::1]:8000", "[::1]"]
)
def test_loopback_host_names_with_any_port_are_allowed(api: TestClient, host: str) -> None:
    assert api.get("/api/v1/snapshot", headers={"host": host}).status_code == 200


def test_allowed_hosts_setting_replaces_the_default(tmp_path: Path) -> None:
    """``server.allowed_hosts`` with a wildcard entry; loopback names are then not implied."""
    settings = make_settings(tmp_path, allowed_hosts=("monitor.example.com", "*.ops.example"))
    with TestClient(create_app(settings), base_url="http://monitor.example.com") as api:
        assert api.get("/live").status_code == 200
        assert api.get("/live", headers={"host": "a.ops.example:443"}).status_code == 200
        assert api.get("/live", headers={"host": "127.0.0.1:8000"}).status_code == 400
        assert api.get("/live", headers={"host": "ops.example.evil"}).status_code == 400


# ---------------------------------------------------------------- cross-site requests


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://127.0.0.1:9999"},
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ],
)
def test_cross_site_state_change_gets_403_and_applies_nothing(
    api: TestClient, headers: dict[str, str]
) -> None:
    """A page on another origin (another port counts) cannot ingest or reset anything."""
    response = api.post("/api/v1/events", content=MARK, headers={**NDJSON, **headers})
    assert response.status_code == 403
    assert response.json()["detail"].startswith("cross-site requests are refused: ")
    assert _applied(api) == 0


@pytest.mark.parametrize(
    "headers",
    [{}, {"origin": "http://127.0.0.1"}, {"sec-fetch-site": "same-origin"}],
)
def test_same_origin_or_no_origin_is_accepted(api: TestClient, headers: dict[str, str]) -> None:
    """The dashboard's own page and non-browser clients (no Origin) may post."""
    response = api.post("/api/v1/events", content=MARK, headers={**NDJSON, **headers})
    assert response.status_code == 202
    assert _applied(api) == 1


def test_allowed_origins_setting_admits_a_named_origin(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, allowed_origins=("https://ops.example.com",))
    with TestClient(create_app(settings), base_url=LOOPBACK) as api:
        ok = api.post(
            "/api/v1/events", content=MARK, headers={**NDJSON, "origin": "https://ops.example.com"}
        )
        refused = api.post(
            "/api/v1/events", content=MARK, headers={**NDJSON, "origin": "https://ops.example.org"}
        )
        assert (ok.status_code, refused.status_code) == (202, 403)


# ---------------------------------------------------------------- media types


@pytest.mark.parametrize(
    "media_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
def test_state_change_with_a_form_media_type_gets_415(api: TestClient, media_type: str) -> None:
    """The types a browser sends cross-origin without a preflight are refused everywhere."""
    headers = {"content-type": media_type} if media_type else {}
    for path in ("/api/v1/events", "/api/v1/risk/reset"):
        response = api.post(path, content=MARK, headers=headers)
        assert response.status_code == 415
        assert response.json() == {
            "detail": "content-type must be one of application/json, application/x-ndjson, "
            f"received {media_type.split(';', maxsplit=1)[0]!r}"
        }
    assert _applied(api) == 0


# ---------------------------------------------------------------- body limit


def _asgi_post(
    app: Any, path: str, chunk: bytes, chunks: int, headers: list[tuple[bytes, bytes]]
) -> tuple[int, int, bytes]:
    """POST ``chunks`` chunks through the raw ASGI interface; return status, chunks pulled, body."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled == chunks:
            await asyncio.sleep(3600)
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < chunks}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 10))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, pulled, body


def test_body_over_the_limit_gets_413_before_the_rest_is_read(tmp_path: Path) -> None:
    """A chunked 100 x 1 KiB body against a 4 KiB limit: 413 after 5 chunks, not 100."""
    app = create_app(make_settings(tmp_path, max_body_bytes=4096))
    status, pulled, body = _asgi_post(
        app, "/api/v1/events", b"x" * 1024, 100, [(b"content-type", b"application/x-ndjson")]
    )
    assert (status, pulled) == (413, 5)
    assert body == b'{"detail":"the body is larger than the limit of 4096 bytes"}'
    assert app.state.http_stats.refused["body_too_large"] == 1


def test_reset_body_over_its_own_limit_stops_reading_at_16_kib(tmp_path: Path) -> None:
    """The reset reads at most 16 KiB whatever ``max_body_bytes`` allows."""
    app = create_app(make_settings(tmp_path))
    status, pulled, _ = _asgi_post(
        app, "/api/v1/risk/reset", b"x" * 4096, 25_600, [(b"content-type", b"application/json")]
    )
    assert (status, pulled) == (413, 5)


def test_declared_length_over_the_limit_gets_413_without_reading(tmp_path: Path) -> None:
    """``Content-Length: 104857600`` is refused from the header alone."""
    app = create_app(make_settings(tmp_path))
    headers = [(b"content-type", b"application/json"), (b"content-length", b"104857600")]
    status, pulled, body = _asgi_post(app, "/api/v1/risk/reset", b"x" * 1024, 102_400, headers)
    assert (status, pulled) == (413, 0)
    assert body == b'{"detail":"the body is larger than the limit of 5242880 bytes"}'


# ---------------------------------------------------------------- security headers


@pytest.mark.parametrize(
    ("path", "code"),
    [("/", 200), ("/app.js", 200), ("/api/v1/snapshot", 200), ("/live", 200), ("/nope", 404)],
)
def test_every_response_carries_the_security_headers(api: TestClient, path: str, code: int) -> None:
    response = api.get(path)
    assert response.status_code == code
    assert response.headers["content-security-policy"] == PAGE_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cross-origin-resource-policy"] == "same-origin"


def test_refusals_and_401_carry_the_security_headers(secured: TestClient) -> None:
    for response in (
        secured.get("/api/v1/snapshot"),
        secured.get("/live", headers={"host": "evil.example"}),
    ):
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"] == PAGE_POLICY


# ---------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    ("token", "received"),
    [
        ("x", "1 character"),
        (" ", "1 character including blanks"),
        ("0123456789abcde", "15 characters"),
        ("0123456789 abcdef", "17 characters including blanks"),
        (" " * 20, "20 characters including blanks"),
        ("", "0 characters"),
    ],
)
def test_short_or_blank_token_is_a_settings_error(token: str, received: str) -> None:
    """The message names the field and the rule, and never shows the token."""
    msg = f"server.token must be at least 16 characters with no blanks, received {received}"
    with pytest.raises(ConfigError, match=f"^{msg}$"):
        ServerSettings(token=token)
    with pytest.raises(ConfigError, match=f"^{msg} - at `\\$.server`$"):
        load_settings(environ={"ALGOWATCH_TOKEN": token})


def test_sixteen_character_token_is_accepted() -> None:
    assert ServerSettings(token="0123456789abcdef").token == "0123456789abcdef"


TOKEN_ROUTES = [
    ("get", "/api/v1/snapshot"),
    ("get", "/api/v1/positions"),
    ("get", "/api/v1/trades"),
    ("get", "/api/v1/orders"),
    ("get", "/api/v1/fills"),
    ("get", "/api/v1/equity"),
    ("get", "/api/v1/clock"),
    ("get", "/api/v1/last-seen"),
    ("get", "/api/v1/stream?limit=1"),
    ("get", "/api/v1/risk"),
    ("get", "/metrics"),
    ("post", "/api/v1/events"),
    ("post", "/api/v1/risk/reset"),
    ("post", "/api/v1/sources/freqtrade"),
]


def test_every_token_route_is_listed_here(secured: TestClient) -> None:
    """The list below covers every route that needs the token (so none is missed)."""
    paths = {path for path in secured.app.openapi()["paths"] if path.startswith("/api/v1")}
    assert paths == {p.split("?")[0] for _, p in TOKEN_ROUTES} - {"/metrics"}


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
@pytest.mark.parametrize(("method", "path"), TOKEN_ROUTES)
def test_bearer_scheme_in_any_case_is_accepted_on_every_route(
    secured: TestClient, scheme: str, method: str, path: str
) -> None:
    """One parser for every route: RFC 6750's scheme is case-insensitive."""
    body = b'{"by": "ops", "reason": "drill"}' if path.endswith("reset") else MARK
    if path.endswith("freqtrade"):
        body = b'{"type": "status", "status": "running"}'
    headers = {"authorization": f"{scheme} {TOKEN}", "content-type": "application/json"}
    if path == "/api/v1/events":
        headers["content-type"] = "application/x-ndjson"
    response = secured.request(method, path, content=body, headers=headers)
    assert response.status_code in {200, 202}, response.text
    without = secured.request(method, path, content=body, headers={**headers, "authorization": ""})
    assert without.status_code == 401


# ---------------------------------------------------------------- slow and vanishing clients


def _raw(server: ServerThread, data: bytes) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=10)
    sock.sendall(data)
    return sock


def _wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.02)


def test_client_disconnect_mid_body_is_counted_not_a_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Headers promise 1000 bytes, 10 arrive, the client leaves: info line, metric, no traceback."""
    caplog.set_level(logging.INFO)
    with ServerThread(create_app(make_settings(tmp_path))) as server:
        stats = server.app.state.http_stats
        request = (
            b"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-ndjson\r\nContent-Length: 1000\r\n\r\n" + MARK[:10]
        )
        _raw(server, request).close()
        _wait_for(lambda: stats.client_disconnects == 1)
        with TestClient(server.app, base_url=LOOPBACK) as api:
            assert _metric(api, "algowatch_http_client_disconnects_total") == 1.0
    records = [r for r in caplog.records if r.name.startswith(("algowatch", "uvicorn"))]
    assert not [r for r in records if r.levelno >= logging.ERROR or r.exc_info]
    assert any(
        r.levelno == logging.INFO and r.getMessage().startswith("client disconnected before")
        for r in records
    )


def test_body_not_complete_in_time_gets_408_and_the_connection_closes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, body_timeout_seconds=0.3)
    with ServerThread(create_app(settings)) as server:
        sock = _raw(
            server,
            b"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-ndjson\r\nContent-Length: 1000\r\n\r\n{",
        )
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        sock.close()
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert answer.endswith(b'{"detail":"the body was not complete within 0.3 s"}')
        assert server.app.state.http_stats.closed["body_timeout"] == 1


# ---------------------------------------------------------------- 413 and the connection


def _post_at_once(
    server: ServerThread, path: str, body: bytes, *, declared: int | None = None, extra: bytes = b""
) -> tuple[bytes, str | None]:
    """Send the headers and ``body`` in one write, read to the end; return answer and error."""
    length = len(body) if declared is None else declared
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n"
    ).encode()
    answer = b""
    try:
        with socket.create_connection((server.host, server.port), timeout=5) as sock:
            sock.sendall(head + extra + b"\r\n" + body)
            while chunk := sock.recv(65536):
                answer += chunk
    except OSError as exc:  # a reset (ECONNRESET, EPIPE) or a timeout
        return answer, type(exc).__name__
    return answer, None


TOO_LARGE_4096 = b'{"detail":"the body is larger than the limit of 4096 bytes"}'


def test_small_body_over_the_limit_gets_413_and_a_clean_close_not_a_reset(
    tmp_path: Path,
) -> None:
    """600 KB against a 4 KiB limit, sent at once: the rest is read, so no RST replaces the 413.

    Without the discard the server closes with most of the body unread in its socket,
    the kernel answers with a reset and the client's read or write fails.
    """
    with ServerThread(create_app(make_settings(tmp_path, max_body_bytes=4096))) as server:
        for _ in range(3):
            answer, error = _post_at_once(server, "/api/v1/events", b"x" * 600_000)
            assert error is None
            assert answer.startswith(b"HTTP/1.1 413 ")
            assert b"\r\nconnection: close\r\n" in answer.lower()
            assert answer.endswith(TOO_LARGE_4096)
        assert server.app.state.http_stats.refused["body_too_large"] == 3


@pytest.mark.parametrize(
    ("declared", "extra"),
    [(104_857_600, b""), (8192, b"Expect: 100-continue\r\n")],
    ids=["100-mb-declared", "expect-100-continue"],
)
def test_413_does_not_wait_for_a_body_it_will_not_discard(
    tmp_path: Path, declared: int, extra: bytes
) -> None:
    """100 MB declared (or a body held back for 100-continue): 413 and close at once."""
    settings = make_settings(tmp_path, max_body_bytes=4096, body_timeout_seconds=30.0)
    with ServerThread(create_app(settings)) as server:
        started = time.monotonic()
        answer, error = _post_at_once(
            server, "/api/v1/events", b"x" * 10, declared=declared, extra=extra
        )
        assert time.monotonic() - started < 5.0  # not the 30 s body timeout
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert answer.endswith(TOO_LARGE_4096)
        assert error in {None, "ConnectionResetError"}  # the unread 10 bytes may reset
