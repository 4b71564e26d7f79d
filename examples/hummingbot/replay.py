"""Publish a recorded hummingbot MQTT bridge session to a broker, as the bot would.

Each line of the session file is ``{"topic": "events" | "hb" | "status_updates",
"payload": {...}}``: the topic suffix and the JSON body hummingbot's bridge publishes on
``<namespace>/<instance_id>/<topic>``. By default the times are shifted so that the
session ends now (the dashboard then shows it in today's session); ``--keep-times``
publishes them as recorded.

    python examples/hummingbot/replay.py --instance demo-bot
    python examples/hummingbot/replay.py --host 127.0.0.1 --port 1883 --keep-times FILE

Needs the ``hummingbot`` extra (aiomqtt): ``pip install 'algowatch[hummingbot]'``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiomqtt

SESSION = Path(__file__).with_name("session.jsonl")
# the unit of each topic's time field: seconds, microseconds, milliseconds
_TIME_FIELDS = {
    "events": ("timestamp", 1),
    "hb": ("ts", 1_000_000),
    "status_updates": ("timestamp", 1000),
}


def _seconds(line: dict[str, Any]) -> float:
    key, per_second = _TIME_FIELDS[line["topic"]]
    return float(line["payload"][key]) / per_second


def _shifted(line: dict[str, Any], shift: int) -> dict[str, Any]:
    key, per_second = _TIME_FIELDS[line["topic"]]
    payload = dict(line["payload"])
    payload[key] = payload[key] + shift * per_second
    data = payload.get("data")
    if isinstance(data, dict) and "creation_timestamp" in data:
        payload["data"] = data | {"creation_timestamp": data["creation_timestamp"] + shift}
    return {"topic": line["topic"], "payload": payload}


def load(path: Path, *, keep_times: bool) -> list[dict[str, Any]]:
    lines = [json.loads(text) for text in path.read_text().splitlines() if text.strip()]
    if keep_times or not lines:
        return lines
    shift = int(time.time() - max(_seconds(line) for line in lines))
    return [_shifted(line, shift) for line in lines]


async def replay(
    lines: list[dict[str, Any]],
    *,
    host: str,
    port: int,
    namespace: str,
    instance: str,
    pause: float,
) -> int:
    async with aiomqtt.Client(host, port) as client:
        for line in lines:
            topic = f"{namespace}/{instance}/{line['topic']}"
            # QoS 1: the broker has each message before the next is sent
            await client.publish(topic, json.dumps(line["payload"]), qos=1)
            if pause:
                await asyncio.sleep(pause)
    return len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("file", nargs="?", type=Path, default=SESSION)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--namespace", default="hbot")
    parser.add_argument("--instance", default="demo-bot")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between messages")
    parser.add_argument("--keep-times", action="store_true", help="publish the recorded times")
    args = parser.parse_args()
    lines = load(args.file, keep_times=args.keep_times)
    sent = asyncio.run(
        replay(
            lines,
            host=args.host,
            port=args.port,
            namespace=args.namespace,
            instance=args.instance,
            pause=args.pause,
        )
    )
    print(f"published {sent} messages to {args.namespace}/{args.instance}/...")


if __name__ == "__main__":
    main()
