"""Read-side views of the engine: snapshot, positions (computed on demand)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from algowatch.analytics import returns as returns_metrics
from algowatch.events import format_timestamp
from algowatch.monitor import _signal_views

if TYPE_CHECKING:
    from algowatch.monitor._engine import Monitor
    from algowatch.monitor._scope import Scope


def clean(value: Any) -> Any:
    """Return ``value`` with NaN and ±inf replaced by ``None``, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean(item) for item in value]
    return value


def _rfc3339(ts: int | None) -> str | None:
    # None for no value and for an open-ended session past year 9999
    if ts is None:
        return None
    try:
        return format_timestamp(ts)
    except (OverflowError, ValueError):
        return None


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def _is_today(monitor: Monitor) -> bool:
    # with a wall clock, a session with no events yet is still "today": daily figures restart
    end = monitor._session_end
    if monitor._clock is None or end is None:
        return True
    return monitor._clock.time_ns() < end


def trading(monitor: Monitor, scope: Scope) -> dict[str, Any]:
    """Return the original design's ``TradingMetrics`` fields for ``scope``."""
    settings = monitor.settings
    ledger = scope.ledger
    prices = monitor._prices
    unrealized = ledger.unrealized(prices)
    realized = ledger.realized
    capital = ledger.starting_capital
    total = realized + unrealized
    equity = capital + total
    today = _is_today(monitor)
    daily_pnl = equity - ledger.session_open_equity if today else 0.0
    summary = returns_metrics.summary(
        list(ledger.session_returns),
        risk_free=settings.risk_free,
        periods_per_year=settings.periods_per_year,
        confidence=0.95,
    )
    trades = scope.trades
    gross, net = ledger.exposures(prices)
    reported = _reported(monitor, scope)
    if reported is None:
        portfolio_value = equity
        buying_power = math.nan
        gap = math.nan
    else:
        reported_equity, reported_power = reported
        portfolio_value = reported_equity
        buying_power = math.nan if reported_power is None else reported_power
        gap = reported_equity - equity
    execution = scope.execution
    losses = trades.losses
    if trades.gross_loss:
        profit_factor = trades.gross_profit / -trades.gross_loss
    else:
        # no loss: +inf with profit, NaN (0/0) with only scratch trades, as analytics.profit_factor
        profit_factor = math.inf if trades.gross_profit > 0 else math.nan
    if not trades.count:
        profit_factor = math.nan
    return {
        "realized_pnl": realized,
        "unrealized_pnl": unrealized,
        "total_pnl": total,
        "daily_pnl": daily_pnl,
        "total_return": _ratio(total, capital),
        "daily_return": _ratio(daily_pnl, ledger.session_open_equity),
        "sharpe_ratio": summary.sharpe_ratio,
        "sortino_ratio": summary.sortino_ratio,
        "calmar_ratio": summary.calmar_ratio,
        "current_drawdown": ledger.current_drawdown(),
        "max_drawdown": ledger.max_drawdown,
        "var_95": -summary.value_at_risk,
        "expected_shortfall": -summary.expected_shortfall,
        "num_trades_today": ledger.trades_today if today else 0,
        "num_trades": trades.count,
        "win_rate": _ratio(trades.wins, trades.count),
        "profit_factor": profit_factor,
        "avg_win": _ratio(trades.gross_profit, trades.wins),
        "avg_loss": _ratio(trades.gross_loss, losses),
        "largest_win": trades.largest_win,
        "largest_loss": trades.largest_loss,
        "expectancy": _ratio(trades.total, trades.count),
        "num_positions": len(ledger.positions),
        "gross_exposure": gross,
        "net_exposure": net,
        "buying_power_used": _ratio(gross, gross + buying_power),
        "buying_power": buying_power,
        "portfolio_value": portfolio_value,
        "equity": equity,
        "high_water_mark": ledger.high_water_mark,
        "starting_capital": capital,
        "fees": ledger.fees,
        "reconciliation_gap": gap,
        "sessions": len(ledger.session_returns),
        "avg_slippage": _ratio(execution.slippage_sum, execution.slippage_notional),
        "avg_fill_time_ms": _ratio(execution.fill_latency_sum, execution.fill_latency_count) * 1e3,
        "order_rejection_rate": _ratio(execution.rejected, execution.submitted),
    }


def _reported(monitor: Monitor, scope: Scope) -> tuple[float, float | None] | None:
    # equity and buying power from `account` events: the account's own, or all accounts summed
    reported = monitor._accounts_reported
    if scope.kind == "strategy" or not reported:
        return None
    if scope.kind == "account":
        entry = reported.get(scope.name)
        return None if entry is None else (entry[0], entry[2])
    equity = math.fsum(entry[0] for entry in reported.values())
    powers = [entry[2] for entry in reported.values() if entry[2] is not None]
    return equity, (math.fsum(powers) if powers else None)


def scope_view(monitor: Monitor, scope: Scope) -> dict[str, Any]:
    """Return the ``trading``/``execution``/``signals`` triple of one scope."""
    return {
        "trading": trading(monitor, scope),
        "execution": scope.execution.view(
            monitor._overall.open_orders if scope.shared else scope.open_orders
        ),
        "signals": _signal_views.signals(scope.signals),
    }


def positions(monitor: Monitor) -> list[dict[str, Any]]:
    """Return open positions of the whole portfolio, sorted by account and symbol."""
    prices = monitor._prices
    rows = []
    for (account, symbol), position in sorted(monitor._overall.ledger.positions.items()):
        quantity = position.quantity
        mark = prices.get(symbol, math.nan)
        value = quantity * mark
        rows.append(
            {
                "account": account,
                "symbol": symbol,
                "side": "long" if quantity > 0 else "short",
                "quantity": quantity,
                "average_cost": position.cost / quantity if quantity else math.nan,
                "mark": mark,
                "market_value": value,
                "unrealized_pnl": value - position.cost,
                "lots": position.open_lots(),
            }
        )
    return rows


def snapshot(monitor: Monitor) -> dict[str, Any]:
    """Return the snapshot JSON (``docs/snapshot.md``)."""
    clock = monitor._clock
    now = clock.time_ns() if clock is not None else monitor._last_event_ts
    start, end = monitor._session_start, monitor._session_end
    overall = scope_view(monitor, monitor._overall)
    result: dict[str, Any] = {
        "as_of": format_timestamp(now) if now is not None else None,
        "currency": monitor.settings.currency,
        "events_applied": monitor._events_applied,
        "session": {
            "start": _rfc3339(start),
            "end": _rfc3339(end),
            "timezone": monitor.settings.session_timezone,
        },
        "trading": overall["trading"],
        "execution": overall["execution"],
        "signals": overall["signals"],
        "by_strategy": {
            name: scope_view(monitor, scope) for name, scope in sorted(monitor._strategies.items())
        },
        "by_account": {
            name: scope_view(monitor, scope) for name, scope in sorted(monitor._accounts.items())
        },
        "positions": positions(monitor),
        "equity_curve": [[format_timestamp(ts), equity] for ts, equity in monitor._equity_points()],
        "anomalies": dict(sorted(monitor._anomalies.items())),
    }
    return clean(result)  # type: ignore[no-any-return]
