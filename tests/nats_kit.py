"""Private ``nats-server`` processes (one or a JetStream cluster) and a fleet's event stream."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from algowatch.events import format_timestamp

START_NS = 1_767_225_600 * 1_000_000_000  # 2026-01-01T00:00:00Z
SYMBOLS = tuple(f"SYM{i:02d}" for i in range(12))
ACCOUNTS = ("acct-1", "acct-2")


def free_port() -> int:
    """Return a free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_nats_server() -> str:
    """Return the ``nats-server`` binary, or skip the test when it is not installed."""
    binary = shutil.which("nats-server")
    if binary is None:
        pytest.skip("nats-server is not installed (scripts/bootstrap --system)")
    return binary


@dataclass
class NatsNode:
    """One ``nats-server -js`` process with its own ports and store folder."""

    name: str
    folder: Path
    port: int = field(default_factory=free_port)
    cluster_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, routes: list[int] | None = None) -> None:
        command = [
            require_nats_server(), "-js", "-a", "127.0.0.1", "-p", str(self.port),
            "--server_name", self.name, "-sd", str(self.folder / self.name),
        ]  # fmt: skip
        if routes is not None:
            command += [
                "--cluster_name", "algowatch-test",
                "--cluster", f"nats://127.0.0.1:{self.cluster_port}",
                "--routes", ",".join(f"nats://127.0.0.1:{p}" for p in routes),
            ]  # fmt: skip
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / f"{self.name}.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.folder / f"{self.name}.log").read_text()
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            time.sleep(0.05)
        pytest.fail(f"nats-server {self.name} did not listen on {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_cluster(folder: Path, size: int = 3) -> list[NatsNode]:
    """Start ``size`` clustered JetStream nodes on loopback (routes to one another)."""
    nodes = [NatsNode(f"n{i + 1}", folder) for i in range(size)]
    routes = [node.cluster_port for node in nodes]
    for node in nodes:
        node.start(routes)
    return nodes


def fleet_events(
    count: int, bots: int, seed: int = 17, start_ns: int = START_NS
) -> list[tuple[str, dict[str, Any]]]:
    """Return ``count`` (subject, event) pairs of a seeded fleet: marks and order lifecycles.

    Each order's lifecycle (submitted, acknowledged, one or two fills, or a rejection or a
    cancel) stays on one bot's subject, so per-subject order keeps it in order.
    """
    rng = random.Random(seed)
    prices = {symbol: 100.0 + 5 * i for i, symbol in enumerate(SYMBOLS)}
    out: list[tuple[str, dict[str, Any]]] = []
    ts = start_ns
    open_orders: list[dict[str, Any]] = []
    order = 0

    def emit(bot: int, row: dict[str, Any]) -> None:
        nonlocal ts
        ts += rng.randrange(100_000, 2_000_000)
        account = ACCOUNTS[bot % len(ACCOUNTS)]
        row |= {"ts": format_timestamp(ts), "event_id": f"ev-{len(out)}", "account": account}
        out.append((f"algowatch.events.{account}.bot-{bot:02d}", row))

    while len(out) < count:
        bot = rng.randrange(bots)
        symbol = rng.choice(SYMBOLS)
        prices[symbol] = round(prices[symbol] * (1 + rng.gauss(0, 0.001)), 2)
        price = prices[symbol]
        emit(bot, {"type": "mark", "symbol": symbol, "price": price})
        if rng.random() < 0.4:
            oid = f"o{order}"
            order += 1
            quantity = float(rng.randrange(1, 20) * 10)
            side = rng.choice(("buy", "sell"))
            emit(
                bot,
                {
                    "type": "order_submitted", "order_id": oid, "symbol": symbol,
                    "side": side, "quantity": quantity, "order_type": "limit",
                    "limit_price": price, "arrival_price": price,
                    "strategy": ("alpha", "beta")[order % 2],
                },
            )  # fmt: skip
            open_orders.append(
                {"bot": bot, "oid": oid, "symbol": symbol, "qty": quantity, "stage": 0}
            )
        still = []
        for entry in open_orders:
            if rng.random() < 0.5:
                still.append(entry)
                continue
            bot, oid, qty = entry["bot"], entry["oid"], entry["qty"]
            fill_price = prices[entry["symbol"]]
            if entry["stage"] == 0:
                if rng.random() < 0.05:
                    emit(bot, {"type": "order_rejected", "order_id": oid, "reason": "risk limit"})
                    continue
                emit(bot, {"type": "order_acknowledged", "order_id": oid})
            elif entry["stage"] == 1 and rng.random() < 0.3:
                emit(bot, {"type": "order_filled", "order_id": oid, "fill_id": f"{oid}-1",
                           "quantity": qty / 2, "price": fill_price, "fee": 0.01})  # fmt: skip
            else:
                if rng.random() < 0.1:
                    emit(bot, {"type": "order_canceled", "order_id": oid})
                else:
                    part = qty / 2 if entry["stage"] == 2 else qty
                    emit(bot, {"type": "order_filled", "order_id": oid, "fill_id": f"{oid}-2",
                               "quantity": part, "price": fill_price, "fee": 0.02})  # fmt: skip
                continue
            entry["stage"] += 1
            still.append(entry)
        open_orders = still
    return out[:count]
