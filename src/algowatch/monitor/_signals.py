"""Signal quality: accuracy, timing, strength, decay and correlation.

Each ``signal`` contributes its *signed strength* ``s = d * c`` (``d`` = +1
long, -1 short, 0 flat; ``c`` = confidence, 1 when absent). Each
``signal_outcome`` is matched with its signal by ``signal_id``.

- ``signal_accuracy``: profitable outcomes (``pnl > 0``) / outcomes that report a pnl.
- ``direction_accuracy``: outcomes whose ``actual_direction`` equals the signal's direction /
  matched outcomes.
- ``avg_bars_to_profit``, ``avg_bars_held``: means over outcomes that report them.
- ``avg_signal_confidence``: mean confidence of signals that carry one.
- ``signal_volatility``: sample standard deviation (ddof=1) of the last ``window`` strengths.
- decay: the *edge* at horizon ``h`` (``bars_held``) is ``2 * direction accuracy - 1``;
  ``signal_decay_rate`` is ``λ`` of the fit ``edge(h) = edge_0 * exp(-λ h)``
  (:func:`algowatch.analytics.signals.signal_decay`) and ``signal_half_life = ln 2 / λ``
  in bars (``+inf`` without decay).
- ``signal_autocorrelation``: lag-1 autocorrelation of the last ``window`` strengths
  (:func:`algowatch.analytics.signals.autocorrelation`).
- ``inter_signal_correlation``: mean pairwise correlation of per-symbol strength series
  (:func:`algowatch.analytics.signals.inter_signal_correlation`), one row per signal with
  each symbol's last strength carried forward; the first 32 symbols of a scope take part.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Final

from mypy_extensions import mypyc_attr

__all__ = ["SignalStats"]

_DIRECTION_SIGN: Final[dict[str, float]] = {"long": 1.0, "short": -1.0, "flat": 0.0}
# horizons above this many bars share one decay bucket (bounded memory)
MAX_HORIZON_BARS: Final = 1000
# at most this many symbols enter the inter-signal correlation
MAX_CORRELATED_SYMBOLS: Final = 32


@mypyc_attr(serializable=True)  # copied when a scope stops sharing
class SignalStats:
    """Signal aggregates of one scope (bounded memory)."""

    __slots__ = (
        "bars_held_count",
        "bars_held_sum",
        "bars_to_profit_count",
        "bars_to_profit_sum",
        "cached_windows",
        "confidence_count",
        "confidence_sum",
        "decay",
        "direction_hits",
        "matched",
        "outcomes",
        "pnl_known",
        "profitable",
        "rows",
        "signals",
        "strengths",
        "symbol_columns",
        "version",
    )

    def __init__(self, window: int) -> None:
        self.signals = 0
        self.outcomes = 0
        self.matched = 0
        self.confidence_sum = 0.0
        self.confidence_count = 0
        self.profitable = 0
        self.pnl_known = 0
        self.direction_hits = 0
        self.bars_to_profit_sum = 0
        self.bars_to_profit_count = 0
        self.bars_held_sum = 0
        self.bars_held_count = 0
        self.strengths: deque[float] = deque(maxlen=window)
        self.decay: dict[int, list[int]] = {}  # bars_held -> [hits, outcomes]
        self.symbol_columns: OrderedDict[str, float] = OrderedDict()
        self.rows: deque[tuple[float, ...]] = deque(maxlen=window)
        # bumped by every change to the windows; the figures cache what they derive from them:
        # (version, (volatility, decay rate, half-life, autocorrelation, inter-correlation))
        self.version = 0
        self.cached_windows: tuple[int, tuple[float, float, float, float, float]] | None = None

    def add_signal(self, symbol: str, direction: str, confidence: float | None) -> None:
        """Count a signal and add its strength to the rolling windows."""
        self.signals += 1
        self.version += 1
        if confidence is not None:
            self.confidence_sum += confidence
            self.confidence_count += 1
        strength = _DIRECTION_SIGN[direction] * (1.0 if confidence is None else confidence)
        self.strengths.append(strength)
        columns = self.symbol_columns
        if symbol in columns or len(columns) < MAX_CORRELATED_SYMBOLS:
            columns[symbol] = strength
            self.rows.append(tuple(columns.values()))

    def add_outcome(
        self,
        direction: str | None,
        actual: str,
        pnl: float | None,
        bars_to_profit: int | None,
        bars_held: int | None,
    ) -> None:
        """Count an outcome; ``direction`` is the matched signal's (None if unknown)."""
        self.outcomes += 1
        self.version += 1
        if pnl is not None:
            self.pnl_known += 1
            if pnl > 0:
                self.profitable += 1
        if bars_to_profit is not None:
            self.bars_to_profit_sum += bars_to_profit
            self.bars_to_profit_count += 1
        if bars_held is not None:
            self.bars_held_sum += bars_held
            self.bars_held_count += 1
        if direction is None:
            return
        self.matched += 1
        hit = direction == actual
        if hit:
            self.direction_hits += 1
        if bars_held is not None:
            bucket = self.decay.get(min(bars_held, MAX_HORIZON_BARS))
            if bucket is None:
                bucket = self.decay[min(bars_held, MAX_HORIZON_BARS)] = [0, 0]
            bucket[0] += hit
            bucket[1] += 1
