"""Watch a NautilusTrader node with algowatch: an actor inside it, or a bridge from Redis.

- :class:`AlgowatchActor` / :class:`AlgowatchActorConfig`: add to a ``BacktestEngine``
  or ``TradingNode``; needs the ``nautilus`` extra (``nautilus_trader``, Python >= 3.12)
  and is imported on first use.
- :class:`NautilusMapper`: Nautilus event dictionaries to algowatch events (no
  ``nautilus_trader`` needed).
- :mod:`algowatch.integrations.nautilus.bridge`: reads the streams a node's
  ``MessageBusConfig(database=...)`` writes to Redis and forwards them (the ``redis``
  extra; no code in the bot).

See ``docs/integrations/nautilus.md``.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from typing import Any

from algowatch.errors import MissingDependencyError
from algowatch.integrations.nautilus._mapping import NautilusMapper

# AlgowatchActor and AlgowatchActorConfig resolve on first use (__getattr__) and stay out of
# __all__: without the extra, a star import would fail on them.
__all__ = ["NautilusMapper"]


def __getattr__(name: str) -> Any:
    if name in ("AlgowatchActor", "AlgowatchActorConfig"):
        try:
            from algowatch.integrations.nautilus import _actor  # noqa: PLC0415
        except ImportError as exc:
            msg = (
                f"algowatch.integrations.nautilus.{name} needs NautilusTrader: "
                "pip install 'algowatch[nautilus]' (Python >= 3.12)"
            )
            raise MissingDependencyError(msg) from exc
        return getattr(_actor, name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
