"""FreqtradeMapper: freqtrade's webhook messages (all values strings) as events.

The P&L examples are worked by hand with freqtrade's formulas (``persistence/trade_model.py``:
open value = amount * open_rate * (1 + fee_open), close value = amount * close_rate *
(1 - fee_close), profit_amount = close value - open value for a long trade); the
integration test checks the same against freqtrade's own code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from algowatch.errors import InvalidEventError
from algowatch.events import OrderCanceled, OrderFilled, OrderSubmitted
from algowatch.integrations.freqtrade import MESSAGE_TYPES, FreqtradeMapper, webhook_config
from algowatch.monitor import Monitor
from algowatch.settings import MonitorSettings
from algowatch.testing import FakeClock

NOW = 1_788_000_000_000_000_000
OPEN = "2026-09-01 10:00:00.250000+00:00"
# the cancel messages carry trade.open_date, naive (UTC)
OPEN_NAIVE = "2026-09-01 10:00:00.250000"


def message(kind: str, **fields: Any) -> dict[str, str]:
    """Return a message as freqtrade's webhook posts it: every value ``str.format``-ed."""
    base: dict[str, Any] = {
        "type": kind,
        "trade_id": 7,
        "pair": "BTC/USDT",
        "direction": "Long",
        "amount": 0.01,
        "order_rate": 60000.0,
        "open_rate": 60000.0,
        "order_type": "limit",
        "open_date": OPEN,
        "sub_trade": False,
        "enter_tag": None,
        "exchange": "Binance",
    }
    base.update(fields)
    return {name: str(value) for name, value in base.items() if name in MESSAGE_TYPES[kind]}


def realized(events: list[Any]) -> float:
    monitor = Monitor(MonitorSettings(), clock=FakeClock())
    for event in events:
        monitor.apply(event)
    return monitor.figures().portfolio.trading.realized_pnl


def run(mapper: FreqtradeMapper, *messages: dict[str, str]) -> list[Any]:
    events: list[Any] = []
    for index, item in enumerate(messages):
        events += mapper.map(item, received_ns=NOW + index * 10**9)
    return events


def test_status_message_becomes_a_freqtrade_heartbeat() -> None:
    [event] = FreqtradeMapper().map({"type": "status", "status": "running"}, received_ns=NOW)
    assert (event.component, event.extra, event.ts) == (
        "freqtrade",
        {"freqtrade_status": "running"},
        NOW,
    )


def test_long_round_trip_given_fees_realizes_freqtrades_profit_amount() -> None:
    """0.01 BTC bought at 60,000 and sold at 61,000 with 0.1 % fees each way: profit
    610 * 0.999 - 600 * 1.001 = 8.79, so the exit fill's fee is 10 - 8.79 = 1.21."""
    events = run(
        FreqtradeMapper(),
        message("entry", current_rate=60010.0),
        message("entry_fill"),
        message(
            "exit",
            order_rate=61000.0,
            close_rate=61000.0,
            profit_amount=8.79,
            profit_ratio=0.0146,
            exit_reason="roi",
            close_date=OPEN,
        ),
        message(
            "exit_fill",
            order_rate=61000.0,
            close_rate=61000.0,
            profit_amount=8.79,
            profit_ratio=0.0146,
            exit_reason="roi",
            close_date=OPEN,
            is_final_exit=True,
        ),
    )
    entry, entry_fill, exit_order, exit_fill = events
    assert isinstance(entry, OrderSubmitted)
    assert (entry.side, entry.quantity, entry.limit_price, entry.arrival_price) == (
        "buy",
        0.01,
        60000.0,
        60010.0,
    )
    assert entry.order_id == "ft-7-20260901T100000.250000Z-entry-" + entry.order_id[-12:]
    assert isinstance(entry_fill, OrderFilled)
    assert (entry_fill.order_id, entry_fill.fee, entry_fill.price) == (entry.order_id, 0.0, 60000.0)
    assert isinstance(exit_order, OrderSubmitted)
    assert (exit_order.side, exit_order.extra["freqtrade_exit_reason"]) == ("sell", "roi")
    assert isinstance(exit_fill, OrderFilled)
    assert exit_fill.order_id == exit_order.order_id
    assert exit_fill.fee == pytest.approx(1.21, abs=1e-9)
    assert realized(events) == pytest.approx(8.79, abs=1e-9)


def test_short_trade_sells_to_enter_and_buys_to_exit() -> None:
    """Short 2 @ 100, covered @ 90, fees 1 % each way: profit 200 * 0.99 - 180 * 1.01
    = 16.2 (freqtrade: open value - close value), fee = 2 * (100 - 90) - 16.2 = 3.8."""
    short = {"direction": "Short", "amount": 2.0, "order_rate": 100.0, "open_rate": 100.0}
    closing = {
        **short,
        "order_rate": 90.0,
        "close_rate": 90.0,
        "profit_amount": 16.2,
        "profit_ratio": 0.08,
        "exit_reason": "exit_signal",
        "close_date": OPEN,
    }
    events = run(
        FreqtradeMapper(),
        message("entry", current_rate=100.0, **short),
        message("entry_fill", **short),
        message("exit", current_rate=90.0, **closing),
        message("exit_fill", is_final_exit=True, **closing),
    )
    assert [e.side for e in events if isinstance(e, OrderSubmitted)] == ["sell", "buy"]
    assert events[-1].fee == pytest.approx(3.8, abs=1e-9)
    assert realized(events) == pytest.approx(16.2, abs=1e-9)


def test_partial_exits_after_two_entries_realize_the_sum_of_profit_amounts() -> None:
    """Entries 1 @ 100 and 1 @ 110 (freqtrade's open_rate 105), exits 1 @ 120 then 1 @ 120,
    no fees: freqtrade books 15 + 15 on its average price, algowatch 20 + 10 on FIFO lots;
    each trade's total is 30 either way."""
    mapper = FreqtradeMapper()
    exit_fields = {
        "amount": 1.0,
        "order_rate": 120.0,
        "open_rate": 105.0,
        "close_rate": 120.0,
        "profit_amount": 15.0,
        "profit_ratio": 0.14,
        "exit_reason": "partial",
        "close_date": OPEN,
    }
    events = run(
        mapper,
        message("entry", amount=1.0, order_rate=100.0, open_rate=100.0),
        message("entry_fill", amount=1.0, order_rate=100.0, open_rate=100.0),
        message("entry", amount=1.0, order_rate=110.0, open_rate=110.0, sub_trade=True),
        message("entry_fill", amount=1.0, order_rate=110.0, open_rate=110.0, sub_trade=True),
        message("exit", sub_trade=True, **exit_fields),
        message("exit_fill", sub_trade=True, is_final_exit=False, **exit_fields),
    )
    assert realized(events) == pytest.approx(20.0)
    events += run(
        mapper,
        message("exit", **{**exit_fields, "exit_reason": "roi"}),
        message("exit_fill", is_final_exit=True, **{**exit_fields, "exit_reason": "roi"}),
    )
    assert realized(events) == pytest.approx(30.0)
    submitted = [e.order_id for e in events if isinstance(e, OrderSubmitted)]
    assert len(set(submitted)) == 4


def test_cancel_with_naive_date_cancels_the_order_its_trade_placed() -> None:
    mapper = FreqtradeMapper()
    [entry] = mapper.map(message("entry"), received_ns=NOW)
    [canceled] = mapper.map(
        message("entry_cancel", open_date=OPEN_NAIVE, reason="cancelled due to timeout"),
        received_ns=NOW + 1,
    )
    assert isinstance(canceled, OrderCanceled)
    assert (canceled.order_id, canceled.reason) == (entry.order_id, "cancelled due to timeout")


def test_partly_filled_entry_then_cancel_fills_and_cancels_one_order() -> None:
    """freqtrade sends entry_fill with the filled amount, then entry_cancel."""
    mapper = FreqtradeMapper()
    entry, fill, cancel = run(
        mapper,
        message("entry", amount=1.0),
        message("entry_fill", amount=0.4),
        message(
            "entry_cancel",
            amount=0.4,
            open_date=OPEN_NAIVE,
            reason="cancelled due to timeout, partially filled",
        ),
    )
    assert fill.order_id == cancel.order_id == entry.order_id
    assert fill.quantity == 0.4
    monitor = Monitor(MonitorSettings(), clock=FakeClock())
    for event in (entry, fill, cancel):
        monitor.apply(event)
    [order] = monitor.order_figures()
    assert (order.status, order.filled_quantity) == ("canceled", 0.4)


def test_cancel_of_no_known_order_and_keep_open_exit_cancel_yield_nothing() -> None:
    mapper = FreqtradeMapper()
    assert mapper.map(message("entry_cancel", reason="x"), received_ns=NOW) == []
    run(
        mapper,
        message("entry"),
        message("entry_fill"),
        message(
            "exit",
            close_rate=1.0,
            profit_amount=0.0,
            profit_ratio=0.0,
            exit_reason="roi",
            close_date=OPEN,
        ),
    )
    keep = message(
        "exit_cancel",
        open_date=OPEN_NAIVE,
        exit_reason="roi",
        reason="partially filled - keeping order open",
    )
    assert mapper.map(keep, received_ns=NOW) == []


def test_reused_trade_id_with_another_open_date_is_another_trade() -> None:
    mapper = FreqtradeMapper()
    [first] = mapper.map(message("entry"), received_ns=NOW)
    [second] = mapper.map(message("entry", open_date="2026-09-02 08:00:00+00:00"), received_ns=NOW)
    assert first.order_id != second.order_id
    [canceled] = mapper.map(
        message("entry_cancel", open_date=OPEN_NAIVE, reason="timeout"), received_ns=NOW
    )
    assert canceled.order_id == first.order_id


def test_resent_message_maps_to_the_same_events() -> None:
    mapper = FreqtradeMapper()
    entry = message("entry")
    first = mapper.map(entry, received_ns=NOW)
    fill = mapper.map(message("entry_fill"), received_ns=NOW + 1)
    assert mapper.map(entry, received_ns=NOW + 2) == first
    assert mapper.map(message("entry_fill"), received_ns=NOW + 3) == fill
    assert fill[0].event_id is not None
    assert fill[0].event_id.startswith("ft-")


def test_stoploss_fill_without_exit_message_comes_with_its_own_order() -> None:
    """freqtrade does not announce stop-loss orders on the exchange, only their fill."""
    events = run(
        FreqtradeMapper(),
        message("entry"),
        message("entry_fill"),
        message(
            "exit_fill",
            order_type="stoploss",
            order_rate=57000.0,
            close_rate=57000.0,
            profit_amount=-31.17,
            profit_ratio=-0.05,
            exit_reason="stoploss_on_exchange",
            close_date=OPEN,
            is_final_exit=True,
        ),
    )
    submitted, filled = events[-2:]
    assert isinstance(submitted, OrderSubmitted)
    assert (submitted.order_type, submitted.side, submitted.limit_price) == ("stop", "sell", None)
    assert filled.order_id == submitted.order_id
    assert realized(events) == pytest.approx(-31.17)


def test_malformed_message_names_every_field_and_changes_nothing() -> None:
    mapper = FreqtradeMapper()
    [entry] = mapper.map(message("entry"), received_ns=NOW)
    bad = message(
        "exit_fill",
        close_rate=1.0,
        profit_amount="None",
        profit_ratio=0.0,
        exit_reason="roi",
        close_date=OPEN,
        is_final_exit=True,
    )
    bad.update(amount="abc", direction="Sideways")
    with pytest.raises(InvalidEventError) as caught:
        mapper.map(bad, received_ns=NOW)
    assert str(caught.value) == (
        "freqtrade.exit_fill.direction must be 'Long' or 'Short', received 'Sideways'"
    )
    del bad["direction"]
    bad.update(direction="Long")
    with pytest.raises(
        InvalidEventError,
        match=r"^freqtrade\.exit_fill\.amount must be a number "
        r"> 0, received 'abc'; freqtrade\.exit_fill\.profit_amount is required$",
    ):
        mapper.map(bad, received_ns=NOW)
    [fill] = mapper.map(message("entry_fill"), received_ns=NOW)
    assert fill.order_id == entry.order_id


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([1], "freqtrade must be a JSON object, received [1]"),
        (
            {"type": "protection_trigger"},
            "freqtrade.type must be one of entry, entry_fill, "
            "entry_cancel, exit, exit_fill, exit_cancel, status, received 'protection_trigger'",
        ),
        ({"type": "status"}, "freqtrade.status.status is required"),
        (
            {"type": {"entry": 1}},
            "freqtrade.type must be one of entry, entry_fill, "
            "entry_cancel, exit, exit_fill, exit_cancel, status, received {'entry': 1}",
        ),
        (
            {"type": "entry"},
            "freqtrade.entry.trade_id must be a positive integer, received "
            "nothing; freqtrade.entry.open_date must be a date like '2026-09-01 10:00:00+00:00' "
            "(1677 to 2262), received nothing; freqtrade.entry.pair is required; "
            "freqtrade.entry.direction must be 'Long' or 'Short', received nothing",
        ),
    ],
)
def test_message_without_its_fields_is_refused(body: Any, expected: str) -> None:
    with pytest.raises(InvalidEventError) as caught:
        FreqtradeMapper().map(body, received_ns=NOW)
    assert str(caught.value) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"pair": "X" * 65}, "freqtrade.entry.pair must be at most 64 characters, received 'XX"),
        ({"amount": 1e300}, "freqtrade.entry.amount must be <= 1e+15, received 1e+300"),
        ({"current_rate": "1e300"}, "freqtrade.entry.current_rate must be <= 1e+15"),
        ({"enter_tag": "x" * 5000}, "freqtrade.entry.enter_tag must be at most 4096 characters"),
        ({"open_date": "9999-12-31 23:59:59-14:00"}, "freqtrade.entry.open_date must be a date"),
        ({"open_date": "1500-01-01 00:00:00+00:00"}, "freqtrade.entry.open_date must be a date"),
        ({"strategy": "\ud800"}, "freqtrade must be encodable as JSON: str is not valid UTF-8"),
    ],
)
def test_value_no_journal_can_store_is_named_as_freqtrades_field(
    fields: dict[str, Any], expected: str
) -> None:
    entry = {**message("entry"), "current_rate": "1.0", **fields}
    with pytest.raises(InvalidEventError) as caught:
        FreqtradeMapper().map(entry, received_ns=NOW)
    assert str(caught.value).startswith(expected)


def test_webhook_config_puts_the_token_in_the_url_and_labels_in_every_order_message() -> None:
    block = webhook_config(
        "http://10.0.0.5:8000/", token="t" * 20, strategy="Sample", account="binance-1"
    )
    assert block["url"] == "http://10.0.0.5:8000/api/v1/sources/freqtrade?token=" + "t" * 20
    assert block["status"] == {"type": "{type}", "status": "{status}"}
    for kind in MESSAGE_TYPES.keys() - {"status"}:
        assert block[kind]["strategy"] == "Sample"
        assert block[kind]["account"] == "binance-1"
        assert block[kind]["type"] == "{type}"


def test_block_in_the_docs_is_the_block_webhook_config_returns() -> None:
    """docs/integrations/freqtrade.md shows the block shortened: each key it shows is right."""
    page = Path(__file__).parents[3] / "docs" / "integrations" / "freqtrade.md"
    [shown] = re.findall(r"```json\n(\{\n  \"webhook\".*?)\n```", page.read_text(), re.S)
    documented = json.loads(shown)["webhook"]
    block = webhook_config("http://127.0.0.1:8000", token="<your token>", strategy="SampleStrategy")
    assert (
        documented.pop("url") == "http://127.0.0.1:8000/api/v1/sources/freqtrade?token=<your token>"
    )
    assert block.pop("url").startswith("http://127.0.0.1:8000/api/v1/sources/freqtrade?token=")
    assert documented == {key: block[key] for key in documented}
