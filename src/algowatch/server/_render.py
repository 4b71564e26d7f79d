"""The JSON documents of the read API, rendered from the engine's typed figures.

This is the one place where the figures become the documented JSON
(``docs/snapshot.md``): undefined values (NaN, ±inf) become ``null``, the latencies
of the original design's ``*_ms`` fields become milliseconds, timestamps become
RFC 3339 strings, and the field names are the snapshot's. The REST routes, the
server-sent event stream and ``algowatch replay --json`` all send what these
functions return.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from algowatch.events import format_timestamp
from algowatch.health import HealthReport
from algowatch.monitor import (
    ExecutionFigures,
    FillFigures,
    MonitorFigures,
    OrderFigures,
    PositionFigures,
    ScopeFigures,
    SignalFigures,
    TradeFigures,
    TradingFigures,
)

__all__ = [
    "render_fills",
    "render_health",
    "render_orders",
    "render_positions",
    "render_snapshot",
    "render_trades",
]

_MS = 1e3


def _n(value: float) -> float | None:
    # JSON has no NaN or infinity: an undefined value is null, never 0
    return value if math.isfinite(value) else None


def _optional(value: float | None) -> float | None:
    return None if value is None else _n(value)


def _rfc3339(ts: int | None) -> str | None:
    # None for no value and for an open-ended session past year 9999
    if ts is None:
        return None
    try:
        return format_timestamp(ts)
    except (OverflowError, ValueError):
        return None


def _trading(t: TradingFigures, e: ExecutionFigures) -> dict[str, Any]:
    return {
        "realized_pnl": _n(t.realized_pnl),
        "unrealized_pnl": _n(t.unrealized_pnl),
        "total_pnl": _n(t.total_pnl),
        "daily_pnl": _n(t.daily_pnl),
        "total_return": _n(t.total_return),
        "daily_return": _n(t.daily_return),
        "sharpe_ratio": _n(t.sharpe_ratio),
        "sortino_ratio": _n(t.sortino_ratio),
        "calmar_ratio": _n(t.calmar_ratio),
        "current_drawdown": _n(t.current_drawdown),
        "max_drawdown": _n(t.max_drawdown),
        "var_95": _n(t.value_at_risk_95),
        "expected_shortfall": _n(t.expected_shortfall_95),
        "num_trades_today": t.trades_today,
        "num_trades": t.trades,
        "win_rate": _n(t.win_rate),
        "profit_factor": _n(t.profit_factor),
        "avg_win": _n(t.average_win),
        "avg_loss": _n(t.average_loss),
        "largest_win": _n(t.largest_win),
        "largest_loss": _n(t.largest_loss),
        "expectancy": _n(t.expectancy),
        "num_positions": t.open_positions,
        "gross_exposure": _n(t.gross_exposure),
        "net_exposure": _n(t.net_exposure),
        "buying_power_used": _n(t.buying_power_used),
        "buying_power": _n(t.buying_power),
        "portfolio_value": _n(t.portfolio_value),
        "equity": _n(t.equity),
        "high_water_mark": _n(t.high_water_mark),
        "starting_capital": _n(t.starting_capital),
        "fees": _n(t.fees),
        "reconciliation_gap": _n(t.reconciliation_gap),
        "sessions": t.sessions,
        # the original design repeats three execution figures in its TradingMetrics
        "avg_slippage": _n(e.mean_slippage_bps),
        "avg_fill_time_ms": _n(e.mean_fill_latency_seconds * _MS),
        "order_rejection_rate": _n(e.rejection_rate),
    }


def _execution(e: ExecutionFigures) -> dict[str, Any]:
    return {
        "order_to_ack_ms": _n(e.mean_ack_latency_seconds * _MS),
        "order_to_fill_ms": _n(e.mean_fill_latency_seconds * _MS),
        "market_data_latency_ms": _n(e.mean_market_data_latency_seconds * _MS),
        "avg_slippage_bps": _n(e.mean_slippage_bps),
        "slippage_vs_arrival": _n(e.slippage_vs_arrival),
        "slippage_vs_vwap": _n(e.slippage_vs_vwap_bps),
        "fill_rate": _n(e.fill_rate),
        "partial_fill_rate": _n(e.partial_fill_rate),
        "rejection_rate": _n(e.rejection_rate),
        "realized_spread_bps": _n(e.realized_spread_bps),
        "price_impact_bps": _n(e.price_impact_bps),
        "implementation_shortfall": _n(e.implementation_shortfall),
        "implementation_shortfall_bps": _n(e.implementation_shortfall_bps),
        "orders_submitted": e.orders_submitted,
        "orders_filled": e.orders_filled,
        "orders_partially_filled": e.orders_partially_filled,
        "orders_rejected": e.orders_rejected,
        "orders_canceled": e.orders_canceled,
        "orders_open": e.orders_open,
    }


def _signals(s: SignalFigures) -> dict[str, Any]:
    return {
        "signal_accuracy": _n(s.accuracy),
        "direction_accuracy": _n(s.direction_accuracy),
        "avg_bars_to_profit": _n(s.mean_bars_to_profit),
        "avg_bars_held": _n(s.mean_bars_held),
        "avg_signal_confidence": _n(s.mean_confidence),
        "signals_total": s.signals,
        "outcomes_total": s.outcomes,
        "signal_volatility": _n(s.volatility),
        "signal_decay_rate": _n(s.decay_rate),
        "signal_half_life": _n(s.half_life_bars),
        "signal_autocorrelation": _n(s.autocorrelation),
        "inter_signal_correlation": _n(s.inter_signal_correlation),
    }


def _scope(scope: ScopeFigures) -> dict[str, Any]:
    return {
        "trading": _trading(scope.trading, scope.execution),
        "execution": _execution(scope.execution),
        "signals": _signals(scope.signals),
    }


def render_positions(positions: Iterable[PositionFigures]) -> list[dict[str, Any]]:
    """Return the ``/api/v1/positions`` rows of ``positions``.

    .. versionadded:: 0.2.0
    """
    return [
        {
            "account": p.account,
            "symbol": p.symbol,
            "side": "long" if p.quantity > 0 else "short",
            "quantity": _n(p.quantity),
            "average_cost": _n(p.average_cost),
            "mark": _n(p.mark),
            "market_value": _n(p.market_value),
            "unrealized_pnl": _n(p.unrealized_pnl),
            "lots": p.lots,
        }
        for p in positions
    ]


def render_trades(trades: Iterable[TradeFigures]) -> list[dict[str, Any]]:
    """Return the ``/api/v1/trades`` rows of ``trades`` (prices volume-weighted).

    .. versionadded:: 0.2.0
    """
    return [
        {
            "account": t.account,
            "symbol": t.symbol,
            "strategy": t.strategy,
            "side": t.side,
            "quantity": _n(t.quantity),
            "entry_time": format_timestamp(t.entry_ts),
            "exit_time": format_timestamp(t.exit_ts),
            "entry_price": _n(t.entry_price),
            "exit_price": _n(t.exit_price),
            "pnl": _n(t.pnl),
            "fees": _n(t.fees),
            "fills": t.fills,
            "duration_seconds": _n(t.duration_seconds),
        }
        for t in trades
    ]


def render_orders(orders: Iterable[OrderFigures]) -> list[dict[str, Any]]:
    """Return the ``/api/v1/orders`` rows of ``orders``.

    .. versionadded:: 0.2.0
    """
    return [
        {
            "order_id": o.order_id,
            "symbol": o.symbol,
            "side": o.side,
            "order_type": o.order_type,
            "quantity": _n(o.quantity),
            "filled_quantity": _n(o.filled_quantity),
            "average_price": _n(o.average_price),
            "fees": _n(o.fees),
            "status": o.status,
            "strategy": o.strategy,
            "account": o.account,
            "submitted_time": format_timestamp(o.submitted_ts),
            "acknowledged_time": format_timestamp(o.acknowledged_ts) if o.acknowledged_ts else None,
            "updated_time": format_timestamp(o.updated_ts),
            "arrival_price": _optional(o.arrival_price),
            "decision_price": _optional(o.decision_price),
            "slippage_bps": _n(o.slippage_bps),
        }
        for o in orders
    ]


def render_fills(fills: Iterable[FillFigures]) -> list[dict[str, Any]]:
    """Return the ``/api/v1/fills`` rows of ``fills``.

    .. versionadded:: 0.3.0
    """
    return [
        {
            "fill_id": f.fill_id,
            "order_id": f.order_id,
            "symbol": f.symbol,
            "side": f.side,
            "quantity": _n(f.quantity),
            "price": _n(f.price),
            "fee": _n(f.fee),
            "liquidity": f.liquidity,
            "strategy": f.strategy,
            "account": f.account,
            "time": format_timestamp(f.ts),
        }
        for f in fills
    ]


def render_snapshot(figures: MonitorFigures) -> dict[str, Any]:
    """Return the snapshot document (``docs/snapshot.md``) of ``figures``.

    Examples
    --------
    >>> from algowatch.monitor import Monitor
    >>> document = render_snapshot(Monitor().figures())
    >>> document["trading"]["sharpe_ratio"] is None, document["execution"]["order_to_ack_ms"]
    (True, None)

    .. versionadded:: 0.2.0
    """
    portfolio = _scope(figures.portfolio)
    as_of = figures.as_of_ts
    return {
        "as_of": format_timestamp(as_of) if as_of is not None else None,
        "currency": figures.currency,
        "events_applied": figures.events_applied,
        "session": {
            "start": _rfc3339(figures.session_start_ts),
            "end": _rfc3339(figures.session_end_ts),
            "timezone": figures.session_timezone,
        },
        "trading": portfolio["trading"],
        "execution": portfolio["execution"],
        "signals": portfolio["signals"],
        "by_strategy": {name: _scope(scope) for name, scope in figures.strategies.items()},
        "by_account": {name: _scope(scope) for name, scope in figures.accounts.items()},
        "positions": render_positions(figures.positions),
        "equity_curve": [[format_timestamp(ts), _n(equity)] for ts, equity in figures.equity_curve],
        "anomalies": dict(figures.anomalies),
    }


def render_health(report: HealthReport) -> dict[str, Any]:
    """Return the ``/health`` document of ``report`` (``docs/health.md``).

    ``status``, ``timestamp``, ``configured_checks`` and ``checks`` always; ``note``
    when no check is configured; ``system`` (``null`` before the first sample) when
    host metrics are on.
    """
    document: dict[str, Any] = {
        "status": report.status,
        "timestamp": format_timestamp(report.ts),
        "configured_checks": report.configured_checks,
        "checks": {name: result.to_dict() for name, result in report.checks.items()},
    }
    if report.note is not None:
        document["note"] = report.note
    if report.system_metrics:
        system = report.system
        document["system"] = None if system is None else system.to_dict()
    return document
