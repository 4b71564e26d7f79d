"""The compiled engine (mypyc) and the pure-Python sources give the same state.

The differential test runs one random stream through both builds, each in its own
interpreter (the choice is made once per process), and compares everything the
engine exposes. The other tests pin how ``algowatch._native`` decides which build
runs, so an edited source is never shadowed by an old compiled module.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from algowatch import _native
from algowatch import events as ev
from algowatch.testing import EventFactory, FakeClock

PACKAGE = Path(_native.__file__).resolve().parent

DUMP = """
import hashlib, json, sys
from algowatch import _native
from algowatch.events import decode_batch, encode_events
from algowatch.monitor import Monitor
import algowatch.monitor._ledger as ledger
from algowatch.server import render_orders, render_positions, render_snapshot, render_trades
events = decode_batch(open(sys.argv[1], "rb").read()).events
m = Monitor()
m.apply_many(events)
c = m.counters()
print(json.dumps({
    "status": _native.STATUS,
    "encoded": hashlib.sha256(encode_events(events)).hexdigest(),
    "ledger_file": ledger.__file__,
    "snapshot": render_snapshot(m.figures()),
    "positions": render_positions(m.figures().positions),
    "trades": render_trades(m.trade_figures(limit=10_000)),
    "orders": render_orders(m.order_figures(limit=10_000)),
    "orders_counted": sorted([list(k), v] for k, v in c.orders.items()),
    "anomalies": c.anomalies,
    "events": c.events,
    "slippage": [c.slippage_bps.counts, c.slippage_bps.sum],
    "latency": [c.order_latency_seconds.counts, c.order_latency_seconds.sum],
}, sort_keys=True))
"""


def random_stream(seed: int, n: int) -> list[ev.Event]:
    """Return a stream with every event kind and the odd cases the engine counts."""
    rng = random.Random(seed)
    clock = FakeClock()
    f = EventFactory(clock)
    scopes = [("alpha", "acc1"), ("beta", "acc1"), ("gamma", "acc2")]
    symbols = ["AAPL", "MSFT", "BTC-USD", "ES"]
    prices = {s: 100.0 + 50 * i for i, s in enumerate(symbols)}
    open_orders: dict[str, list[Any]] = {}  # order_id -> [remaining, symbol, scope]
    signals: list[str] = []
    out: list[ev.Event] = []
    for i in range(n):
        clock.advance(3600.0 * 5 if i % 1000 == 999 else rng.choice([0.001, 0.01, 0.5]))
        strategy, account = rng.choice(scopes)
        scope = {"strategy": strategy, "account": account}
        roll = rng.random()
        symbol = rng.choice(symbols)
        if roll < 0.30:
            prices[symbol] *= 1.0 + rng.gauss(0.0, 0.002)
            price = round(prices[symbol], 4)
            lag = rng.randint(0, 5_000_000)
            out.append(
                f.mark(
                    symbol,
                    price,
                    bid=price - 0.01,
                    ask=price + 0.01,
                    exchange_ts=clock.time_ns() - lag,
                )
            )
        elif roll < 0.48:
            oid = f"o{i}"
            quantity = float(rng.randint(1, 20) * 10)
            out.append(
                f.submitted(
                    oid,
                    symbol,
                    rng.choice(["buy", "sell"]),
                    quantity,
                    arrival_price=round(prices[symbol], 4),
                    decision_price=round(prices[symbol] * 0.999, 4) if rng.random() < 0.5 else None,
                    order_type=rng.choice(["market", "limit"]),
                    **scope,
                )
            )
            if rng.random() < 0.9:
                out.append(f.acknowledged(oid))
            open_orders[oid] = [quantity, symbol]
        elif roll < 0.75 and open_orders:
            oid = rng.choice(list(open_orders))
            remaining, order_symbol = open_orders[oid]
            part = remaining if rng.random() < 0.6 else max(1.0, round(remaining * rng.random()))
            part = min(part, remaining) if rng.random() < 0.98 else remaining + 5.0  # overfill
            price = prices[order_symbol] * (1.0 + rng.gauss(0.0, 0.001))
            out.append(
                f.filled(
                    oid,
                    part,
                    round(price, 4),
                    fee=round(rng.random(), 3),
                    vwap=round(prices[order_symbol], 4) if rng.random() < 0.5 else None,
                )
            )
            open_orders[oid][0] = remaining - part
            if open_orders[oid][0] <= 0:
                del open_orders[oid]
        elif roll < 0.80 and open_orders:
            oid = rng.choice(list(open_orders))
            del open_orders[oid]
            out.append(f.canceled(oid) if rng.random() < 0.7 else f.rejected(oid, "risk"))
        elif roll < 0.88:
            sid = f"s{i}"
            signals.append(sid)
            confidence = round(rng.random(), 3) if rng.random() < 0.8 else None
            direction = rng.choice(["long", "short", "flat"])
            out.append(f.signal(sid, symbol, direction, confidence=confidence, **scope))
        elif roll < 0.94 and signals:
            out.append(
                f.outcome(
                    rng.choice(signals),
                    rng.choice(["long", "short", "flat"]),
                    pnl=round(rng.gauss(0.0, 10.0), 2),
                    bars_held=rng.randint(0, 30),
                    bars_to_profit=rng.randint(0, 10) if rng.random() < 0.5 else None,
                )
            )
        elif roll < 0.96:
            equity = 1_000_000.0 + rng.gauss(0.0, 1000.0)
            out.append(f.account_snapshot(equity, cash=5e5, **scope))
        elif roll < 0.97:
            out.append(f.error("timeout", rng.choice(["broker", "feed"])))
        elif roll < 0.98:
            out.append(f.heartbeat(rng.choice(["engine", "feed"])))
        elif roll < 0.99 and out:
            out.append(rng.choice(out))  # a duplicate event_id
        else:
            out.append(f.filled("ghost", 1.0, 10.0))  # a fill for an unknown order
    return out


def dump(path: Path, *, pure: bool) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop(_native.PURE_ENV, None)
    if pure:
        env[_native.PURE_ENV] = "1"
    done = subprocess.run(
        [sys.executable, "-c", DUMP, str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def require_compiled() -> None:
    if _native.STATUS != "compiled":
        if os.environ.get("CI"):
            why = f"{_native.STATUS}: {_native.REASON}"
            pytest.fail(f"CI must test the compiled engine; it is {why}")
        pytest.skip(f"no compiled engine here ({_native.STATUS}: {_native.REASON})")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compiled_and_pure_engines_agree_exactly(tmp_path: Path, seed: int) -> None:
    require_compiled()
    stream = random_stream(seed, 6000)
    path = tmp_path / "stream.ndjson"
    path.write_bytes(ev.encode_events(stream))
    compiled = dump(path, pure=False)
    pure = dump(path, pure=True)
    assert compiled.pop("status") == "compiled"
    assert pure.pop("status") == "forced-pure"
    assert compiled.pop("ledger_file").endswith(tuple(_extension_suffixes()))
    assert pure.pop("ledger_file").endswith("_ledger.py")
    # the stream exercises what it should: trades, fills, rejections, odd cases
    snapshot = pure["snapshot"]
    assert snapshot["trading"]["num_trades"] > 20
    assert snapshot["execution"]["orders_rejected"] > 0
    assert {"duplicate_event_id", "fill_unknown_order", "overfill"} <= set(pure["anomalies"])
    assert set(snapshot["by_strategy"]) >= {"alpha", "beta", "gamma"}
    assert compiled == pure


def _extension_suffixes() -> list[str]:
    import importlib.machinery  # noqa: PLC0415

    return list(importlib.machinery.EXTENSION_SUFFIXES)


def _copy_package(tmp_path: Path) -> Path:
    target = tmp_path / "algowatch"
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_an_edited_source_makes_the_build_stale(tmp_path: Path) -> None:
    require_compiled()
    package = _copy_package(tmp_path)
    assert _native._decide(package) == ("compiled", "every compiled extension matches its source")
    ledger = package / "monitor" / "_ledger.py"
    ledger.write_text(ledger.read_text() + "\n# edited\n")
    status, why = _native._decide(package)
    assert status == "stale"
    assert "algowatch.monitor._ledger" in why


def test_a_missing_build_record_or_extension_makes_the_build_stale(tmp_path: Path) -> None:
    require_compiled()
    package = _copy_package(tmp_path)
    (package / _native.MANIFEST).unlink()
    assert _native._decide(package)[0] == "stale"
    package = _copy_package(tmp_path / "second")
    for extension in (package / "monitor").glob("_orders.*"):
        if extension.suffix != ".py":
            extension.unlink()
    status, why = _native._decide(package)
    assert status == "stale"
    assert "algowatch.monitor._orders" in why


def test_sources_without_extensions_are_pure(tmp_path: Path) -> None:
    package = _copy_package(tmp_path)
    for path in package.rglob("*"):
        if path.is_file() and path.suffix not in {".py", ".typed", ".json", ".js", ".css", ".html"}:
            path.unlink()
    assert _native._decide(package)[0] == "pure"


def test_the_environment_variable_forces_the_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_native.PURE_ENV, "1")
    assert _native._decide(PACKAGE) == ("forced-pure", f"{_native.PURE_ENV} is set")
    monkeypatch.setenv(_native.PURE_ENV, "0")
    assert _native._decide(PACKAGE)[0] != "forced-pure"


def test_a_stale_build_runs_the_sources_and_says_how_to_rebuild(tmp_path: Path) -> None:
    """In a copy of the package with one edited source, the engine loads from .py files."""
    require_compiled()
    root = tmp_path / "site"
    package = _copy_package(root)
    for shared in PACKAGE.parent.glob("algowatch__mypyc*"):
        shutil.copy2(shared, root / shared.name)
    ledger = package / "monitor" / "_ledger.py"
    ledger.write_text(ledger.read_text() + "\nEDITED = True\n")
    env = {k: v for k, v in os.environ.items() if k != _native.PURE_ENV}
    code = (
        "import algowatch._native as n, algowatch.monitor._ledger as l;"
        "import algowatch.monitor._engine as e;"
        "print(n.STATUS, l.EDITED, l.__file__.endswith('.py'), e.__file__.endswith('.py'))"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(root)!r}); {code}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == ["stale", "True", "True", "True"]
    assert "uv sync" in done.stderr
    assert "algowatch.monitor._ledger" in done.stderr
