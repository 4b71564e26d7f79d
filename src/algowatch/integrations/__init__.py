"""Framework integrations: adapters that turn a trading framework's own messages into events.

Each adapter lives in its own module and converts the framework's native messages to
:mod:`algowatch.events` in one small, I/O-free place; the service or the SDK carries
the events. A framework's own package, when an adapter needs it, is an optional extra.

- :mod:`algowatch.integrations.freqtrade`: freqtrade's webhook messages
  (``POST /api/v1/sources/freqtrade``).

.. versionadded:: 0.2.0
"""

# each adapter is imported from its own module (some need their framework's extra)
__all__: list[str] = []
