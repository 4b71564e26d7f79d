"""A running service as a report source: its read API, decoded back into the typed figures.

``GET /api/v1/snapshot``, ``/trades`` and ``/orders`` (paged) are read with httpx; the
JSON documents (``docs/snapshot.md``) are turned back into :class:`MonitorFigures`,
:class:`TradeFigures` and :class:`OrderFigures` here, the one place that knows the
snapshot's field names on the way in (``algowatch.server._render`` on the way out).
``null`` (undefined) becomes NaN; the ``*_ms`` fields become seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final

import httpx

from algowatch.errors import DataFileError
from algowatch.events import parse_timestamp
from algowatch.monitor import (
    ExecutionFigures,
    MonitorFigures,
    OrderFigures,
    PositionFigures,
    ScopeFigures,
    SignalFigures,
    TradeFigures,
    TradingFigures,
)

__all__ = ["RemoteState", "read_service"]

_PAGE: Final = 1000
_MAX_PAGES: Final = 100  # 100,000 trades or orders: more than the engine keeps by default
_MS: Final = 1e-3

# field of the figures -> key of the snapshot (fields not listed have the same name)
_TRADING_KEYS: Final = {
    "value_at_risk_95": "var_95",
    "expected_shortfall_95": "expected_shortfall",
    "trades_today": "num_trades_today",
    "trades": "num_trades",
    "average_win": "avg_win",
    "average_loss": "avg_loss",
    "open_positions": "num_positions",
}
_EXECUTION_KEYS: Final = {
    "mean_ack_latency_seconds": "order_to_ack_ms",
    "mean_fill_latency_seconds": "order_to_fill_ms",
    "mean_market_data_latency_seconds": "market_data_latency_ms",
    "mean_slippage_bps": "avg_slippage_bps",
    "slippage_vs_vwap_bps": "slippage_vs_vwap",
}
_SIGNAL_KEYS: Final = {
    "accuracy": "signal_accuracy",
    "mean_bars_to_profit": "avg_bars_to_profit",
    "mean_bars_held": "avg_bars_held",
    "mean_confidence": "avg_signal_confidence",
    "signals": "signals_total",
    "outcomes": "outcomes_total",
    "volatility": "signal_volatility",
    "decay_rate": "signal_decay_rate",
    "half_life_bars": "signal_half_life",
    "autocorrelation": "signal_autocorrelation",
}


class RemoteState:
    """What a service's read API returned, as typed figures."""

    __slots__ = ("figures", "orders", "trades")

    def __init__(
        self,
        figures: MonitorFigures,
        trades: tuple[TradeFigures, ...],
        orders: tuple[OrderFigures, ...],
    ) -> None:
        self.figures = figures
        self.trades = trades
        self.orders = orders


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _decode(
    cls: Callable[..., Any],
    fields: tuple[str, ...],
    keys: Mapping[str, str],
    doc: Mapping[str, Any],
) -> Any:
    values: dict[str, Any] = {}
    for field in fields:
        key = keys.get(field, field)
        if key not in doc:
            msg = f"the snapshot has no {key!r} field (is the service an algowatch service?)"
            raise DataFileError(msg)
        raw = doc[key]
        if key.endswith("_ms"):
            values[field] = _number(raw) * _MS
        elif isinstance(raw, int) and not isinstance(raw, bool) and field in _INT_FIELDS:
            values[field] = raw
        else:
            values[field] = _number(raw)
    return cls(**values)


_INT_FIELDS: Final = frozenset(
    {
        "trades_today",
        "trades",
        "open_positions",
        "sessions",
        "orders_submitted",
        "orders_filled",
        "orders_partially_filled",
        "orders_rejected",
        "orders_canceled",
        "orders_open",
        "signals",
        "outcomes",
    }
)


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(cls.__dataclass_fields__)  # type: ignore[attr-defined]


def _scope(doc: Mapping[str, Any]) -> ScopeFigures:
    return ScopeFigures(
        trading=_decode(TradingFigures, _fields(TradingFigures), _TRADING_KEYS, doc["trading"]),
        execution=_decode(
            ExecutionFigures, _fields(ExecutionFigures), _EXECUTION_KEYS, doc["execution"]
        ),
        signals=_decode(SignalFigures, _fields(SignalFigures), _SIGNAL_KEYS, doc["signals"]),
    )


def _ts(text: str | None) -> int | None:
    return None if text is None else parse_timestamp(text)


def decode_snapshot(doc: Mapping[str, Any]) -> MonitorFigures:
    """Return the figures a snapshot document renders."""
    session = doc["session"]
    positions = tuple(
        PositionFigures(
            account=p["account"],
            symbol=p["symbol"],
            label=p["symbol"],
            quantity=_number(p["quantity"]),
            average_cost=_number(p["average_cost"]),
            mark=_number(p["mark"]),
            market_value=_number(p["market_value"]),
            unrealized_pnl=_number(p["unrealized_pnl"]),
            lots=int(p["lots"]),
        )
        for p in doc["positions"]
    )
    return MonitorFigures(
        as_of_ts=_ts(doc["as_of"]),
        currency=str(doc["currency"]),
        events_applied=int(doc["events_applied"]),
        session_start_ts=_ts(session["start"]),
        session_end_ts=_ts(session["end"]),
        session_timezone=str(session["timezone"]),
        portfolio=_scope(doc),
        strategies={name: _scope(scope) for name, scope in doc["by_strategy"].items()},
        accounts={name: _scope(scope) for name, scope in doc["by_account"].items()},
        positions=positions,
        equity_curve=tuple(
            (parse_timestamp(ts), _number(equity)) for ts, equity in doc["equity_curve"]
        ),
        anomalies=dict(doc["anomalies"]),
    )


def decode_trade(row: Mapping[str, Any]) -> TradeFigures:
    """Return the trade a ``/api/v1/trades`` row renders."""
    return TradeFigures(
        account=row["account"],
        symbol=row["symbol"],
        strategy=row["strategy"],
        side=row["side"],
        quantity=_number(row["quantity"]),
        entry_ts=parse_timestamp(row["entry_time"]),
        exit_ts=parse_timestamp(row["exit_time"]),
        entry_price=_number(row["entry_price"]),
        exit_price=_number(row["exit_price"]),
        pnl=_number(row["pnl"]),
        fees=_number(row["fees"]),
        fills=int(row["fills"]),
        duration_seconds=_number(row["duration_seconds"]),
    )


def decode_order(row: Mapping[str, Any]) -> OrderFigures:
    """Return the order a ``/api/v1/orders`` row renders."""
    acknowledged = row["acknowledged_time"]
    return OrderFigures(
        order_id=row["order_id"],
        symbol=row["symbol"],
        side=row["side"],
        order_type=row["order_type"],
        quantity=_number(row["quantity"]),
        filled_quantity=_number(row["filled_quantity"]),
        average_price=_number(row["average_price"]),
        fees=_number(row["fees"]),
        status=row["status"],
        strategy=row["strategy"],
        account=row["account"],
        submitted_ts=parse_timestamp(row["submitted_time"]),
        acknowledged_ts=None if acknowledged is None else parse_timestamp(acknowledged),
        updated_ts=parse_timestamp(row["updated_time"]),
        arrival_price=row["arrival_price"],
        decision_price=row["decision_price"],
        slippage_bps=_number(row["slippage_bps"]),
    )


def _get(client: httpx.Client, url: str, path: str, **params: int) -> Any:
    try:
        response = client.get(path, params=params)
    except httpx.HTTPError as exc:
        msg = f"cannot read {url}{path}: {exc}"
        raise DataFileError(msg) from exc
    if response.status_code in (401, 403):
        msg = f"{url}{path} refused the request ({response.status_code}): pass --token"
        raise DataFileError(msg)
    if response.status_code != 200:
        msg = f"{url}{path} answered {response.status_code}: {response.text[:200]!r}"
        raise DataFileError(msg)
    try:
        return response.json()
    except ValueError as exc:
        msg = f"{url}{path} did not answer JSON: {response.text[:200]!r}"
        raise DataFileError(msg) from exc


def _pages(client: httpx.Client, url: str, path: str, key: str) -> list[Any]:
    rows: list[Any] = []
    for page in range(_MAX_PAGES):
        batch = _get(client, url, path, offset=page * _PAGE, limit=_PAGE)[key]
        rows.extend(batch)
        if len(batch) < _PAGE:
            break
    return rows


def read_service(
    url: str,
    *,
    token: str | None = None,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> RemoteState:
    """Return the state of the algowatch service at ``url`` from its read API."""
    base = url.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(
        base_url=base, headers=headers, timeout=timeout, transport=transport
    ) as client:
        snapshot = _get(client, base, "/api/v1/snapshot")
        try:
            figures = decode_snapshot(snapshot)
            trades = tuple(
                decode_trade(r) for r in _pages(client, base, "/api/v1/trades", "trades")
            )
            orders = tuple(
                decode_order(r) for r in _pages(client, base, "/api/v1/orders", "orders")
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, DataFileError):
                raise
            msg = f"{base} did not answer algowatch's read API documents: {exc!r}"
            raise DataFileError(msg) from exc
    return RemoteState(figures, trades, orders)
