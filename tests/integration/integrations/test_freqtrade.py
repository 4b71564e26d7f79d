"""freqtrade's own code posts its webhooks to a live ``algowatch serve``.

freqtrade 2026.9 from PyPI (the ``freqtrade`` extra): its ``Trade`` and ``Order`` models
in an in-memory database, ``FreqtradeBot``'s notify methods building every message, and
its ``Webhook`` handler, configured with the block ``algowatch config freqtrade`` prints
(token in the URL), posting them over loopback to ``python -m algowatch serve``. The
reference is freqtrade's own accounting: ``close_profit_abs`` of its closed trades.
The scripted day is ``examples/freqtrade_replay.py`` (the demo), run here in-process.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from algowatch.integrations.freqtrade import MESSAGE_TYPES

from ... import serve_kit

# importing freqtrade (ccxt's thousands of modules) takes 20 s of CPU, minutes on a busy machine
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

EXAMPLE = Path(__file__).parents[3] / "examples" / "freqtrade_replay.py"
TOKEN = "freqtrade-webhook-token-0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    """``python -m algowatch serve`` with a token, on a free loopback port."""
    port = _free_port()
    log = tmp_path / "service.log"
    env = {**os.environ, "ALGOWATCH_TOKEN": TOKEN, "ALGOWATCH_HEALTH__SYSTEM_METRICS": "false"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "algowatch",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "data"),
                "--log-level",
                "info",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        serve_kit.wait_until_up(process, url, log)
        yield url
    finally:
        process.terminate()
        process.wait(30)
    # the token never reaches the service's log (it is only in freqtrade's config)
    assert TOKEN not in log.read_text()


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("ALGOWATCH_TOKEN", TOKEN)  # read by `algowatch config freqtrade`
    spec = importlib.util.spec_from_file_location("freqtrade_replay", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look it up
    spec.loader.exec_module(module)
    return module


def _get(url: str, path: str) -> Any:
    response = httpx.get(url + path, headers={"authorization": f"Bearer {TOKEN}"}, timeout=10)
    response.raise_for_status()
    return response.json()


def test_printed_block_passes_freqtrades_config_schema(replay: ModuleType) -> None:
    """freqtrade validates config.json with its own JSON schema before it starts."""
    import jsonschema  # noqa: PLC0415 - a dependency of the freqtrade extra
    from freqtrade.config_schema.config_schema import CONF_SCHEMA  # noqa: PLC0415

    block = replay.webhook_block("http://127.0.0.1:8000", "SampleStrategy")
    jsonschema.validate(block, CONF_SCHEMA["properties"]["webhook"])


def test_template_fields_are_fields_freqtrade_sends() -> None:
    """Every ``{field}`` of the printed block is a key of freqtrade's message TypedDict."""
    from freqtrade.rpc import rpc_types  # noqa: PLC0415 - the extra is imported by the tests only

    typed = {
        "entry": rpc_types.RPCEntryMsg,
        "entry_fill": rpc_types.RPCEntryMsg,
        "entry_cancel": rpc_types.RPCCancelMsg,
        "exit": rpc_types.RPCExitMsg,
        "exit_fill": rpc_types.RPCExitMsg,
        "exit_cancel": rpc_types.RPCExitCancelMsg,
        "status": rpc_types.RPCStatusMsg,
    }
    for kind, fields in MESSAGE_TYPES.items():
        keys = set(typing.get_type_hints(typed[kind]))
        assert set(fields) <= keys, (kind, set(fields) - keys)


def test_freqtrade_webhooks_give_freqtrades_profit_as_realized_pnl(
    service: str, replay: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="freqtrade")
    day = replay.open_day(service)
    assert day.bot.config["webhook"]["url"] == f"{service}/api/v1/sources/freqtrade?token={TOKEN}"
    replay.trade_day(day)
    # freqtrade logs every webhook it could not deliver (a non-2xx answer, a bad template)
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert failures == []

    from freqtrade.persistence import Trade  # noqa: PLC0415 - the extra is imported by the tests only

    closed = Trade.get_trades_proxy(is_open=False)
    assert len(closed) == 4
    freqtrade_profit = sum(trade.close_profit_abs for trade in closed)
    snapshot = _get(service, "/api/v1/snapshot")
    assert snapshot["anomalies"] == {}
    trading = snapshot["trading"]
    assert trading["realized_pnl"] == pytest.approx(freqtrade_profit, abs=1e-6)
    assert trading["num_trades"] == 4
    # per trade: each algowatch round trip's P&L is freqtrade's profit of that trade
    by_pair = {trade.pair: trade.close_profit_abs for trade in closed}
    trades = _get(service, "/api/v1/trades")["trades"]
    assert sorted((t["symbol"], round(t["pnl"], 6)) for t in trades) == sorted(
        (pair, round(profit, 6)) for pair, profit in by_pair.items()
    )
    [open_trade] = Trade.get_trades_proxy(is_open=True)
    [position] = snapshot["positions"]
    assert (position["symbol"], position["quantity"]) == (open_trade.pair, open_trade.amount)
    execution = snapshot["execution"]
    assert (execution["orders_submitted"], execution["orders_canceled"]) == (13, 3)
    assert execution["orders_open"] == 0

    # freqtrade sends a message again (its retries): the service ignores it
    applied = snapshot["events_applied"]
    btc = next(trade for trade in closed if trade.pair == "BTC/USDT")
    day.bot._notify_exit(btc, "limit", fill=True, sub_trade=False, order=btc.orders[-1])
    assert _get(service, "/api/v1/snapshot")["events_applied"] == applied
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
