"""A tiny trading bot that reports to algowatch through the Python SDK.

Start the service first (``algowatch serve``), then::

    python examples/sdk_bot.py --url http://127.0.0.1:8000 --orders 20

Or run everything in one process with ``--in-process`` (the service then runs in a
background thread on a free loopback port; open the printed URL for the dashboard).
"""

from __future__ import annotations

import argparse
import random
import time

from algowatch.client import Client
from algowatch.server import InProcessMonitor


def trade(client: Client, orders: int, seed: int = 7) -> None:
    """Run a toy strategy: signal, order, ack, fill, mark; one round trip per two orders."""
    rng = random.Random(seed)
    price = 190.0
    for n in range(orders):
        client.heartbeat("strategy")
        price *= 1 + rng.gauss(0, 0.002)
        client.mark("AAPL", round(price, 2), bid=round(price - 0.01, 2), ask=round(price + 0.01, 2))
        side = "buy" if n % 2 == 0 else "sell"
        signal_id, order_id = f"sig-{n}", f"ord-{n}"
        client.signal(signal_id, "AAPL", "long" if side == "buy" else "flat", confidence=0.6)
        client.order_submitted(
            order_id,
            "AAPL",
            side,
            10,
            "limit",
            limit_price=round(price, 2),
            arrival_price=round(price, 2),
            signal_id=signal_id,
        )
        client.order_acknowledged(order_id, broker_order_id=f"B{n}")
        fill_price = round(price * (1 + rng.gauss(0, 0.0005)), 2)
        client.order_filled(order_id, f"fill-{n}", 10, fill_price, fee=0.35)
    if not client.flush(timeout=30):
        print("warning: not every event reached the service:", client.stats())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A toy bot reporting to algowatch.")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", default=None, help="the service's ALGOWATCH_TOKEN, if set")
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--in-process", action="store_true", help="run the service in-process")
    args = parser.parse_args(argv)
    if args.in_process:
        with InProcessMonitor() as service, service.client(strategy="toy") as client:
            print("dashboard:", service.url)
            trade(client, args.orders)
            time.sleep(0.1)
            print("trades:", service.snapshot()["trading"]["num_trades"])
        return 0
    with Client(args.url, token=args.token, strategy="toy") as client:
        trade(client, args.orders)
        print("sent:", client.stats())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
