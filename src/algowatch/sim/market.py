"""A synthetic market: geometric Brownian motion with volatility regimes and jumps.

Each symbol follows a GBM in *bar* units (drift and volatility are per bar, so
the demo moves visibly in minutes). A two-state Markov chain switches every
symbol between a calm and a turbulent regime; jumps arrive as a Poisson
process with normally distributed log sizes. Quotes carry a bid/ask spread
that widens in the turbulent regime.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["MarketSettings", "Quote", "SyntheticMarket", "per_bar_drift"]


@dataclass(frozen=True, slots=True)
class Quote:
    """A top-of-book quote for one symbol."""

    symbol: str
    bid: float
    ask: float

    @property
    def mid(self) -> float:
        """Return the mid price."""
        return (self.bid + self.ask) / 2.0


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketSettings:
    """Parameters of :class:`SyntheticMarket` (all per bar)."""

    drift: float = 0.00002
    volatility: float = 0.0012
    turbulent_volatility_multiple: float = 3.0
    enter_turbulence_probability: float = 0.004
    leave_turbulence_probability: float = 0.03
    jump_probability: float = 0.002
    jump_volatility: float = 0.01
    spread_bps: float = 2.0


class SyntheticMarket:
    """Prices of several symbols driven by one seeded random generator.

    Parameters
    ----------
    initial_prices
        Symbol -> starting mid price.
    rng
        The generator all randomness comes from (``numpy.random.default_rng(seed)``).
    settings
        Drift, volatility, regime and jump parameters.

    Examples
    --------
    >>> m = SyntheticMarket({"SPY": 500.0}, np.random.default_rng(7))
    >>> q = m.step()["SPY"]
    >>> q.bid < q.mid < q.ask
    True
    """

    def __init__(
        self,
        initial_prices: Mapping[str, float],
        rng: np.random.Generator,
        settings: MarketSettings | None = None,
    ) -> None:
        self.settings = settings or MarketSettings()
        self._rng = rng
        self._symbols = tuple(initial_prices)
        self._mids = np.array([initial_prices[s] for s in self._symbols], dtype=float)
        self.turbulent = False

    @property
    def symbols(self) -> tuple[str, ...]:
        """Return the symbols, in the order given."""
        return self._symbols

    def quotes(self) -> dict[str, Quote]:
        """Return the current quotes without moving the market."""
        s = self.settings
        half = s.spread_bps / 2e4 * (s.turbulent_volatility_multiple if self.turbulent else 1.0)
        return {
            sym: Quote(sym, float(mid * (1 - half)), float(mid * (1 + half)))
            for sym, mid in zip(self._symbols, self._mids, strict=True)
        }

    def step(self, *, extra_drift: float = 0.0) -> dict[str, Quote]:
        """Advance one bar and return the new quotes.

        ``extra_drift`` (log return per bar) is added to every symbol; scenarios use
        it to script a crash.
        """
        s = self.settings
        flip = s.leave_turbulence_probability if self.turbulent else s.enter_turbulence_probability
        if self._rng.random() < flip:
            self.turbulent = not self.turbulent
        vol = s.volatility * (s.turbulent_volatility_multiple if self.turbulent else 1.0)
        n = len(self._symbols)
        shocks = self._rng.standard_normal(n)
        jumps = (self._rng.random(n) < s.jump_probability) * self._rng.normal(
            0.0, s.jump_volatility, n
        )
        log_return = (s.drift - 0.5 * vol * vol) + vol * shocks + jumps + extra_drift
        self._mids = self._mids * np.exp(log_return)
        return self.quotes()


def per_bar_drift(total_return: float, bars: int) -> float:
    """Return the log drift per bar that compounds to ``total_return`` over ``bars``.

    Examples
    --------
    >>> round(math.exp(per_bar_drift(-0.3, 100) * 100) - 1, 12)
    -0.3
    """
    return math.log1p(total_return) / bars
