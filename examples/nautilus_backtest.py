"""A seeded NautilusTrader backtest watched by algowatch: the demo needs no exchange.

    .venv-nautilus/bin/python examples/nautilus_backtest.py --url http://127.0.0.1:8000

Synthetic one-minute AUD/USD bars (a seeded random walk) drive a strategy that
trades at random: market orders (taker fee), resting limit orders (maker rebate)
that fill, expire or get canceled, post-only orders that the venue rejects, and
orders that flip the position. It prints Nautilus's own figures (``--json`` for
a machine-readable line); ``--url`` adds ``AlgowatchActor``, ``--redis``
makes the node write its message bus to Redis (``MessageBusConfig``) for the
bridge. The tests and bench/nautilus.py run it.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from decimal import Decimal
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.common.config import DatabaseConfig, MessageBusConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.model.currencies import AUD, USD
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide, OrderStatus, TimeInForce
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TraderId, Venue
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.trading.strategy import Strategy

SYMBOL = "AUD/USD.SIM"
BAR_TYPE = f"{SYMBOL}-1-MINUTE-MID-EXTERNAL"
START_NS = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z
MINUTE_NS = 60_000_000_000
MAKER_FEE = Decimal("-0.00002")  # a rebate
TAKER_FEE = Decimal("0.00005")


def instrument() -> CurrencyPair:
    return CurrencyPair(
        instrument_id=InstrumentId.from_str(SYMBOL),
        raw_symbol=Symbol("AUD/USD"),
        base_currency=AUD,
        quote_currency=USD,
        price_precision=5,
        size_precision=0,
        price_increment=Price.from_str("0.00001"),
        size_increment=Quantity.from_int(1),
        lot_size=None,
        max_quantity=None,
        min_quantity=None,
        max_notional=None,
        min_notional=None,
        max_price=None,
        min_price=None,
        margin_init=Decimal("0.03"),
        margin_maint=Decimal("0.03"),
        maker_fee=MAKER_FEE,
        taker_fee=TAKER_FEE,
        ts_event=0,
        ts_init=0,
    )


def synthetic_bars(seed: int, count: int) -> list[Bar]:
    rng = random.Random(seed)
    bar_type = BarType.from_str(BAR_TYPE)
    bars, price = [], 0.70000
    for index in range(count):
        open_ = price
        close = max(0.5, open_ + rng.gauss(0, 0.0004))
        high = max(open_, close) + abs(rng.gauss(0, 0.0002))
        low = min(open_, close) - abs(rng.gauss(0, 0.0002))
        ts = START_NS + (index + 1) * MINUTE_NS
        bars.append(
            Bar(
                bar_type,
                Price(open_, 5),
                Price(high, 5),
                Price(low, 5),
                Price(close, 5),
                Quantity.from_int(10_000_000),
                ts,
                ts,
            )
        )
        price = float(Price(close, 5))
    return bars


class RandomTraderConfig(StrategyConfig, frozen=True):
    seed: int = 7


class RandomTrader(Strategy):
    """Trades at random, one working order at a time, never adding to a position.

    Every position is one lot (opened by one fill, then closed or flipped whole),
    so Nautilus's average-price accounting and algowatch's FIFO lots agree.
    """

    def __init__(self, config: RandomTraderConfig) -> None:
        super().__init__(config)
        self.rng = random.Random(config.seed)
        self.instrument_id = InstrumentId.from_str(SYMBOL)

    def on_start(self) -> None:
        self.subscribe_bars(BarType.from_str(BAR_TYPE))

    def on_bar(self, bar: Bar) -> None:
        if self.cache.orders_open(instrument_id=self.instrument_id):
            if self.rng.random() < 0.2:
                self.cancel_all_orders(self.instrument_id)
            return
        roll = self.rng.random()
        if roll > 0.5:
            return
        net = self.portfolio.net_position(self.instrument_id)
        lots = self.rng.randint(1, 5) * 10_000
        if net == 0:
            side = self.rng.choice((OrderSide.BUY, OrderSide.SELL))
            quantity = lots
        else:
            side = OrderSide.SELL if net > 0 else OrderSide.BUY
            # close the whole position, or flip it
            quantity = int(abs(net)) + (lots if self.rng.random() < 0.5 else 0)
        close = float(bar.close)
        if roll < 0.2:
            self.submit_order(
                self.order_factory.market(self.instrument_id, side, Quantity.from_int(quantity))
            )
            return
        offset = self.rng.randint(1, 8) * 0.0001
        crossing = roll > 0.47  # a post-only order on the wrong side: the venue rejects it
        sign = -1 if (side == OrderSide.BUY) != crossing else 1
        price = Price(close + sign * offset, 5)
        expires = roll < 0.3
        self.submit_order(
            self.order_factory.limit(
                self.instrument_id,
                side,
                Quantity.from_int(quantity),
                price,
                time_in_force=TimeInForce.GTD if expires else TimeInForce.GTC,
                expire_time=(None if not expires else _as_datetime(bar.ts_event + 5 * MINUTE_NS)),
                post_only=crossing,
            )
        )


def _as_datetime(ts: int) -> Any:
    import pandas as pd  # noqa: PLC0415 (Nautilus depends on pandas)

    return pd.Timestamp(ts, unit="ns", tz="UTC")


def build_engine(
    *,
    seed: int,
    bar_count: int,
    url: str | None = None,
    token: str | None = None,
    mark_interval_seconds: float = 60.0,
    redis: bool = False,
    redis_port: int = 6379,
    trader_id: str = "BACKTESTER-001",
) -> BacktestEngine:
    """Return a ready-to-run engine (strategy, data and, with ``url``, the actor)."""
    message_bus = None
    if redis:
        # Nautilus's DatabaseConfig names no database number: streams go to db 0, under
        # the key trader-<trader_id>:stream (one stream keeps the events in order)
        message_bus = MessageBusConfig(
            database=DatabaseConfig(host="127.0.0.1", port=redis_port),
            encoding="json",
            stream_per_topic=False,
        )
    engine = BacktestEngine(
        config=BacktestEngineConfig(
            trader_id=TraderId(trader_id),
            logging=LoggingConfig(bypass_logging=True),
            message_bus=message_bus,
        )
    )
    engine.add_venue(
        venue=Venue("SIM"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        starting_balances=[Money(1_000_000, USD)],
    )
    engine.add_instrument(instrument())
    engine.add_data(synthetic_bars(seed, bar_count))
    engine.add_strategy(RandomTrader(RandomTraderConfig(seed=seed)))
    if url is not None:
        from algowatch.integrations.nautilus import (  # noqa: PLC0415
            AlgowatchActor,
            AlgowatchActorConfig,
        )

        engine.add_actor(
            AlgowatchActor(
                AlgowatchActorConfig(
                    url=url,
                    token=token,
                    bar_types=(BAR_TYPE,),
                    mark_interval_seconds=mark_interval_seconds,
                )
            )
        )
    return engine


def nautilus_figures(engine: BacktestEngine) -> dict[str, Any]:
    """Nautilus's own accounting after the run: portfolio, positions, orders, account."""
    instrument_id = InstrumentId.from_str(SYMBOL)
    portfolio, cache = engine.portfolio, engine.cache
    account = cache.account_for_venue(Venue("SIM"))
    positions = cache.positions(instrument_id=instrument_id)
    snapshots = cache.position_snapshots()
    open_positions = [p for p in positions if p.is_open]
    orders = cache.orders()
    statuses = [o.status for o in orders]
    fills = [e for o in orders for e in o.events if type(e).__name__ == "OrderFilled"]
    last_bar = cache.bar(BarType.from_str(BAR_TYPE))
    adjustments = _flip_fee_adjustments(engine, fills)
    # the opening fees of the open position as algowatch splits them (convention 2)
    open_fees = sum(
        float(fee) for position in open_positions for fee in position.commissions()
    ) + sum(adjustments.get(p.events[0].trade_id.value, 0.0) for p in open_positions)
    closed = [*snapshots, *(p for p in positions if p.is_closed)]
    return {
        "realized_pnl": float(portfolio.realized_pnl(instrument_id)),
        "unrealized_pnl": float(portfolio.unrealized_pnl(instrument_id)),
        "balance_change": float(account.balance_total(USD)) - 1_000_000.0,
        "fees": float(account.commissions()[USD]),
        "closed_positions": len(closed),
        "open_positions": len(open_positions),
        "net_position": float(portfolio.net_position(instrument_id)),
        "open_position_fees": open_fees,
        "flips": len(adjustments),
        "flip_fee_adjustment": sum(adjustments.values()),
        "winning_positions": sum(1 for p in closed if float(p.realized_pnl) > 0),
        "largest_win": max(float(p.realized_pnl) for p in closed) if closed else None,
        "largest_loss": min(float(p.realized_pnl) for p in closed) if closed else None,
        "last_price": float(last_bar.close),
        "orders": len(orders),
        "orders_filled": statuses.count(OrderStatus.FILLED),
        "orders_partially_filled": statuses.count(OrderStatus.PARTIALLY_FILLED),
        "orders_canceled": statuses.count(OrderStatus.CANCELED),
        "orders_expired": statuses.count(OrderStatus.EXPIRED),
        "orders_rejected": statuses.count(OrderStatus.REJECTED),
        "orders_denied": statuses.count(OrderStatus.DENIED),
        "orders_open": len(cache.orders_open()),
        "fills": len(fills),
        "maker_fills": sum(1 for f in fills if f.liquidity_side.name == "MAKER"),
    }


def _flip_fee_adjustments(engine: BacktestEngine, fills: list[Any]) -> dict[str, float]:
    # Nautilus splits a flipping fill in two and books Money(fee x closed/filled) -- rounded
    # to cents -- to the closed position; algowatch splits the fee exactly. Per flipping
    # fill (trade id): exact closing share minus the share Nautilus booked.
    by_trade = {fill.trade_id.value: fill for fill in fills}
    adjustments = {}
    for snapshot in engine.cache.position_snapshots():
        closing = snapshot.events[-1]
        original = by_trade[closing.trade_id.value]
        if closing.last_qty != original.last_qty:
            exact = float(original.commission) * float(closing.last_qty) / float(original.last_qty)
            adjustments[closing.trade_id.value] = exact - float(closing.commission)
    return adjustments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="algowatch service; adds AlgowatchActor")
    parser.add_argument("--token")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bars", type=int, default=3000)
    parser.add_argument("--mark-interval-seconds", type=float, default=60.0)
    parser.add_argument("--redis", action="store_true", help="write the message bus to Redis")
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--trader-id", default="BACKTESTER-001")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args()
    engine = build_engine(
        seed=args.seed,
        bar_count=args.bars,
        url=args.url,
        token=args.token,
        mark_interval_seconds=args.mark_interval_seconds,
        redis=args.redis,
        redis_port=args.redis_port,
        trader_id=args.trader_id,
    )
    started = time.perf_counter()
    engine.run()
    elapsed = time.perf_counter() - started
    figures = nautilus_figures(engine)
    engine.dispose()
    figures["wall_seconds"] = elapsed
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            if not isinstance(value, list):
                print(f"{key:>28}: {value}")


if __name__ == "__main__":
    main()
