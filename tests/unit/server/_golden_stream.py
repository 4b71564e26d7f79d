"""A deterministic mixed event stream for the read-side golden files.

Every event type, three strategies, two accounts, four symbols, rejects, partial
fills and cancels, a position flip, signals with outcomes, marks with quotes and
exchange times, account reports, errors, heartbeats, duplicates and odd events,
over five sessions (so session returns and ratios are defined).
"""

from __future__ import annotations

import numpy as np

from algowatch import events as ev
from algowatch.testing import EventFactory, FakeClock

START = "2025-01-06T14:30:00Z"
SYMBOLS = ("AAPL", "MSFT", "ES", "BTC")
STRATEGIES = ("mean_rev", "momentum", "pairs")
ACCOUNTS = ("cash", "margin")
_DAY = 86_400.0


def golden_events(seed: int = 20_250_106) -> list[ev.Event]:
    """Return the stream (the same list for the same seed)."""
    rng = np.random.default_rng(seed)
    clock = FakeClock(START)
    f = EventFactory(clock, step_seconds=7.0)
    prices = {"AAPL": 190.0, "MSFT": 410.0, "ES": 5_900.0, "BTC": 95_000.0}
    out: list[ev.Event] = []
    order = 0
    signal = 0
    for day in range(5):
        for step in range(40):
            symbol = SYMBOLS[int(rng.integers(len(SYMBOLS)))]
            strategy = STRATEGIES[int(rng.integers(len(STRATEGIES)))]
            account = ACCOUNTS[int(rng.integers(len(ACCOUNTS)))]
            prices[symbol] *= float(np.exp(rng.normal(0.0, 0.004)))
            price = round(prices[symbol], 2)
            spread = max(0.01, round(price * 0.0002, 2))
            out.append(
                f.mark(
                    symbol,
                    price,
                    bid=price - spread,
                    ask=price + spread,
                    exchange_ts=clock.time_ns()
                    + 6_000_000_000
                    - int(rng.integers(1, 50)) * 1_000_000,
                    strategy=strategy,
                    account=account,
                )
            )
            signal += 1
            sid = f"s{signal}"
            direction: ev.Direction = ("long", "short", "flat")[int(rng.integers(3))]
            out.append(
                f.signal(
                    sid,
                    symbol,
                    direction,
                    confidence=round(float(rng.uniform(0.2, 0.95)), 3),
                    generation_seconds=round(float(rng.uniform(0.0005, 0.2)), 4),
                    strategy=strategy,
                    account=account,
                )
            )
            order += 1
            oid = f"o{order}"
            side: ev.Side = "buy" if rng.random() < 0.55 else "sell"
            quantity = float(int(rng.integers(1, 20)))
            out.append(
                f.submitted(
                    oid,
                    symbol,
                    side,
                    quantity,
                    order_type="limit" if step % 3 else "market",
                    limit_price=price,
                    decision_price=round(price * (1 + float(rng.normal(0, 0.0005))), 2),
                    signal_id=sid,
                    strategy=strategy,
                    account=account,
                )
            )
            roll = rng.random()
            if roll < 0.1:
                out.append(
                    f.rejected(oid, "insufficient margin", strategy=strategy, account=account)
                )
                continue
            out.append(
                f.acknowledged(oid, broker_order_id=f"b{order}", strategy=strategy, account=account)
            )
            fill_price = round(price * (1 + float(rng.normal(0, 0.0003))), 2)
            if roll < 0.25:
                part = max(1.0, quantity // 2)
                out.append(
                    f.filled(
                        oid,
                        part,
                        fill_price,
                        fee=0.5,
                        liquidity="maker",
                        strategy=strategy,
                        account=account,
                    )
                )
                if part < quantity:
                    out.append(
                        f.canceled(oid, reason="timeout", strategy=strategy, account=account)
                    )
            else:
                out.append(
                    f.filled(
                        oid,
                        quantity,
                        fill_price,
                        fee=round(quantity * 0.01, 2),
                        vwap=round(fill_price * (1 + float(rng.normal(0, 0.0002))), 2),
                        liquidity="taker",
                        strategy=strategy,
                        account=account,
                    )
                )
            out.append(
                f.outcome(
                    sid,
                    ("long", "short", "flat")[int(rng.integers(3))],
                    pnl=round(float(rng.normal(5.0, 40.0)), 2),
                    bars_to_profit=int(rng.integers(0, 10)),
                    bars_held=int(rng.integers(1, 30)),
                    strategy=strategy,
                    account=account,
                )
            )
            if step % 10 == 0:
                out.append(f.heartbeat("engine"))
                out.append(f.heartbeat("broker"))
            if step % 13 == 5:
                out.append(f.error("timeout", "broker", message="slow ack", strategy=strategy))
        # a flip: long 5, then sell 12 (closes 5, opens 7 short), on the momentum/margin pair
        order += 1
        out.append(
            f.submitted(f"o{order}", "AAPL", "buy", 5.0, strategy="momentum", account="margin")
        )
        out.append(
            f.filled(
                f"o{order}",
                5.0,
                round(prices["AAPL"], 2),
                fee=0.25,
                strategy="momentum",
                account="margin",
            )
        )
        order += 1
        out.append(
            f.submitted(f"o{order}", "AAPL", "sell", 12.0, strategy="momentum", account="margin")
        )
        out.append(
            f.filled(
                f"o{order}",
                12.0,
                round(prices["AAPL"] * 1.001, 2),
                fee=0.6,
                strategy="momentum",
                account="margin",
            )
        )
        for account, equity in (
            ("cash", 50_000.0 + 150.0 * day),
            ("margin", 51_000.0 - 90.0 * day),
        ):
            out.append(
                f.account_snapshot(
                    equity, cash=equity * 0.4, buying_power=equity * 2, account=account
                )
            )
        # odd events the engine tolerates and counts
        out.append(f.filled("no-such-order", 1.0, 10.0))
        out.append(f.outcome("no-such-signal", "long", pnl=1.0))
        out.append(f.mark("ZZZ", 1.0))
        # the next day (a session roll at UTC midnight)
        clock.advance(_DAY - 40 * 7 * 6)
    duplicate = out[10]
    out.append(duplicate)
    return out
