"""Simple strategies for the demo: they turn a price history into a signal.

A strategy looks at the mid prices it has seen for one symbol and returns a
:class:`Decision` (a direction and a confidence) or ``None`` when it has
nothing new to say. The simulation turns decisions into signals and orders.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from algowatch.events import Direction

__all__ = ["Decision", "MeanReversion", "MovingAverageCrossover", "Strategy"]


@dataclass(frozen=True, slots=True)
class Decision:
    """A strategy's view on a symbol: the direction to hold and how sure it is."""

    direction: Direction
    confidence: float


class Strategy(Protocol):
    """What the simulation needs from a strategy."""

    @property
    def name(self) -> str:
        """Return the strategy label its events carry."""
        ...

    @property
    def symbols(self) -> tuple[str, ...]:
        """Return the symbols it trades."""
        ...

    def decide(self, history: Sequence[float], holding: Direction) -> Decision | None:
        """Return a new decision for a symbol, or ``None`` to keep ``holding``."""
        ...


def _confidence(strength: float) -> float:
    # squash an unbounded strength into (0.5, 1) so weak signals still read as signals
    return round(0.5 + 0.5 * float(np.tanh(strength)), 4)


@dataclass(frozen=True, slots=True)
class MovingAverageCrossover:
    """Trend following: long when the fast average crosses above the slow one.

    Examples
    --------
    >>> s = MovingAverageCrossover("momentum", ("AAPL",), fast=2, slow=4)
    >>> s.decide([1.0, 1.0, 1.0, 1.0, 2.0], "flat").direction
    'long'
    >>> s.decide([1.0, 1.0, 1.0, 1.0, 2.0], "long") is None
    True
    """

    name: str
    symbols: tuple[str, ...]
    fast: int = 10
    slow: int = 40

    def decide(self, history: Sequence[float], holding: Direction) -> Decision | None:
        """Return a decision when the averages point away from ``holding``."""
        if len(history) < self.slow:
            return None
        prices = np.asarray(history, dtype=float)[-self.slow :]
        fast, slow = prices[-self.fast :].mean(), prices.mean()
        direction: Direction = "long" if fast > slow else "short"
        if direction == holding:
            return None
        return Decision(direction, _confidence(abs(fast / slow - 1.0) / 0.001))


@dataclass(frozen=True, slots=True)
class MeanReversion:
    """Fade moves: long below ``-entry_z`` standard deviations, flat back near the mean.

    Examples
    --------
    >>> s = MeanReversion("mean_reversion", ("MSFT",), window=5)
    >>> s.decide([10.0, 10.1, 9.9, 10.0, 10.1, 8.0], "flat").direction
    'long'
    """

    name: str
    symbols: tuple[str, ...]
    window: int = 30
    entry_z: float = 1.8
    exit_z: float = 0.3

    def decide(self, history: Sequence[float], holding: Direction) -> Decision | None:
        """Return a decision from the z-score of the last price against the window."""
        if len(history) <= self.window:
            return None
        prices = np.asarray(history, dtype=float)
        past = prices[-self.window - 1 : -1]
        std = past.std(ddof=1)
        if std <= 0:
            return None
        z = (prices[-1] - past.mean()) / std
        if z <= -self.entry_z and holding != "long":
            return Decision("long", _confidence(abs(z) - self.entry_z + 0.5))
        if z >= self.entry_z and holding != "short":
            return Decision("short", _confidence(abs(z) - self.entry_z + 0.5))
        if abs(z) <= self.exit_z and holding != "flat":
            return Decision("flat", _confidence(1.0 - abs(z)))
        return None
