"""Framework integrations: adapters that turn a trading framework's own messages into events.

Each adapter lives in its own module and converts the framework's native messages to
:mod:`algowatch.events` in one small, I/O-free place; the service or the SDK carries the
events. A framework's own package, when an adapter needs it, is an optional extra; importing
this package imports none of them.

- :mod:`algowatch.integrations.freqtrade`: freqtrade's webhook messages
  (``POST /api/v1/sources/freqtrade``).
- :mod:`algowatch.integrations.hummingbot`: hummingbot's MQTT bridge (``[sources.hummingbot]``).
- :mod:`algowatch.integrations.nautilus`: NautilusTrader's actor and Redis-stream bridge.

.. versionadded:: 0.2.0
"""

__all__: list[str] = []
