"""The report's typed input: what every source (file, folder, service) is turned into."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from algowatch.monitor import MonitorFigures, OrderFigures, TradeFigures

__all__ = ["FloatArray", "IntArray", "ReportInput", "ReturnSeries"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class ReturnSeries:
    """Simple per-period returns with the end time of each period.

    Attributes
    ----------
    name
        What the series is (``"portfolio"``, a benchmark's column name...).
    ts
        End of each period, UNIX nanoseconds, ascending.
    values
        Simple returns of the periods (0.01 = +1 %); NaN is a missing period.
    note
        What a reader should know about the series ("" when nothing), shown on the page.
    """

    name: str
    ts: IntArray
    values: FloatArray
    note: str = ""

    def __post_init__(self) -> None:
        if self.ts.shape != self.values.shape:
            msg = (
                f"ReturnSeries.ts and .values must have the same length, "
                f"received {self.ts.size} and {self.values.size}"
            )
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class ReportInput:
    """Everything a report shows, whatever its source.

    Attributes
    ----------
    title, source
        The report's title and where its data came from (a path or a URL).
    returns
        The per-session (or per-row, for a returns file) returns of the portfolio.
    periods_per_year, risk_free
        Annualisation factor N and the annual risk-free rate (``ANALYTICS.md``).
    benchmark
        Returns to compare with, or ``None`` ("no benchmark").
    figures
        The engine's typed figures (``None`` for a returns file: no orders, no trades).
    trades, orders
        Closed round trips and orders the engine kept, newest first.
    generated_ts
        When the report was made (UNIX ns).
    """

    title: str
    source: str
    returns: ReturnSeries
    periods_per_year: float
    risk_free: float
    benchmark: ReturnSeries | None
    figures: MonitorFigures | None
    trades: tuple[TradeFigures, ...]
    orders: tuple[OrderFigures, ...]
    generated_ts: int
