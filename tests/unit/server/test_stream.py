"""GET /api/v1/stream over a real server: rate limit, live updates, clean end on shutdown."""

from __future__ import annotations

import itertools
import threading
import time

import httpx
import orjson

from algowatch.events import parse_timestamp
from algowatch.server import ServerThread

MARK = '{"type":"mark","symbol":"AAPL","price":%d}'
NDJSON = {"content-type": "application/x-ndjson"}


def _snapshots(lines: httpx.Response, count: int) -> list[tuple[float, dict]]:
    out = []
    for line in lines.iter_lines():
        if line.startswith("data: "):
            out.append((time.monotonic(), orjson.loads(line[6:])))
            if len(out) == count:
                break
    return out


def test_stream_follows_updates_at_most_once_per_interval(live: ServerThread) -> None:
    """Posting every 10 ms yields updates spaced by at least the 0.1 s interval."""
    stop = threading.Event()

    def post() -> None:
        with httpx.Client(base_url=live.url) as http:
            price = 1
            while not stop.is_set():
                http.post("/api/v1/events", content=MARK % price, headers=NDJSON)
                price += 1
                time.sleep(0.01)

    poster = threading.Thread(target=post)
    poster.start()
    try:
        with httpx.stream("GET", f"{live.url}/api/v1/stream", timeout=10) as response:
            received = _snapshots(response, 5)
    finally:
        stop.set()
        poster.join()
    applied = [s["events_applied"] for _, s in received]
    assert applied == sorted(applied)
    assert applied[-1] > applied[1]
    # publication times (as_of, taken when the snapshot is computed), not arrival times,
    # which a busy machine can bunch together
    published = [parse_timestamp(s["as_of"]) / 1e9 for _, s in received[1:]]
    gaps = [b - a for a, b in itertools.pairwise(published)]
    assert min(gaps) >= 0.095


def test_stream_ends_cleanly_when_the_service_stops(live: ServerThread) -> None:
    """An open stream does not hold up shutdown: it ends, and stop() returns quickly."""
    ended = threading.Event()

    def read() -> None:
        with httpx.stream("GET", f"{live.url}/api/v1/stream", timeout=10) as response:
            for _ in response.iter_lines():
                pass
        ended.set()

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 5
    while live.app.state.service.broadcaster.clients == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    live.stop()
    reader.join(5)
    assert ended.is_set()
    assert time.monotonic() - started < 3
