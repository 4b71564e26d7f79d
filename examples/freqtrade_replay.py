"""Replay a day of freqtrade trades into algowatch, with freqtrade's own code and no exchange.

freqtrade's trades and orders (``freqtrade.persistence``, an in-memory database) go through
a scripted day: fills, fees, a short, a second entry, a partial exit, a partly filled entry
that is canceled, an exit canceled and placed again, a stop-loss on the exchange, a trade
canceled before any fill (freqtrade deletes it and reuses its id). ``FreqtradeBot``'s own
notify methods build each message and freqtrade's ``Webhook`` handler, configured with the
block ``algowatch config freqtrade`` prints, posts it to the service. Only the exchange
connection is replaced (:class:`OfflineExchange`: the three look-ups the notify methods make).

    pip install 'algowatch[freqtrade]'
    algowatch serve &                      # or: algowatch demo
    python examples/freqtrade_replay.py --url http://127.0.0.1:8000

At the end it prints freqtrade's profit of the closed trades and algowatch's realized P&L.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import httpx
from freqtrade.enums import RPCMessageType, TradingMode
from freqtrade.freqtradebot import FreqtradeBot
from freqtrade.persistence import Order, Trade, init_db
from freqtrade.rpc.rpc_manager import RPCManager

FEE = 0.001  # 0.1 % per side, freqtrade's fee_open / fee_close
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


class OfflineExchange:
    """The exchange look-ups freqtrade's notify methods make, without a connection."""

    def __init__(self) -> None:
        self.rates: dict[str, float] = {}

    def get_rate(self, pair: str, *, side: str, is_short: bool, refresh: bool) -> float | None:
        return self.rates.get(pair)

    def get_pair_base_currency(self, pair: str) -> str:
        return pair.split("/", maxsplit=1)[0]

    def get_pair_quote_currency(self, pair: str) -> str:
        return pair.split("/")[1].split(":", maxsplit=1)[0]


def webhook_block(url: str, strategy: str) -> dict[str, Any]:
    """Return the block ``algowatch config freqtrade`` prints (the CLI itself is run)."""
    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "algowatch",
            "config",
            "freqtrade",
            "--url",
            url,
            "--strategy",
            strategy,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    block: dict[str, Any] = json.loads(printed)["webhook"]
    return block


@dataclass
class Day:
    """freqtrade's bot (its notify methods), its trades, and a clock for the script."""

    bot: FreqtradeBot
    exchange: OfflineExchange
    now: datetime = START
    order_ids: count[int] = field(default_factory=lambda: count(1))
    sent: list[dict[str, Any]] = field(default_factory=list)

    def tick(self, minutes: int = 5) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now

    def open_trade(
        self, pair: str, amount: float, rate: float, *, short: bool = False, tag: str | None = None
    ) -> tuple[Trade, Order]:
        """Place the first entry order of a new trade (freqtrade's execute_entry)."""
        futures = ":" in pair
        trade = Trade(
            pair=pair,
            base_currency=pair.split("/", maxsplit=1)[0],
            stake_currency="USDT",
            stake_amount=amount * rate,
            amount=amount,
            amount_requested=amount,
            open_rate=rate,
            open_date=self.tick(),
            fee_open=FEE,
            fee_close=FEE,
            is_open=True,
            exchange="binance",
            is_short=short,
            leverage=1.0,
            enter_tag=tag,
            trading_mode=TradingMode.FUTURES if futures else TradingMode.SPOT,
            interest_rate=0.0,
            funding_fees=0.0,
        )
        order = self._order(trade, trade.entry_side, amount, rate)
        Trade.session.add(trade)
        Trade.commit()
        self.exchange.rates[pair] = rate
        self.bot._notify_enter(trade, order, "limit")
        return trade, order

    def add_entry(self, trade: Trade, amount: float, rate: float) -> Order:
        """Place one more entry order (freqtrade's position adjustment)."""
        self.tick()
        order = self._order(trade, trade.entry_side, amount, rate)
        self.bot._notify_enter(trade, order, "limit", sub_trade=True)
        return order

    def place_exit(self, trade: Trade, amount: float, rate: float, reason: str) -> Order:
        """Place an exit order (freqtrade's execute_trade_exit)."""
        self.tick()
        order = self._order(trade, trade.exit_side, amount, rate)
        trade.exit_order_status = ""
        trade.close_rate_requested = rate
        trade.exit_reason = reason
        self.exchange.rates[trade.pair] = rate
        partial = amount < trade.amount
        self.bot._notify_exit(trade, "limit", sub_trade=partial, order=order)
        return order

    def fill(self, trade: Trade, order: Order, filled: float | None = None) -> None:
        """The exchange closes ``order`` (fully, or canceled after ``filled``); freqtrade's
        update_trade_state updates the trade and order_close_notify sends the fill."""
        self.tick()
        amount = order.ft_amount
        done = amount if filled is None else filled
        trade.update_order(
            {
                "id": order.order_id,
                "status": "closed" if filled is None else "canceled",
                "filled": done,
                "remaining": amount - done,
                "average": order.ft_price,
                "price": order.ft_price,
                "amount": amount,
                "cost": done * order.ft_price,
                "timestamp": int(self.now.timestamp() * 1000),
            }
        )
        trade.update_trade(order)
        Trade.commit()
        if order.ft_order_side == trade.exit_side:
            self.bot._notify_exit(
                trade, order.order_type, fill=True, sub_trade=trade.is_open, order=order
            )
        else:
            sub_trade = abs(order.safe_amount_after_fee - trade.amount) > 1e-12
            self.bot._notify_enter(trade, order, order.order_type, fill=True, sub_trade=sub_trade)

    def cancel_entry(self, trade: Trade, order: Order, reason: str) -> None:
        """freqtrade's handle_cancel_enter: a fill first (if any), then the cancel."""
        self.tick()
        if not trade.nr_of_successful_entries and order.safe_filled == 0:
            order.status, order.ft_is_open = "canceled", False
            self.bot._notify_enter_cancel(trade, order_type="limit", reason=reason)
            trade.delete()
            return
        self.bot._notify_enter_cancel(trade, order_type="limit", reason=reason)

    def cancel_exit(self, trade: Trade, order: Order, reason: str) -> None:
        """freqtrade's handle_cancel_exit for an unfilled exit order."""
        self.tick()
        trade.update_order(
            {
                "id": order.order_id,
                "status": "canceled",
                "filled": 0.0,
                "remaining": order.ft_amount,
                "amount": order.ft_amount,
            }
        )
        trade.exit_reason = None
        trade.close_rate = None
        trade.close_rate_requested = None
        self.bot._notify_exit_cancel(
            trade, order_type="limit", reason=reason, order_id=order.order_id
        )

    def stoploss_hit(self, trade: Trade, rate: float) -> None:
        """A stop-loss order on the exchange fills (freqtrade's handle_stoploss_on_exchange)."""
        self.tick()
        order = self._order(trade, "stoploss", trade.amount, rate, order_type="stop_loss")
        trade.update_order(
            {
                "id": order.order_id,
                "status": "closed",
                "filled": trade.amount,
                "remaining": 0.0,
                "average": rate,
                "price": rate,
                "amount": trade.amount,
                "cost": trade.amount * rate,
            }
        )
        trade.update_trade(order)
        Trade.commit()
        self.bot._notify_exit(trade, "stoploss", True)

    def _order(
        self, trade: Trade, side: str, amount: float, rate: float, order_type: str = "limit"
    ) -> Order:
        order = Order(
            ft_order_side=side,
            ft_pair=trade.pair,
            ft_is_open=True,
            ft_amount=amount,
            ft_price=rate,
            order_id=f"x-{next(self.order_ids)}",
            status="open",
            order_type=order_type,
            side="sell" if (side == "buy") == trade.is_short else "buy",
            price=rate,
            amount=amount,
            filled=0.0,
            remaining=amount,
            order_date=self.now,
        )
        if side == "stoploss":
            order.side = trade.exit_side
        trade.orders.append(order)
        return order


def open_day(url: str, *, strategy: str = "SampleStrategy") -> Day:
    """Return freqtrade's bot with its webhook configured from ``algowatch config freqtrade``."""
    init_db("sqlite://")
    config: dict[str, Any] = {
        "stake_currency": "USDT",
        "dry_run": True,
        "webhook": webhook_block(url, strategy),
    }
    bot = FreqtradeBot.__new__(FreqtradeBot)  # the notify methods, without an exchange
    bot.config = config
    exchange = OfflineExchange()
    bot.exchange = exchange  # type: ignore[assignment]
    bot.rpc = RPCManager(bot)
    return Day(bot, exchange)


def trade_day(day: Day) -> None:
    """The scripted day: every message type, and the cases freqtrade's messages make hard."""
    day.bot.notify_status("running", RPCMessageType.STATUS)
    # 1. a plain long round trip
    btc, entry = day.open_trade("BTC/USDT", 0.01, 60_000.0, tag="breakout")
    day.fill(btc, entry)
    day.fill(btc, day.place_exit(btc, 0.01, 61_200.0, "roi"))
    # 2. a short on futures, covered lower
    eth, entry = day.open_trade("ETH/USDT:USDT", 0.5, 2_500.0, short=True)
    day.fill(eth, entry)
    day.fill(eth, day.place_exit(eth, 0.5, 2_430.0, "exit_signal"))
    # 3. two entries (the second partly filled, then canceled), a partial exit, the rest
    sol, entry = day.open_trade("SOL/USDT", 10.0, 150.0)
    day.fill(sol, entry)
    second = day.add_entry(sol, 10.0, 140.0)
    day.fill(sol, second, filled=4.0)
    day.cancel_entry(sol, second, "cancelled due to timeout, partially filled")
    day.fill(sol, day.place_exit(sol, 7.0, 160.0, "partial_take_profit"))
    # 4. an exit canceled on timeout, placed again lower, filled
    stale = day.place_exit(sol, sol.amount, 165.0, "roi")
    day.cancel_exit(sol, stale, "cancelled due to timeout")
    day.fill(sol, day.place_exit(sol, sol.amount, 158.0, "roi"))
    # 5. an entry canceled before any fill: freqtrade deletes the trade and reuses its id
    ada, entry = day.open_trade("ADA/USDT", 1_000.0, 0.5)
    day.cancel_entry(ada, entry, "cancelled due to timeout, fully cancelled")
    ada, entry = day.open_trade("ADA/USDT", 1_000.0, 0.48)
    day.fill(ada, entry)
    # 6. the stop-loss on the exchange fills (freqtrade announces only the fill)
    day.stoploss_hit(ada, 0.45)
    # 7. a trade left open
    xrp, entry = day.open_trade("XRP/USDT", 500.0, 0.6)
    day.fill(xrp, entry)


def closed_profit() -> float:
    """freqtrade's own figure: the profit of its closed trades (fees included)."""
    return sum(t.close_profit_abs for t in Trade.get_trades_proxy(is_open=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="algowatch's base URL")
    parser.add_argument(
        "--token",
        default=os.environ.get("ALGOWATCH_TOKEN"),
        help="server.token [default: ALGOWATCH_TOKEN, which the webhook block uses too]",
    )
    args = parser.parse_args(argv)
    day = open_day(args.url)
    trade_day(day)
    headers = {"authorization": f"Bearer {args.token}"} if args.token else {}
    snapshot = httpx.get(f"{args.url}/api/v1/snapshot", headers=headers, timeout=10).json()
    print(f"freqtrade, profit of the closed trades: {closed_profit():.8f} USDT")
    print(f"algowatch, realized P&L:                {snapshot['trading']['realized_pnl']:.8f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
