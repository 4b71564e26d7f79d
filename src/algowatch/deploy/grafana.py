"""The Grafana dashboard and provisioning files.

Corrections of ``PROMETHEUS.md`` section D: the file is the bare dashboard
model (D1); panels have ``gridPos``, ``refId``, ``${datasource}`` and units
(D2); drawdown is a ratio with ``percentunit`` (D4); quantiles aggregate
``by (le)`` over ``$__rate_interval`` (D5); orders are summed by status (D6);
slippage is a heatmap of bucket rates (D7); every selector is scoped by the
``$job`` and ``$instance`` variables (D8).
"""

from __future__ import annotations

from typing import Any

from algowatch.deploy._common import duration
from algowatch.settings import AlertSettings

__all__ = [
    "DASHBOARD_UID",
    "dashboard",
    "dashboard_provider",
    "dashboard_queries",
    "datasource_provisioning",
]

DASHBOARD_UID = "algowatch-trading"
_DS = {"type": "prometheus", "uid": "${datasource}"}
_SCOPE = 'job=~"$job", instance=~"$instance"'
_RATE = "[$__rate_interval]"


def _sel(name: str, extra: str = "") -> str:
    return f"{name}{{{_SCOPE}{', ' + extra if extra else ''}}}"


def _rate(name: str, extra: str = "", fn: str = "rate") -> str:
    return f"{fn}({_sel(name, extra)}{_RATE})"


def _quantile(q: float, name: str) -> str:
    return f"histogram_quantile({q}, sum by (le) ({_rate(name + '_bucket')}))"


class _Layout:
    """Place panels left to right on Grafana's 24-column grid, rows top to bottom."""

    def __init__(self) -> None:
        self.panels: list[dict[str, Any]] = []
        self._x = 0
        self._y = 0
        self._row_height = 0
        self._id = 0

    def _next_id(self) -> int:
        self._id += 1
        return self._id

    def row(self, title: str) -> None:
        if self._x:
            self._y += self._row_height
        self._x, self._row_height = 0, 0
        self.panels.append(
            {
                "id": self._next_id(),
                "type": "row",
                "title": title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": self._y},
                "panels": [],
            }
        )
        self._y += 1

    def panel(
        self,
        kind: str,
        title: str,
        description: str,
        targets: list[tuple[str, str]],
        *,
        unit: str,
        width: int = 8,
        height: int = 8,
        extra: dict[str, Any] | None = None,
        fmt: str = "time_series",
    ) -> None:
        if self._x + width > 24:
            self._y += self._row_height
            self._x, self._row_height = 0, 0
        panel: dict[str, Any] = {
            "id": self._next_id(),
            "type": kind,
            "title": title,
            "description": description,
            "datasource": dict(_DS),
            "gridPos": {"h": height, "w": width, "x": self._x, "y": self._y},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {},
            "targets": [
                {
                    "refId": chr(ord("A") + i),
                    "datasource": dict(_DS),
                    "expr": expr,
                    "legendFormat": legend,
                    "format": fmt,
                    "range": True,
                }
                for i, (expr, legend) in enumerate(targets)
            ],
        }
        if kind == "stat":
            panel["options"] = {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "value"}
        for key, value in (extra or {}).items():
            if key == "defaults":
                panel["fieldConfig"]["defaults"].update(value)
            else:
                panel[key] = value
        self.panels.append(panel)
        self._x += width
        self._row_height = max(self._row_height, height)


def _overview(lay: _Layout) -> None:
    # the six panels of the original design, corrected (D3-D7)
    lay.row("Overview")
    lay.panel(
        "stat",
        "Portfolio Value",
        "Equity: starting capital plus realized and unrealized P&L, or the broker's reported "
        "equity when account events arrive.",
        [(f"sum({_sel('trading_portfolio_value_usd')})", "Portfolio value")],
        unit="currencyUSD",
        width=6,
        height=5,
    )
    lay.panel(
        "stat",
        "Daily P&L",
        "P&L since the start of the trading session (configured time zone and start time).",
        [(f"sum({_sel('trading_daily_pnl_usd')})", "Daily P&L")],
        unit="currencyUSD",
        width=6,
        height=5,
    )
    lay.panel(
        "gauge",
        "Current Drawdown",
        "Drawdown from the high-water mark as a fraction (0.15 = 15%); the alert fires above "
        "the configured limit.",
        [(f"max({_sel('trading_drawdown_ratio')})", "Drawdown")],
        unit="percentunit",
        width=6,
        height=5,
        extra={
            "defaults": {
                "min": 0,
                "max": 0.2,
                "thresholds": {
                    "mode": "absolute",
                    "steps": [
                        {"color": "green", "value": None},
                        {"color": "yellow", "value": 0.05},
                        {"color": "orange", "value": 0.10},
                        {"color": "red", "value": 0.15},
                    ],
                },
            }
        },
    )
    lay.panel(
        "stat",
        "Open Positions",
        "Number of symbols with a non-zero position.",
        [(f"sum({_sel('trading_open_positions')})", "Open positions")],
        unit="none",
        width=6,
        height=5,
    )
    lay.panel(
        "timeseries",
        "Order Latency (p95)",
        "95th percentile of submit-to-fill latency, from the histogram's bucket rates.",
        [(_quantile(0.95, "trading_order_latency_seconds"), "p95 latency")],
        unit="s",
    )
    lay.panel(
        "timeseries",
        "Orders by Status",
        "Orders reaching a terminal status per second (filled, rejected, canceled, "
        "partially filled then canceled).",
        [(f"sum by (status) ({_rate('trading_orders_total')})", "{{status}}")],
        unit="ops",
    )
    lay.panel(
        "heatmap",
        "Slippage Distribution",
        "Slippage of filled orders against the arrival price, in basis points "
        "(positive = unfavourable), as bucket rates.",
        [(f"sum by (le) ({_rate('trading_slippage_basis_points_bucket')})", "{{le}}")],
        unit="none",
        fmt="heatmap",
        extra={"options": {"calculate": False, "yAxis": {"unit": "none"}, "cellGap": 1}},
    )


def _pnl(lay: _Layout) -> None:
    lay.row("P&L and risk")
    lay.panel(
        "timeseries",
        "P&L",
        "Realized, unrealized and total P&L since start.",
        [
            (f"sum({_sel('trading_realized_pnl_usd')})", "realized"),
            (f"sum({_sel('trading_unrealized_pnl_usd')})", "unrealized"),
            (f"sum({_sel('trading_total_pnl_usd')})", "total"),
        ],
        unit="currencyUSD",
    )
    lay.panel(
        "timeseries",
        "P&L by strategy",
        "Total P&L of each strategy.",
        [(f"sum by (strategy) ({_sel('trading_strategy_total_pnl_usd')})", "{{strategy}}")],
        unit="currencyUSD",
    )
    lay.panel(
        "timeseries",
        "Drawdown",
        "Current and maximum drawdown from the high-water mark.",
        [
            (f"max({_sel('trading_drawdown_ratio')})", "current"),
            (f"max({_sel('trading_max_drawdown_ratio')})", "maximum"),
        ],
        unit="percentunit",
    )
    lay.panel(
        "timeseries",
        "Risk-adjusted returns",
        "Sharpe, Sortino and Calmar ratios (annualized; empty when undefined).",
        [
            (f"max({_sel('trading_sharpe_ratio')})", "Sharpe"),
            (f"max({_sel('trading_sortino_ratio')})", "Sortino"),
            (f"max({_sel('trading_calmar_ratio')})", "Calmar"),
        ],
        unit="none",
    )
    lay.panel(
        "timeseries",
        "Value at risk (95%)",
        "Historical one-period VaR and expected shortfall as positive loss fractions.",
        [
            (f"max({_sel('trading_value_at_risk_95_ratio')})", "VaR"),
            (f"max({_sel('trading_expected_shortfall_95_ratio')})", "expected shortfall"),
        ],
        unit="percentunit",
    )
    lay.panel(
        "timeseries",
        "Exposure",
        "Gross and net exposure at the last marks.",
        [
            (f"sum({_sel('trading_gross_exposure_usd')})", "gross"),
            (f"sum({_sel('trading_net_exposure_usd')})", "net"),
        ],
        unit="currencyUSD",
    )


def _execution(lay: _Layout) -> None:
    rejected = _rate("trading_orders_total", 'status="rejected"')
    lay.row("Execution")
    lay.panel(
        "timeseries",
        "Rejection rate",
        "Share of orders completed in the window that were rejected.",
        [(f"sum({rejected}) / sum({_rate('trading_orders_total')})", "rejected")],
        unit="percentunit",
    )
    lay.panel(
        "timeseries",
        "Acknowledgement latency (p95)",
        "95th percentile of submit-to-acknowledgement latency.",
        [(_quantile(0.95, "trading_order_ack_latency_seconds"), "p95 ack")],
        unit="s",
    )
    lay.panel(
        "timeseries",
        "Median slippage",
        "Median slippage of filled orders against the arrival price (basis points).",
        [(_quantile(0.5, "trading_slippage_basis_points"), "p50 slippage")],
        unit="none",
    )
    lay.panel(
        "timeseries",
        "Fill ratios",
        "Share of submitted orders completely filled and partially filled.",
        [
            (f"max({_sel('trading_fill_ratio')})", "filled"),
            (f"max({_sel('trading_partial_fill_ratio')})", "partially filled"),
        ],
        unit="percentunit",
    )
    lay.panel(
        "stat",
        "Open orders",
        "Orders submitted and not yet in a terminal status.",
        [(f"sum({_sel('trading_open_orders')})", "open orders")],
        unit="none",
    )
    lay.panel(
        "timeseries",
        "Market data latency (p95)",
        "95th percentile of exchange-to-receipt delay of marks.",
        [(_quantile(0.95, "trading_market_data_latency_seconds"), "p95")],
        unit="s",
    )


def _signals(lay: _Layout) -> None:
    lay.row("Signals")
    lay.panel(
        "timeseries",
        "Signals by direction",
        "Signals generated per second.",
        [(f"sum by (direction) ({_rate('trading_signals_total')})", "{{direction}}")],
        unit="ops",
    )
    lay.panel(
        "timeseries",
        "Signal accuracy",
        "Share of signals with a profitable outcome, and with the right direction.",
        [
            (f"max({_sel('trading_signal_accuracy_ratio')})", "profitable"),
            (f"max({_sel('trading_signal_direction_accuracy_ratio')})", "direction"),
        ],
        unit="percentunit",
    )
    lay.panel(
        "timeseries",
        "Signal generation time (p95)",
        "95th percentile of the time the strategy took to generate a signal.",
        [(_quantile(0.95, "trading_signal_generation_seconds"), "p95")],
        unit="s",
    )


def _health(lay: _Layout) -> None:
    lay.row("Health")
    lay.panel(
        "stat",
        "Brokers up",
        "1 when the broker connection is up or degraded, 0 when down.",
        [(f"min by (broker) ({_sel('trading_broker_up')})", "{{broker}}")],
        unit="none",
    )
    lay.panel(
        "timeseries",
        "Health check latency",
        "Duration of the last run of each dependency check.",
        [(f"max by (check) ({_sel('algowatch_health_check_duration_seconds')})", "{{check}}")],
        unit="s",
    )
    lay.panel(
        "timeseries",
        "Market data age",
        "Time since the last mark of any symbol.",
        [(f"time() - max({_sel('trading_last_mark_timestamp_seconds')})", "age")],
        unit="s",
    )
    lay.panel(
        "timeseries",
        "Errors",
        "Errors reported by the trading system per second, by type.",
        [(f"sum by (error_type) ({_rate('trading_errors_total')})", "{{error_type}}")],
        unit="ops",
    )
    lay.panel(
        "stat",
        "Audit trail writer",
        "1 while the audit trail writer is healthy, 0 after it failed closed.",
        [(f"min({_sel('algowatch_audit_writer_up')})", "writer")],
        unit="none",
    )
    lay.panel(
        "timeseries",
        "Folded labels",
        "Label values folded into 'other' by the cardinality cap, per second.",
        [(f"sum({_rate('algowatch_folded_labels_total')})", "folded")],
        unit="ops",
    )


def _system(lay: _Layout) -> None:
    lay.row("System")
    lay.panel(
        "timeseries",
        "Memory",
        "Resident memory of the algowatch process.",
        [(_sel("process_resident_memory_bytes"), "{{instance}}")],
        unit="bytes",
    )
    lay.panel(
        "timeseries",
        "CPU",
        "CPU time used by the algowatch process, as a share of one core.",
        [(_rate("process_cpu_seconds_total"), "{{instance}}")],
        unit="percentunit",
    )
    lay.panel(
        "timeseries",
        "Scrape duration",
        "How long Prometheus takes to scrape /metrics.",
        [(_sel("scrape_duration_seconds"), "{{instance}}")],
        unit="s",
    )


def _variables() -> list[dict[str, Any]]:
    def query_var(name: str, query: str) -> dict[str, Any]:
        return {
            "name": name,
            "label": name,
            "type": "query",
            "datasource": dict(_DS),
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "multi": True,
            "includeAll": True,
            "allValue": ".+",
            "current": {},
            "options": [],
            "refresh": 2,
            "regex": "",
            "sort": 1,
            "hide": 0,
        }

    return [
        {
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "options": [],
            "refresh": 1,
            "regex": "",
            "hide": 0,
        },
        query_var("job", "label_values(trading_drawdown_ratio, job)"),
        query_var("instance", 'label_values(trading_drawdown_ratio{job=~"$job"}, instance)'),
    ]


def dashboard(settings: AlertSettings) -> dict[str, Any]:
    """Return the dashboard model (the bare JSON Grafana's file provisioning reads, D1).

    .. versionadded:: 0.1.0
    """
    lay = _Layout()
    for build in (_overview, _pnl, _execution, _signals, _health, _system):
        build(lay)
    return {
        "uid": DASHBOARD_UID,
        "title": "algowatch: Trading",
        "description": "P&L, risk, execution, signals and health of a trading system.",
        "tags": ["algowatch", "trading"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "timezone": "browser",
        "time": {"from": "now-6h", "to": "now"},
        "refresh": duration(max(settings.scrape_interval_seconds, 5.0)),
        "annotations": {"list": []},
        "links": [],
        "templating": {"list": _variables()},
        "panels": lay.panels,
    }


def dashboard_queries(model: dict[str, Any]) -> list[str]:
    """Return every PromQL expression of ``model`` (panel targets), in order.

    .. versionadded:: 0.1.0
    """
    return [t["expr"] for p in model["panels"] for t in p.get("targets", [])]


def datasource_provisioning(settings: AlertSettings) -> dict[str, Any]:
    """Return Grafana's datasource provisioning file."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "uid": "prometheus",
                "type": "prometheus",
                "access": "proxy",
                "url": "http://prometheus:9090",
                "isDefault": True,
                # lets $__rate_interval cover at least four scrapes of the trading job
                "jsonData": {"timeInterval": duration(settings.scrape_interval_seconds)},
            }
        ],
    }


def dashboard_provider() -> dict[str, Any]:
    """Return Grafana's dashboard provider file (reads ``/var/lib/grafana/dashboards``)."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "algowatch",
                "orgId": 1,
                "folder": "algowatch",
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 30,
                "options": {"path": "/var/lib/grafana/dashboards"},
            }
        ],
    }
