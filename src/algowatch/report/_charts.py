"""Inline SVG charts, drawn by our own code: lines, areas, histograms and a heatmap.

Each function returns one ``<figure class="chart" data-chart="NAME">`` element holding an
``<svg>`` with a ``viewBox`` (it scales to the page width) or, with no data, a
``<p class="empty">`` saying why. No script, no external reference: hovering a bar or a
cell shows its value through SVG ``<title>`` elements, which browsers render natively.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Final

import numpy as np

from algowatch.report._model import FloatArray, IntArray

__all__ = ["Line", "empty", "heatmap", "histogram", "line_chart"]

_W: Final = 960.0
_PAD_LEFT: Final = 64.0
_PAD_RIGHT: Final = 16.0
_PAD_TOP: Final = 14.0
_PAD_BOTTOM: Final = 28.0
_MAX_POINTS: Final = 1200  # per line, after min/max down-sampling
_NS: Final = 1_000_000_000
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)

Format = Callable[[float], str]


@dataclass(frozen=True, slots=True)
class Line:
    """One series of a line chart: its label, x (UNIX ns) and y values, and CSS class."""

    label: str
    ts: IntArray
    values: FloatArray
    css: str = "s1"


def _hline(css: str, y: float) -> str:
    ends = f'x1="{_PAD_LEFT:g}" x2="{_W - _PAD_RIGHT:g}"'
    return f'<line class="{css}" {ends} y1="{y:.1f}" y2="{y:.1f}"/>'


def _figure(name: str, title: str, body: str, note: str = "") -> str:
    caption = f"<figcaption>{escape(title)}</figcaption>"
    foot = f'<p class="note">{escape(note)}</p>' if note else ""
    return f'<figure class="chart" data-chart="{escape(name)}">{caption}{body}{foot}</figure>'


def empty(name: str, title: str, reason: str) -> str:
    """Return a chart's place holding ``reason`` instead of a drawing."""
    return _figure(name, title, f'<p class="empty">{escape(reason)}</p>')


def _downsample(ts: IntArray, values: FloatArray) -> tuple[IntArray, FloatArray]:
    # keep each bucket's first, minimum and maximum point: the shape (and the crash) survives
    n = values.size
    if n <= _MAX_POINTS:
        return ts, values
    buckets = _MAX_POINTS // 3
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    keep: list[int] = []
    for lo, hi in itertools.pairwise(edges.tolist()):
        if hi <= lo:
            continue
        chunk = values[lo:hi]
        finite = np.isfinite(chunk)
        keep.append(int(lo))
        if finite.any():
            keep.append(int(lo + np.nanargmin(np.where(finite, chunk, np.nan))))
            keep.append(int(lo + np.nanargmax(np.where(finite, chunk, np.nan))))
    keep.append(n - 1)
    index = np.unique(np.array(keep, dtype=np.int64))
    return ts[index], values[index]


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _date(ts: int, span_ns: int) -> str:
    moment = datetime.fromtimestamp(ts / _NS, tz=UTC)
    if span_ns < 2 * 86_400 * _NS:
        return moment.strftime("%m-%d %H:%M")
    return moment.strftime("%Y-%m-%d")


def line_chart(
    name: str,
    title: str,
    lines: Sequence[Line],
    *,
    y_format: Format,
    height: float = 260.0,
    fill: bool = False,
    zero: bool = False,
    note: str = "",
) -> str:
    """Return a line (or, with ``fill``, area-to-zero) chart of ``lines`` against time."""
    drawn = [
        (line, *_downsample(line.ts, line.values))
        for line in lines
        if np.isfinite(line.values).any()
    ]
    if not drawn:
        return empty(name, title, "no data")
    x_lo = min(int(ts[0]) for _, ts, _ in drawn)
    x_hi = max(int(ts[-1]) for _, ts, _ in drawn)
    finite = np.concatenate([v[np.isfinite(v)] for _, _, v in drawn])
    y_lo, y_hi = float(finite.min()), float(finite.max())
    if zero or fill:
        y_lo, y_hi = min(y_lo, 0.0), max(y_hi, 0.0)
    if y_hi == y_lo:
        y_lo, y_hi = y_lo - 0.5 * (abs(y_lo) or 1.0), y_hi + 0.5 * (abs(y_hi) or 1.0)
    pad = (y_hi - y_lo) * 0.05
    y_lo, y_hi = (
        y_lo - (0.0 if fill and y_lo == 0.0 else pad),
        y_hi + (0.0 if fill and y_hi == 0.0 else pad),
    )
    span = max(1, x_hi - x_lo)
    plot_w = _W - _PAD_LEFT - _PAD_RIGHT
    plot_h = height - _PAD_TOP - _PAD_BOTTOM

    def x_of(ts: IntArray) -> FloatArray:
        result: FloatArray = _PAD_LEFT + (ts - x_lo).astype(np.float64) / span * plot_w
        return result

    def y_of(v: FloatArray | float) -> FloatArray:
        result: FloatArray = (
            _PAD_TOP + (y_hi - np.asarray(v, dtype=np.float64)) / (y_hi - y_lo) * plot_h
        )
        return result

    parts = [f'<svg viewBox="0 0 {_W:g} {height:g}" role="img" aria-label="{escape(title)}">']
    for tick in _ticks(y_lo, y_hi):
        y = float(y_of(tick))
        parts.append(
            _hline("grid", y)
            + f'<text class="axis" x="{_PAD_LEFT - 6:g}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(y_format(tick))}</text>"
        )
    for i in range(5):
        ts_tick = x_lo + span * i // 4
        x = float(x_of(np.array([ts_tick], dtype=np.int64))[0])
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(
            f'<text class="axis" x="{x:.1f}" y="{height - 8:g}" text-anchor="{anchor}">'
            f"{_date(ts_tick, span)}</text>"
        )
    if y_lo < 0.0 < y_hi:
        y0 = float(y_of(0.0))
        parts.append(_hline("zero", y0))
    legend: list[str] = []
    for line, ts, values in drawn:
        xs = x_of(ts)
        ys = y_of(values)
        ok = np.isfinite(ys)
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs[ok], ys[ok], strict=True))
        last = values[ok][-1] if ok.any() else math.nan
        tip = f"<title>{escape(line.label)}: {escape(y_format(float(last)))} (last)</title>"
        if fill:
            base = float(y_of(0.0))
            first_x, last_x = float(xs[ok][0]), float(xs[ok][-1])
            area = f"{first_x:.1f},{base:.1f} {points} {last_x:.1f},{base:.1f}"
            parts.append(f'<polygon class="area {line.css}" points="{area}">{tip}</polygon>')
        parts.append(f'<polyline class="line {line.css}" points="{points}">{tip}</polyline>')
        legend.append(f'<span class="legend-key {line.css}">{escape(line.label)}</span>')
    parts.append("</svg>")
    legend_html = f'<div class="legend">{"".join(legend)}</div>' if len(drawn) > 1 else ""
    return _figure(name, title, legend_html + "".join(parts), note)


def histogram(
    name: str,
    title: str,
    values: FloatArray,
    *,
    x_format: Format,
    bins: int = 40,
    height: float = 220.0,
    note: str = "",
) -> str:
    """Return a histogram of the finite ``values`` (bars below zero in the loss colour)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return empty(name, title, "no data")
    lo, hi = float(finite.min()), float(finite.max())
    if hi == lo:
        lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
    counts, edges = np.histogram(finite, bins=min(bins, max(5, finite.size)), range=(lo, hi))
    plot_w = _W - _PAD_LEFT - _PAD_RIGHT
    plot_h = height - _PAD_TOP - _PAD_BOTTOM
    top = int(counts.max())
    width = plot_w / counts.size
    parts = [f'<svg viewBox="0 0 {_W:g} {height:g}" role="img" aria-label="{escape(title)}">']
    for tick in _ticks(0.0, float(top), 4):
        y = _PAD_TOP + plot_h - tick / top * plot_h
        parts.append(
            _hline("grid", y)
            + f'<text class="axis" x="{_PAD_LEFT - 6:g}" y="{y + 4:.1f}" text-anchor="end">'
            + f"{tick:g}</text>"
        )
    for i, count in enumerate(counts.tolist()):
        left, right = float(edges[i]), float(edges[i + 1])
        h = count / top * plot_h
        css = "loss" if right <= 0.0 else "gain"
        parts.append(
            f'<rect class="bar {css}" x="{_PAD_LEFT + i * width + 0.5:.1f}" '
            f'y="{_PAD_TOP + plot_h - h:.1f}" width="{max(width - 1.0, 0.5):.1f}" height="{h:.1f}">'
            f"<title>{escape(x_format(left))} to {escape(x_format(right))}: {count}</title></rect>"
        )
    for i, tick in enumerate(np.linspace(lo, hi, 5).tolist()):
        x = _PAD_LEFT + plot_w * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(
            f'<text class="axis" x="{x:.1f}" y="{height - 8:g}" text-anchor="{anchor}">'
            f"{escape(x_format(tick))}</text>"
        )
    parts.append("</svg>")
    return _figure(name, title, "".join(parts), note)


def heatmap(name: str, title: str, table: dict[int, list[float]], *, cell_format: Format) -> str:
    """Return a year x month heatmap (green gains, red losses, blank for no data)."""
    if not table:
        return empty(name, title, "no data")
    finite = [abs(v) for row in table.values() for v in row if math.isfinite(v)]
    scale = max(finite) if finite and max(finite) > 0 else 1.0
    cell_w, cell_h, left, top = 70.0, 26.0, 60.0, 22.0
    width = left + 12 * cell_w + 4
    height = top + len(table) * cell_h + 4
    # a year's twelve cells stay legible on a phone: the grid scrolls rather than shrinks
    parts = [
        '<div class="scroll">'
        f'<svg class="heatmap" viewBox="0 0 {width:g} {height:g}" role="img" '
        f'aria-label="{escape(title)}">'
    ]
    for month, label in enumerate(_MONTHS):
        parts.append(
            f'<text class="axis" x="{left + month * cell_w + cell_w / 2:g}" y="15" '
            f'text-anchor="middle">{label}</text>'
        )
    for row, (year, values) in enumerate(sorted(table.items())):
        y = top + row * cell_h
        parts.append(
            f'<text class="axis" x="{left - 8:g}" y="{y + 17:g}" text-anchor="end">{year}</text>'
        )
        for month, value in enumerate(values):
            x = left + month * cell_w
            if not math.isfinite(value):
                size = f'width="{cell_w - 2:g}" height="{cell_h - 2:g}"'
                parts.append(f'<rect class="cell none" x="{x:g}" y="{y:g}" {size}/>')
                continue
            strength = min(1.0, abs(value) / scale)
            css = "gain" if value >= 0 else "loss"
            text = escape(cell_format(value))
            parts.append(
                f'<rect class="cell {css}" x="{x:g}" y="{y:g}" width="{cell_w - 2:g}" '
                f'height="{cell_h - 2:g}" fill-opacity="{0.15 + 0.85 * strength:.2f}">'
                f"<title>{year} {_MONTHS[month]}: {text}</title></rect>"
                f'<text class="cell-label" x="{x + cell_w / 2 - 1:g}" y="{y + 17:g}" '
                f'text-anchor="middle">{text}</text>'
            )
    parts.append("</svg></div>")
    return _figure(name, title, "".join(parts))
