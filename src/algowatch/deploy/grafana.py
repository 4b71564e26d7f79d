"""The Grafana dashboard (built with grafana-foundation-sdk) and provisioning files.

Corrections of ``PROMETHEUS.md`` section D: the file is the bare dashboard
model (D1); panels have ``gridPos``, ``refId``, ``${datasource}`` and units
(D2); drawdown is a ratio with ``percentunit`` (D4); quantiles aggregate
``by (le)`` over ``$__rate_interval`` (D5); orders are summed by status (D6);
slippage is a heatmap of bucket rates (D7); every selector is scoped by the
``$job`` and ``$instance`` variables (D8).

The panels are placed by the SDK's ``Dashboard.with_row``/``with_panel``: each
row's widths add up to 24, so every row starts on a fresh line.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dash_b
from grafana_foundation_sdk.builders import gauge, heatmap, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dash_m
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

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
_SCHEMA_VERSION = 39  # as before (the SDK writes 41); Grafana migrates older schemas on load
_SCOPE = 'job=~"$job", instance=~"$instance"'
_RATE = "[$__rate_interval]"

_Panel = TypeVar("_Panel", timeseries.Panel, stat.Panel, gauge.Panel, heatmap.Panel)


def _ds() -> dash_m.DataSourceRef:
    return dash_m.DataSourceRef(type_val="prometheus", uid="${datasource}")


def _sel(name: str, extra: str = "") -> str:
    return f"{name}{{{_SCOPE}{', ' + extra if extra else ''}}}"


def _rate(name: str, extra: str = "", fn: str = "rate") -> str:
    return f"{fn}({_sel(name, extra)}{_RATE})"


def _quantile(q: float, name: str) -> str:
    return f"histogram_quantile({q}, sum by (le) ({_rate(name + '_bucket')}))"


class _Board:
    """The SDK's dashboard builder plus panel ids in order (rows included)."""

    def __init__(self, builder: dash_b.Dashboard) -> None:
        self.builder = builder
        self._id = 0

    def _next_id(self) -> int:
        self._id += 1
        return self._id

    def row(self, title: str) -> None:
        self.builder.with_row(dash_b.Row(title).id(self._next_id()).collapsed(False))

    def panel(
        self,
        panel: _Panel,
        title: str,
        description: str,
        targets: list[tuple[str, str]],
        *,
        unit: str,
        width: int = 8,
        height: int = 8,
        fmt: PromQueryFormat = PromQueryFormat.TIME_SERIES,
    ) -> _Panel:
        panel.id(self._next_id()).title(title).description(description).datasource(_ds())
        panel.span(width).height(height).unit(unit)
        for i, (expr, legend) in enumerate(targets):
            panel.with_target(
                prometheus.Dataquery()
                .ref_id(chr(ord("A") + i))
                .datasource(_ds())
                .expr(expr)
                .legend_format(legend)
                .format(fmt)
                .range()
            )
        self.builder.with_panel(panel)
        return panel

    def stat(
        self,
        title: str,
        description: str,
        targets: list[tuple[str, str]],
        *,
        unit: str,
        width: int = 8,
        height: int = 8,
    ) -> None:
        panel = (
            stat.Panel()
            .reduce_options(common_b.ReduceDataOptions().calcs(["lastNotNull"]))
            .color_mode(common.BigValueColorMode.VALUE)
        )
        self.panel(panel, title, description, targets, unit=unit, width=width, height=height)

    def series(
        self, title: str, description: str, targets: list[tuple[str, str]], *, unit: str
    ) -> None:
        self.panel(timeseries.Panel(), title, description, targets, unit=unit)


def _overview(lay: _Board) -> None:
    # the six panels of the original design, corrected (D3-D7)
    lay.row("Overview")
    lay.stat(
        "Portfolio Value",
        "Equity: starting capital plus realized and unrealized P&L, or the broker's reported "
        "equity when account events arrive.",
        [(f"sum({_sel('trading_portfolio_value_usd')})", "Portfolio value")],
        unit="currencyUSD",
        width=6,
        height=5,
    )
    lay.stat(
        "Daily P&L",
        "P&L since the start of the trading session (configured time zone and start time).",
        [(f"sum({_sel('trading_daily_pnl_usd')})", "Daily P&L")],
        unit="currencyUSD",
        width=6,
        height=5,
    )
    steps = [(None, "green"), (0.05, "yellow"), (0.10, "orange"), (0.15, "red")]
    thresholds = (
        dash_b.ThresholdsConfig()
        .mode(dash_m.ThresholdsMode.ABSOLUTE)
        .steps([dash_m.Threshold(value=v, color=c) for v, c in steps])
    )
    lay.panel(
        gauge.Panel().min(0).max(0.2).thresholds(thresholds),
        "Current Drawdown",
        "Drawdown from the high-water mark as a fraction (0.15 = 15%); the alert fires above "
        "the configured limit.",
        [(f"max({_sel('trading_drawdown_ratio')})", "Drawdown")],
        unit="percentunit",
        width=6,
        height=5,
    )
    lay.stat(
        "Open Positions",
        "Number of symbols with a non-zero position.",
        [(f"sum({_sel('trading_open_positions')})", "Open positions")],
        unit="none",
        width=6,
        height=5,
    )
    lay.series(
        "Order Latency (p95)",
        "95th percentile of submit-to-fill latency, from the histogram's bucket rates.",
        [(_quantile(0.95, "trading_order_latency_seconds"), "p95 latency")],
        unit="s",
    )
    lay.series(
        "Orders by Status",
        "Orders reaching a terminal status per second (filled, rejected, canceled, "
        "partially filled then canceled).",
        [(f"sum by (status) ({_rate('trading_orders_total')})", "{{status}}")],
        unit="ops",
    )
    lay.panel(
        heatmap.Panel().calculate(False).y_axis(heatmap.YAxisConfig().unit("none")).cell_gap(1),
        "Slippage Distribution",
        "Slippage of filled orders against the arrival price, in basis points "
        "(positive = unfavourable), as bucket rates.",
        [(f"sum by (le) ({_rate('trading_slippage_basis_points_bucket')})", "{{le}}")],
        unit="none",
        fmt=PromQueryFormat.HEATMAP,
    )


def _pnl(lay: _Board) -> None:
    lay.row("P&L and risk")
    lay.series(
        "P&L",
        "Realized, unrealized and total P&L since start.",
        [
            (f"sum({_sel('trading_realized_pnl_usd')})", "realized"),
            (f"sum({_sel('trading_unrealized_pnl_usd')})", "unrealized"),
            (f"sum({_sel('trading_total_pnl_usd')})", "total"),
        ],
        unit="currencyUSD",
    )
    lay.series(
        "P&L by strategy",
        "Total P&L of each strategy.",
        [(f"sum by (strategy) ({_sel('trading_strategy_total_pnl_usd')})", "{{strategy}}")],
        unit="currencyUSD",
    )
    lay.series(
        "Drawdown",
        "Current and maximum drawdown from the high-water mark.",
        [
            (f"max({_sel('trading_drawdown_ratio')})", "current"),
            (f"max({_sel('trading_max_drawdown_ratio')})", "maximum"),
        ],
        unit="percentunit",
    )
    lay.series(
        "Risk-adjusted returns",
        "Sharpe, Sortino and Calmar ratios (annualized; empty when undefined).",
        [
            (f"max({_sel('trading_sharpe_ratio')})", "Sharpe"),
            (f"max({_sel('trading_sortino_ratio')})", "Sortino"),
            (f"max({_sel('trading_calmar_ratio')})", "Calmar"),
        ],
        unit="none",
    )
    lay.series(
        "Value at risk (95%)",
        "Historical one-period VaR and expected shortfall as positive loss fractions.",
        [
            (f"max({_sel('trading_value_at_risk_95_ratio')})", "VaR"),
            (f"max({_sel('trading_expected_shortfall_95_ratio')})", "expected shortfall"),
        ],
        unit="percentunit",
    )
    lay.series(
        "Exposure",
        "Gross and net exposure at the last marks.",
        [
            (f"sum({_sel('trading_gross_exposure_usd')})", "gross"),
            (f"sum({_sel('trading_net_exposure_usd')})", "net"),
        ],
        unit="currencyUSD",
    )


def _execution(lay: _Board) -> None:
    rejected = _rate("trading_orders_total", 'status="rejected"')
    lay.row("Execution")
    lay.series(
        "Rejection rate",
        "Share of orders completed in the window that were rejected.",
        [(f"sum({rejected}) / sum({_rate('trading_orders_total')})", "rejected")],
        unit="percentunit",
    )
    lay.series(
        "Acknowledgement latency (p95)",
        "95th percentile of submit-to-acknowledgement latency.",
        [(_quantile(0.95, "trading_order_ack_latency_seconds"), "p95 ack")],
        unit="s",
    )
    lay.series(
        "Median slippage",
        "Median slippage of filled orders against the arrival price (basis points).",
        [(_quantile(0.5, "trading_slippage_basis_points"), "p50 slippage")],
        unit="none",
    )
    lay.series(
        "Fill ratios",
        "Share of submitted orders completely filled and partially filled.",
        [
            (f"max({_sel('trading_fill_ratio')})", "filled"),
            (f"max({_sel('trading_partial_fill_ratio')})", "partially filled"),
        ],
        unit="percentunit",
    )
    lay.stat(
        "Open orders",
        "Orders submitted and not yet in a terminal status.",
        [(f"sum({_sel('trading_open_orders')})", "open orders")],
        unit="none",
    )
    lay.series(
        "Market data latency (p95)",
        "95th percentile of exchange-to-receipt delay of marks.",
        [(_quantile(0.95, "trading_market_data_latency_seconds"), "p95")],
        unit="s",
    )


def _signals(lay: _Board) -> None:
    lay.row("Signals")
    lay.series(
        "Signals by direction",
        "Signals generated per second.",
        [(f"sum by (direction) ({_rate('trading_signals_total')})", "{{direction}}")],
        unit="ops",
    )
    lay.series(
        "Signal accuracy",
        "Share of signals with a profitable outcome, and with the right direction.",
        [
            (f"max({_sel('trading_signal_accuracy_ratio')})", "profitable"),
            (f"max({_sel('trading_signal_direction_accuracy_ratio')})", "direction"),
        ],
        unit="percentunit",
    )
    lay.series(
        "Signal generation time (p95)",
        "95th percentile of the time the strategy took to generate a signal.",
        [(_quantile(0.95, "trading_signal_generation_seconds"), "p95")],
        unit="s",
    )


def _health(lay: _Board) -> None:
    lay.row("Health")
    lay.stat(
        "Brokers up",
        "1 when the broker connection is up or degraded, 0 when down.",
        [(f"min by (broker) ({_sel('trading_broker_up')})", "{{broker}}")],
        unit="none",
    )
    lay.series(
        "Health check latency",
        "Duration of the last run of each dependency check.",
        [(f"max by (check) ({_sel('algowatch_health_check_duration_seconds')})", "{{check}}")],
        unit="s",
    )
    lay.series(
        "Market data age",
        "Time since the last mark of any symbol.",
        [(f"time() - max({_sel('trading_last_mark_timestamp_seconds')})", "age")],
        unit="s",
    )
    lay.series(
        "Errors",
        "Errors reported by the trading system per second, by type.",
        [(f"sum by (error_type) ({_rate('trading_errors_total')})", "{{error_type}}")],
        unit="ops",
    )
    lay.stat(
        "Audit trail writer",
        "1 while the audit trail writer is healthy, 0 after it failed closed.",
        [(f"min({_sel('algowatch_audit_writer_up')})", "writer")],
        unit="none",
    )
    lay.series(
        "Folded labels",
        "Label values folded into 'other' by the cardinality cap, per second.",
        [(f"sum({_rate('algowatch_folded_labels_total')})", "folded")],
        unit="ops",
    )


def _system(lay: _Board) -> None:
    lay.row("System")
    lay.series(
        "Memory",
        "Resident memory of the algowatch process.",
        [(_sel("process_resident_memory_bytes"), "{{instance}}")],
        unit="bytes",
    )
    lay.series(
        "CPU",
        "CPU time used by the algowatch process, as a share of one core.",
        [(_rate("process_cpu_seconds_total"), "{{instance}}")],
        unit="percentunit",
    )
    lay.series(
        "Scrape duration",
        "How long Prometheus takes to scrape /metrics.",
        [(_sel("scrape_duration_seconds"), "{{instance}}")],
        unit="s",
    )


def _variables(board: dash_b.Dashboard) -> None:
    board.with_variable(
        dash_b.DatasourceVariable("datasource")
        .label("Data source")
        .type("prometheus")
        .hide(dash_m.VariableHide.DONT_HIDE)
    )
    for name, query in (
        ("job", "label_values(trading_drawdown_ratio, job)"),
        ("instance", 'label_values(trading_drawdown_ratio{job=~"$job"}, instance)'),
    ):
        board.with_variable(
            dash_b.QueryVariable(name)
            .label(name)
            .datasource(_ds())
            .query({"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"})
            .multi(True)
            .include_all(True)
            .all_value(".+")
            .refresh(dash_m.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dash_m.VariableSort.ALPHABETICAL_ASC)
            .hide(dash_m.VariableHide.DONT_HIDE)
        )


def dashboard(settings: AlertSettings) -> dict[str, Any]:
    """Return the dashboard model (the bare JSON Grafana's file provisioning reads, D1).

    .. versionadded:: 0.1.0
    """
    board = (
        dash_b.Dashboard("algowatch: Trading")
        .uid(DASHBOARD_UID)
        .description("P&L, risk, execution, signals and health of a trading system.")
        .tags(["algowatch", "trading"])
        .version(1)
        .editable()
        .tooltip(dash_m.DashboardCursorSync.CROSSHAIR)
        .timezone("browser")
        .time("now-6h", "now")
        .refresh(duration(max(settings.scrape_interval_seconds, 5.0)))
        .annotations([])
        .links([])
    )
    _variables(board)
    lay = _Board(board)
    for build in (_overview, _pnl, _execution, _signals, _health, _system):
        build(lay)
    model = board.build()
    model.schema_version = _SCHEMA_VERSION
    plain: dict[str, Any] = json.loads(json.dumps(model, cls=JSONEncoder))
    return plain


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
