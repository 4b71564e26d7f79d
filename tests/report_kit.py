"""Seeded multi-day event streams for the report tests: two strategies, orders, signals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from algowatch.events import format_timestamp

START_NS = 1_735_776_000 * 1_000_000_000  # 2025-01-02T00:00:00Z
DAY_NS = 86_400 * 1_000_000_000
STRATEGIES = ("momentum", "meanrev")
SYMBOLS = {"momentum": "AAPL", "meanrev": "MSFT"}


def events(days: int = 90, seed: int = 7) -> list[dict[str, object]]:
    """Return the events of ``days`` sessions: each strategy opens and closes a trade a day.

    Every day: a mark per symbol, a signal, a buy (submitted, acknowledged, filled with
    slippage against its arrival price), later marks, a sell that closes the position,
    and the signal's outcome. Prices follow a seeded random walk, so some days lose.
    """
    rng = np.random.default_rng(seed)
    prices = {"AAPL": 180.0, "MSFT": 400.0}
    rows: list[dict[str, object]] = []
    order = 0

    def add(ts: int, row: dict[str, object]) -> None:
        row["ts"] = format_timestamp(ts)
        rows.append(row)

    for day in range(days):
        base = START_NS + day * DAY_NS + 14 * 3_600 * 1_000_000_000
        for k, strategy in enumerate(STRATEGIES):
            symbol = SYMBOLS[strategy]
            t = base + k * 60_000_000_000
            price = prices[symbol]
            signal_id = f"s{day}-{strategy}"
            add(t, {"type": "mark", "symbol": symbol, "price": round(price, 2)})
            add(
                t + 1,
                {
                    "type": "signal",
                    "signal_id": signal_id,
                    "symbol": symbol,
                    "direction": "long",
                    "confidence": round(float(rng.uniform(0.5, 0.9)), 3),
                    "strategy": strategy,
                },
            )
            order += 1
            buy = f"o{order}"
            quantity = 50
            add(
                t + 2,
                {
                    "type": "order_submitted",
                    "order_id": buy,
                    "symbol": symbol,
                    "side": "buy",
                    "quantity": quantity,
                    "order_type": "market",
                    "arrival_price": round(price, 2),
                    "decision_price": round(price, 2),
                    "signal_id": signal_id,
                    "strategy": strategy,
                },
            )
            ack_ns = int(rng.integers(2_000_000, 40_000_000))
            add(
                t + 2 + ack_ns,
                {"type": "order_acknowledged", "order_id": buy, "strategy": strategy},
            )
            fill_ns = ack_ns + int(rng.integers(5_000_000, 200_000_000))
            fill_price = round(price * (1 + rng.normal(0.0002, 0.0004)), 2)
            add(
                t + 2 + fill_ns,
                {
                    "type": "order_filled",
                    "order_id": buy,
                    "fill_id": f"{buy}f",
                    "quantity": quantity,
                    "price": fill_price,
                    "fee": 1.0,
                    "strategy": strategy,
                },
            )
            move = rng.normal(0.0005, 0.012)
            price = price * (1 + move)
            prices[symbol] = price
            t2 = t + 3 * 3_600 * 1_000_000_000
            add(t2, {"type": "mark", "symbol": symbol, "price": round(price, 2)})
            order += 1
            sell = f"o{order}"
            add(
                t2 + 1,
                {
                    "type": "order_submitted",
                    "order_id": sell,
                    "symbol": symbol,
                    "side": "sell",
                    "quantity": quantity,
                    "order_type": "market",
                    "arrival_price": round(price, 2),
                    "strategy": strategy,
                },
            )
            ack2 = int(rng.integers(2_000_000, 40_000_000))
            add(
                t2 + 1 + ack2,
                {"type": "order_acknowledged", "order_id": sell, "strategy": strategy},
            )
            exit_price = round(price * (1 - rng.normal(0.0002, 0.0004)), 2)
            add(
                t2 + 1 + ack2 + int(rng.integers(5_000_000, 200_000_000)),
                {
                    "type": "order_filled",
                    "order_id": sell,
                    "fill_id": f"{sell}f",
                    "quantity": quantity,
                    "price": exit_price,
                    "fee": 1.0,
                    "strategy": strategy,
                },
            )
            add(
                t2 + 500_000_000,
                {
                    "type": "signal_outcome",
                    "signal_id": signal_id,
                    "actual_direction": "long" if move > 0 else "short",
                    "pnl": round((exit_price - fill_price) * quantity - 2.0, 2),
                    "bars_held": 3,
                    "strategy": strategy,
                },
            )
    rows.sort(key=lambda r: str(r["ts"]))
    return rows


def write_events(path: Path, days: int = 90, seed: int = 7) -> Path:
    """Write :func:`events` to ``path`` as NDJSON and return the path."""
    path.write_text("".join(json.dumps(row) + "\n" for row in events(days, seed)), encoding="utf-8")
    return path


def write_returns(
    path: Path, n: int = 300, seed: int = 11, column: str = "returns", start: str = "2024-01-02"
) -> Path:
    """Write ``n`` seeded daily returns (weekdays from ``start``) with a date column."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0006, 0.011, n)
    days = np.busday_offset(start, np.arange(n), roll="forward")
    lines = ["date," + column] + [
        f"{d},{v!r}" for d, v in zip(days.astype(str).tolist(), values.tolist(), strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
